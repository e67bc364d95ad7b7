"""CreateKey in an external key store: a key backed by a usable external key, and the three ways
the external key can be refused (not found, invalid configuration, already in use).

A key keeps its store until the key's waiting period has passed, so these cases run only where the
target can pass it (or the run opts in), and schedule every key they made for deletion.
"""

from __future__ import annotations

from conformance.cases.base import Case, CollectContext
from conformance.cases.scenarios.kit import (
    MAY_LEAVE_KEY,
    Scenario,
    err,
    ok,
    require_key_cleanup,
    schedule_key_deletion,
)
from conformance.cases.scenarios.xks_kit import CONNECT_OPS, new_store, role, store_params, xks_scenario

OP = "CreateKey"
KEY_OPS = CONNECT_OPS + ("CreateKey", "ScheduleKeyDeletion")
# An external key id no proxy serves (pattern-valid: letters, digits, '.', '_', '-').
UNKNOWN_XKS_KEY = "kms-conformance-no-such-external-key"


def key_params(store_id: str, xks_key_id: str) -> dict:
    return {"Origin": "EXTERNAL_KEY_STORE", "CustomKeyStoreId": store_id, "XksKeyId": xks_key_id,
            "Description": "kms-conformance"}


def _key_id(obs) -> str | None:
    meta = (obs.body or {}).get("KeyMetadata") if obs.ok and isinstance(obs.body, dict) else None
    return meta.get("KeyId") if isinstance(meta, dict) else None


def _connected_store(s: Scenario) -> str:
    store_params(s)  # the world's proxy roles first: without them the case is SKIPPED, naming the role
    require_key_cleanup(s)
    sid = new_store(s)
    s.bring(sid, "CONNECTED")
    return sid


def _create_key(s: Scenario, label: str, sid: str, xks_key_id: str, expect, rid: str, made: list[str], main=True):
    obs = s.call(label, OP, key_params(sid, xks_key_id), expect=expect, main=main, requirements=[rid])
    key_id = _key_id(obs)
    if key_id:
        made.append(key_id)
    return obs


def _with_keys(body):
    """Run `body(s, made)`; every key it made is scheduled for deletion afterwards."""
    def run(s: Scenario) -> None:
        made: list[str] = []
        try:
            body(s, made)
        finally:
            if made:
                schedule_key_deletion(s, made)

    return run


def usable_key(s: Scenario, made: list[str]) -> None:
    sid = _connected_store(s)
    xks_key = role(s, "keys.usable")
    obs = _create_key(s, "CreateKey backed by a usable external key", sid, xks_key, ok(), "KEY-080", made)
    meta = (obs.body or {}).get("KeyMetadata") or {} if isinstance(obs.body, dict) else {}
    xks_cfg = meta.get("XksKeyConfiguration") if isinstance(meta.get("XksKeyConfiguration"), dict) else {}
    s.check("the key belongs to the store, origin EXTERNAL_KEY_STORE, backed by the given external key",
            meta.get("Origin") == "EXTERNAL_KEY_STORE" and meta.get("CustomKeyStoreId") == sid
            and xks_cfg.get("Id") == xks_key,
            f"Origin {meta.get('Origin')}, CustomKeyStoreId {meta.get('CustomKeyStoreId')}, "
            f"XksKeyConfiguration {xks_cfg}", requirements=["KEY-080"])


def key_refused(key_role: str | None, code: str, rid: str):
    def body(s: Scenario, made: list[str]) -> None:
        sid = _connected_store(s)
        xks_key = UNKNOWN_XKS_KEY if key_role is None else role(s, f"keys.{key_role}")
        _create_key(s, f"CreateKey backed by the {key_role or 'unknown'} external key", sid, xks_key, err(code),
                    rid, made)

    return body


def key_in_use(s: Scenario, made: list[str]) -> None:
    sid = _connected_store(s)
    xks_key = role(s, "keys.usable")
    first = _create_key(s, "setup: a first key on the external key", sid, xks_key, None, "KEY-083", made, main=False)
    if not first.ok:
        s.setup("setup: a first key on the external key", OP, key_params(sid, xks_key))
    _create_key(s, "a second key on the same external key", sid, xks_key, err("XksKeyAlreadyInUseException"),
                "KEY-083", made)


def refused_while_disconnected(s: Scenario, made: list[str]) -> None:
    store_params(s)
    require_key_cleanup(s)
    sid = new_store(s)
    _create_key(s, "CreateKey in a DISCONNECTED external key store", sid, role(s, "keys.usable"),
                err("CustomKeyStoreInvalidStateException"), "KEY-084", made)


def collect(cc: CollectContext) -> list[Case]:
    if cc.edition != "current":
        return []

    def sc(case_id, reqs, title, body, cycles=1):
        return xks_scenario(f"{OP}/scenario/{case_id}", OP, reqs, title, _with_keys(body), operations=KEY_OPS,
                            group="connect" if cycles else "stores", cycles=cycles, tags=(MAY_LEAVE_KEY,))

    return [
        sc("xks-key", ["KEY-080"], "CreateKey backed by a usable external key makes a key of the store", usable_key),
        sc("xks-key-not-found", ["KEY-081"], "An external key the proxy does not know gives XksKeyNotFoundException",
           key_refused(None, "XksKeyNotFoundException", "KEY-081")),
        sc("xks-key-disabled", ["KEY-082"], "A disabled external key gives XksKeyInvalidConfigurationException",
           key_refused("disabled", "XksKeyInvalidConfigurationException", "KEY-082")),
        sc("xks-key-not-aes", ["KEY-082"],
           "An external key that is not an AES-256 encryption key gives XksKeyInvalidConfigurationException",
           key_refused("not_aes", "XksKeyInvalidConfigurationException", "KEY-082")),
        sc("xks-key-in-use", ["KEY-083"],
           "A second key on an external key the store already uses gives XksKeyAlreadyInUseException", key_in_use),
        sc("xks-refused-while-disconnected", ["KEY-084"],
           "CreateKey in a DISCONNECTED external key store gives CustomKeyStoreInvalidStateException",
           refused_while_disconnected, cycles=0),
    ]
