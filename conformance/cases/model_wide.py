"""Structural cases for every operation of the edition's model (`kms-conformance run --operations`).

The custom key store operations get exactly the cases of `structural.py` (same ids, same
requirements). Every other operation gets the same kinds of case from the same generator and the
same validation-message oracle: required members missing and null, length and value bounds at
min-1/min/min+1/max-1/max/max+1 (strings, blobs, lists), patterns, enums (each value, a wrong
value, wrong case), wrong JSON types, an unknown member, the empty object.

What a request is measured against:
- an invalid value is sent with ids that name nothing (a well-formed key id no target has): AWS
  validates before it looks anything up (VAL-009), so the answer must be the oracle's
  ValidationException whatever exists; a target that skips validation then answers "not found"
  instead of changing anything;
- a valid value is sent with real resources where the operation only reads or encrypts (a key of
  the right spec and usage, a ciphertext, made once per run by `model_resources`), and with ids
  that name nothing where it would destroy or move something (DisableKey, ScheduleKeyDeletion,
  DeleteAlias, ...). Either way the contract fixes only that the request gets past validation: the
  answer is success or one of the operation's modelled errors (`MW-<Op>-valid-input`).
Every request goes on the wire as JSON (blobs base64), so the report's reproduce line is a curl.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from conformance import CUSTOM_KEY_STORE_OPERATIONS, SERVICE_TARGET_PREFIX
from conformance.cases import model_resources as res
from conformance.cases import structural
from conformance.cases.base import Case, CollectContext
from conformance.cases.common import UNKNOWN_STORE_ID, Citations, error, validation_error
from conformance.cases.requests import wire_request
from conformance.cases.structural import MemberRef, UNKNOWN_MEMBER, input_members, sample_matching
from conformance.steps import Expected

KIND = structural.KIND
TAG = "model-wide"
# A well-formed key id (a UUID) that no target has made.
UNKNOWN_KEY_ID = "0000dead-0000-4000-8000-00000000dead"
UNKNOWN_ALIAS = "alias/kms-conformance-no-such-alias"
UNKNOWN_GRANT_ID = "0000dead" * 8
PRINCIPAL = "arn:aws:iam::111122223333:role/kms-conformance"
ALIAS_PREFIX = "alias/"  # a service rule beyond the model: AWS rejects other alias names (facts §2)
# Request bodies above this are refused by size before validation (the reference's limit; AWS's is not
# recorded), so cases needing a larger body are not generated.
MAX_BODY_BYTES = 256 * 1024

# Values for members whose model shape says too little (an id, a name, a region).
STAND_INS: dict[str, Any] = {
    "KeyId": UNKNOWN_KEY_ID,
    "TargetKeyId": UNKNOWN_KEY_ID,
    "SourceKeyId": UNKNOWN_KEY_ID,
    "DestinationKeyId": UNKNOWN_KEY_ID,
    "AliasName": UNKNOWN_ALIAS,
    "GrantId": UNKNOWN_GRANT_ID,
    "CustomKeyStoreId": UNKNOWN_STORE_ID,
    "GranteePrincipal": PRINCIPAL,
    "RetiringPrincipal": PRINCIPAL,
    "ReplicaRegion": "us-west-2",
    "PrimaryRegion": "us-west-2",
    "Policy": json.dumps({"Version": "2012-10-17", "Statement": []}),
}
# Members the model leaves optional that the service needs (recorded or documented): sent in every
# request's base, so the one member under test is the only thing in question.
SERVICE_NEEDS: dict[str, dict[str, Any]] = {
    "GenerateRandom": {"NumberOfBytes": 16},  # facts §1.4: "NumberOfBytes is required." [REAL]
    "Decrypt": {"CiphertextBlob": b"kms-conformance"},
    "ReEncrypt": {"CiphertextBlob": b"kms-conformance"},
    "CreateGrant": {"GranteePrincipal": PRINCIPAL},
    # AWS: KeySpec or NumberOfBytes, exactly one (a ValidationException otherwise).
    "GenerateDataKey": {"KeySpec": "AES_256"},
    "GenerateDataKeyWithoutPlaintext": {"KeySpec": "AES_256"},
}
# Members of which the service takes exactly one: a case about one of them leaves the others out.
ONE_OF: dict[str, tuple[str, ...]] = {
    "GenerateDataKey": ("KeySpec", "NumberOfBytes"),
    "GenerateDataKeyWithoutPlaintext": ("KeySpec", "NumberOfBytes"),
}
# Structures whose valid content the model cannot say (a signed attestation document): members
# inside get their invalid cases only.
UNMODELLED_VALIDITY = ("Recipient",)
# The answer AWS gives to an empty body where the model requires nothing but the service does.
EMPTY_OBJECT_ANSWERS = {
    "GenerateRandom": ("ValidationException", "NumberOfBytes is required."),
}
# Operations whose valid cases use real resources (they read, encrypt, sign or tag: nothing
# destroyed, nothing moved): member -> resource. The rest get ids that name nothing.
BINDINGS: dict[str, dict[str, str]] = {
    **{op: {"KeyId": res.KEY_SYMMETRIC} for op in (
        "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext", "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus",
        "ListGrants", "ListKeyPolicies", "ListKeyRotations", "ListResourceTags", "TagResource",
        "UntagResource", "UpdateKeyDescription", "EnableKey", "EnableKeyRotation", "CreateGrant",
        "GetKeyLastUsage")},
    "Decrypt": {"CiphertextBlob": res.CIPHERTEXT},
    "ReEncrypt": {"CiphertextBlob": res.CIPHERTEXT, "DestinationKeyId": res.KEY_SYMMETRIC},
    **{op: {"KeyId": res.KEY_SIGN} for op in ("Sign", "Verify", "GetPublicKey")},
    **{op: {"KeyId": res.KEY_HMAC} for op in ("GenerateMac", "VerifyMac")},
}
# Where an operation that answered 200 made something the run must take away again.
_JSON_TYPE_OF_SHAPE = {**structural._JSON_TYPE_OF_SHAPE, "blob": "string", "timestamp": "number"}
_JSON_SAMPLES = structural._JSON_SAMPLES


# ------------------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------------------


def _value(model, shape, name: str | None = None, depth: int = 0) -> Any:
    """A value of `shape` meeting every model constraint (and the service rules we know)."""
    if name in STAND_INS and shape.type == "string":
        return STAND_INS[name]
    t = shape.type
    if t == "blob":
        return b"kms-conformance"[: shape.max_length or None] or b"k"
    if t == "list":
        n = max(shape.min_length or 0, 1)
        item = model.shape(shape.list_member)
        return [_value(model, item, None, depth + 1) for _ in range(n)]
    if t == "map":
        kshape = model.shape(shape.map_key) if shape.map_key else None
        key = _value(model, kshape) if kshape is not None and not kshape.enum else "kms-conformance"
        return {key if isinstance(key, str) else "k": _value(model, model.shape(shape.map_value), None, depth + 1)}
    if t == "structure":
        if depth > 3:
            return {}
        return {m.name: _value(model, model.shape(m.shape), m.name, depth + 1) for m in shape.members if m.required}
    if t in ("float", "double"):
        return shape.min_value if shape.min_value is not None else 1.0
    if t == "timestamp":
        return 1893456000  # 2030-01-01, a date in the future
    return structural._valid_value(model, shape)


def _set(params: dict, path: str, value: Any, *, delete: bool = False) -> dict:
    out = copy.deepcopy(params)
    parts = path.split(".")
    cur = out
    for p in parts[:-1]:
        cur = cur[p]
    if delete:
        cur.pop(parts[-1], None)
    else:
        cur[parts[-1]] = value
    return out


def _wire_json(params: Any) -> str:
    """The request body as AWS JSON 1.1 carries it (blobs as base64 text)."""
    return json.dumps(params, default=lambda v: base64.b64encode(v).decode("ascii")
                      if isinstance(v, (bytes, bytearray)) else str(v))


def _for_wire(params: Any) -> Any:
    return json.loads(_wire_json(params))


# ------------------------------------------------------------------------------------------
# The generator: structural's, with the model-wide base, outcome and requests
# ------------------------------------------------------------------------------------------


class ModelWideGen(structural._Gen):
    def base(self, op: str, path: str | None = None) -> dict:
        shape = self.model.input_shape(op)
        params: dict = {}
        if shape is None:
            return params
        for m in shape.members:
            if m.required:
                params[m.name] = _value(self.model, self.model.shape(m.shape), m.name)
        for name, value in SERVICE_NEEDS.get(op, {}).items():
            if shape.member(name) is not None:
                params.setdefault(name, value)
        top = path.split(".", 1)[0] if path else None
        if top in ONE_OF.get(op, ()):
            for other in ONE_OF[op]:
                if other != top:
                    params.pop(other, None)
        if path and "." in path:
            params.setdefault(top, _value(self.model, self.model.shape(shape.member(top).shape), top))
        return params

    def predict(self, op: str, params: dict):
        return self._predict(op, params, model=self.model, edition=self.cc.edition)

    def add(self, *, op, detail, title, request, expected, requirements, cleanup=None, failing=None):
        cid = f"{op}/{KIND}/{detail}"
        if cid in self._ids:
            return
        self._ids.add(cid)
        if cleanup is None and op == "CreateKey":
            cleanup = _cleanup_created_key  # a target that takes an invalid CreateKey makes a key all the same
        self.cases.append(structural.single_request_case(
            id=cid, operation=op, kind=KIND, requirements=structural._dedupe(requirements), title=title,
            request=request, expected=expected, cleanup=cleanup, failing=failing or None,
            editions=(self.cc.edition,), tags=("generated", TAG),
        ))

    # -- outcomes ---------------------------------------------------------------------------
    def valid_expected(self, op: str) -> tuple[Expected, tuple[str, ...]]:
        ids = self.cite.generic(f"MW-{op}-valid-input")
        errors = [e for e in self.model.operation(op).errors if e not in _SERVER_ERRORS]
        # An operation without output may answer {} or an empty body (Smithy awsJson1_1, PROTO-007).
        body = "" if self.model.operation(op).output is None else None
        if body == "":
            ids += self.cite.generic("PROTO-007")
        return Expected(status=200, body=body, level=self.cite.level(ids), alternatives=[error(e, 400) for e in errors],
                        note="any answer past validation: success or an error the model lists for "
                             f"{op} ({len(errors)})"), ids

    def invalid(self, op, member, detail, title, params, *, ids, via="wire"):
        if _too_large(params):
            return
        pred = self.predict(op, params)
        if pred is None:
            raise AssertionError(f"oracle considers the invalid value of {op}/{detail} valid: {params!r}")
        extra = list(self.cite.generic("VAL-001", "VAL-009"))
        if any(v.sensitive for v in pred.violations):
            extra += self.cite.generic("VAL-004")
        if len(pred.violations) > 1:
            extra += self.cite.generic("VAL-005")
        self.add(op=op, detail=detail, title=title, request=_request(op, params, {}),
                 expected=validation_error(pred, level=self.cite.level(ids)),
                 requirements=tuple(ids) + tuple(extra),
                 failing=tuple(i for i in ids if not i.startswith("VAL-")) or None)

    def valid(self, op, member, detail, title, params, *, ids, value=None, via="wire"):
        pred = self.predict(op, params)
        if pred is not None:
            raise AssertionError(f"oracle rejects the valid value of {op}/{detail}: {pred.message}")
        if _too_large(params):
            return
        if member is not None and not _service_accepts(op, member.path, params):
            return  # valid for the model, refused by a service rule: AWS's answer is not the model's
        if member is not None and member.top in UNMODELLED_VALIDITY:
            return  # valid for the model; whether the service takes it depends on content the model cannot say
        expected, outcome_ids = self.valid_expected(op)
        bindings = {k: v for k, v in BINDINGS.get(op, {}).items()
                    if member is None or (k != member.top and k != member.path)}
        self.add(op=op, detail=detail, title=title, request=_request(op, params, bindings), expected=expected,
                 requirements=tuple(ids) + tuple(outcome_ids), cleanup=_cleanup_for(op, params),
                 failing=structural._valid_input_blame(ids, outcome_ids))

    # -- per member ---------------------------------------------------------------------------
    def member(self, m: MemberRef) -> None:
        op, s = m.operation, m.shape
        base = self.base(op, m.path)
        if m.required:
            ids = self.cite.member(op, m.path, "required") + self.cite.generic("VAL-002")
            self.invalid(op, m, f"{m.path}/required-missing", f"{m.path} missing", _set(base, m.path, None, delete=True), ids=ids)
            ids = self.cite.generic("VAL-003") + self.cite.member(op, m.path, "required")
            self.invalid(op, m, f"{m.path}/required-null", f"{m.path} is JSON null", _set(base, m.path, None), ids=ids)
        if s.type == "string" and not s.enum:
            self.sized(m, base, self.string_of_length)
            if s.pattern:
                self.pattern_violation(m, base)
        if s.type == "blob":
            self.sized(m, base, lambda shape, n: bytes((0x61 + i % 26) for i in range(n)))
        if s.type == "list" and (s.min_length is not None or s.max_length is not None):
            item = self.model.shape(s.list_member)
            self.sized(m, base, lambda shape, n: [_value(self.model, item)] * n)
        if s.type in ("integer", "long"):
            self.value_bounds(m, base)
        if s.enum:
            self.enum_cases(m, base)
        self.wrong_types(m, base)

    def sized(self, m: MemberRef, base: dict, make) -> None:
        """Length bounds of a string, blob or list (structural's length_bounds, any sized type)."""
        s, op = m.shape, m.operation
        lo, hi = s.min_length, s.max_length
        ids = self.cite.member(op, m.path, "length")
        points: list[tuple[str, int, bool]] = []
        if lo is not None:
            if lo > 0:
                points.append(("length-below-min", lo - 1, False))
            points += [("length-min", lo, True), ("length-min-plus-1", lo + 1, True)]
        if hi is not None:
            points += [("length-max-minus-1", hi - 1, True), ("length-max", hi, True), ("length-above-max", hi + 1, False)]
        for label, n, ok in points:
            if n < 0 or (ok and lo is not None and hi is not None and not (lo <= n <= hi)):
                continue
            value = make(s, n)
            if value is None:
                continue
            if s.type == "string" and m.name == "AliasName" and ok:
                value = _alias_of_length(n)
                if value is None:
                    continue
            params = _set(base, m.path, value)
            title = f"{m.path} of length {n} ({label.replace('-', ' ')})"
            if ok:
                self.valid(op, m, f"{m.path}/{label}", title, params, ids=ids + self.cite.generic("VAL-008"))
            else:
                self.invalid(op, m, f"{m.path}/{label}", title, params, ids=ids)

    def pattern_violation(self, m: MemberRef, base: dict) -> None:
        """A value of valid length that breaks only the pattern (structural's search, blob-safe copies)."""
        s, op = m.shape, m.operation
        lo = s.min_length or 1
        hi = s.max_length if s.max_length is not None else lo + 16
        for n in sorted({max(lo, 1), min(max(lo, 20), hi), hi}):
            good = sample_matching(s.pattern, n)
            if not good:
                continue
            for pos in (0, n - 1, n // 2):
                for bad in ("!", " ", "\u0100", "\t", "~", "#", "%"):
                    params = _set(base, m.path, good[:pos] + bad + good[pos + 1:])
                    pred = self.predict(op, params)
                    if pred and [v.constraint for v in pred.violations] == ["pattern"]:
                        ids = self.cite.member(op, m.path, "pattern") + self.cite.generic("VAL-007")
                        self.invalid(op, m, f"{m.path}/pattern-violation",
                                     f"{m.path} of valid length {n} not matching {s.pattern}", params, ids=ids)
                        return

    def value_bounds(self, m: MemberRef, base: dict) -> None:
        s, op = m.shape, m.operation
        ids = self.cite.member(op, m.path, "range")
        points = []
        if s.min_value is not None:
            points += [("value-below-min", s.min_value - 1, False), ("value-min", s.min_value, True),
                       ("value-min-plus-1", s.min_value + 1, True)]
        if s.max_value is not None:
            points += [("value-max-minus-1", s.max_value - 1, True), ("value-max", s.max_value, True),
                       ("value-above-max", s.max_value + 1, False)]
        if not points:  # an unbounded number: one plain valid value
            points = [("value-valid", structural._valid_value(self.model, s), True)]
        for label, n, ok in points:
            params = _set(base, m.path, int(n))
            title = f"{m.path} = {int(n)} ({label.replace('-', ' ')})"
            if ok:
                self.valid(op, m, f"{m.path}/{label}", title, params, ids=ids + self.cite.generic("VAL-008"))
            else:
                self.invalid(op, m, f"{m.path}/{label}", title, params, ids=ids)

    def enum_cases(self, m: MemberRef, base: dict) -> None:
        s, op = m.shape, m.operation
        ids = self.cite.member(op, m.path, "enum") + self.cite.generic("VAL-006")
        self.invalid(op, m, f"{m.path}/enum-violation", f"{m.path} not one of {', '.join(s.enum)}",
                     _set(base, m.path, "NOT_A_VALID_VALUE"), ids=ids)
        lower = s.enum[0].lower()
        if lower not in s.enum:
            self.invalid(op, m, f"{m.path}/enum-wrong-case", f"{m.path} = {lower} (enum values are case-sensitive)",
                         _set(base, m.path, lower), ids=ids)
        for value in s.enum:
            self.valid(op, m, f"{m.path}/enum-{value}", f"{m.path} = {value} is accepted", _set(base, m.path, value),
                       ids=self.cite.member(op, m.path, "enum") + self.cite.generic("VAL-008"), value=value)

    def wrong_types(self, m: MemberRef, base: dict) -> None:
        op = m.operation
        right = _JSON_TYPE_OF_SHAPE.get(m.shape.type)
        if right is None:
            return
        ids = self.cite.generic("PROTO-011")
        for jtype, sample in _JSON_SAMPLES.items():
            if jtype == right:
                continue
            params = _set(_for_wire(base), m.path, sample)
            if not self._type_mismatches(op, params, model=self.model, edition=self.cc.edition):
                continue
            self.add(op=op, detail=f"{m.path}/type-{jtype}", title=f"{m.path} sent as a JSON {jtype} instead of a {right}",
                     request=_request(op, params, {}), expected=error("SerializationException", level=self.cite.level(ids)),
                     requirements=ids)

    # -- per operation --------------------------------------------------------------------------
    def operation(self, op: str) -> None:
        for m in input_members(self.model, op):
            self.member(m)
        base = self.base(op)
        expected, outcome_ids = self.valid_expected(op)
        expected.level = self.cite.level(self.cite.generic("PROTO-015"))
        self.add(op=op, detail="unknown-member", title="a member the model does not define is ignored",
                 request=_request(op, {**base, UNKNOWN_MEMBER: "ignored"}, BINDINGS.get(op, {})), expected=expected,
                 requirements=self.cite.generic("PROTO-015") + outcome_ids, cleanup=_cleanup_for(op, base),
                 failing=structural._valid_input_blame(self.cite.generic("PROTO-015"), outcome_ids))
        pred = self.predict(op, {})
        if pred is not None:
            ids = self.cite.generic("VAL-002", "VAL-001")
            if len(pred.violations) > 1:
                ids += self.cite.generic("VAL-005")
            self.add(op=op, detail="empty-object", title="the empty JSON object {}", request=_request(op, {}, {}),
                     expected=validation_error(pred), requirements=ids)
        elif op in EMPTY_OBJECT_ANSWERS:
            code, message = EMPTY_OBJECT_ANSWERS[op]
            ids = self.cite.generic("VAL-001")
            self.add(op=op, detail="empty-object", title=f"the empty JSON object {{}} (the service needs a member "
                     f"the model leaves optional: {message})", request=_request(op, {}, {}),
                     expected=error(code, 400, message=message), requirements=ids)
        elif op not in SERVICE_NEEDS:
            expected, outcome_ids = self.valid_expected(op)
            self.add(op=op, detail="empty-object", title="the empty JSON object {} is a complete request",
                     request=_request(op, {}, {}), expected=expected,
                     requirements=outcome_ids + self.cite.generic("PROTO-008"), cleanup=_cleanup_for(op))


_SERVER_ERRORS = ("KMSInternalException", "DependencyTimeoutException")


def _alias_of_length(n: int) -> str | None:
    if n <= len(ALIAS_PREFIX):
        return None
    return ALIAS_PREFIX + "kms-conformance-"[: n - len(ALIAS_PREFIX)] + "a" * max(0, n - len(ALIAS_PREFIX) - 16)


def _service_accepts(op: str, path: str, params: dict) -> bool:
    """Whether a model-valid request also keeps the service rules we know (else AWS's answer is a rule
    the model does not state, and the case is not generated)."""
    value = params.get(path) if isinstance(params, dict) else None
    if path == "AliasName" and isinstance(value, str) and not value.startswith(ALIAS_PREFIX):
        return False
    if op == "ScheduleKeyDeletion" and path == "PendingWindowInDays" and not 7 <= value <= 30:
        return False  # the model says 1..365; KMS documents a 7 to 30 day window
    if op == "CreateKey":
        custom_origin = params.get("Origin") in ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE")
        if bool(params.get("CustomKeyStoreId")) != custom_origin:
            return False  # a custom key store and its origin go together
        if params.get("XksKeyId") and params.get("Origin") != "EXTERNAL_KEY_STORE":
            return False
    return True


def _too_large(params: dict) -> bool:
    """A body over the request-size limits of AWS and the emulators: what answers is that limit, not the model."""
    return len(_wire_json(params)) > MAX_BODY_BYTES


def _request(op: str, params: dict, bindings: dict[str, str]):
    """The case's wire request; members in `bindings` take the run's real resources when it runs."""
    body = _wire_json(params)
    amz_target = f"{SERVICE_TARGET_PREFIX}.{op}"
    if not bindings or not any(k in params for k in bindings):
        return wire_request(body, amz_target=amz_target)

    def build(ctx) -> dict:
        bound = json.loads(body)
        shared = res.resources_for(ctx)
        for member, resource in bindings.items():
            if member in bound:
                bound[member] = shared.get(resource)
        return wire_request(json.dumps(bound), amz_target=amz_target)

    return build


def _cleanup_for(op: str, params: dict | None = None):
    """What a case takes away again when the target answered 200: a key it made (released with the
    run's resources), an alias a target made although its key does not exist."""
    if op == "CreateKey":
        return _cleanup_created_key
    if op == "CreateAlias" and params and isinstance(params.get("AliasName"), str):
        alias = params["AliasName"]

        def remove_alias(ctx, obs) -> None:
            if obs is not None and obs.ok:
                ctx.target.call("DeleteAlias", {"AliasName": alias})

        return remove_alias
    return None


def _cleanup_created_key(ctx, obs) -> None:
    """A valid CreateKey made a key: it is released with the run's resources (scheduled for deletion)."""
    if obs is not None and obs.ok and isinstance(obs.body, dict):
        key_id = (obs.body.get("KeyMetadata") or {}).get("KeyId")
        if key_id:
            res.track_key(ctx, key_id)


# ------------------------------------------------------------------------------------------
# Collection
# ------------------------------------------------------------------------------------------


def collect(cc: CollectContext) -> list[Case]:
    """Nothing unless the run asks for operations (`--operations`): the default suite is unchanged."""
    operations = cc.options.get("operations")
    if not operations:
        return []
    cite = Citations(cc.requirements, cc.edition)
    cks = structural._Gen(cc, cite)
    wide = ModelWideGen(cc, cite)
    combos: dict[str, list[Case]] = {}
    for case in structural.combination_cases(cc):
        combos.setdefault(case.operation, []).append(case)
    cases: list[Case] = []
    for op in operations:
        if op not in cc.model.operations:
            continue
        if op in CUSTOM_KEY_STORE_OPERATIONS:
            before = len(cks.cases)
            cks.operation(op)
            cases += cks.cases[before:] + combos.get(op, [])
        else:
            before = len(wide.cases)
            wide.operation(op)
            cases += wide.cases[before:]
    return cases
