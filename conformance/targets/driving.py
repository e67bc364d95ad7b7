"""State driving: make stores, move them through ConnectionStates, and always clean up.

Cases ask for "a store in state S"; the StoreDriver gets it there with the
target's own API (no back doors), polling Describe within the world's
timeouts. On the in-process reference target it moves the emulator's manual
clock instead of sleeping, so CONNECTING / DISCONNECTING are observable and
cost no wall time. Every store is written to the cleanup ledger before it is
used and removed (disconnect -> wait -> delete) at the end, on failure and on
Ctrl-C. Every call the driver makes is kept as a Step for the case's report.

A store that could not be removed is quarantined instead of poisoning the run:
it keeps its cluster lineage in use (CloudHsmClusterInUseException), so cases
that need that lineage first retry the quarantine (bounded), then end
NOT_TRIGGERABLE naming the stuck store; the end-of-run cleanup retries it once
more and the ledger keeps it for `kms-conformance cleanup`.
"""

from __future__ import annotations

import itertools
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from conformance import CONNECTION_STATES
from conformance.errors import NotTriggerable, SetupFailed, Unimplemented
from conformance.steps import Step
from conformance.observation import Observation
from conformance.redact import redact, scrub
from conformance.targets.base import Target
from conformance.world import CLUSTER_ROLES
from conformance.targets.ledger import (
    DEFAULT_LEDGER_DIR,
    Ledger,
    LedgerEntry,
    ledger_files,
    outstanding_entries,
    same_target,
    target_fingerprint,
    until_text,
)

RUN_PREFIX_ROOT = "kmsconf"
NAME_MAX = 256  # CustomKeyStoreNameType max length
# A quarantined store is retried at most this often during the run (each retry is a few calls;
# a store whose keys wait 7-30 days would otherwise cost every later case), then once at the end.
QUARANTINE_RETRIES = 3
# Pause between two retries of a quarantine a case waits for (throttling eases within seconds).
QUARANTINE_PAUSE_S = 1.0


class DriverError(SetupFailed):
    """A setup step the driver needed did not work; `observation` is what the target answered."""

    def __init__(self, message: str, observation: Observation | None = None):
        self.observation = observation
        super().__init__(scrub(message))


class UnimplementedOperation(Unimplemented):
    """A setup step needs an operation the target says it lacks (the case is UNIMPLEMENTED)."""

    def __init__(self, operation: str, evidence: str, observation: Observation | None = None):
        self.observation = observation
        super().__init__(operation, scrub(evidence))


class StateTimeout(DriverError):
    """A store did not reach the wanted state within the world's timeout."""


class StateWindowMissed(NotTriggerable):
    """A transitional state (CONNECTING, DISCONNECTING) was over before it could be used.

    Not a fault of the target: its transition is faster than our requests. Callers that
    can re-establish the state retry; otherwise the case is NOT_TRIGGERABLE with this text.
    """


@dataclass
class Quarantined:
    """A store the driver could not remove: it holds `cluster_id` (and its lineage) until it is gone."""

    store_id: str
    name: str | None
    cluster_id: str | None  # None: unknown, so it may hold any cluster
    why: str
    retries: int = 0

    def holding(self) -> str:
        return (f"cluster {self.cluster_id or '(unknown)'} is held by store {self.name or '?'} ({self.store_id}) "
                f"which could not be deleted: {self.why}")


def make_run_prefix(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S")
    return f"{RUN_PREFIX_ROOT}-{stamp}-{secrets.token_hex(2)}"


def describe_observation(obs: Observation) -> str:
    if obs.transport_error:
        return f"no response ({obs.transport_error})"
    text = f"{obs.status or 'no HTTP status'} {obs.error_code or 'OK'}"
    if obs.message:
        text += f": {obs.message}"
    return scrub(text)


@dataclass
class CleanupOutcome:
    removed: list[str] = field(default_factory=list)  # "name (id)"
    left: list[str] = field(default_factory=list)  # "name (id): why"

    @property
    def ok(self) -> bool:
        return not self.left


class StoreDriver:
    """Create / connect / disconnect / delete helpers with pollers and a cleanup ledger."""

    def __init__(self, target: Target, ledger_dir: str | os.PathLike | None = None, run_prefix: str | None = None):
        self.target = target
        self.run_prefix = run_prefix or make_run_prefix()
        self.ledger = Ledger(ledger_dir or DEFAULT_LEDGER_DIR, self.run_prefix, target_fingerprint(target))
        self.steps: list[Step] = []
        self._counter = itertools.count(1)
        self._names: dict[str, str] = {}  # store id -> name
        self._clusters: dict[str, str] = {}  # store id -> the cluster it was created on
        self.quarantine: dict[str, Quarantined] = {}  # store id -> why it could not be removed
        self.keys_until: dict[str, float] = {}  # store id -> when its keys' deletion completes (epoch s)
        self._wrong_password: set[str] = set()  # stores bring_to_state(FAILED) gave a wrong password
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ naming and steps
    def name(self, suffix: str = "store") -> str:
        """A unique store name carrying the run prefix (cleanup finds stores by it)."""
        n = next(self._counter)
        name = f"{self.run_prefix}-{suffix}-{n}"
        return name[:NAME_MAX]

    def take_steps(self) -> list[Step]:
        """The steps recorded since the last call (for a case's report)."""
        with self._lock:
            steps, self.steps = self.steps, []
        return steps

    def _record(self, label: str, operation: str, params: dict, obs: Observation) -> None:
        observed = redact({k: v for k, v in obs.to_dict().items() if k not in ("headers", "raw_body")})
        with self._lock:
            self.steps.append(Step(label=label, request=redact({"via": "driver", "operation": operation,
                                                                  "params": params}), observed=observed))

    def _call(self, label: str, operation: str, params: dict, *, record: bool = True) -> Observation:
        obs = self.target.call(operation, params)
        if record:
            self._record(label, operation, params, obs)
        return obs

    def _fail(self, what: str, obs: Observation) -> Exception:
        if obs.unimplemented:
            return UnimplementedOperation(obs.operation or what, f"{what}: {describe_observation(obs)}", obs)
        return DriverError(f"{what}: {describe_observation(obs)}", obs)

    @property
    def _timeouts(self):
        return self.target.timeouts

    # ------------------------------------------------------------------ stores
    def create_store(self, **overrides: Any) -> str:
        """Create a CloudHSM store (world defaults, run-prefixed name); ledger first. Returns its id.

        An override of None leaves that member out of the request.
        """
        world = self.target.world
        defaults = {
            "CustomKeyStoreName": None,
            "CloudHsmClusterId": "active_cluster_id",
            "TrustAnchorCertificate": "trust_anchor_certificate",
            "KeyStorePassword": "kmsuser_password",
        }
        params: dict[str, Any] = {}
        for member, role in defaults.items():
            if member in overrides:
                continue
            params[member] = self.name("store") if role is None else world.get(role)
        for member, value in overrides.items():
            if value is not None:
                params[member] = value
        name = params.get("CustomKeyStoreName") or ""
        if params.get("CloudHsmClusterId"):
            self.require_lineage([params["CloudHsmClusterId"]])
        self.ledger.intent(name)
        obs = self._call("setup: create store", "CreateCustomKeyStore", params)
        store_id = obs.body.get("CustomKeyStoreId") if obs.ok and isinstance(obs.body, dict) else None
        if not store_id:
            if not obs.transport_error:  # a refusal creates nothing; a lost answer might have
                self.ledger.deleted(name, None, note="create refused")
            raise self._fail("setup: CreateCustomKeyStore failed", obs)
        self.ledger.created(name, store_id)
        self.adopt(store_id, name, params.get("CloudHsmClusterId"))
        return store_id

    def adopt(self, store_id: str, name: str | None, cluster_id: str | None) -> None:
        """Know a store made outside create_store (a case's own CreateCustomKeyStore) by name and cluster."""
        if name:
            self._names[store_id] = name
        if cluster_id:
            self._clusters[store_id] = cluster_id

    def describe(self, store_id: str, *, record: bool = True) -> dict | None:
        """The store's Describe entry, or None when the target says it does not exist."""
        obs = self._call("describe store", "DescribeCustomKeyStores", {"CustomKeyStoreId": store_id}, record=record)
        if obs.error_code == "CustomKeyStoreNotFoundException":
            return None
        if not obs.ok or not isinstance(obs.body, dict):
            raise self._fail(f"DescribeCustomKeyStores({store_id})", obs)
        for entry in obs.body.get("CustomKeyStores") or []:
            if isinstance(entry, dict) and entry.get("CustomKeyStoreId") == store_id:
                return entry
        return None

    def describe_by_name(self, name: str) -> dict | None:
        obs = self._call("find store by name", "DescribeCustomKeyStores", {"CustomKeyStoreName": name})
        if obs.error_code == "CustomKeyStoreNotFoundException":
            return None
        if not obs.ok or not isinstance(obs.body, dict):
            raise self._fail(f"DescribeCustomKeyStores(name={name})", obs)
        for entry in obs.body.get("CustomKeyStores") or []:
            if isinstance(entry, dict) and entry.get("CustomKeyStoreName") == name:
                return entry
        return None

    def state(self, store_id: str) -> str | None:
        entry = self.describe(store_id, record=False)
        return entry.get("ConnectionState") if entry else None

    def connect(self, store_id: str, wait: bool = True) -> str | None:
        """ConnectCustomKeyStore; with wait, poll until CONNECTED or FAILED. Returns the state."""
        obs = self._call("setup: connect", "ConnectCustomKeyStore", {"CustomKeyStoreId": store_id})
        if not obs.ok:
            raise self._fail(f"setup: ConnectCustomKeyStore({store_id})", obs)
        if wait:
            return self.wait_for_state(store_id, ("CONNECTED", "FAILED"), self._timeouts.connect_s)
        return self.state(store_id)

    def disconnect(self, store_id: str, wait: bool = True) -> str | None:
        """DisconnectCustomKeyStore; with wait, poll until DISCONNECTED. Returns the state."""
        obs = self._call("setup: disconnect", "DisconnectCustomKeyStore", {"CustomKeyStoreId": store_id})
        if not obs.ok:
            raise self._fail(f"setup: DisconnectCustomKeyStore({store_id})", obs)
        if wait:
            return self.wait_for_state(store_id, ("DISCONNECTED",), self._timeouts.disconnect_s)
        return self.state(store_id)

    def wait_for_state(self, store_id: str, states: Iterable[str] | str, timeout: float | None = None) -> str:
        """Poll Describe until the store is in one of `states`; StateTimeout after `timeout` seconds.

        Waiting moves the target's virtual clock when it offers one (`abilities.clock`),
        else sleeps poll_interval_s.
        """
        wanted = (states,) if isinstance(states, str) else tuple(states)
        if timeout is None:
            timeout = max(self._timeouts.connect_s, self._timeouts.disconnect_s)
        poll = max(self._timeouts.poll_interval_s, 0.001)
        clock = self.target.abilities.clock
        started = time.monotonic()
        waited = 0.0
        polls = 0
        while True:
            entry = self.describe(store_id, record=False)
            polls += 1
            if entry is None:
                raise DriverError(f"store {store_id} disappeared while waiting for {'/'.join(wanted)}")
            state = entry.get("ConnectionState")
            if state in wanted:
                self._note_wait(store_id, wanted, state, polls, waited)
                return state
            if max(waited, time.monotonic() - started) >= timeout:
                raise StateTimeout(f"store {store_id} still {state} after {timeout:g} s "
                                   f"(waiting for {'/'.join(wanted)})")
            if clock is not None:
                clock.advance(poll)
            else:
                time.sleep(poll)
            waited += poll

    def _note_wait(self, store_id: str, wanted, state: str, polls: int, waited: float) -> None:
        with self._lock:
            self.steps.append(Step(label=f"setup: wait for {'/'.join(wanted)}",
                                   request={"via": "driver", "operation": "DescribeCustomKeyStores (poll)",
                                            "params": {"CustomKeyStoreId": store_id}},
                                   observed={"ConnectionState": state, "polls": polls, "waited_s": waited}))

    def bring_to_state(self, store_id: str, state: str) -> None:
        """Drive a store to DISCONNECTED, CONNECTING, CONNECTED, DISCONNECTING or FAILED.

        CONNECTING / DISCONNECTING need a target whose transitions take time
        (`capabilities.observable_transitions`); FAILED is reached the way a
        user gets there: a wrong kmsuser password stored, then a connect.
        """
        if state not in CONNECTION_STATES:
            raise ValueError(f"unknown ConnectionState {state!r}; expected one of {', '.join(CONNECTION_STATES)}")
        caps = self.target.capabilities
        if state in ("CONNECTING", "DISCONNECTING") and not caps.observable_transitions:
            how = getattr(caps, "transitions_source", "") or "off"
            raise NotTriggerable(f"{state} cannot be observed on this target: its connects and disconnects "
                                 f"complete at once (observable_transitions: false, {how})")
        current = self._require_state(store_id)
        if state == current:
            return
        if state == "DISCONNECTED":
            self._to_disconnected(store_id, current)
        elif state == "CONNECTED":
            self._to_connected(store_id, current)
        elif state == "CONNECTING":
            self._to_disconnected(store_id, current)
            seen = self.connect(store_id, wait=False)
            if seen != "CONNECTING":
                raise StateWindowMissed(f"CONNECTING was not observable: right after ConnectCustomKeyStore the "
                                        f"store was already {seen}")
        elif state == "DISCONNECTING":
            self._to_connected(store_id, current)
            seen = self.disconnect(store_id, wait=False)
            if seen != "DISCONNECTING":
                raise StateWindowMissed(f"DISCONNECTING was not observable: right after DisconnectCustomKeyStore "
                                        f"the store was already {seen}")
        elif state == "FAILED":
            self._to_failed(store_id, current)

    def _require_state(self, store_id: str) -> str:
        entry = self.describe(store_id, record=False)
        if entry is None:
            raise DriverError(f"store {store_id} does not exist")
        return entry.get("ConnectionState") or ""

    def _to_disconnected(self, store_id: str, current: str) -> None:
        if current == "DISCONNECTED":
            return
        if current == "DISCONNECTING":
            self.wait_for_state(store_id, ("DISCONNECTED",), self._timeouts.disconnect_s)
            return
        if current == "CONNECTING":
            # Let the connect settle first: some targets refuse a disconnect mid-connect.
            current = self.wait_for_state(store_id, ("CONNECTED", "FAILED"), self._timeouts.connect_s)
        self.disconnect(store_id, wait=True)

    def _to_connected(self, store_id: str, current: str) -> None:
        if current == "CONNECTED":
            return
        if current == "CONNECTING":
            final = self.wait_for_state(store_id, ("CONNECTED", "FAILED"), self._timeouts.connect_s)
            if final == "CONNECTED":
                return
            current = final
        if current != "DISCONNECTED":
            self._to_disconnected(store_id, current)
        if store_id in self._wrong_password:
            # We broke it to reach FAILED: repair it the documented way before connecting.
            obs = self._call("setup: restore the kmsuser password", "UpdateCustomKeyStore",
                             {"CustomKeyStoreId": store_id,
                              "KeyStorePassword": self.target.world.get("kmsuser_password")})
            if not obs.ok:
                raise self._fail("setup: UpdateCustomKeyStore(KeyStorePassword) failed", obs)
            self._wrong_password.discard(store_id)
        final = self.connect(store_id, wait=True)
        if final != "CONNECTED":
            entry = self.describe(store_id, record=False) or {}
            raise DriverError(f"setup: connect ended {final} "
                              f"({entry.get('ConnectionErrorCode') or 'no ConnectionErrorCode'})")

    def _to_failed(self, store_id: str, current: str) -> None:
        self._to_disconnected(store_id, current)
        wrong = "wrong-" + secrets.token_hex(5)
        obs = self._call("setup: store a wrong kmsuser password", "UpdateCustomKeyStore",
                         {"CustomKeyStoreId": store_id, "KeyStorePassword": wrong})
        if not obs.ok:
            raise self._fail("setup: UpdateCustomKeyStore(KeyStorePassword) failed", obs)
        self._wrong_password.add(store_id)
        final = self.connect(store_id, wait=True)
        if final != "FAILED":
            raise NotTriggerable(f"FAILED could not be reached: with a wrong kmsuser password stored, the "
                                 f"connect ended {final}")

    # ------------------------------------------------------------------ removal
    def delete_store(self, store_id: str) -> None:
        """Disconnect -> wait -> delete; recorded in the ledger. DriverError if the store stays.

        A store that stays is quarantined (see `require_lineage`); one removed later leaves it.
        """
        try:
            self._delete_store(store_id)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            self._quarantine(store_id, exc)
            raise
        self.quarantine.pop(store_id, None)

    def _delete_store(self, store_id: str) -> None:
        name = self._names.get(store_id)
        entry = self.describe(store_id, record=False)
        if entry is None:
            self.ledger.deleted(name, store_id, note="already gone")
            return
        name = name or entry.get("CustomKeyStoreName")
        self.adopt(store_id, name, entry.get("CloudHsmClusterId"))
        self._to_disconnected(store_id, entry.get("ConnectionState") or "")
        obs = self._call("cleanup: delete store", "DeleteCustomKeyStore", {"CustomKeyStoreId": store_id})
        if obs.error_code == "CustomKeyStoreHasCMKsException":
            self._retire_keys(store_id)
            obs = self._call("cleanup: delete store (after retiring its keys)", "DeleteCustomKeyStore",
                             {"CustomKeyStoreId": store_id})
        if obs.ok or obs.error_code == "CustomKeyStoreNotFoundException":
            self.ledger.deleted(name, store_id)
            return
        note = describe_observation(obs)
        if obs.error_code == "CustomKeyStoreHasCMKsException":
            until = self.keys_until.get(store_id)
            when = f"after {until_text(until)}" if until else "after their waiting period"
            note = (f"its KMS keys are scheduled for deletion; delete the store {when} "
                    "(run `kms-conformance cleanup` again)")
        self.ledger.left(name, store_id, note)
        raise self._fail(f"cleanup: DeleteCustomKeyStore({store_id})", obs) if obs.unimplemented else \
            DriverError(f"cleanup: store {store_id} left behind: {note}", obs)

    def note_keys_pending(self, store_id: str, key_ids: list[str], until: float) -> None:
        """The store keeps KMS keys pending deletion until `until`: written to the ledger for `cleanup`."""
        self.keys_until[store_id] = max(until, self.keys_until.get(store_id, 0.0))
        self.ledger.keys_pending(self._names.get(store_id), store_id, key_ids, self.keys_until[store_id])

    # ------------------------------------------------------------------ quarantine
    def _quarantine(self, store_id: str, exc: Exception) -> None:
        why = scrub(str(exc)) or type(exc).__name__
        held = self.quarantine.get(store_id)
        if held is not None:
            held.why = why
            return
        name = self._names.get(store_id)
        self.quarantine[store_id] = Quarantined(store_id, name, self._clusters.get(store_id), why)
        self.ledger.left(name, store_id, f"quarantined: {why}")  # kept for `kms-conformance cleanup`

    def lineage(self, cluster_id: str) -> set[str]:
        """Clusters that share `cluster_id`'s lineage, as far as the world's roles tell.

        Every cluster role but the unrelated one names the active cluster's lineage (that is
        what the roles mean); any other cluster is taken as its own (CloudHSM's API does not
        name lineages).
        """
        family = {getattr(self.target.world, role, None) for role in CLUSTER_ROLES if role != "unrelated_cluster_id"}
        family.discard(None)
        return family if cluster_id in family else {cluster_id}

    def holder(self, cluster_ids: Iterable[str]) -> Quarantined | None:
        """The quarantined store holding the lineage of any of `cluster_ids`, if one does."""
        wanted = {c for c in cluster_ids if c}
        for held in self.quarantine.values():
            if held.cluster_id is None or self.lineage(held.cluster_id) & wanted:
                return held
        return None

    def retry_quarantine(self, *, final: bool = False) -> None:
        """Try again to remove quarantined stores (each at most QUARANTINE_RETRIES times, unless final)."""
        for held in list(self.quarantine.values()):
            if not final and held.retries >= QUARANTINE_RETRIES:
                continue
            held.retries += 1
            try:
                self.delete_store(held.store_id)
            except KeyboardInterrupt:
                raise
            except Exception:  # noqa: BLE001 - it stays quarantined with the new reason
                pass

    def require_lineage(self, cluster_ids: Iterable[str]) -> None:
        """Wait (bounded) for a quarantined store that holds these clusters' lineage to go.

        NotTriggerable naming the stuck store when it stays: every store on that lineage
        would be refused with CloudHsmClusterInUseException, which is not the case's subject.
        """
        cluster_ids = list(cluster_ids)
        held = self.holder(cluster_ids)
        first = True
        while held is not None and held.retries < QUARANTINE_RETRIES:
            if not first:
                self._pause(min(self._timeouts.poll_interval_s, QUARANTINE_PAUSE_S))
            first = False
            self.retry_quarantine()
            held = self.holder(cluster_ids)
        if held is not None:
            raise NotTriggerable(held.holding())

    def _pause(self, seconds: float) -> None:
        clock = self.target.abilities.clock
        if clock is not None:
            clock.advance(seconds)
        else:
            time.sleep(seconds)

    def _retire_keys(self, store_id: str) -> None:
        """Schedule deletion of the store's keys; on the reference target, let the waiting period pass."""
        known = [k for k, s in (getattr(self.target, "created_keys", None) or {}).items() if s == store_id]
        for key_id in known:
            self._call("cleanup: schedule key deletion", "ScheduleKeyDeletion",
                       {"KeyId": key_id, "PendingWindowInDays": 7})
        if known or self.target.identity.adapter == "aws":
            pages = 0  # live: never scan a whole account's keys; the ledger note tells the user
        else:
            pages = 20  # an emulator: a bounded scan also finds keys an earlier run made
        marker = None
        for _ in range(pages):
            params = {"Limit": 100, **({"Marker": marker} if marker else {})}
            page = self._call("cleanup: list keys", "ListKeys", params, record=False)
            if not page.ok or not isinstance(page.body, dict):
                break
            for key in page.body.get("Keys") or []:
                key_id = key.get("KeyId")
                info = self._call("cleanup: describe key", "DescribeKey", {"KeyId": key_id}, record=False)
                meta = (info.body or {}).get("KeyMetadata", {}) if info.ok and isinstance(info.body, dict) else {}
                if meta.get("CustomKeyStoreId") == store_id and meta.get("KeyState") != "PendingDeletion" \
                        and key_id not in known:
                    self._call("cleanup: schedule key deletion", "ScheduleKeyDeletion",
                               {"KeyId": key_id, "PendingWindowInDays": 7})
            if not page.body.get("Truncated"):
                break
            marker = page.body.get("NextMarker")
        pending = self.target.abilities.pending_deletions
        if pending is not None:
            try:
                pending.complete_pending_deletions()
            except NotTriggerable:
                pass  # no control surface after all: the delete says why the store stays (see delete_store)

    def cleanup(self) -> CleanupOutcome:
        """Remove every store of this run still in the ledger. Never raises (Ctrl-C aside).

        A ledger with nothing outstanding afterwards is deleted (nothing left to record).
        Quarantined stores are among the outstanding ones (tried once more here).
        """
        outcome = remove_entries(self, self.ledger.outstanding())
        self.ledger.discard_if_settled()
        return outcome

    def __enter__(self) -> "StoreDriver":
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()


def remove_entries(driver: StoreDriver, entries: list[LedgerEntry]) -> CleanupOutcome:
    """Delete the stores of ledger entries (found by id, or by name when only the intent was written)."""
    outcome = CleanupOutcome()
    for entry in entries:
        label = f"{entry.name or '?'} ({entry.store_id or 'id unknown'})"
        ledger = driver.ledger if entry.run_prefix in ("", driver.run_prefix) else \
            Ledger(driver.ledger.dir, entry.run_prefix, entry.target)
        original, driver.ledger = driver.ledger, ledger
        try:
            store_id = entry.store_id
            if not store_id and entry.name:
                found = driver.describe_by_name(entry.name)
                if found is None:
                    ledger.deleted(entry.name, None, note="never created")
                    continue
                store_id = found.get("CustomKeyStoreId")
                driver._names[store_id] = entry.name
            if not store_id:
                continue
            driver._names.setdefault(store_id, entry.name)
            if entry.keys_until:
                driver.keys_until[store_id] = max(entry.keys_until, driver.keys_until.get(store_id, 0.0))
            driver.delete_store(store_id)
            outcome.removed.append(label)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - one store's trouble must not stop the others
            outcome.left.append(f"{label}: {scrub(str(exc))}")
        finally:
            driver.ledger = original
    return outcome


def cleanup_ledger(target: Target, ledger_dir: str | os.PathLike | None = None) -> CleanupOutcome:
    """What `kms-conformance cleanup` does: remove every outstanding store of this target, any run."""
    ledger_dir = ledger_dir or DEFAULT_LEDGER_DIR
    fp = target_fingerprint(target)
    entries = [e for e in outstanding_entries(ledger_files(ledger_dir)) if same_target(e.target, fp)]
    driver = StoreDriver(target, ledger_dir, run_prefix=make_run_prefix())
    for entry in entries:  # one store in several ledgers (a sweep wrote it again): its latest key date counts
        if entry.store_id and entry.keys_until:
            driver.keys_until[entry.store_id] = max(entry.keys_until, driver.keys_until.get(entry.store_id, 0.0))
    outcome = remove_entries(driver, entries)
    by_store: dict[str, str] = {}  # one line per store ("name (id): why")
    for line in outcome.left:
        by_store.setdefault(line.split(": ", 1)[0], line)
    outcome.left = list(by_store.values())
    for prefix in {e.run_prefix for e in entries if e.run_prefix}:
        Ledger(ledger_dir, prefix, fp).discard_if_settled()
    return outcome
