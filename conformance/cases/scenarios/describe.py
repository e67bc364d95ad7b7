"""DescribeCustomKeyStores: listing, filters, entry fields and pagination."""

from __future__ import annotations

from conformance.cases.base import Case, CollectContext
from conformance.cases.scenarios.kit import (
    STORE_ROLES,
    Scenario,
    describe_without_secrets,
    err,
    ok,
    scenario,
    second_store,
)

OP = "DescribeCustomKeyStores"
OPS = ("CreateCustomKeyStore", "DeleteCustomKeyStore")
CON_OPS = OPS + ("ConnectCustomKeyStore", "DisconnectCustomKeyStore", "UpdateCustomKeyStore")
ENTRY_FIELDS = ("CustomKeyStoreId", "CustomKeyStoreName", "CloudHsmClusterId", "TrustAnchorCertificate",
                "ConnectionState", "CreationDate")
MAX_PAGES = 50


def _entries(obs) -> list[dict]:
    return list((obs.body or {}).get("CustomKeyStores") or []) if obs.ok and isinstance(obs.body, dict) else []


def lists_all(s: Scenario) -> None:
    sid = s.store()
    ids: list[str] = []
    marker = None
    for page in range(MAX_PAGES):  # the account may hold more stores than one default page
        obs = s.call(f"describe every store (page {page + 1})", OP, {"Marker": marker} if marker else {},
                     expect=ok(), main=page == 0)
        ids += [e.get("CustomKeyStoreId") for e in _entries(obs)]
        marker = (obs.body or {}).get("NextMarker") if (obs.body or {}).get("Truncated") else None
        if not marker:
            break
    s.check("the store is listed", sid in ids, f"{len(ids)} stores listed, ours {'in' if sid in ids else 'missing'}")


def by_id(s: Scenario) -> None:
    sid = s.store()
    obs = s.call("describe by id", OP, {"CustomKeyStoreId": sid}, expect=ok(), main=True)
    got = [e.get("CustomKeyStoreId") for e in _entries(obs)]
    s.check("exactly that store", got == [sid], f"listed {got}")


def by_name(s: Scenario) -> None:
    sid = s.store()
    name = (s.entry(sid, label="describe by id for the name") or {}).get("CustomKeyStoreName")
    obs = s.call("describe by name", OP, {"CustomKeyStoreName": name}, expect=ok(), main=True)
    got = [(e.get("CustomKeyStoreId"), e.get("CustomKeyStoreName")) for e in _entries(obs)]
    s.check("exactly that store", got == [(sid, name)], f"listed {got}")


def unknown(member: str):
    def body(s: Scenario) -> None:
        value = s.unknown("CustomKeyStoreId", OP) if member == "CustomKeyStoreId" else s.driver.name("no-such-store")
        s.call(f"describe an unknown {member}", OP, {member: value},
               expect=err("CustomKeyStoreNotFoundException"), main=True)

    return body


def pagination(s: Scenario) -> None:
    """DES-006/007: Limit=1 pages through every store exactly once; NextMarker iff Truncated."""
    first = s.store()
    second = second_store(s)
    seen: list[str] = []
    marker = None
    consistent = True
    pages = 0
    for pages in range(1, MAX_PAGES + 1):
        params = {"Limit": 1} | ({"Marker": marker} if marker else {})
        obs = s.call(f"page {pages} (Limit 1)", OP, params, expect=ok(), main=pages == 1, requirements=["DES-006"])
        body = obs.body if isinstance(obs.body, dict) else {}
        entries = _entries(obs)
        if len(entries) > 1:
            s.check(f"page {pages} holds at most Limit entries", False, f"{len(entries)} entries",
                    requirements=["DES-006"])
        seen += [e.get("CustomKeyStoreId") for e in entries]
        truncated = body.get("Truncated")
        has_marker = "NextMarker" in body
        if bool(truncated) != has_marker:
            consistent = False
            s.check(f"page {pages}: NextMarker present exactly when Truncated", False,
                    f"Truncated {truncated!r}, NextMarker {'present' if has_marker else 'absent'}",
                    requirements=["DES-007"])
        if not truncated or not has_marker:
            break
        marker = body["NextMarker"]
    if consistent:
        s.check("every page: NextMarker present exactly when Truncated", True, f"{pages} pages",
                requirements=["DES-007"])
    dupes = sorted({x for x in seen if seen.count(x) > 1})
    s.check("both stores listed, each exactly once", first in seen and second in seen and not dupes,
            f"listed {len(seen)} entries over {pages} pages; duplicates {dupes}", requirements=["DES-006"])


def complete_page(s: Scenario) -> None:
    """DES-007 without stores of our own: a complete listing has no NextMarker."""
    obs = s.call("describe with the largest Limit", OP, {"Limit": 1000}, expect=ok(), main=True)
    body = obs.body if isinstance(obs.body, dict) else {}
    s.check("NextMarker present exactly when Truncated", bool(body.get("Truncated")) == ("NextMarker" in body),
            f"Truncated {body.get('Truncated')!r}, NextMarker {'present' if 'NextMarker' in body else 'absent'}")


def invalid_marker(s: Scenario) -> None:
    s.call("describe with a marker the service never issued", OP, {"Marker": "not-a-marker-kms-issued"},
           expect=err("InvalidMarkerException"), main=True)


def entry_fields(s: Scenario) -> None:
    sid = s.store()
    obs = s.call("describe the store", OP, {"CustomKeyStoreId": sid}, expect=ok(), main=True, requirements=["DES-009"])
    entry = next((e for e in _entries(obs) if e.get("CustomKeyStoreId") == sid), {})
    fields = ENTRY_FIELDS + (("CustomKeyStoreType",) if s.edition == "current" else ())
    missing = [f for f in fields if f not in entry]
    s.check("the entry has the documented CloudHSM fields", not missing, f"missing {missing}" if missing else "all present",
            requirements=["DES-009"])
    created = entry.get("CreationDate")
    s.check("CreationDate is a JSON number of epoch seconds",
            isinstance(created, (int, float)) and not isinstance(created, bool) and created > 1.4e9,
            f"CreationDate {created!r}", requirements=["DES-012"])
    leaks = describe_without_secrets(obs.body)
    password = s.role("kmsuser_password")
    s.check("KeyStorePassword is not part of the entry", not leaks and password not in (obs.raw_body or ""),
            f"found {leaks}" if leaks else "absent", requirements=["DES-011"])


def error_code_only_when_failed(s: Scenario) -> None:
    sid = s.store()

    def code_in(state: str) -> None:
        entry = s.entry(sid, label=f"describe while {state}") or {}
        seen = entry.get("ConnectionState")
        has = "ConnectionErrorCode" in entry
        want = state == "FAILED"
        # The store not reaching the state is the fault of the rule that brings it there, not of DES-010.
        reaching = {"DISCONNECTED": "CRE-003", "CONNECTED": "CON-001", "FAILED": "UPD-003"}[state]
        s.check(f"{state}: ConnectionErrorCode {'present' if want else 'absent'}", seen == state and has == want,
                f"state {seen}, ConnectionErrorCode {entry.get('ConnectionErrorCode')!r}",
                requirements=["DES-010"] if seen == state else [reaching])

    code_in("DISCONNECTED")
    s.call("connect", "ConnectCustomKeyStore", {"CustomKeyStoreId": sid}, expect=ok(), main=True,
           requirements=["CON-001"])
    s.wait(sid)
    code_in("CONNECTED")
    s.call("disconnect", "DisconnectCustomKeyStore", {"CustomKeyStoreId": sid}, expect=ok(), requirements=["DIS-001"])
    s.wait(sid, ("DISCONNECTED",))
    s.call("store a wrong password", "UpdateCustomKeyStore",
           {"CustomKeyStoreId": sid, "KeyStorePassword": "not-the-kmsuser-pw"}, expect=ok(), requirements=["UPD-001"])
    s.call("connect with the wrong password", "ConnectCustomKeyStore", {"CustomKeyStoreId": sid}, expect=ok(),
           requirements=["CON-002"])
    s.wait(sid)
    code_in("FAILED")


def collect(cc: CollectContext) -> list[Case]:
    cases = [
        scenario(f"{OP}/scenario/lists-every-store", OP, ["DES-001"],
                 "Without filters every store is listed (following NextMarker)", lists_all,
                 needs_operations=OPS, schedule_group="disconnected"),
        scenario(f"{OP}/scenario/filter-by-id", OP, ["DES-002"], "Filtering by id returns exactly that store",
                 by_id, needs_operations=OPS, schedule_group="disconnected"),
        scenario(f"{OP}/scenario/filter-by-name", OP, ["DES-003"], "Filtering by name returns exactly that store",
                 by_name, needs_operations=OPS, schedule_group="disconnected"),
        scenario(f"{OP}/scenario/unknown-id", OP, ["DES-004"],
                 "An unknown id gives CustomKeyStoreNotFoundException", unknown("CustomKeyStoreId"),
                 needs_roles=(), schedule_group="stateless"),
        scenario(f"{OP}/scenario/unknown-name", OP, ["DES-005"],
                 "An unknown name gives CustomKeyStoreNotFoundException", unknown("CustomKeyStoreName"),
                 needs_roles=(), schedule_group="stateless"),
        scenario(f"{OP}/scenario/pagination", OP, ["DES-006", "DES-007"],
                 "Limit 1 pages through every store exactly once; NextMarker exactly when Truncated", pagination,
                 needs_roles=STORE_ROLES + ("unrelated_cluster_id",), needs_operations=OPS,
                 schedule_group="two-stores"),
        scenario(f"{OP}/scenario/complete-listing-has-no-marker", OP, ["DES-007"],
                 "A complete listing is not truncated and carries no NextMarker", complete_page,
                 needs_roles=(), schedule_group="stateless"),
        scenario(f"{OP}/scenario/entry-fields", OP, ["DES-009", "DES-011", "DES-012"],
                 "An entry carries the documented fields, CreationDate as epoch seconds, never the password",
                 entry_fields, needs_operations=OPS, schedule_group="disconnected"),
        scenario(f"{OP}/scenario/error-code-only-when-failed", OP, ["DES-010"],
                 "ConnectionErrorCode appears in FAILED only (not DISCONNECTED, not CONNECTED)",
                 error_code_only_when_failed, needs_operations=CON_OPS, schedule_group="connect",
                 connect_cycles=2),
    ]
    if cc.edition == "current":
        cases.append(
            scenario(f"{OP}/scenario/invalid-marker", OP, ["DES-008"],
                     "A marker the service never issued gives InvalidMarkerException", invalid_marker,
                     editions=("current",), needs_roles=(), schedule_group="stateless"))
    return cases
