"""A tiny, independent custom-key-store target for tests: not our reference emulator.

It keeps the rules of the current edition that the state scenarios touch, but its
transitions settle on their own, the way a real service does, not when we look:
- `delay_s`: a background timer moves CONNECTING / DISCONNECTING on after that many
  wall-clock seconds (`latency_s` makes every call slower, like a network);
- `shown_for`: the adversary. A transitional state is shown by that many Describe answers
  and is over at the next call, so a request sent after looking can never land in it.
`fail_next` makes the next N calls of an operation answer ThrottlingException (an injected
teardown failure). There is no clock and no way to pass a key's waiting period: a key in a
store keeps it, as on AWS.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from conformance.abilities import Abilities
from conformance.observation import Observation
from conformance.targets.base import Capabilities, Identity, Target
from conformance.world import Timeouts, World

ACTIVE, RELATED, UNRELATED = "cluster-1234567890a", "cluster-1234567890b", "cluster-1234567890c"
LINEAGE = {ACTIVE: "one", RELATED: "one", UNRELATED: "two"}
PASSWORD = "kmsuser-secret-1"
ANCHOR = "-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n"


class Refused(Exception):
    def __init__(self, code: str, message: str = ""):
        super().__init__(message)
        self.code, self.message = code, message or code


class FakeStoreTarget(Target):
    def __init__(self, *, delay_s: float | None = 0.1, connect_s: float | None = None, shown_for: int | None = None,
                 latency_s: float = 0.0):
        timeouts = Timeouts(connect_s=30.0, disconnect_s=30.0, poll_interval_s=0.01, call_s=5.0)
        self.world = World(active_cluster_id=ACTIVE, related_cluster_id=RELATED, unrelated_cluster_id=UNRELATED,
                           trust_anchor_certificate=ANCHOR, kmsuser_password=PASSWORD, timeouts=timeouts)
        self.timeouts = timeouts
        self.identity = Identity(name="fake-store-target", adapter="endpoint", endpoint="fake://local")
        instant = shown_for is None and not (delay_s and delay_s > 0)
        self.capabilities = Capabilities(observable_transitions=not instant, speaks_json=True)
        self.abilities = Abilities()
        self.connect_s = connect_s if connect_s is not None else delay_s
        self.disconnect_s = delay_s
        self.shown_for = shown_for
        self.latency_s = latency_s
        self.fail_next: dict[str, int] = {}
        self.stores: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._timers: list[threading.Timer] = []

    # -- the wire ---------------------------------------------------------------------------
    def call(self, operation: str, params: dict[str, Any] | None = None, *, service: str = "kms") -> Observation:
        if self.latency_s:
            time.sleep(self.latency_s)
        with self._lock:
            self.calls.append(operation)
            if self.fail_next.get(operation):
                self.fail_next[operation] -= 1
                return self._error(operation, Refused("ThrottlingException", "Rate exceeded"))
            self._settle_observed(operation)
            try:
                body = getattr(self, "_" + operation)(dict(params or {}))
            except Refused as exc:
                return self._error(operation, exc)
            except AttributeError:
                return self._error(operation, Refused("UnsupportedOperationException", operation))
            return Observation(operation=operation, status=200, body=body, raw_body="{}" if body == {} else "json")

    def send_raw(self, body, *, amz_target, **kw) -> Observation:
        return Observation(status=400, error_code="UnsupportedOperationException", body={})

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()

    @staticmethod
    def _error(operation: str, exc: Refused) -> Observation:
        body = {"__type": exc.code, "message": exc.message}
        return Observation(operation=operation, status=400, error_code=exc.code, message=exc.message, body=body,
                           raw_body="json")

    # -- transitions ------------------------------------------------------------------------
    def _begin(self, store: dict, state: str, delay: float | None) -> None:
        store["state"], store["shown"] = state, 0
        store["epoch"] = epoch = store.get("epoch", 0) + 1
        if self.shown_for is None and delay is not None and delay <= 0:
            self._finish(store)
        elif self.shown_for is None and delay is not None:
            timer = threading.Timer(delay, self._finish, (store, epoch))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def _finish(self, store: dict, epoch: int | None = None) -> None:
        with self._lock:
            if epoch is not None and store.get("epoch") != epoch:
                return  # a later transition replaced this one
            if store["state"] == "CONNECTING":
                store["state"] = "CONNECTED" if store["password"] == PASSWORD else "FAILED"
                store["error"] = None if store["state"] == "CONNECTED" else "INVALID_CREDENTIALS"
            elif store["state"] == "DISCONNECTING":
                store["state"], store["error"] = "DISCONNECTED", None

    def _settle_observed(self, operation: str) -> None:
        if self.shown_for is None:
            return
        for store in self.stores.values():
            if store["state"] in ("CONNECTING", "DISCONNECTING") and store["shown"] >= self.shown_for:
                self._finish(store)

    # -- operations -------------------------------------------------------------------------
    def _store(self, p: dict) -> dict:
        store = self.stores.get(p.get("CustomKeyStoreId"))
        if store is None:
            raise Refused("CustomKeyStoreNotFoundException", "no such custom key store")
        return store

    def _lineage_busy(self, cluster: str, but: str | None = None) -> bool:
        return any(LINEAGE.get(s["cluster"]) == LINEAGE.get(cluster) for sid, s in self.stores.items() if sid != but)

    def _CreateCustomKeyStore(self, p: dict) -> dict:
        cluster = p.get("CloudHsmClusterId")
        if cluster not in LINEAGE:
            raise Refused("CloudHsmClusterNotFoundException")
        if any(s["name"] == p.get("CustomKeyStoreName") for s in self.stores.values()):
            raise Refused("CustomKeyStoreNameInUseException")
        if self._lineage_busy(cluster):
            raise Refused("CloudHsmClusterInUseException", f"cluster {cluster} is in use")
        sid = f"cks-{next(self._ids):017d}"
        self.stores[sid] = {"id": sid, "name": p.get("CustomKeyStoreName"), "cluster": cluster,
                            "password": p.get("KeyStorePassword"), "state": "DISCONNECTED", "error": None}
        return {"CustomKeyStoreId": sid}

    def _DescribeCustomKeyStores(self, p: dict) -> dict:
        chosen = [s for s in self.stores.values()
                  if p.get("CustomKeyStoreId") in (None, s["id"]) and p.get("CustomKeyStoreName") in (None, s["name"])]
        if not chosen and (p.get("CustomKeyStoreId") or p.get("CustomKeyStoreName")):
            raise Refused("CustomKeyStoreNotFoundException")
        entries = []
        for s in chosen:
            s["shown"] = s.get("shown", 0) + 1
            entry = {"CustomKeyStoreId": s["id"], "CustomKeyStoreName": s["name"], "CloudHsmClusterId": s["cluster"],
                     "TrustAnchorCertificate": ANCHOR, "ConnectionState": s["state"], "CreationDate": 1.0}
            if s["error"] and s["state"] == "FAILED":
                entry["ConnectionErrorCode"] = s["error"]
            entries.append(entry)
        return {"CustomKeyStores": entries, "Truncated": False}

    def _ConnectCustomKeyStore(self, p: dict) -> dict:
        store = self._store(p)
        if store["state"] in ("CONNECTED", "CONNECTING"):
            return {}
        if store["state"] in ("DISCONNECTING", "FAILED"):
            raise Refused("CustomKeyStoreInvalidStateException", f"the store is {store['state']}")
        self._begin(store, "CONNECTING", self.connect_s)
        return {}

    def _DisconnectCustomKeyStore(self, p: dict) -> dict:
        store = self._store(p)
        if store["state"] in ("DISCONNECTED", "DISCONNECTING"):
            raise Refused("CustomKeyStoreInvalidStateException", f"the store is {store['state']}")
        store["error"] = None
        self._begin(store, "DISCONNECTING", self.disconnect_s)
        return {}

    def _DeleteCustomKeyStore(self, p: dict) -> dict:
        store = self._store(p)
        if store["state"] != "DISCONNECTED":
            raise Refused("CustomKeyStoreInvalidStateException", f"the store is {store['state']}")
        if any(k["store"] == store["id"] for k in self.keys.values()):
            raise Refused("CustomKeyStoreHasCMKsException", "the store holds KMS keys")
        del self.stores[store["id"]]
        return {}

    def _UpdateCustomKeyStore(self, p: dict) -> dict:
        store = self._store(p)
        name, password, cluster = p.get("NewCustomKeyStoreName"), p.get("KeyStorePassword"), p.get("CloudHsmClusterId")
        state = store["state"]
        if state != "DISCONNECTED" and not (state == "CONNECTED" and name and not password and not cluster):
            raise Refused("CustomKeyStoreInvalidStateException", f"the store is {state}")
        if cluster is not None and LINEAGE.get(cluster) != LINEAGE.get(store["cluster"]):
            raise Refused("CloudHsmClusterNotRelatedException")
        if name is not None:
            store["name"] = name
        if password is not None:
            store["password"] = password
        if cluster is not None:
            store["cluster"] = cluster
        return {}

    def _connected(self, p: dict) -> dict:
        store = self._store(p)
        if store["state"] != "CONNECTED":
            raise Refused("CustomKeyStoreInvalidStateException", f"the store is {store['state']}")
        return store

    def _CreateKey(self, p: dict) -> dict:
        store = self._connected(p)
        key_id = f"key-{next(self._ids)}"
        self.keys[key_id] = {"store": store["id"], "state": "Enabled"}
        return {"KeyMetadata": {"KeyId": key_id, "CustomKeyStoreId": store["id"], "Origin": "AWS_CLOUDHSM"}}

    def _GenerateRandom(self, p: dict) -> dict:
        self._connected(p)
        return {"Plaintext": "AAAA"}

    def _ScheduleKeyDeletion(self, p: dict) -> dict:
        key = self.keys.get(p.get("KeyId"))
        if key is None:
            raise Refused("NotFoundException")
        key["state"] = "PendingDeletion"  # never completes here: the store stays, as on AWS for 7-30 days
        return {"KeyId": p["KeyId"]}

    def _ListKeys(self, p: dict) -> dict:
        return {"Keys": [{"KeyId": k} for k in self.keys], "Truncated": False}

    def _DescribeKey(self, p: dict) -> dict:
        key = self.keys.get(p.get("KeyId"))
        if key is None:
            raise Refused("NotFoundException")
        return {"KeyMetadata": {"KeyId": p["KeyId"], "CustomKeyStoreId": key["store"], "KeyState": key["state"]}}
