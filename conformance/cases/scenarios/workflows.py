"""Multi-step workflows the seed describes: the repair of a store that failed on credentials."""

from __future__ import annotations

from conformance.cases.base import Case, CollectContext
from conformance.cases.scenarios.kit import Scenario, ok, scenario

OP = "UpdateCustomKeyStore"
OPS = ("CreateCustomKeyStore", "DescribeCustomKeyStores", "DeleteCustomKeyStore",
       "ConnectCustomKeyStore", "DisconnectCustomKeyStore")
WRONG_PASSWORD = "not-the-kmsuser-pw"


def repair(s: Scenario) -> None:
    """FAILED (INVALID_CREDENTIALS) -> disconnect -> update the password -> connect -> CONNECTED."""
    sid = s.store(KeyStorePassword=WRONG_PASSWORD)
    s.setup("setup: connect with a wrong stored password", "ConnectCustomKeyStore", {"CustomKeyStoreId": sid})
    s.wait(sid)
    entry = s.entry(sid, label="the store failed") or {}
    s.check("the store is FAILED with INVALID_CREDENTIALS",
            entry.get("ConnectionState") == "FAILED" and entry.get("ConnectionErrorCode") == "INVALID_CREDENTIALS",
            f"state {entry.get('ConnectionState')}, code {entry.get('ConnectionErrorCode')!r}",
            requirements=["CON-002", "UPD-008"])
    s.call("disconnect the failed store", "DisconnectCustomKeyStore", {"CustomKeyStoreId": sid}, expect=ok(),
           requirements=["DIS-005", "UPD-008"])
    state = s.wait(sid, ("DISCONNECTED",))
    s.check("the store is DISCONNECTED", state == "DISCONNECTED", f"state {state}", requirements=["DIS-005", "UPD-008"])
    s.call("tell KMS the current kmsuser password", OP,
           {"CustomKeyStoreId": sid, "KeyStorePassword": s.role("kmsuser_password")}, expect=ok(), main=True,
           requirements=["UPD-008"])
    s.call("connect again", "ConnectCustomKeyStore", {"CustomKeyStoreId": sid}, expect=ok(), requirements=["UPD-008"])
    state = s.wait(sid)
    entry = s.entry(sid, label="the store after the repair") or {}
    stale_code = state == "CONNECTED" and "ConnectionErrorCode" in entry
    s.check("the repaired store is CONNECTED without an error code",
            state == "CONNECTED" and "ConnectionErrorCode" not in entry,
            f"state {state}, code {entry.get('ConnectionErrorCode')!r}",
            requirements=["DES-010"] if stale_code else None)  # connected, but a code only FAILED may show


def collect(cc: CollectContext) -> list[Case]:
    return [
        scenario(f"{OP}/scenario/repair-invalid-credentials", OP, ["UPD-008", "UPD-003"],
                 "Repair: FAILED with INVALID_CREDENTIALS, disconnect, update the password, connect, CONNECTED",
                 repair, needs_operations=OPS, schedule_group="connect", connect_cycles=2),
    ]
