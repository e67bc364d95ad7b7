"""DeleteCustomKeyStore, and the KMS key operations the seed's errors name.

CreateKey (Origin AWS_CLOUDHSM) and GenerateRandom with a CustomKeyStoreId need
a CONNECTED store; a store that holds keys cannot be deleted until the keys are
deleted (ScheduleKeyDeletion, then the waiting period). Keys a case makes are
scheduled for deletion before it ends; where the target offers a clock hook
the waiting period is passed so the store can be cleaned up.
"""

from __future__ import annotations

import base64

from conformance.cases.base import Case, CollectContext
from conformance.cases.scenarios.kit import (
    MAY_LEAVE_KEY,
    Scenario,
    err,
    finish_key_deletion,
    ok,
    request_in_state,
    require_key_cleanup,
    restore,
    scenario,
    schedule_deletion_only,
    schedule_key_deletion,
    world_control,
)
from conformance.errors import NotTriggerable, SetupFailed

DEL = "DeleteCustomKeyStore"
OPS = ("CreateCustomKeyStore", "DescribeCustomKeyStores", "DeleteCustomKeyStore",
       "ConnectCustomKeyStore", "DisconnectCustomKeyStore")
KEY_OPS = OPS + ("CreateKey", "ScheduleKeyDeletion")
# A store id means something only on a target that has custom key stores at all: on one that
# lacks them (moto ignores CustomKeyStoreId) the KEY cases are UNIMPLEMENTED, not FAIL.
STORE_AWARE = ("DescribeCustomKeyStores",)
NOT_CONNECTED = ("DISCONNECTED", "CONNECTING", "DISCONNECTING", "FAILED")
NOT_DELETABLE = ("CONNECTED", "CONNECTING", "DISCONNECTING", "FAILED")


def create_key_params(store_id: str) -> dict:
    return {"Origin": "AWS_CLOUDHSM", "CustomKeyStoreId": store_id, "Description": "kms-conformance"}


def _key_id(obs) -> str | None:
    return ((obs.body or {}).get("KeyMetadata") or {}).get("KeyId") if obs.ok and isinstance(obs.body, dict) else None


def delete_ok(s: Scenario) -> None:
    sid = s.store()
    obs = s.call("delete the store", DEL, {"CustomKeyStoreId": sid}, expect=ok(), main=True)
    if obs.ok:
        s.forget(sid)
    raw = (obs.raw_body or "").strip()
    s.check("delete answers {} or an empty body", obs.ok and raw in ("", "{}"), f"body {raw!r}")
    gone = s.call("describe the deleted store", "DescribeCustomKeyStores", {"CustomKeyStoreId": sid})
    listed = any(e.get("CustomKeyStoreId") == sid for e in ((gone.body or {}).get("CustomKeyStores") or [])
                 if isinstance(e, dict)) if isinstance(gone.body, dict) else False
    # Still listed: the delete did not delete (DEL-001); gone but not refused: the not-found answer (DES-004).
    s.rec.judge(err("CustomKeyStoreNotFoundException"), gone, request={"params": {"CustomKeyStoreId": sid}},
                requirements=["DES-004"] if gone.ok and not listed else ["DEL-001"])


def delete_refused(state: str):
    def body(s: Scenario) -> None:
        sid = s.store()
        held = request_in_state(s, sid, state, f"delete while {state}", DEL, lambda sid: {"CustomKeyStoreId": sid},
                                expect=err("CustomKeyStoreInvalidStateException"), same_in=NOT_DELETABLE)
        listed = held.after is not None
        s.check("the store still exists", listed, "listed" if listed else "gone")

    return body


def delete_not_found(s: Scenario) -> None:
    s.call("delete an unknown store id", DEL, {"CustomKeyStoreId": s.unknown("CustomKeyStoreId", DEL)},
           expect=err("CustomKeyStoreNotFoundException"), main=True)


def _store_with_key(s: Scenario) -> tuple[str, str]:
    require_key_cleanup(s)
    sid = s.store(state="CONNECTED")
    obs = s.setup("setup: create a key in the store", "CreateKey", create_key_params(sid))
    key_id = _key_id(obs)
    if not key_id:
        raise SetupFailed("setup: CreateKey answered no KeyMetadata.KeyId")
    s.setup("setup: disconnect", "DisconnectCustomKeyStore", {"CustomKeyStoreId": sid})
    s.wait(sid, ("DISCONNECTED",))
    return sid, key_id


def has_keys(s: Scenario) -> None:
    """DEL-003: refused while the store holds a key, and still while that key is pending deletion."""
    sid, key_id = _store_with_key(s)
    until = None
    try:
        s.call("delete a store that holds a key", DEL, {"CustomKeyStoreId": sid},
               expect=err("CustomKeyStoreHasCMKsException"), main=True)
        until = schedule_deletion_only(s, [key_id])
        s.call("delete the store while its key is pending deletion", DEL, {"CustomKeyStoreId": sid},
               expect=err("CustomKeyStoreHasCMKsException"))
        listed = s.call("describe the store after the refusals", "DescribeCustomKeyStores",
                        {"CustomKeyStoreId": sid})
        entries = (listed.body or {}).get("CustomKeyStores") if isinstance(listed.body, dict) else None
        states = [e.get("ConnectionState") for e in entries or [] if isinstance(e, dict)
                  and e.get("CustomKeyStoreId") == sid]
        s.check("the store is still there, DISCONNECTED, after the refusals", states == ["DISCONNECTED"],
                f"listed with states {states}")
    finally:
        if until is None:
            schedule_key_deletion(s, [key_id], store_id=sid)
        else:
            finish_key_deletion(s, sid, [key_id], until)


def delete_after_keys(s: Scenario) -> None:
    """KEY-006: after ScheduleKeyDeletion and the waiting period, the store can be deleted."""
    sid, key_id = _store_with_key(s)
    passed = schedule_key_deletion(s, [key_id], expect=ok(), store_id=sid)
    obs = s.call("delete the store once its key is deleted", DEL, {"CustomKeyStoreId": sid},
                 expect=ok() if passed else None, main=True)
    if obs.ok:
        s.forget(sid)
    elif not passed:
        if obs.error_code == "CustomKeyStoreHasCMKsException":
            raise NotTriggerable("keys are deleted only after the 7-30 day waiting period, which this target "
                                 "cannot pass during a run (no clock hook)")
        s.call("delete the store once its key is deleted", DEL, {"CustomKeyStoreId": sid}, expect=ok())


def key_refused(op: str, state: str):
    def body(s: Scenario) -> None:
        sid = s.store()

        def params(sid: str) -> dict:
            return create_key_params(sid) if op == "CreateKey" else {"NumberOfBytes": 32, "CustomKeyStoreId": sid}

        def retire(obs) -> None:  # a key made (rightly, or wrongly) would keep the store: delete it
            key_id = _key_id(obs) if op == "CreateKey" else None
            if key_id:
                schedule_key_deletion(s, [key_id], store_id=sid)

        held = request_in_state(s, sid, state, f"{op} while the store is {state}", op, params,
                                expect=err("CustomKeyStoreInvalidStateException"), same_in=NOT_CONNECTED,
                                on_missed=retire)
        retire(held.obs)

    return body


def _connected_store_for_a_key(s: Scenario) -> str:
    """A new CONNECTED store; or, where an earlier key case left a store holding the cluster lineage (its
    key pending deletion), that store connected again: one more key in it holds nothing more, for no longer."""
    try:
        return s.store(state="CONNECTED")
    except NotTriggerable:
        held = next((sid for sid in s.driver.keys_until if sid in s.driver.quarantine), None)
        if held is None:
            raise
    s.note(f"store {held} holds the cluster lineage until its key is deleted; this case uses it")
    s.stores.append(held)
    s.bring(held, "CONNECTED")
    return held


def create_key_connected(s: Scenario) -> None:
    require_key_cleanup(s)
    sid = _connected_store_for_a_key(s)
    obs = s.call("CreateKey in the CONNECTED store", "CreateKey", create_key_params(sid), expect=ok(), main=True)
    meta = (obs.body or {}).get("KeyMetadata") or {} if isinstance(obs.body, dict) else {}
    s.check("the key belongs to the store, origin AWS_CLOUDHSM",
            meta.get("CustomKeyStoreId") == sid and meta.get("Origin") == "AWS_CLOUDHSM",
            f"CustomKeyStoreId {meta.get('CustomKeyStoreId')!r}, Origin {meta.get('Origin')!r}")
    key_id = _key_id(obs)
    if key_id:
        schedule_key_deletion(s, [key_id], store_id=sid)


def random_connected(s: Scenario) -> None:
    sid = s.store(state="CONNECTED")
    obs = s.call("GenerateRandom from the CONNECTED store", "GenerateRandom",
                 {"NumberOfBytes": 48, "CustomKeyStoreId": sid}, expect=ok(), main=True)
    plain = (obs.body or {}).get("Plaintext") if isinstance(obs.body, dict) else None
    if isinstance(plain, str):
        try:
            plain = base64.b64decode(plain)
        except ValueError:
            plain = None
    size = len(plain) if isinstance(plain, (bytes, bytearray)) else None
    s.check("48 random bytes returned", size == 48, f"Plaintext of {size} bytes")


def unknown_store(op: str):
    def body(s: Scenario) -> None:
        params = (create_key_params(s.unknown("CustomKeyStoreId", DEL)) if op == "CreateKey"
                  else {"NumberOfBytes": 64, "CustomKeyStoreId": s.unknown("CustomKeyStoreId", DEL)})
        s.call(f"{op} with an unknown store id", op, params, expect=err("CustomKeyStoreNotFoundException"), main=True)

    return body


def create_key_invalid_cluster(s: Scenario) -> None:
    """KEY-007 (SHOULD): CreateKey needs two active HSMs in different AZs (world control hook only)."""
    control = world_control(s, "needs the cluster of a CONNECTED store to drop to one active HSM; the world's "
                               "roles cannot arrange that through the API")
    require_key_cleanup(s)  # a target bug could make a key here
    sid = s.store(state="CONNECTED")
    cluster_id = s.role("active_cluster_id")
    saved = control.snapshot(cluster_id)
    try:
        control.set_hsms(cluster_id, saved.hsms[:1])
        obs = s.call("CreateKey while the cluster has one active HSM", "CreateKey", create_key_params(sid),
                     expect=err("CloudHsmClusterInvalidConfigurationException", level="SHOULD"), main=True)
    finally:
        restore(control, cluster_id, saved)
    key_id = _key_id(obs)
    if key_id:
        schedule_key_deletion(s, [key_id], store_id=sid)


def collect(cc: CollectContext) -> list[Case]:
    cases = [
        scenario(f"{DEL}/scenario/deleted", DEL, ["DEL-001"],
                 "Deleting a DISCONNECTED store without keys answers {} and the store is gone", delete_ok,
                 needs_operations=OPS, schedule_group="disconnected"),
        scenario(f"{DEL}/scenario/not-found", DEL, ["DEL-004"],
                 "Deleting an unknown store id gives CustomKeyStoreNotFoundException", delete_not_found,
                 needs_roles=(), schedule_group="stateless"),
        scenario(f"{DEL}/scenario/has-keys", DEL, ["DEL-003"],
                 "Deleting a store that holds a key gives CustomKeyStoreHasCMKsException", has_keys,
                 needs_operations=KEY_OPS, schedule_group="with-keys", connect_cycles=1,
                 tags=(MAY_LEAVE_KEY,)),
        scenario(f"{DEL}/scenario/deletable-after-key-deletion", DEL, ["KEY-006"],
                 "Once its keys are deleted (ScheduleKeyDeletion, waiting period) the store can be deleted",
                 delete_after_keys, needs_operations=KEY_OPS, schedule_group="with-keys", connect_cycles=1,
                 tags=(MAY_LEAVE_KEY,)),
        scenario("CreateKey/scenario/connected-store", "CreateKey", ["KEY-002"],
                 "CreateKey with Origin AWS_CLOUDHSM in a CONNECTED store makes a key of that store",
                 create_key_connected, needs_operations=KEY_OPS, schedule_group="with-keys", connect_cycles=1,
                 tags=(MAY_LEAVE_KEY,), lineage_check=False),
        scenario("CreateKey/scenario/cluster-invalid-configuration", "CreateKey", ["KEY-007"],
                 "CreateKey in a store whose cluster has one active HSM gives "
                 "CloudHsmClusterInvalidConfigurationException", create_key_invalid_cluster,
                 needs_operations=KEY_OPS, schedule_group="with-keys", connect_cycles=1,
                 tags=(MAY_LEAVE_KEY,)),
        scenario("GenerateRandom/scenario/connected-store", "GenerateRandom", ["KEY-004"],
                 "GenerateRandom with a CONNECTED store's id returns the requested bytes", random_connected,
                 needs_operations=OPS + ("GenerateRandom",), schedule_group="state-connected", connect_cycles=1),
        scenario("CreateKey/scenario/unknown-store", "CreateKey", ["KEY-005"],
                 "CreateKey with an unknown store id gives CustomKeyStoreNotFoundException", unknown_store("CreateKey"),
                 needs_roles=(), needs_operations=STORE_AWARE, schedule_group="stateless"),
        scenario("GenerateRandom/scenario/unknown-store", "GenerateRandom", ["KEY-005"],
                 "GenerateRandom with an unknown store id gives CustomKeyStoreNotFoundException",
                 unknown_store("GenerateRandom"), needs_roles=(), needs_operations=STORE_AWARE,
                 schedule_group="stateless"),
    ]
    for state in ("CONNECTED", "CONNECTING", "DISCONNECTING", "FAILED"):
        cases.append(scenario(f"{DEL}/scenario/refused-while-{state.lower()}", DEL, ["DEL-002"],
                              f"Deleting a {state} store gives CustomKeyStoreInvalidStateException",
                              delete_refused(state), needs_operations=OPS, schedule_group=f"state-{state.lower()}",
                              connect_cycles=1))
    for state in NOT_CONNECTED:
        cycles = 0 if state == "DISCONNECTED" else 1
        group = "disconnected" if state == "DISCONNECTED" else f"state-{state.lower()}"
        cases.append(scenario(f"CreateKey/scenario/refused-while-{state.lower()}", "CreateKey", ["KEY-001"],
                              f"CreateKey in a {state} store gives CustomKeyStoreInvalidStateException",
                              key_refused("CreateKey", state), needs_operations=KEY_OPS, schedule_group=group,
                              connect_cycles=cycles, tags=(MAY_LEAVE_KEY,)))
        cases.append(scenario(f"GenerateRandom/scenario/refused-while-{state.lower()}", "GenerateRandom", ["KEY-003"],
                              f"GenerateRandom with a {state} store gives CustomKeyStoreInvalidStateException",
                              key_refused("GenerateRandom", state), needs_operations=OPS + ("GenerateRandom",),
                              schedule_group=group, connect_cycles=cycles))
    return cases
