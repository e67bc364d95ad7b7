"""Protocol cases: the AWS JSON 1.1 wire format as KMS uses it (body, content type, target header).

Sent as raw wire requests (correctly signed) so the body bytes and headers are
exactly what the case says. Operation-independent rules are checked on
DescribeCustomKeyStores, the one operation that changes nothing; body rules
(empty, malformed, non-object JSON) on every operation, with an unknown store id.
Hostile bodies (far too large, nested far too deep, a value far too long) are
recorded in results by a description and a command that rebuilds them, not
byte by byte.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Callable

from conformance import CUSTOM_KEY_STORE_OPERATIONS, SERVICE_TARGET_PREFIX
from conformance.cases.base import Case, CollectContext
from conformance.steps import Expected, Step
from conformance.cases.common import UNKNOWN_STORE_ID, Citations, error, single_request_case, validation_error
from conformance.cases.kernel import Recorder
from conformance.cases.requests import JSON_CONTENT_TYPE, reproduce, send, wire_request

KIND = "protocol"
DESCRIBE = "DescribeCustomKeyStores"


def _target(op: str) -> str:
    return f"{SERVICE_TARGET_PREFIX}.{op}"


def collect(cc: CollectContext) -> list[Case]:
    from conformance.spec import predict_validation

    cite = Citations(cc.requirements, cc.edition)
    cases: list[Case] = []

    def add(op: str, detail: str, title: str, request: dict, expected: Expected, ids, failing=None) -> None:
        ids = tuple(dict.fromkeys(i for i in ids if i))
        cases.append(
            single_request_case(
                id=f"{op}/{KIND}/{detail}",
                operation=op,
                kind=KIND,
                requirements=ids,
                title=title,
                request=request,
                expected=expected,
                failing=failing,
                editions=(cc.edition,),
                tags=("generated",),
            )
        )

    headers_ids = cite.generic("PROTO-003", "PROTO-009")
    std_headers = {"content-type": JSON_CONTENT_TYPE, "x-amzn-requestid": None}

    # --- basics on Describe ------------------------------------------------------------------
    add(
        DESCRIBE,
        "post-root-success",
        "a signed POST / with X-Amz-Target and {} is answered 200 with a JSON object",
        wire_request("{}", amz_target=_target(DESCRIBE)),
        Expected(status=200, body={"CustomKeyStores": "*"}, headers=std_headers),
        cite.generic("PROTO-001", "PROTO-002") + headers_ids + cite.requirement_for(DESCRIBE, "success"),
    )
    add(
        DESCRIBE,
        "error-envelope",
        "an error answer is a JSON object with __type, the JSON 1.1 content type and a request id",
        wire_request(json.dumps({"CustomKeyStoreId": UNKNOWN_STORE_ID}), amz_target=_target(DESCRIBE)),
        error("CustomKeyStoreNotFoundException", headers=std_headers, body={"__type": "*"}),
        cite.generic("PROTO-004", "PROTO-005") + headers_ids + cite.error(DESCRIBE, "CustomKeyStoreNotFoundException"),
        failing=cite.error(DESCRIBE, "CustomKeyStoreNotFoundException") or None,  # no error at all: the not-found rule
    )
    add(
        DESCRIBE,
        "get-instead-of-post",
        "GET / is not an operation call: a client error, never success or a server error",
        wire_request(None, amz_target=_target(DESCRIBE), method="GET", content_type=None),
        error("*", status=None, level=cite.level(cite.generic("PROTO-017"))),
        cite.generic("PROTO-017", "PROTO-001"),
    )
    for detail, title, header, ids in (
        ("target-missing", "no X-Amz-Target header", None, cite.generic("PROTO-013")),
        ("target-unknown-operation", "X-Amz-Target names an operation KMS does not have", _target("NoSuchOperation"), cite.generic("PROTO-012")),
        ("target-wrong-prefix", "X-Amz-Target with a prefix other than TrentService", f"KmsService.{DESCRIBE}", cite.generic("PROTO-014")),
        ("target-lowercase-operation", "X-Amz-Target with the operation name in lower case", _target(DESCRIBE.lower()), cite.generic("PROTO-012")),
    ):
        add(
            DESCRIBE,
            detail,
            title,
            wire_request("{}", amz_target=header),
            error("UnknownOperationException", level=cite.level(ids)),
            ids + cite.generic("PROTO-002", "PROTO-005"),
        )
    for detail, ctype in (("content-type-json", "application/json"), ("content-type-text", "text/plain"), ("content-type-missing", None)):
        ids = cite.generic("PROTO-016")
        add(
            DESCRIBE,
            detail,
            f"Content-Type {ctype or '(none)'}: processed as JSON 1.1 or refused as a client error, never a server error",
            wire_request("{}", amz_target=_target(DESCRIBE), content_type=ctype),
            Expected(status=200, level=cite.level(ids), alternatives=[error("*", status=None, level=cite.level(ids))]),
            ids,
        )

    cases.append(_empty_success_body_case(cc, cite))
    cases += [_hostile_body_case(cc, h) for h in _hostile_bodies(cite)]

    # --- body rules on every operation ---------------------------------------------------------
    for op in CUSTOM_KEY_STORE_OPERATIONS:
        if op not in cc.model.operations:
            continue
        pred = predict_validation(op, {}, model=cc.model, edition=cc.edition)
        ids = cite.generic("PROTO-008") if op == DESCRIBE else cite.generic("VAL-002")
        if pred is None:
            expected = Expected(status=200, body={"CustomKeyStores": "*"})
        else:
            expected = validation_error(pred)
        add(op, "empty-body", "an empty request body is read as {}", wire_request("", amz_target=_target(op)), expected, ids)
        ser = cite.generic("PROTO-010")
        for detail, body, title in (
            ("malformed-json", '{"CustomKeyStoreId": ', "a truncated JSON document"),
            ("malformed-json-trailing", '{"CustomKeyStoreId": "%s"} trailing' % UNKNOWN_STORE_ID, "a JSON document followed by garbage"),
            ("not-json", "CustomKeyStoreId=" + UNKNOWN_STORE_ID, "a form-encoded body instead of JSON"),
        ):
            add(op, detail, title, wire_request(body, amz_target=_target(op)), error("SerializationException", level=cite.level(ser)), ser)
        wrong = cite.generic("PROTO-011", "PROTO-005")
        for detail, body, title in (
            ("body-json-array", "[]", "a JSON array as the body"),
            ("body-json-string", '"%s"' % UNKNOWN_STORE_ID, "a JSON string as the body"),
            ("body-json-null", "null", "JSON null as the body"),
        ):
            if detail == "body-json-null":
                # null is "no input": the same as {} for a lenient Coral reader; either answer is fine.
                alt = validation_error(pred) if pred is not None else Expected(status=200)
                add(op, detail, title, wire_request(body, amz_target=_target(op)), error("SerializationException", level="SHOULD", alternatives=[alt]), wrong)
                continue
            add(op, detail, title, wire_request(body, amz_target=_target(op)), error("SerializationException", level=cite.level(wrong)), wrong)
    return cases


def _empty_success_body_case(cc: CollectContext, cite: Citations) -> Case:
    """Delete of a fresh store: 200 with {} or an empty body, and still the JSON 1.1 content type."""
    op = "DeleteCustomKeyStore"
    ids = cite.generic("PROTO-007", "PROTO-003") + cite.requirement_for(op, "success")

    def run(rec: Recorder) -> None:
        driver = rec.ctx.driver
        store_id = driver.create_store()
        obs = rec.send_raw(json.dumps({"CustomKeyStoreId": store_id}), amz_target=_target(op), label=op)
        rec.judge(Expected(status=200, headers={"content-type": JSON_CONTENT_TYPE}), obs)
        if not obs.ok:
            driver.delete_store(store_id)

    return Case(
        id=f"{op}/{KIND}/success-empty-body",
        operation=op,
        kind=KIND,
        requirements=tuple(dict.fromkeys(ids)),
        title="a successful operation without output answers 200 with {} or an empty body, content type still set",
        run=run,
        editions=(cc.edition,),
        needs_roles=("active_cluster_id", "trust_anchor_certificate", "kmsuser_password"),
        needs_operations=("CreateCustomKeyStore", op),
        schedule_group="disconnected",
        tags=("generated",),
        api_calls=("CreateCustomKeyStore", op),
    )


# --- hostile bodies -----------------------------------------------------------------------------
# Sizes far beyond anything valid (the largest valid request is some KB) yet cheap to send.
OVERSIZED_NAME_CHARS = 300_000  # a ~300 KB body
LONG_NAME_CHARS = 20_000  # far above the 256-character bound; small enough for any size limit
NESTING_DEPTH = 10_000  # beyond any JSON parser's recursion without a depth limit


@dataclass(frozen=True)
class _Hostile:
    detail: str
    title: str
    build: Callable[[], str]  # the body
    python: str  # the same body as a Python expression (what the reproduce command runs)
    shown: str  # the body as the results show it
    expected: Expected
    ids: tuple[str, ...]
    check_echo: bool = False  # also require the message to be shorter than the value (VAL-010)


def _hostile_bodies(cite: Citations) -> list[_Hostile]:
    json_headers = {"content-type": JSON_CONTENT_TYPE}
    # Each case cites only what its checks decide (a 5xx adds PROTO-005 through the refusal check).
    big = cite.generic("PROTO-018", "PROTO-003")
    deep = cite.generic("PROTO-019", "PROTO-005")
    echo = cite.generic("VAL-010")
    return [
        _Hostile(
            "oversized-body",
            "a ~300 KB body is refused with a 4xx in AWS JSON (a size refusal or the name's ValidationException)",
            lambda: json.dumps({"CustomKeyStoreName": "a" * OVERSIZED_NAME_CHARS}),
            f'json.dumps({{"CustomKeyStoreName": "a" * {OVERSIZED_NAME_CHARS}}})',
            f'{{"CustomKeyStoreName": "a" x {OVERSIZED_NAME_CHARS}}}',
            error("*", status=None, level=cite.level(big), headers=json_headers),
            big,
        ),
        _Hostile(
            "deeply-nested-json",
            f"a member nested {NESTING_DEPTH} arrays deep is SerializationException, never a server error",
            lambda: '{"CustomKeyStoreId": ' + "[" * NESTING_DEPTH + "]" * NESTING_DEPTH + "}",
            f'"{{" + json.dumps("CustomKeyStoreId") + ": " + "[" * {NESTING_DEPTH} + "]" * {NESTING_DEPTH} + "}}"',
            f'{{"CustomKeyStoreId": [ x {NESTING_DEPTH} ] x {NESTING_DEPTH}}}',
            error("SerializationException", level=cite.level(deep)),
            deep,
        ),
        _Hostile(
            "long-value-echo-bounded",
            f"a {LONG_NAME_CHARS}-character name is a ValidationException whose message does not quote it whole",
            lambda: json.dumps({"CustomKeyStoreName": "a" * LONG_NAME_CHARS}),
            f'json.dumps({{"CustomKeyStoreName": "a" * {LONG_NAME_CHARS}}})',
            f'{{"CustomKeyStoreName": "a" x {LONG_NAME_CHARS}}}',
            error("ValidationException", level=cite.level(echo)),
            echo,
            check_echo=True,
        ),
    ]


def _clipped(d: dict, keys) -> dict:
    """The long string values of `d` among `keys`, cut to 2000 characters and their length."""
    return {k: d[k][:2000] + f"... ({len(d[k])} characters)" for k in keys
            if isinstance(d.get(k), str) and len(d[k]) > 2000}


def _hostile_body_case(cc: CollectContext, h: _Hostile) -> Case:
    def run(rec: Recorder) -> None:
        body = h.build()
        request = wire_request(body, amz_target=_target(DESCRIBE))
        shown = wire_request(f"<{len(body)} bytes: {h.shown}>", amz_target=_target(DESCRIBE))
        obs = send(rec.ctx, request)
        observed = obs.to_dict()  # an echo of the whole value stays out of the results
        observed.update(_clipped(observed, ("raw_body", "message")))
        if isinstance(observed.get("body"), dict):
            observed["body"] = {**observed["body"], **_clipped(observed["body"], observed["body"])}
        rec.add(Step(label=DESCRIBE, request=shown, observed=observed), None, obs)
        rec.reproduce_command = (f"python3 -c {shlex.quote('import json, sys; sys.stdout.write(' + h.python + ')')} | "
                                 + reproduce(rec.ctx, wire_request("@-", amz_target=_target(DESCRIBE))))
        rec.judge(h.expected, obs, request=shown)
        if h.check_echo and obs.error_code == "ValidationException":
            n = len(obs.message or "")
            rec.effect("value not echoed whole", n < LONG_NAME_CHARS,
                       f"the message has {n} characters for a {LONG_NAME_CHARS}-character value", level="SHOULD")

    return Case(
        id=f"{DESCRIBE}/{KIND}/{h.detail}",
        operation=DESCRIBE,
        kind=KIND,
        requirements=tuple(dict.fromkeys(i for i in h.ids if i)),
        title=h.title,
        run=run,
        editions=(cc.edition,),
        needs_operations=(DESCRIBE,),
        tags=("generated",),
        api_calls=(DESCRIBE,),
    )
