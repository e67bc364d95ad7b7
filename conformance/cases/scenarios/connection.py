"""ConnectCustomKeyStore and DisconnectCustomKeyStore: outcomes and state preconditions.

Connect answers at once and works asynchronously (CONNECTING, then CONNECTED or
FAILED with a ConnectionErrorCode); it is refused in DISCONNECTING and FAILED and
a no-op in CONNECTED/CONNECTING. Disconnect is refused in DISCONNECTED and
DISCONNECTING and accepted in the other states.
"""

from __future__ import annotations

from conformance.cases.base import Case, CollectContext
from conformance.cases.scenarios.kit import (
    Scenario,
    enters,
    err,
    leaves,
    ok,
    request_in_state,
    restore,
    scenario,
    world_control,
)

CON = "ConnectCustomKeyStore"
DIS = "DisconnectCustomKeyStore"
OPS = ("CreateCustomKeyStore", "DescribeCustomKeyStores", "DeleteCustomKeyStore", CON, DIS)
WRONG_PASSWORD = "not-the-kmsuser-pw"


def connect_ok(s: Scenario):
    sid = s.store()
    obs = s.call("connect", CON, {"CustomKeyStoreId": sid}, expect=ok(), main=True)
    raw = (obs.raw_body or "").strip()
    s.check("connect answers {} or an empty body", obs.ok and raw in ("", "{}"), f"body {raw!r}")
    first = (s.entry(sid, label="describe right after connect") or {}).get("ConnectionState")
    s.check("right after connect the store is CONNECTING or CONNECTED", first in ("CONNECTING", "CONNECTED"),
            f"state {first}")
    yield from s.hold(sid, "CONNECTING")  # with state phases: every "while CONNECTING" case runs now
    state = s.wait(sid)
    s.check("the store ends CONNECTED", state == "CONNECTED", f"state {state}")


def wrong_password(s: Scenario) -> None:
    sid = s.store(KeyStorePassword=WRONG_PASSWORD)
    s.call("connect with a wrong stored kmsuser password", CON, {"CustomKeyStoreId": sid}, expect=ok(), main=True,
           requirements=["CON-002"])
    state = s.wait(sid)
    entry = s.entry(sid, label="describe after the attempt") or {}
    s.check("the attempt ends FAILED", state == "FAILED", f"state {state}", requirements=["CON-002"])
    code = entry.get("ConnectionErrorCode")
    # CON-010 (the cause is recorded) is checked only when the attempt did fail.
    s.check("ConnectionErrorCode is INVALID_CREDENTIALS", code == "INVALID_CREDENTIALS", f"ConnectionErrorCode {code!r}",
            requirements=["CON-002", "CON-010"] if state == "FAILED" else ["CON-002"])


# The states in which each operation is refused / accepted (an answer from any of them may be judged).
REFUSED_IN = {CON: ("DISCONNECTING", "FAILED"), DIS: ("DISCONNECTED", "DISCONNECTING")}
CONNECT_ACCEPTED_IN = ("CONNECTED", "CONNECTING")
DISCONNECT_ACCEPTED_IN = ("CONNECTED", "CONNECTING", "FAILED")


def by_id(store_id: str) -> dict:
    return {"CustomKeyStoreId": store_id}


def refused(op: str, state: str):
    def body(s: Scenario) -> None:
        sid = s.store()
        held = request_in_state(s, sid, state, f"{op.replace('CustomKeyStore', '').lower()} while {state}", op,
                                by_id, expect=err("CustomKeyStoreInvalidStateException"), same_in=REFUSED_IN[op])
        after = (held.after or {}).get("ConnectionState")
        if state in ("DISCONNECTED", "FAILED"):  # stable states: the refusal must leave them as they were
            s.check(f"the store is still {state}", after == state, f"state {after}")

    return body


def connect_noop(state: str):
    def body(s: Scenario) -> None:
        sid = s.store()
        held = request_in_state(s, sid, state, f"connect while {state}", CON, by_id,
                                expect=ok(level="SHOULD"), same_in=CONNECT_ACCEPTED_IN)
        final = s.wait(held.store_id)
        s.check("the store is (still) CONNECTED", final == "CONNECTED", f"state {final}", level="SHOULD")

    return body


def disconnect_ok(state: str):
    def body(s: Scenario) -> None:
        sid = s.store()
        held = request_in_state(s, sid, state, f"disconnect while {state}", DIS, by_id, expect=ok(),
                                same_in=DISCONNECT_ACCEPTED_IN, after_label="describe right after the disconnect")
        obs, sid = held.obs, held.store_id
        raw = (obs.raw_body or "").strip()
        s.check("disconnect answers {} or an empty body", obs.ok and raw in ("", "{}"), f"body {raw!r}")
        yield from s.hold(sid, "DISCONNECTING")  # with state phases: every "while DISCONNECTING" case runs now
        final = s.wait(sid, ("DISCONNECTED",))
        entry = s.entry(sid, label="describe after disconnect") or {}
        s.check("the store ends DISCONNECTED", final == "DISCONNECTED", f"state {final}")
        s.check("no ConnectionErrorCode once DISCONNECTED", "ConnectionErrorCode" not in entry,
                f"ConnectionErrorCode {entry.get('ConnectionErrorCode')!r}",
                requirements=["DIS-005"] if state == "FAILED" else ["DES-010"])

    return body


def not_found(op: str):
    def body(s: Scenario) -> None:
        s.call(f"{op} on an unknown store id", op, {"CustomKeyStoreId": s.unknown("CustomKeyStoreId", op)},
               expect=err("CustomKeyStoreNotFoundException"), main=True)

    return body


def cluster_broken(code: str, change: str):
    """CON-008/009: the store's cluster goes inactive / loses its HSMs after the store exists.

    Only a target with a world control hook (the reference, in-process or served with
    --enable-control) can arrange it; the cluster is restored before the case ends.
    """

    def body(s: Scenario) -> None:
        control = world_control(s, f"needs the store's cluster to {change} after the store exists; the world's "
                                   f"roles cannot arrange that through the API")
        sid = s.store()
        cluster_id = s.role("active_cluster_id")
        saved = control.snapshot(cluster_id)
        try:
            if code == "CloudHsmClusterNotActiveException":
                control.set_cluster_state(cluster_id, "INITIALIZED")
            else:
                control.set_hsms(cluster_id, [])
            s.call(f"connect after the cluster {change}", CON, {"CustomKeyStoreId": sid}, expect=err(code), main=True)
            state = (s.entry(sid, label="describe after") or {}).get("ConnectionState")
            s.check("the store is still DISCONNECTED", state == "DISCONNECTED", f"state {state}")
        finally:
            restore(control, cluster_id, saved)

    return body


def collect(cc: CollectContext) -> list[Case]:
    def sc(case_id, op, reqs, title, body, group="connect", cycles=1, roles=None, tags=()):
        kw = {} if roles is None else {"needs_roles": roles}
        return scenario(case_id, op, reqs, title, body, needs_operations=OPS, schedule_group=group,
                        connect_cycles=cycles, tags=tags, **kw)

    # Cases of a state group that move their store on (with state phases they end their phase).
    to_connected, to_disconnected = (leaves("CONNECTED"),), (leaves("DISCONNECTED"),)

    return [
        sc(f"{CON}/scenario/connects", CON, ["CON-001"],
           "Connect answers {} at once; the store goes CONNECTING and ends CONNECTED", connect_ok,
           tags=(enters("CONNECTING"),)),
        sc(f"{CON}/scenario/wrong-password-fails", CON, ["CON-002", "CON-010"],
           "With a wrong stored kmsuser password the attempt ends FAILED with INVALID_CREDENTIALS", wrong_password,
           roles=("active_cluster_id", "trust_anchor_certificate")),
        sc(f"{CON}/scenario/refused-while-disconnecting", CON, ["CON-003"],
           "Connect on a DISCONNECTING store gives CustomKeyStoreInvalidStateException",
           refused(CON, "DISCONNECTING"), group="state-disconnecting"),
        sc(f"{CON}/scenario/refused-while-failed", CON, ["CON-004"],
           "Connect on a FAILED store gives CustomKeyStoreInvalidStateException", refused(CON, "FAILED"),
           group="state-failed"),
        sc(f"{CON}/scenario/noop-while-connected", CON, ["CON-005"],
           "Connect on a CONNECTED store is accepted and changes nothing", connect_noop("CONNECTED"),
           group="state-connected"),
        sc(f"{CON}/scenario/accepted-while-connecting", CON, ["CON-006"],
           "Connect on a CONNECTING store is accepted and the attempt continues", connect_noop("CONNECTING"),
           group="state-connecting", tags=to_connected),
        scenario(f"{CON}/scenario/not-found", CON, ["CON-007"],
                 "Connect on an unknown store id gives CustomKeyStoreNotFoundException", not_found(CON),
                 needs_roles=(), schedule_group="stateless"),
        sc(f"{CON}/scenario/cluster-not-active", CON, ["CON-008"],
           "Connecting a store whose cluster is no longer active gives CloudHsmClusterNotActiveException",
           cluster_broken("CloudHsmClusterNotActiveException", "become inactive"), cycles=0),
        sc(f"{CON}/scenario/cluster-without-hsms", CON, ["CON-009"],
           "Connecting a store whose cluster has no active HSM gives CloudHsmClusterInvalidConfigurationException",
           cluster_broken("CloudHsmClusterInvalidConfigurationException", "lose every HSM"), cycles=0),
        sc(f"{DIS}/scenario/disconnects-connected", DIS, ["DIS-001"],
           "Disconnect on a CONNECTED store answers {} and ends DISCONNECTED", disconnect_ok("CONNECTED"),
           group="state-connected", tags=(enters("DISCONNECTING"),)),
        sc(f"{DIS}/scenario/refused-while-disconnected", DIS, ["DIS-002"],
           "Disconnect on a DISCONNECTED store gives CustomKeyStoreInvalidStateException",
           refused(DIS, "DISCONNECTED"), group="disconnected", cycles=0),
        sc(f"{DIS}/scenario/refused-while-disconnecting", DIS, ["DIS-003"],
           "Disconnect on a DISCONNECTING store gives CustomKeyStoreInvalidStateException",
           refused(DIS, "DISCONNECTING"), group="state-disconnecting"),
        sc(f"{DIS}/scenario/disconnects-connecting", DIS, ["DIS-004"],
           "Disconnect on a CONNECTING store is accepted and ends DISCONNECTED", disconnect_ok("CONNECTING"),
           group="state-connecting", tags=to_disconnected),
        sc(f"{DIS}/scenario/disconnects-failed", DIS, ["DIS-005"],
           "Disconnect on a FAILED store ends DISCONNECTED and clears the error code", disconnect_ok("FAILED"),
           group="state-failed", roles=("active_cluster_id", "trust_anchor_certificate"), tags=to_disconnected),
        scenario(f"{DIS}/scenario/not-found", DIS, ["DIS-006"],
                 "Disconnect on an unknown store id gives CustomKeyStoreNotFoundException", not_found(DIS),
                 needs_roles=(), schedule_group="stateless"),
    ]
