"""Structural cases generated from the spec for every input member of the six operations.

For each member (nested structure members too): required missing / null, every
length and value bound at min-1, min, min+1, max-1, max, max+1, a pattern
violation that keeps the length valid, an enum violation, each wrong JSON type,
plus one unknown member and the empty object per operation.

Design: every request names a store (or, for Create, a cluster) that does not
exist, so exactly one condition is in play. An invalid value must give the
oracle's ValidationException (validation wins over existence); a valid boundary
value must get past validation to the operation's not-found error. Valid values
whose outcome the contract does not fix are not generated: an XKS member or
EXTERNAL_KEY_STORE type on a CloudHSM Create (the store-type rules are service
logic with undocumented messages), and lengths no value matching the pattern has.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

from conformance import CUSTOM_KEY_STORE_OPERATIONS, SERVICE_TARGET_PREFIX
from conformance.cases.base import Case, CollectContext
from conformance.steps import Expected
from conformance.cases.common import (
    UNKNOWN_CLUSTER_ID,
    UNKNOWN_STORE_ID,
    Citations,
    error,
    name_nothing,
    single_request_case,
    validation_error,
)
from conformance.cases.requests import boto3_request, wire_request

KIND = "structural"
NOT_FOUND = "CustomKeyStoreNotFoundException"
CLUSTER_NOT_FOUND = "CloudHsmClusterNotFoundException"
# Create members whose valid values lead, with an unknown cluster, to CloudHsmClusterNotFoundException.
CREATE_CLOUDHSM_MEMBERS = ("CustomKeyStoreName", "CloudHsmClusterId", "TrustAnchorCertificate", "KeyStorePassword")
UNKNOWN_MEMBER = "KmsConformanceUnknownMember"
# An external key store's Create with public endpoint connectivity: these members, on a URI endpoint no
# proxy serves, get past validation to XksProxyUriUnreachableException (CRE-042). Without one of them
# the store is refused as incomplete (CRE-082); VPC connectivity also needs its service name (CRE-083).
XKS_CREATE_MEMBERS = ("XksProxyConnectivity", "XksProxyUriEndpoint", "XksProxyUriPath",
                      "XksProxyAuthenticationCredential")
XKS_UNREACHABLE = "XksProxyUriUnreachableException"
# The reserved .invalid top-level domain never resolves, so no proxy answers there (on any target).
UNREACHABLE_ENDPOINT = "https://kms-conformance-no-proxy.invalid"

# JSON values of each JSON type, to send where another type is due.
_JSON_SAMPLES = {"string": "x", "number": 7, "boolean": True, "object": {}, "array": []}
_JSON_TYPE_OF_SHAPE = {
    "string": "string",
    "integer": "number",
    "long": "number",
    "float": "number",
    "double": "number",
    "boolean": "boolean",
    "structure": "object",
    "map": "object",
    "list": "array",
}


# ------------------------------------------------------------------------------------------
# Values of an exact length that match a pattern (no library does this deterministically:
# Hypothesis' from_regex cannot be asked for a length, so a small sre walker does it).
# ------------------------------------------------------------------------------------------

try:  # Python 3.11+
    from re import _constants as _sc
    from re import _parser as _sp
except ImportError:  # pragma: no cover
    import sre_constants as _sc  # type: ignore
    import sre_parse as _sp  # type: ignore

_PREFERRED = "abcxyzABCXYZ0123456789-_./:+=~ "


def _class_contains(items, ch: str) -> bool:
    code = ord(ch)
    negate = False
    hit = False
    for op, av in items:
        if op is _sc.NEGATE:
            negate = True
        elif op is _sc.LITERAL:
            hit = hit or code == av
        elif op is _sc.RANGE:
            hit = hit or av[0] <= code <= av[1]
        elif op is _sc.CATEGORY:
            hit = hit or _category(av, ch)
    return hit != negate


def _category(cat, ch: str) -> bool:
    name = str(cat)
    test = {
        "CATEGORY_DIGIT": ch.isdigit(),
        "CATEGORY_NOT_DIGIT": not ch.isdigit(),
        "CATEGORY_WORD": ch.isalnum() or ch == "_",
        "CATEGORY_NOT_WORD": not (ch.isalnum() or ch == "_"),
        "CATEGORY_SPACE": ch.isspace(),
        "CATEGORY_NOT_SPACE": not ch.isspace(),
    }
    return test.get(name, False)


def _pick_char(items) -> str | None:
    for ch in _PREFERRED:
        if _class_contains(items, ch):
            return ch
    for code in range(32, 0x250):
        if _class_contains(items, chr(code)):
            return chr(code)
    return None


_STATE = getattr(_sp, "State", None) or getattr(_sp, "Pattern")


def _seq_width(nodes: list) -> tuple[int, int]:
    return _sp.SubPattern(_STATE(), list(nodes)).getwidth()


def _width(node) -> tuple[int, int]:
    return _seq_width([node])


def _build_seq(nodes: list, n: int) -> str | None:
    if not nodes:
        return "" if n == 0 else None
    widths = [_width(node) for node in nodes]
    head, rest = nodes[0], nodes[1:]
    rest_min = sum(w[0] for w in widths[1:])
    rest_max = sum(w[1] for w in widths[1:])
    lo = max(widths[0][0], n - rest_max)
    hi = min(widths[0][1], n - rest_min)
    for k in range(hi, lo - 1, -1):  # prefer giving length to the earliest free node
        first = _build_node(head, k)
        if first is None:
            continue
        tail = _build_seq(rest, n - k)
        if tail is not None:
            return first + tail
    return None


def _build_node(node, n: int) -> str | None:
    op, av = node
    if op is _sc.LITERAL:
        return chr(av) if n == 1 else None
    if op is _sc.NOT_LITERAL:
        return ("a" if av != ord("a") else "b") if n == 1 else None
    if op is _sc.ANY:
        return "a" if n == 1 else None
    if op is _sc.IN:
        return _pick_char(av) if n == 1 else None
    if op is _sc.AT:
        return "" if n == 0 else None
    if op is _sc.SUBPATTERN:
        return _build_seq(list(av[-1]), n)
    if op is _sc.BRANCH:
        for alt in av[1]:
            out = _build_seq(list(alt), n)
            if out is not None:
                return out
        return None
    if op in (_sc.MAX_REPEAT, _sc.MIN_REPEAT, getattr(_sc, "POSSESSIVE_REPEAT", None)):
        rmin, rmax, sub = av
        sub = list(sub)
        slo, shi = _seq_width(sub)
        if shi == 0:
            return "" if n == 0 else None
        if slo == shi:  # fixed width: one instance, repeated
            if n % slo or not (rmin <= n // slo <= rmax):
                return None
            one = _build_seq(sub, slo)
            return None if one is None else one * (n // slo)
        kmin = max(rmin, -(-n // shi) if shi else 0)
        kmax = min(rmax, n // slo if slo else n)
        for k in range(kmin, kmax + 1):
            out = _build_seq(sub * k, n)
            if out is not None:
                return out
        return None
    return None


def sample_matching(pattern: str, length: int) -> str | None:
    """A string of exactly `length` characters that fully matches `pattern`, or None."""
    try:
        parsed = _sp.parse(pattern)
    except Exception:  # noqa: BLE001 - an unparseable pattern simply gets no sample
        return None
    out = _build_seq(list(parsed), length)
    if out is not None and re.fullmatch(pattern, out) is None:
        return None
    return out


# ------------------------------------------------------------------------------------------
# Member discovery
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRef:
    """An input member, possibly nested: path ("A.B"), its shape, whether required."""

    operation: str
    path: str
    shape: Any
    required: bool
    parent_shape: Any

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @property
    def top(self) -> str:
        return self.path.split(".", 1)[0]


def input_members(model, operation: str) -> list[MemberRef]:
    shape = model.input_shape(operation)
    out: list[MemberRef] = []
    if shape is None:
        return out

    def walk(parent, prefix: str) -> None:
        for m in parent.members:
            s = model.shape(m.shape)
            path = f"{prefix}.{m.name}" if prefix else m.name
            out.append(MemberRef(operation, path, s, m.required, parent))
            if s.type == "structure":
                walk(s, path)

    walk(shape, "")
    return out


def _valid_value(model, shape, *, length: int | None = None) -> Any:
    """A value of the shape that satisfies every constraint (at `length` for strings if given)."""
    t = shape.type
    if t == "string":
        if shape.enum:
            return shape.enum[0]
        lo = shape.min_length or 0
        hi = shape.max_length if shape.max_length is not None else max(lo, 16)
        if length is None:
            length = min(max(lo, 16), hi)
        if shape.pattern:
            return sample_matching(shape.pattern, length)
        return "a" * length
    if t in ("integer", "long"):
        lo = shape.min_value if shape.min_value is not None else 1
        return int(lo)
    if t == "boolean":
        return True
    if t == "structure":
        return {m.name: _valid_value(model, model.shape(m.shape)) for m in shape.members if m.required}
    if t == "list":
        return []
    return None


def _set_path(params: dict, path: str, value: Any, *, delete: bool = False) -> dict:
    out = json.loads(json.dumps(params))
    parts = path.split(".")
    cur = out
    for p in parts[:-1]:
        cur = cur[p]
    if delete:
        cur.pop(parts[-1], None)
    else:
        cur[parts[-1]] = value
    return out


# ------------------------------------------------------------------------------------------
# Per-operation bases: what exactly one violated condition is measured against
# ------------------------------------------------------------------------------------------


def base_params(model, operation: str, member_path: str | None = None) -> dict:
    """Valid params naming a store/cluster that does not exist (so no state is touched)."""
    if operation == "CreateCustomKeyStore":
        shape = model.input_shape(operation)
        base = {
            "CustomKeyStoreName": "kms-conformance-structural-probe",
            "CloudHsmClusterId": UNKNOWN_CLUSTER_ID,
            "TrustAnchorCertificate": "-----BEGIN CERTIFICATE-----unknown-----END CERTIFICATE-----",
            "KeyStorePassword": "probe-password-1",
        }
        base = {k: v for k, v in base.items() if shape.member(k) is not None}
    elif operation == "DescribeCustomKeyStores":
        base = {} if member_path in ("CustomKeyStoreName",) else {"CustomKeyStoreId": UNKNOWN_STORE_ID}
    else:
        base = {"CustomKeyStoreId": UNKNOWN_STORE_ID}
    if member_path and "." in member_path:
        top = member_path.split(".", 1)[0]
        base[top] = _valid_value(model, model.shape(model.input_shape(operation).member(top).shape))
    return base


def xks_base_params(model) -> dict | None:
    """Valid params of an external key store's Create whose URI endpoint no proxy serves (None where the
    edition's model has no external key stores)."""
    shape = model.input_shape("CreateCustomKeyStore")
    if shape is None or any(shape.member(m) is None for m in XKS_CREATE_MEMBERS + ("CustomKeyStoreType",)):
        return None
    credential = model.shape(shape.member("XksProxyAuthenticationCredential").shape)
    return {
        "CustomKeyStoreName": "kms-conformance-structural-probe",
        "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
        "XksProxyConnectivity": "PUBLIC_ENDPOINT",
        "XksProxyUriEndpoint": UNREACHABLE_ENDPOINT,
        "XksProxyUriPath": "/kms/xks/v1",
        "XksProxyAuthenticationCredential": _valid_value(model, credential),
    }


def _xks_valid(member_path: str | None, value: Any) -> bool:
    """Whether a valid value of this Create member is sent on an external key store's request."""
    if member_path is None:
        return False
    top = member_path.split(".", 1)[0]
    if top == "CustomKeyStoreType":
        return value == "EXTERNAL_KEY_STORE"
    if top == "XksProxyConnectivity":
        return value != "VPC_ENDPOINT_SERVICE"  # that one needs a VPC endpoint service as well
    return top in XKS_CREATE_MEMBERS


def _get_path(params: dict, path: str) -> Any:
    cur: Any = params
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def valid_outcome(cc: CollectContext, cite: Citations, operation: str, member_path: str | None, value: Any = None) -> tuple[Expected, tuple[str, ...]] | None:
    """The answer to a valid request built on base_params, with the ids it cites; None if not certain."""
    if operation == "CreateCustomKeyStore":
        top = member_path.split(".", 1)[0] if member_path else None
        if top is not None and top not in CREATE_CLOUDHSM_MEMBERS:
            if not (top == "CustomKeyStoreType" and value == "AWS_CLOUDHSM"):
                return None
        ids = cite.error(operation, CLUSTER_NOT_FOUND)
        return error(CLUSTER_NOT_FOUND, level=cite.level(ids)), ids
    ids = cite.error(operation, NOT_FOUND)
    alts = []
    if operation == "DescribeCustomKeyStores" and member_path == "Marker":
        alts = [error("InvalidMarkerException")]
        ids = ids + cite.error(operation, "InvalidMarkerException")
    return error(NOT_FOUND, level=cite.level(ids), alternatives=alts), ids


# ------------------------------------------------------------------------------------------
# Generation
# ------------------------------------------------------------------------------------------


class _Gen:
    def __init__(self, cc: CollectContext, cite: Citations):
        self.cc = cc
        self.model = cc.model
        self.cite = cite
        self.cases: list[Case] = []
        self._ids: set[str] = set()
        from conformance.spec import predict_validation, type_mismatches

        self._predict = predict_validation
        self._type_mismatches = type_mismatches

    def predict(self, op: str, params: dict):
        return self._predict(op, params, model=self.model, edition=self.cc.edition)

    # -- case builders ------------------------------------------------------------------
    def add(self, *, op, detail, title, request, expected, requirements, cleanup=None, failing=None):
        cid = f"{op}/{KIND}/{detail}"
        if cid in self._ids:
            return
        self._ids.add(cid)
        self.cases.append(
            single_request_case(
                id=cid,
                operation=op,
                kind=KIND,
                requirements=_dedupe(requirements),
                title=title,
                request=request,
                expected=expected,
                cleanup=cleanup,
                failing=failing or None,
                editions=(self.cc.edition,),
                tags=("generated",),
            )
        )

    def invalid(self, op, member: MemberRef | None, detail, title, params, *, ids, via="boto3"):
        pred = self.predict(op, params)
        if pred is None:
            raise AssertionError(f"oracle considers the invalid value of {op}/{detail} valid: {params!r}")
        extra = list(self.cite.generic("VAL-001", "VAL-009"))
        if any(v.sensitive for v in pred.violations):
            extra += self.cite.generic("VAL-004")
        if len(pred.violations) > 1:
            extra += self.cite.generic("VAL-005")
        all_ids = tuple(ids) + tuple(extra)
        request = _request(op, params, via)
        self.add(
            op=op,
            detail=detail,
            title=title,
            request=request,
            expected=validation_error(pred, level=self.cite.level(ids)),
            requirements=all_ids,
            # A wrong code means the member's own constraint was not enforced; the generic VAL- rules cited
            # beside it (message grammar, null handling, enum and pattern messages) are judged by the message.
            failing=tuple(i for i in ids if not i.startswith("VAL-")) or None,
        )

    def valid(self, op, member: MemberRef | None, detail, title, params, *, ids, value=None, via="boto3"):
        pred = self.predict(op, params)
        if pred is not None:
            raise AssertionError(f"oracle rejects the valid value of {op}/{detail}: {pred.message}")
        path = member.path if member else None
        xks_base = xks_base_params(self.model) if op == "CreateCustomKeyStore" else None
        if xks_base is not None and _xks_valid(path, value if value is not None else _get_path(params, path)):
            params = _set_path(xks_base, path, _get_path(params, path))
            if self.predict(op, params) is not None:
                raise AssertionError(f"oracle rejects the valid external key store request of {op}/{detail}")
            outcome_ids = self.cite.error(op, XKS_UNREACHABLE)
            outcome: tuple[Expected, tuple[str, ...]] | None = (error(XKS_UNREACHABLE, level=self.cite.level(outcome_ids)),
                                                                outcome_ids)
        else:
            outcome = valid_outcome(self.cc, self.cite, op, path, value)
        if outcome is None:
            return
        expected, outcome_ids = outcome
        self.add(
            op=op,
            detail=detail,
            title=title,
            request=_naming_nothing(op, params, via),
            expected=expected,
            requirements=tuple(ids) + tuple(outcome_ids),
            cleanup=_cleanup_created if op == "CreateCustomKeyStore" else None,
            # Rejected by validation: the bound; any other wrong answer: the not-found rule it was sent to show.
            failing=_valid_input_blame(ids, outcome_ids),
        )

    # -- per member -----------------------------------------------------------------------
    def member(self, m: MemberRef) -> None:
        op, s = m.operation, m.shape
        base = base_params(self.model, op, m.path)
        if m.required:
            ids = self.cite.member(op, m.path, "required") + self.cite.generic("VAL-002")
            self.invalid(op, m, f"{m.path}/required-missing", f"{m.path} missing", _set_path(base, m.path, None, delete=True), ids=ids)
            ids = self.cite.generic("VAL-003") + self.cite.member(op, m.path, "required")
            self.invalid(op, m, f"{m.path}/required-null", f"{m.path} is JSON null", _set_path(base, m.path, None), ids=ids, via="wire")
        if s.type == "string" and not s.enum:
            self.length_bounds(m, base)
            if s.pattern:
                self.pattern_violation(m, base)
        if s.type in ("integer", "long"):
            self.value_bounds(m, base)
        if s.enum:
            self.enum_cases(m, base)
        self.wrong_types(m, base)

    def length_bounds(self, m: MemberRef, base: dict) -> None:
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
            if lo is not None and hi is not None and not (lo <= n <= hi) and ok:
                continue
            value = self.string_of_length(s, n)
            if value is None:
                continue  # no value of this length matches the pattern: nothing to assert
            params = _set_path(base, m.path, value)
            title = f"{m.path} of length {n} ({label.replace('-', ' ')})"
            if ok:
                self.valid(op, m, f"{m.path}/{label}", title, params, ids=ids + self.cite.generic("VAL-008"))
            else:
                self.invalid(op, m, f"{m.path}/{label}", title, params, ids=ids)

    def string_of_length(self, s, n: int) -> str | None:
        if not s.pattern:
            return "a" * n
        exact = sample_matching(s.pattern, n)
        if exact is not None:
            return exact
        lo, hi = s.min_length or 0, s.max_length
        top = hi if hi is not None else lo + 64
        if n < lo:  # too short: the shortest valid value, cut (keeps the alphabet)
            for length in range(lo, top + 1):
                v = sample_matching(s.pattern, length)
                if v:
                    return v[:n]
            return None
        if hi is not None and n > hi:  # too long: the longest valid value, extended with its last char
            for length in range(hi, lo - 1, -1):
                v = sample_matching(s.pattern, length)
                if v:
                    return v + v[-1] * (n - length)
        return None

    def pattern_violation(self, m: MemberRef, base: dict) -> None:
        s, op = m.shape, m.operation
        lo = s.min_length or 1
        hi = s.max_length if s.max_length is not None else lo + 16
        for n in sorted({max(lo, 1), min(max(lo, 20), hi), hi}):
            good = sample_matching(s.pattern, n)
            if not good:
                continue
            for pos in (0, n - 1, n // 2):
                for bad in ("!", " ", "\u0100", "\t", "~", "#", "%"):
                    value = good[:pos] + bad + good[pos + 1 :]
                    params = _set_path(base, m.path, value)
                    pred = self.predict(op, params)
                    if pred and [v.constraint for v in pred.violations] == ["pattern"]:
                        ids = self.cite.member(op, m.path, "pattern") + self.cite.generic("VAL-007")
                        self.invalid(op, m, f"{m.path}/pattern-violation", f"{m.path} of valid length {n} not matching {s.pattern}", params, ids=ids)
                        return

    def value_bounds(self, m: MemberRef, base: dict) -> None:
        s, op = m.shape, m.operation
        lo, hi = s.min_value, s.max_value
        ids = self.cite.member(op, m.path, "range") or self.cite.member(op, m.path, "value")
        points = []
        if lo is not None:
            points += [("value-below-min", lo - 1, False), ("value-min", lo, True), ("value-min-plus-1", lo + 1, True)]
        if hi is not None:
            points += [("value-max-minus-1", hi - 1, True), ("value-max", hi, True), ("value-above-max", hi + 1, False)]
        for label, n, ok in points:
            params = _set_path(base, m.path, int(n))
            title = f"{m.path} = {int(n)} ({label.replace('-', ' ')})"
            if ok:
                self.valid(op, m, f"{m.path}/{label}", title, params, ids=ids + self.cite.generic("VAL-008"))
            else:
                self.invalid(op, m, f"{m.path}/{label}", title, params, ids=ids)

    def enum_cases(self, m: MemberRef, base: dict) -> None:
        s, op = m.shape, m.operation
        ids = self.cite.member(op, m.path, "enum") + self.cite.generic("VAL-006")
        self.invalid(op, m, f"{m.path}/enum-violation", f"{m.path} not one of {', '.join(s.enum)}", _set_path(base, m.path, "NOT_A_VALID_VALUE"), ids=ids)
        lower = s.enum[0].lower()
        if lower not in s.enum:
            self.invalid(op, m, f"{m.path}/enum-wrong-case", f"{m.path} = {lower} (enum values are case-sensitive)", _set_path(base, m.path, lower), ids=ids)
        for value in s.enum:
            self.valid(op, m, f"{m.path}/enum-{value}", f"{m.path} = {value} is accepted", _set_path(base, m.path, value), ids=self.cite.member(op, m.path, "enum") + self.cite.generic("VAL-008"), value=value)

    def wrong_types(self, m: MemberRef, base: dict) -> None:
        op = m.operation
        right = _JSON_TYPE_OF_SHAPE.get(m.shape.type)
        if right is None:
            return
        ids = self.cite.generic("PROTO-011")
        for jtype, sample in _JSON_SAMPLES.items():
            if jtype == right:
                continue
            params = _set_path(base, m.path, sample)
            if not self._type_mismatches(op, params, model=self.model, edition=self.cc.edition):
                continue
            self.add(
                op=op,
                detail=f"{m.path}/type-{jtype}",
                title=f"{m.path} sent as a JSON {jtype} instead of a {right}",
                request=wire_request(json.dumps(params), amz_target=f"TrentService.{op}"),
                expected=error("SerializationException", level=self.cite.level(ids)),
                requirements=ids,
            )

    # -- per operation --------------------------------------------------------------------
    def operation(self, op: str) -> None:
        for m in input_members(self.model, op):
            self.member(m)
        if op == "CreateCustomKeyStore":
            self.xks_required(op)
        # Unknown member: ignored, so the answer is the valid outcome.
        base = base_params(self.model, op)
        outcome = valid_outcome(self.cc, self.cite, op, None)
        if outcome is not None:
            expected, outcome_ids = outcome
            expected.level = self.cite.level(self.cite.generic("PROTO-015"))
            self.add(
                op=op,
                detail="unknown-member",
                title="a member the model does not define is ignored",
                request=_naming_nothing(op, {**base, UNKNOWN_MEMBER: "ignored"}, "wire"),
                expected=expected,
                requirements=self.cite.generic("PROTO-015") + outcome_ids,
                cleanup=_cleanup_created if op == "CreateCustomKeyStore" else None,
                failing=_valid_input_blame(self.cite.generic("PROTO-015"), outcome_ids),
            )
        # Empty object.
        pred = self.predict(op, {})
        if pred is not None:
            ids = self.cite.generic("VAL-002", "VAL-001")
            if len(pred.violations) > 1:
                ids += self.cite.generic("VAL-005")
            self.add(op=op, detail="empty-object", title="the empty JSON object {}", request=boto3_request(op, {}), expected=validation_error(pred), requirements=ids)
        else:
            ids = self.cite.requirement_for(op, "success") or ()
            self.add(
                op=op,
                detail="empty-object",
                title="the empty JSON object {} is a complete request",
                request=boto3_request(op, {}),
                expected=Expected(status=200, level=self.cite.level(self.cite.generic("PROTO-008"))),
                requirements=tuple(ids) + self.cite.generic("PROTO-008"),
            )


    def xks_required(self, op: str) -> None:
        """The members an external key store needs though the model leaves them optional: each left
        out in turn (CRE-082), and VPC connectivity without its service name (CRE-083)."""
        base = xks_base_params(self.model)
        if base is None:
            return
        cases = [(m, {k: v for k, v in base.items() if k != m}, "CRE-082") for m in XKS_CREATE_MEMBERS]
        cases.append(("XksProxyVpcEndpointServiceName", {**base, "XksProxyConnectivity": "VPC_ENDPOINT_SERVICE"},
                      "CRE-083"))
        for member, params, rid in cases:
            if self.predict(op, params) is not None:
                raise AssertionError(f"oracle refuses the external key store request without {member}")
            ids = self.cite.generic(rid)
            if not ids:
                continue  # an edition whose catalogue lacks the rule
            connectivity = params.get("XksProxyConnectivity")
            self.add(op=op, detail=f"{member}/required-for-external-key-store",
                     title=f"an external key store{' with ' + connectivity if connectivity else ''} without {member}",
                     request=_naming_nothing(op, params, "boto3"),
                     expected=error("ValidationException", level=self.cite.level(ids),
                                    note="[INFER] the answer to an incomplete external key store is not documented"),
                     requirements=ids, cleanup=_cleanup_created)


def _cleanup_created(ctx, obs) -> None:
    """A Create that should have failed but made a store: remove it through the driver."""
    if obs is not None and obs.ok and isinstance(obs.body, dict) and obs.body.get("CustomKeyStoreId"):
        driver = ctx.driver
        if driver is not None:
            try:
                driver.delete_store(obs.body["CustomKeyStoreId"])
            except Exception:  # noqa: BLE001 - the ledger / cleanup command is the fallback
                pass


def _valid_input_blame(own: Iterable[str], outcome_ids: Iterable[str]) -> dict[str, tuple[str, ...]] | None:
    """Whom a valid case's wrong answer blames: a validation rejection its own rule, anything else the
    outcome's (the not-found answer the unknown id was sent to get)."""
    own, outcome_ids = _dedupe(own), _dedupe(outcome_ids)
    if not own or not outcome_ids:
        return None
    return {"ValidationException": own, "SerializationException": own, "*": outcome_ids}


def _dedupe(ids: Iterable[str]) -> tuple[str, ...]:
    seen: list[str] = []
    for i in ids:
        if i and i not in seen:
            seen.append(i)
    return tuple(seen)


def collect(cc: CollectContext) -> list[Case]:
    gen = _Gen(cc, Citations(cc.requirements, cc.edition))
    for op in CUSTOM_KEY_STORE_OPERATIONS:
        if op in cc.model.operations:
            gen.operation(op)
    return gen.cases + combination_cases(cc)


# ------------------------------------------------------------------------------------------
# Combination rules (either-or, both-or-neither): one case each
# ------------------------------------------------------------------------------------------

COMBINATION_KIND = "combination"
# A name meant to name no store (changed at run time if the run or the world has it).
UNKNOWN_STORE_NAME = "kms-conformance-no-such-store"


def combination_cases(cc: CollectContext) -> list[Case]:
    """One case per catalogue combination rule: a request breaking just that rule, on ids that
    name nothing, judged against the rule's requirement (the oracle's message where the model
    itself enforces the rule)."""
    from conformance.spec import predict_validation
    from conformance.spec.requirements import load_combinations

    by_id = {getattr(r, "id", None): r for r in cc.requirements or ()}
    cases = []
    for comb in load_combinations(edition=cc.edition):
        req = by_id.get(comb.requirement)
        if req is None or comb.operation not in cc.model.operations:
            continue
        if any(_member_shape(cc.model, comb.operation, m) is None for m in comb.members):
            continue  # a member this edition's model lacks
        params = _breaking_params(cc.model, comb)
        prediction = predict_validation(comb.operation, params, model=cc.model, edition=cc.edition)
        expected = validation_error(prediction, level=req.level) if prediction is not None \
            else _expected_of(req, comb)
        ids = [comb.requirement]
        if prediction is not None:  # the model enforces the rule: cited like any validation case
            ids += [i for i in ("VAL-001", "VAL-009") if i in by_id]
            if any(v.sensitive for v in prediction.violations):
                ids += [i for i in ("VAL-004",) if i in by_id]
        given = [m for m in comb.members if _path_given(params, m)]
        if comb.rule == "at-most-one":
            what = f"{' and '.join(given)} together (the docs allow one of them)"
        else:
            left = [m for m in comb.members if m not in given]
            what = f"{', '.join(given)} without {', '.join(left)} (the docs ask for all or none)"
        title = what + ("" if comb.answer == "documented" else "; AWS documents no answer, expectation inferred")
        cases.append(single_request_case(
            id=comb.case_id, operation=comb.operation, kind=COMBINATION_KIND, requirements=tuple(ids),
            title=title, request=_naming_nothing(comb.operation, params, "boto3"), expected=expected,
            editions=(cc.edition,), tags=("generated", f"answer-{comb.answer}"),
        ))
    return cases


def _member_shape(model, operation: str, path: str):
    shape = model.input_shape(operation)
    for part in path.split("."):
        ref = shape.member(part) if shape is not None else None
        if ref is None:
            return None
        shape = model.shape(ref.shape)
    return shape


def _path_given(params: dict, path: str) -> bool:
    cur: Any = params
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return False
        cur = cur[part]
    return True


def _breaking_params(model, comb) -> dict:
    """Valid params naming no store or cluster, breaking only `comb`: every member given
    (at-most-one), or the first member alone (all-or-none)."""
    params = base_params(model, comb.operation)
    members = comb.members if comb.rule == "at-most-one" else comb.members[:1]
    for path in members:
        parts = path.split(".")
        for depth in range(1, len(parts)):
            prefix = ".".join(parts[:depth])
            if not _path_given(params, prefix):
                params = _set_path(params, prefix, {})
        if path == "CustomKeyStoreId":
            value: Any = UNKNOWN_STORE_ID
        elif path in ("CustomKeyStoreName", "NewCustomKeyStoreName"):
            value = UNKNOWN_STORE_NAME
        else:
            value = _valid_value(model, _member_shape(model, comb.operation, path))
        params = _set_path(params, path, value)
    return params


def _expected_of(req, comb) -> Expected:
    """The requirement's answer: its error code, or the first of its any_of codes with the rest as
    alternatives; marked [INFER] when AWS documents none."""
    exp = req.expected or {}
    codes = [exp["error_code"]] if exp.get("error_code") else \
        [a.get("error_code") for a in exp.get("any_of") or () if isinstance(a, dict) and a.get("error_code")]
    if not codes:
        raise ValueError(f"combination {comb.case_id}: requirement {req.id} names no error code")
    status = exp.get("status", 400)
    note = "" if comb.answer == "documented" else "[INFER] AWS documents no answer for this combination"
    return error(codes[0], status, level=req.level, note=note,
                 alternatives=[error(c, status, level=req.level) for c in codes[1:]])


def _naming_nothing(op: str, params: dict, via: str):
    """The request of a case whose ids and names must name nothing: built when the case runs, when
    the target's world and the run's stores are known, so a collision is changed away."""
    return lambda ctx: _request(op, name_nothing(ctx, op, params), via)


def _request(op: str, params: dict, via: str) -> dict:
    """The request for a generated case: a boto3 call, or the same JSON sent on the wire."""
    if via == "boto3":
        return boto3_request(op, params)
    return wire_request(json.dumps(params), amz_target=f"{SERVICE_TARGET_PREFIX}.{op}")
