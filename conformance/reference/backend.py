"""State and semantics of the reference target, without HTTP.

`ReferenceBackend.handle(service, operation, params) -> (status, body)` is the
whole behaviour, so it can also run as the model beside another target.

Connect: a missing cluster is only found by the attempt (FAILED with
CLUSTER_NOT_FOUND); "easily detected" problems (cluster not ACTIVE, no active
HSM, broken network set-up) are refused at once and leave the store
DISCONNECTED (CON-008, CON-009); HSMs lost while CONNECTING end FAILED with
INSUFFICIENT_CLOUDHSM_HSMS, a stale password FAILED with INVALID_CREDENTIALS.

Check order (one order for every operation, documented because AWS does not
document it): **validation** (SerializationException for wrong JSON types,
then ValidationException from the spec oracle) → **existence** of the store
(CustomKeyStoreNotFoundException) → **connection state**
(CustomKeyStoreInvalidStateException) → **uniqueness** (name in use, cluster
in use, store quota) → **cluster checks** (not found → not related → not
active → invalid configuration → trust anchor). Validation always wins over
existence (VAL-009). A request that fails any check changes nothing
(UPD-006): updates are applied only after every check passed, under the lock.

Time: connection transitions and key deletion use `config.clock` (a manual
clock makes CONNECTING / DISCONNECTING observable without sleeping). State is
settled lazily at the start of every request against that clock.

Key deletion: AWS only lets a store go once its keys are *deleted*, which is
after the 7-30 day waiting period. Here too: a key in PendingDeletion still
blocks DeleteCustomKeyStore (CustomKeyStoreHasCMKsException) until the clock
passes its DeletionDate; tests move a manual clock (or call
`complete_pending_deletions()`), so the rule is faithful and still testable.
"""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.reference.config import ReferenceConfig
from conformance.reference.errors import (
    CloudHsmClusterInUseException,
    CloudHsmClusterInvalidConfigurationException,
    CloudHsmClusterNotActiveException,
    CloudHsmClusterNotFoundException,
    CloudHsmClusterNotRelatedException,
    CustomKeyStoreHasCMKsException,
    CustomKeyStoreInvalidStateException,
    CustomKeyStoreNameInUseException,
    CustomKeyStoreNotFoundException,
    IncorrectTrustAnchorException,
    InvalidMarkerException,
    KmsError,
    KMSInvalidStateException,
    LimitExceededException,
    NotFoundException,
    SerializationException,
    UnknownOperationException,
    UnsupportedOperationException,
    ValidationException,
    error_document,
)
from conformance.reference.validation import RequestValidation
from conformance.reference.world import Cluster, normalize_pem
from conformance.reference.xks import XksSettings
from conformance.reference.xks_rules import XKS, XksRules
from conformance.spec import edition_semantics

KMS_OPERATIONS = CUSTOM_KEY_STORE_OPERATIONS + (
    "CreateKey",
    "DescribeKey",
    "ScheduleKeyDeletion",
    "GenerateRandom",
)
DAY_S = 86400.0


@dataclass
class Store:
    id: str
    name: str
    cluster_id: str | None  # CloudHSM stores: the cluster, its lineage, trust anchor, kmsuser password
    lineage: str | None
    trust_anchor: str | None
    password: str | None = field(repr=False)
    creation_date: float = 0.0
    seq: int = 0
    state: str = "DISCONNECTED"
    error_code: str | None = None
    deadline: float | None = None  # when CONNECTING / DISCONNECTING ends
    xks: XksSettings | None = None  # external key stores: the proxy configuration (xks_rules.py)
    pending_error: str | None = None  # XKS: what the running connection attempt found (None: it connects)

    @property
    def store_type(self) -> str:
        return XKS if self.xks is not None else "AWS_CLOUDHSM"


@dataclass
class Key:
    id: str
    arn: str
    store_id: str | None
    cluster_id: str | None
    origin: str
    description: str
    creation_date: float
    state: str = "Enabled"
    deletion_date: float | None = None
    pending_days: int | None = None
    xks_key_id: str | None = None  # a key in an external key store: its external key


class ReferenceBackend(XksRules, RequestValidation):
    """One account in one Region of the emulated KMS (plus the CloudHSM clusters it sees).

    Every rule is a small named method (`check_*`, a predicate or an answer), so
    a seeded fault (faults.py) can replace exactly the rule it breaks. Build one
    with its faults through `conformance.reference.make_backend(config)`.
    """

    def __init__(self, config: ReferenceConfig | None = None):
        self.config = config or ReferenceConfig()
        self.edition = self.config.edition
        self.world = self.config.world
        self.model = self.emulator_model()
        # "all" (2019-12) or the members whose change needs DISCONNECTED (current).
        self.update_rule = edition_semantics(self.edition).get("update_requires_disconnected", "all")
        self._lock = self.world.lock  # one lock for state and world: no torn updates
        self._rng = random.Random(self.config.seed) if self.config.seed is not None else random.SystemRandom()
        self.stores: dict[str, Store] = {}
        self.keys: dict[str, Key] = {}
        self._seq = 0
        self._handlers: dict[tuple[str, str], Callable[[dict], dict]] = {
            **{("kms", op): getattr(self, "_" + op) for op in KMS_OPERATIONS},
            ("cloudhsm", "DescribeClusters"): self._DescribeClusters,
        }

    # ------------------------------------------------------------------ entry point
    @property
    def clock(self) -> Callable[[], float]:
        return self.config.clock

    def supports(self, service: str, operation: str) -> bool:
        return (service, operation) in self._handlers

    def handle(self, service: str, operation: str, params: Any) -> tuple[int, dict]:
        """Run one request; returns (HTTP status, JSON body) as AWS would answer. Never raises for API errors."""
        try:
            return 200, self.dispatch(service, operation, params)
        except KmsError as err:
            return err.status, error_document(err)

    def dispatch(self, service: str, operation: str, params: Any) -> dict:
        """Like `handle` but raises the KmsError (the HTTP layer maps it to the wire)."""
        handler = self._handlers.get((service, operation))
        if handler is None:
            raise UnknownOperationException()
        if params is None:
            params = {}
        with self._lock:
            self._settle()
            if not isinstance(params, dict):
                raise SerializationException("Start of structure or map found where not expected.")
            if service == "kms":
                self.validate(operation, params)
            return handler(params)

    # ------------------------------------------------------------------ time
    def _settle(self) -> None:
        """Finish transitions and key deletions whose time has come."""
        now = self.clock()
        for store in self.stores.values():
            if store.deadline is not None and now >= store.deadline:
                self._finish_transition(store)
        for key_id in [k.id for k in self.keys.values() if k.deletion_date is not None and now >= k.deletion_date]:
            del self.keys[key_id]

    def _finish_transition(self, store: Store) -> None:
        store.deadline = None
        if store.state == "DISCONNECTING":
            store.state = "DISCONNECTED"
            self.clear_connection_error(store)
        elif store.state == "CONNECTING":
            code = self._connect_outcome(store)
            if code is None:
                store.state = "CONNECTED"
                self.clear_connection_error(store)
            else:
                store.state, store.error_code = "FAILED", code

    def _connect_outcome(self, store: Store) -> str | None:
        """None when the connection succeeds, else the ConnectionErrorCode."""
        if store.xks is not None:
            return store.pending_error  # found when Connect was called (xks_connect_probe)
        cluster = self.world.get(store.cluster_id)
        if cluster is None:
            return "CLUSTER_NOT_FOUND"
        if cluster.state != "ACTIVE" or not cluster.active_hsms():
            return "INSUFFICIENT_CLOUDHSM_HSMS"
        if not self.credentials_valid(store, cluster):
            return "INVALID_CREDENTIALS"
        return None

    def _start(self, store: Store, state: str, delay: float) -> None:
        store.state = state
        store.deadline = self.clock() + max(0.0, delay)
        if delay <= 0:
            self._finish_transition(store)

    # ------------------------------------------------------------------ connection rules
    def credentials_valid(self, store: Store, cluster: Cluster) -> bool:
        """The store's copy of the kmsuser password must be the cluster's current one."""
        return store.password == cluster.kmsuser_password

    def clear_connection_error(self, store: Store) -> None:
        """Leaving FAILED forgets why the last connection failed."""
        store.error_code = None

    def shows_connection_error(self, store: Store) -> bool:
        return store.state == "FAILED"

    def invalid_state(self, store: Store, what: str) -> KmsError:
        return CustomKeyStoreInvalidStateException(
            f"{what} is not valid for custom key store {store.id} in connection state {store.state}.")

    def check_update_state(self, store: Store, p: dict) -> None:
        allowed = {"DISCONNECTED"} if self.update_needs_disconnected(p) else {"DISCONNECTED", "CONNECTED"}
        if store.state not in allowed:
            raise self.invalid_state(store, "UpdateCustomKeyStore")

    def update_needs_disconnected(self, p: dict) -> bool:
        """The edition's rule: any update (2019-12), or one that changes a listed member (current)."""
        return self.update_rule == "all" or any(p.get(m) is not None for m in self.update_rule)

    def check_connect_state(self, store: Store) -> None:
        if store.state in ("DISCONNECTING", "FAILED"):
            raise self.invalid_state(store, "ConnectCustomKeyStore")

    def answer_repeated_disconnect(self, store: Store) -> dict:
        """Disconnecting a store that is DISCONNECTED or DISCONNECTING is refused, not a no-op."""
        raise self.invalid_state(store, "DisconnectCustomKeyStore")

    def check_delete_state(self, store: Store) -> None:
        if store.state != "DISCONNECTED":
            raise self.invalid_state(store, "DeleteCustomKeyStore")

    def check_crypto_state(self, store: Store, operation: str) -> None:
        if store.state != "CONNECTED":
            raise self.invalid_state(store, operation)

    # ------------------------------------------------------------------ uniqueness, quota, keys
    def _name_taken(self, name: str, except_id: str | None = None) -> bool:
        return any(s.name == name and s.id != except_id for s in self.stores.values())

    def check_store_quota(self) -> None:
        if self.edition != "2019-12" and len(self.stores) >= self.config.store_limit:
            raise LimitExceededException(
                f"The account already has the maximum number of custom key stores ({self.config.store_limit}).")

    def check_create_name(self, name: str) -> None:
        if self._name_taken(name):
            raise CustomKeyStoreNameInUseException(f"The custom key store name {name} is already in use.")

    def check_update_name(self, store: Store, name: str) -> None:
        if self._name_taken(name, except_id=store.id):
            raise CustomKeyStoreNameInUseException(f"The custom key store name {name} is already in use.")

    def check_cluster_not_in_use(self, cluster: Cluster) -> None:
        """Neither the cluster nor one sharing its backup history may back another store."""
        for s in self.stores.values():
            if s.cluster_id == cluster.cluster_id or s.lineage == cluster.lineage:
                raise CloudHsmClusterInUseException(
                    f"The AWS CloudHSM cluster {cluster.cluster_id} (or one sharing its backup history) "
                    f"is already associated with custom key store {s.id}.")

    def check_no_keys(self, store: Store) -> None:
        keys = [k for k in self.keys.values() if k.store_id == store.id]
        if keys:
            raise CustomKeyStoreHasCMKsException(f"Custom key store {store.id} still holds {len(keys)} KMS key(s); "
                                                 "delete them (ScheduleKeyDeletion, then wait) first.")

    # ------------------------------------------------------------------ cluster rules
    def _find_cluster(self, cluster_id: str) -> Cluster:
        cluster = self.world.get(cluster_id)
        if cluster is None:
            raise CloudHsmClusterNotFoundException(f"AWS KMS cannot find the AWS CloudHSM cluster {cluster_id}.")
        return cluster

    def check_cluster_related(self, store: Store, cluster: Cluster) -> None:
        if cluster.lineage != store.lineage:
            raise CloudHsmClusterNotRelatedException(
                f"The AWS CloudHSM cluster {cluster.cluster_id} does not share a backup history with the "
                f"cluster of custom key store {store.id}.")

    def check_cluster_active(self, cluster: Cluster) -> None:
        if cluster.state != "ACTIVE":
            raise CloudHsmClusterNotActiveException(
                f"The AWS CloudHSM cluster {cluster.cluster_id} is {cluster.state}, not ACTIVE.")

    def check_cluster_configuration(self, cluster: Cluster) -> None:
        if not cluster.meets_store_requirements():
            raise CloudHsmClusterInvalidConfigurationException(
                f"The AWS CloudHSM cluster {cluster.cluster_id} needs at least two active HSMs in different "
                "Availability Zones and an intact network configuration.")

    def check_trust_anchor(self, certificate: str, cluster: Cluster) -> None:
        if normalize_pem(certificate) != normalize_pem(cluster.certificate):
            raise IncorrectTrustAnchorException(
                f"The trust anchor certificate does not match the certificate of cluster {cluster.cluster_id}.")

    # ------------------------------------------------------------------ views
    def _store(self, store_id: str) -> Store:
        store = self.stores.get(store_id)
        if store is None:
            raise CustomKeyStoreNotFoundException()  # real KMS sends no message here
        return store

    def _new_store_id(self) -> str:
        while True:
            sid = "cks-" + "".join(self._rng.choice("0123456789abcdef") for _ in range(17))
            if sid not in self.stores:
                return sid

    def describe_entry(self, store: Store) -> dict[str, Any]:
        entry: dict[str, Any] = {"CustomKeyStoreId": store.id, "CustomKeyStoreName": store.name}
        if store.xks is None:
            entry.update(CloudHsmClusterId=store.cluster_id, TrustAnchorCertificate=store.trust_anchor)
        entry.update(ConnectionState=store.state, CreationDate=store.creation_date)
        if store.error_code and self.shows_connection_error(store):
            entry["ConnectionErrorCode"] = store.error_code
        if self.edition != "2019-12":
            entry["CustomKeyStoreType"] = store.store_type
        if store.xks is not None:
            entry["XksProxyConfiguration"] = self.xks_configuration(store.xks)
        return entry

    def check_filter_matched(self, stores: list[Store]) -> None:
        """Describe by id or name names a store that must exist."""
        if not stores:
            raise CustomKeyStoreNotFoundException()

    def unknown_marker_start(self) -> int:
        """Where a Marker this target never issued starts: refused (current), the first page (2019-12)."""
        if self.edition != "2019-12":
            raise InvalidMarkerException("The marker is not valid for this request.")
        return 0

    # ------------------------------------------------------------------ custom key stores
    def _CreateCustomKeyStore(self, p: dict) -> dict:
        store_type = p.get("CustomKeyStoreType") if self.edition != "2019-12" else None
        if store_type == XKS:
            return self._create_external_key_store(p)
        if self.edition != "2019-12":  # the 2019-12 model has no XKS member: they are unknown, ignored
            self.check_cloudhsm_members(p)
        for member in ("CloudHsmClusterId", "TrustAnchorCertificate", "KeyStorePassword"):
            if p.get(member) is None:  # [INFER] AWS enforces these in service logic since 2022-07
                raise ValidationException(f"{member} is required for a custom key store of type AWS_CLOUDHSM.")
        name, cluster_id = p["CustomKeyStoreName"], p["CloudHsmClusterId"]
        self.check_store_quota()
        self.check_create_name(name)
        cluster = self._find_cluster(cluster_id)
        self.check_cluster_not_in_use(cluster)
        self.check_cluster_active(cluster)
        self.check_cluster_configuration(cluster)
        self.check_trust_anchor(p["TrustAnchorCertificate"], cluster)
        self._seq += 1
        store = Store(id=self._new_store_id(), name=name, cluster_id=cluster_id, lineage=cluster.lineage,
                      trust_anchor=p["TrustAnchorCertificate"], password=p["KeyStorePassword"],
                      creation_date=round(self.clock(), 3), seq=self._seq)
        self.stores[store.id] = store
        return {"CustomKeyStoreId": store.id}

    def _create_external_key_store(self, p: dict) -> dict:
        settings = self.create_xks_store(p)
        self._seq += 1
        store = Store(id=self._new_store_id(), name=p["CustomKeyStoreName"], cluster_id=None, lineage=None,
                      trust_anchor=None, password=None, creation_date=round(self.clock(), 3), seq=self._seq,
                      xks=settings)
        self.stores[store.id] = store
        return {"CustomKeyStoreId": store.id}

    def _UpdateCustomKeyStore(self, p: dict) -> dict:
        store = self._store(p["CustomKeyStoreId"])
        if store.xks is not None:
            return self._update_external_key_store(store, p)
        if self.edition != "2019-12":
            self.check_cloudhsm_members(p)
        self.check_update_state(store, p)
        new_name = p.get("NewCustomKeyStoreName")
        if new_name is not None:
            self.check_update_name(store, new_name)
        cluster_id = p.get("CloudHsmClusterId")
        if cluster_id is not None:
            cluster = self._find_cluster(cluster_id)
            self.check_cluster_related(store, cluster)
            self.check_cluster_active(cluster)
            self.check_cluster_configuration(cluster)
        self.apply_update(store, p)
        return {}

    def _update_external_key_store(self, store: Store, p: dict) -> dict:
        self.check_xks_members(p, creating=False)
        self.check_update_state(store, p)
        new_name = p.get("NewCustomKeyStoreName")
        if new_name is not None:
            self.check_update_name(store, new_name)
        settings = self.update_xks_store(store, p)
        self.apply_update(store, p)
        if settings is not None:
            self.apply_xks_update(store, settings)
        return {}

    def apply_xks_update(self, store: Store, settings: XksSettings) -> None:
        store.xks = settings

    def apply_update(self, store: Store, p: dict) -> None:
        """Only after every check passed: a refused update changes nothing (UPD-006)."""
        if p.get("NewCustomKeyStoreName") is not None:
            store.name = p["NewCustomKeyStoreName"]
        if p.get("KeyStorePassword") is not None:
            store.password = p["KeyStorePassword"]
        if p.get("CloudHsmClusterId") is not None:
            store.cluster_id = p["CloudHsmClusterId"]

    def _ConnectCustomKeyStore(self, p: dict) -> dict:
        store = self._store(p["CustomKeyStoreId"])
        if store.state in ("CONNECTED", "CONNECTING"):
            return {}  # already (being) connected: a no-op
        self.check_connect_state(store)
        if store.xks is not None:  # every failure shows as FAILED with its code, none as an exception
            store.pending_error = self.xks_connect_probe(store)
            self.clear_connection_error(store)
            self._start(store, "CONNECTING", self.config.connect_delay_s)
            return {}
        cluster = self.world.get(store.cluster_id)
        if cluster is not None:  # errors detected at once leave the store DISCONNECTED
            if cluster.state != "ACTIVE":
                raise CloudHsmClusterNotActiveException(
                    f"The AWS CloudHSM cluster {cluster.cluster_id} is {cluster.state}, not ACTIVE.")
            if not cluster.network_ok or not cluster.active_hsms():
                raise CloudHsmClusterInvalidConfigurationException(
                    f"AWS KMS cannot connect to AWS CloudHSM cluster {cluster.cluster_id}: it needs at least "
                    "one active HSM and an intact network configuration.")
        self.clear_connection_error(store)
        self._start(store, "CONNECTING", self.config.connect_delay_s)
        return {}

    def _DisconnectCustomKeyStore(self, p: dict) -> dict:
        store = self._store(p["CustomKeyStoreId"])
        if store.state in ("DISCONNECTED", "DISCONNECTING"):
            return self.answer_repeated_disconnect(store)
        self._start(store, "DISCONNECTING", self.config.disconnect_delay_s)
        return {}

    def _DeleteCustomKeyStore(self, p: dict) -> dict:
        store = self._store(p["CustomKeyStoreId"])
        self.check_delete_state(store)
        self.check_no_keys(store)
        del self.stores[store.id]
        return {}

    def _DescribeCustomKeyStores(self, p: dict) -> dict:
        sid, name = p.get("CustomKeyStoreId"), p.get("CustomKeyStoreName")
        stores = sorted(self.stores.values(), key=lambda s: s.seq)
        if sid is not None:
            stores = [s for s in stores if s.id == sid]
        if name is not None:
            stores = [s for s in stores if s.name == name]
        if sid is not None or name is not None:
            self.check_filter_matched(stores)
        start = 0
        marker = p.get("Marker")
        if marker is not None:
            pos = _decode_marker(marker)
            start = self.unknown_marker_start() if pos is None else pos
        page = [s for s in stores if s.seq >= start]
        limit = p.get("Limit") or 1000
        out: dict[str, Any] = {"CustomKeyStores": [self.describe_entry(s) for s in page[:limit]],
                               "Truncated": len(page) > limit}
        if len(page) > limit:
            out["NextMarker"] = _encode_marker(page[limit].seq)
        return out

    # ------------------------------------------------------------------ keys and random
    def _store_for_crypto(self, store_id: str, operation: str) -> Store:
        store = self._store(store_id)
        self.check_crypto_state(store, operation)
        return store

    def _CreateKey(self, p: dict) -> dict:
        origin = p.get("Origin") or "AWS_KMS"
        sid = p.get("CustomKeyStoreId")
        store = None
        if self.edition != "2019-12" and (origin == XKS or p.get("XksKeyId") is not None):
            return self._create_external_key(p)
        if origin == "AWS_CLOUDHSM" and sid is None:
            raise ValidationException("CustomKeyStoreId is required when Origin is AWS_CLOUDHSM.")  # [INFER]
        if sid is not None:
            if origin not in ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"):
                raise ValidationException("Origin must be AWS_CLOUDHSM when a CloudHSM CustomKeyStoreId is given.")  # [INFER]
            store = self._store_for_crypto(sid, "CreateKey")
            if store.xks is not None:
                self.check_xks_key_request(p, store)  # an AWS_CLOUDHSM origin in an external key store
            cluster = self.world.get(store.cluster_id)
            if cluster is None or not cluster.meets_store_requirements():
                raise CloudHsmClusterInvalidConfigurationException(
                    f"The AWS CloudHSM cluster {store.cluster_id} needs at least two active HSMs in "
                    "different Availability Zones to create keys.")
            spec = p.get("KeySpec") or p.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
            if spec != "SYMMETRIC_DEFAULT":
                raise UnsupportedOperationException(f"{spec} is not supported in a CloudHSM key store.")
        key_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        key = Key(id=key_id, arn=f"arn:aws:kms:{self.config.region}:{self.config.account_id}:key/{key_id}",
                  store_id=store.id if store else None, cluster_id=store.cluster_id if store else None,
                  origin=origin, description=p.get("Description") or "", creation_date=round(self.clock(), 3))
        self.keys[key_id] = key
        return {"KeyMetadata": self._key_metadata(key)}

    def _create_external_key(self, p: dict) -> dict:
        if p.get("Origin") != XKS:
            raise ValidationException(f"XksKeyId is valid only when Origin is {XKS}.")  # [INFER]
        if p.get("CustomKeyStoreId") is None:
            raise ValidationException(f"CustomKeyStoreId is required when Origin is {XKS}.")  # [INFER]
        store = self._store(p["CustomKeyStoreId"])
        xks_key_id = self.check_xks_key_request(p, store)
        self.check_crypto_state(store, "CreateKey")
        self.check_xks_key_unused(store, xks_key_id)
        self.check_xks_key(store, xks_key_id, f"arn:aws:iam::{self.config.account_id}:root")
        key_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        key = Key(id=key_id, arn=f"arn:aws:kms:{self.config.region}:{self.config.account_id}:key/{key_id}",
                  store_id=store.id, cluster_id=None, origin=XKS, description=p.get("Description") or "",
                  creation_date=round(self.clock(), 3), xks_key_id=xks_key_id)
        self.keys[key_id] = key
        return {"KeyMetadata": self._key_metadata(key)}

    def _key(self, key_id: str) -> Key:
        kid = key_id.rsplit("key/", 1)[-1] if key_id.startswith("arn:") else key_id
        key = self.keys.get(kid)
        if key is None:
            arn = key_id if key_id.startswith("arn:") else f"arn:aws:kms:{self.config.region}:{self.config.account_id}:key/{key_id}"
            raise NotFoundException(f"Key '{arn}' does not exist")
        return key

    def _key_metadata(self, key: Key) -> dict[str, Any]:
        md: dict[str, Any] = {
            "AWSAccountId": self.config.account_id,
            "KeyId": key.id,
            "Arn": key.arn,
            "CreationDate": key.creation_date,
            "Enabled": key.state == "Enabled",
            "Description": key.description,
            "KeyUsage": "ENCRYPT_DECRYPT",
            "KeyState": key.state,
            "Origin": key.origin,
            "KeyManager": "CUSTOMER",
            "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
            "KeySpec": "SYMMETRIC_DEFAULT",
            "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
            "MultiRegion": False,
        }
        if key.store_id:
            md["CustomKeyStoreId"] = key.store_id
        if key.cluster_id:
            md["CloudHsmClusterId"] = key.cluster_id
        if key.xks_key_id:
            md["XksKeyConfiguration"] = {"Id": key.xks_key_id}
        if key.deletion_date is not None:
            md["DeletionDate"] = round(key.deletion_date, 3)
            md["PendingDeletionWindowInDays"] = key.pending_days
        return md

    def _DescribeKey(self, p: dict) -> dict:
        return {"KeyMetadata": self._key_metadata(self._key(p["KeyId"]))}

    def _ScheduleKeyDeletion(self, p: dict) -> dict:
        days = p.get("PendingWindowInDays")
        if days is not None and not 7 <= days <= 30:  # service rule; the model allows 1..365 [INFER text]
            raise ValidationException("PendingWindowInDays must be between 7 and 30 days.")
        key = self._key(p["KeyId"])
        if key.state == "PendingDeletion":
            raise KMSInvalidStateException(f"{key.arn} is pending deletion.")
        days = days or 30
        key.state, key.pending_days = "PendingDeletion", days
        key.deletion_date = self.clock() + days * DAY_S  # unrounded: a clock moved by exactly `days` passes it
        return {"KeyId": key.arn, "DeletionDate": round(key.deletion_date, 3), "KeyState": key.state,
                "PendingWindowInDays": days}

    def _GenerateRandom(self, p: dict) -> dict:
        n = p.get("NumberOfBytes")
        if n is None:
            raise ValidationException("NumberOfBytes is required.")
        if p.get("CustomKeyStoreId") is not None:
            if self._store(p["CustomKeyStoreId"]).xks is not None:
                raise UnsupportedOperationException("GenerateRandom does not take an external key store.")
            self._store_for_crypto(p["CustomKeyStoreId"], "GenerateRandom")
        data = bytes(self._rng.getrandbits(8) for _ in range(n))
        return {"Plaintext": base64.b64encode(data).decode()}

    # ------------------------------------------------------------------ cloudhsmv2
    def _DescribeClusters(self, p: dict) -> dict:
        filters = p.get("Filters") or {}
        if not isinstance(filters, dict) or not all(isinstance(v, list) for v in filters.values()):
            raise SerializationException("Filters must map filter names to lists of strings.")
        return {"Clusters": self.world.describe_clusters(filters, region=self.config.region)}

    # ------------------------------------------------------------------ test control surface
    def complete_pending_deletions(self) -> int:
        """Delete every key waiting for deletion now (as if the waiting period had passed)."""
        with self._lock:
            gone = [k.id for k in self.keys.values() if k.state == "PendingDeletion"]
            for kid in gone:
                del self.keys[kid]
            return len(gone)

    def snapshot(self) -> list[dict[str, Any]]:
        """The Describe view of every store (settled), for tests that compare state."""
        with self._lock:
            self._settle()
            return [self.describe_entry(s) for s in sorted(self.stores.values(), key=lambda s: s.seq)]

    def reset(self) -> None:
        """Forget every store and key (the cluster world stays)."""
        with self._lock:
            self.stores.clear()
            self.keys.clear()


def _encode_marker(seq: int) -> str:
    return base64.urlsafe_b64encode(f"cks-page:{seq}".encode()).decode()


def _decode_marker(marker: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(marker.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    prefix, _, num = text.partition(":")
    if prefix != "cks-page" or not num.isdigit():
        return None
    return int(num)
