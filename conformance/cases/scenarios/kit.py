"""The small toolkit every hand-written scenario is written with.

A scenario is a function `body(s: Scenario)` that drives the target through a
few requests. `Scenario` is a thin layer over the case kernel's Recorder: each
request becomes a Step, requests that carry an `Expected` are judged by
`conformance.verdicts`, and effect checks ("the name changed", "nothing changed")
become steps with their own verdict, decided there too. The case's verdict is the
worst check (`verdicts.case_verdict`).

A request meant for a store in a transitional state (CONNECTING, DISCONNECTING) goes
through `request_in_state`: its answer is judged only once a Describe right after
shows the state held (or the answer would be the same in every state the store may
have reached by itself meanwhile); otherwise the state is set up again, and after a
few misses the case is NOT_TRIGGERABLE. No verdict rests on how fast a target moves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from conformance import EDITIONS, SETTLED_STATES, SETTLES_TO
from conformance.abilities import ClusterSnapshot, WorldControl
from conformance.cases.base import Case, CaseContext
from conformance.cases.common import UNKNOWN_CLUSTER_ID, UNKNOWN_STORE_ID, name_nothing  # noqa: F401 (re-exported)
from conformance.cases.kernel import Recorder
from conformance.cases.requests import boto3_request
from conformance.errors import MissingRole, NotTriggerable, SetupFailed, Unimplemented
from conformance.redact import redact, scrub
from conformance.steps import Expected, Step
from conformance.targets.base import Target
from conformance.observation import Observation
from conformance.targets.driving import StateWindowMissed, StoreDriver
from conformance.verdicts import check_answered
from conformance.world import CLUSTER_ROLES

# How often a state-dependent request is tried before the state is declared impossible to hold.
STATE_ATTEMPTS = 3
# Tag of cases whose wrong success can leave a KMS key in a store (the store, and so its cluster
# lineage, then stays in use for the key's waiting period): the schedule runs them last.
MAY_LEAVE_KEY = "may-leave-key"
# Tag prefix of a state group's case that moves its store on to another state ("leaves:CONNECTED"):
# with state phases it runs last in its phase, so the cases before it share the state.
LEAVES = "leaves:"
# Schedule groups whose cases need a store in one state (the state phases share one store per state).
STATE_GROUP_PREFIX = "state-"


# Tag prefix of the case that opens a phase with a transition it judges itself ("enters:CONNECTING":
# the connect-success case's connect): it holds the shared store in that state (Scenario.hold) while
# the phase's cases run, then goes on to check how the transition ended.
ENTERS = "enters:"


@dataclass(frozen=True)
class Hold:
    """What a scenario yields to hold its (shared) store in `state` for the cases of that phase."""

    state: str
    store_id: str


def enters(state: str) -> str:
    """The tag of the case that opens the phase of `state` with its own, judged, transition."""
    return ENTERS + state


def entered_state(case: Case) -> str | None:
    """The phase a case opens (tag `enters:STATE`), else None."""
    return next((t[len(ENTERS):] for t in case.tags if t.startswith(ENTERS)), None)


def leaves(state: str) -> str:
    """The tag of a state-group case that leaves its store in `state`."""
    return LEAVES + state


def phase_state(case: Case) -> str | None:
    """The phase a case belongs to: the ConnectionState a state-group case needs its store in, or the one
    it opens (tag `enters:STATE`); None: not part of the state phases."""
    opened = entered_state(case)
    if opened is not None:
        return opened
    group = case.schedule_group or ""
    return group[len(STATE_GROUP_PREFIX):].upper() if group.startswith(STATE_GROUP_PREFIX) else None


def left_state(case: Case) -> str | None:
    """The state a case leaves its store in, when it moves it on (tag `leaves:STATE`)."""
    return next((t[len(LEAVES):] for t in case.tags if t.startswith(LEAVES)), None)


class PhaseStores:
    """One shared store per state phase (`run --state-phases`): what a slow target's connects cost.

    A case of a state group asks `Scenario.store()` for a store and gets this shared one instead of
    a new one; it is not deleted when the case ends. Before each case the store's state is read:
    the first case of a phase brings it there (the phase's entry); a later case that finds it
    elsewhere (the window closed in time, or a target wrongly accepted a request that moved it)
    re-establishes it, counted in `rebuilds`: the case that moved it was judged by its own
    observation, and the next one gets the state it needs, so no verdict depends on the order.
    A store that is gone is replaced. `release()` deletes it when the phases are over.
    """

    def __init__(self, driver: StoreDriver):
        self.driver = driver
        self.store_id: str | None = None
        self.phase: str | None = None  # the state the current phase holds
        self.entries = 0  # phases entered
        self.reentries = 0  # planned: a case that moves the store on was followed by one that needs the state
        self.rebuilds = 0  # unplanned: the state did not hold to the next case (or the store was gone)
        self._moved = False  # the last case was one that moves the store on (tag leaves:STATE)
        self.held_by: str | None = None  # the case holding the store for its phase (Scenario.hold)
        self.stores = 0  # shared stores created
        self.notes: list[str] = []

    def store_for(self, s: "Scenario", state: str) -> str:
        """The shared store for a case that needs `state` (created, or replaced when gone)."""
        entry = self.driver.describe(self.store_id, record=False) if self.store_id is not None else None
        if self.store_id is not None and entry is None:
            s.note(f"the shared {state} store {self.store_id} is gone: a new one replaces it")
            self.rebuilds += 1
            self.store_id = None
        if self.store_id is None:
            self.store_id = self.driver.create_store(CustomKeyStoreName=self.driver.name("phase"))
            self.stores += 1
            entry = {"ConnectionState": "DISCONNECTED"}
        seen = entry.get("ConnectionState")
        moved, self._moved = self._moved, left_state(s.case) is not None
        if entered_state(s.case) is not None:  # it makes the transition itself, judged
            self.phase = state
            self.entries += 1
        elif state != self.phase:
            self.phase = state
            self.entries += 1
        elif seen != state and moved:
            self.reentries += 1
        elif seen != state:
            self.rebuilds += 1
            s.note(f"the shared store was {seen}, not {state}, when this case began: the phase "
                   f"re-established {state} for it")
        return self.store_id

    def release(self) -> None:
        """Delete the shared store (the phases are over); a failure leaves it to the run's cleanup."""
        store_id, self.store_id, self.phase = self.store_id, None, None
        if store_id is not None:
            try:
                self.driver.delete_store(store_id)
            except Exception as exc:  # noqa: BLE001 - the ledger cleanup at the end retries it
                self.notes.append(f"shared phase store {store_id} not deleted: {scrub(str(exc))}")
            self.driver.take_steps()  # they belong to no case

    def summary(self) -> dict[str, int]:
        return {"phases": self.entries, "reentries": self.reentries, "rebuilds": self.rebuilds,
                "shared_stores": self.stores}

def ok(status: int = 200, **kw: Any) -> Expected:
    """Expected success."""
    return Expected(status=status, error_code=None, **kw)


def err(code: str, status: int = 400, **kw: Any) -> Expected:
    """Expected error: AWS answers every client error with 400 (facts §1.3)."""
    return Expected(status=status, error_code=code, **kw)


def summarize(obs: Any) -> dict[str, Any]:
    """What a report shows of an observation (secrets scrubbed, headers trimmed)."""
    d = {
        "status": obs.status,
        "error_code": obs.error_code,
        "message": obs.message,
        "body": obs.body,
        "latency_s": round(obs.latency_s or 0.0, 4),
    }
    if obs.body is None and obs.raw_body:
        d["raw_body"] = obs.raw_body[:500]
    if obs.transport_error:
        d["transport_error"] = obs.transport_error
    rid = (obs.headers or {}).get("x-amzn-requestid")
    if rid:
        d["request_id"] = rid
    return redact(d)


class Scenario:
    """The running state of one scenario: its Recorder and the stores it owns."""

    def __init__(self, rec: Recorder):
        self.rec = rec
        self.ctx: CaseContext = rec.ctx
        self.case: Case = rec.case
        self.stores: list[str] = []
        self._main_set = False
        self._step_of: dict[int, int] = {}  # id(observation) -> its step
        rec.on_exit(self.cleanup)

    # -- context ------------------------------------------------------------------------
    @property
    def target(self) -> Target:
        return self.ctx.target

    @property
    def driver(self) -> StoreDriver:
        return self.ctx.driver

    @property
    def edition(self) -> str:
        return self.ctx.edition

    @property
    def steps(self) -> list[Step]:
        return self.rec.steps

    def unknown(self, member: str, operation: str = "CreateCustomKeyStore") -> str:
        """The suite's "names nothing" value for `member` (CustomKeyStoreId / CloudHsmClusterId), changed
        if the world or the run happens to know it (cases.common.name_nothing)."""
        value = {"CustomKeyStoreId": UNKNOWN_STORE_ID, "CloudHsmClusterId": UNKNOWN_CLUSTER_ID}[member]
        return name_nothing(self.rec.ctx, operation, {member: value})[member]

    def role(self, name: str) -> str:
        """A world role's value; a missing role raises MissingRole (the case is SKIPPED)."""
        return self.target.world.get(name)

    # -- requests -----------------------------------------------------------------------
    def call(
        self,
        label: str,
        operation: str,
        params: dict | None = None,
        *,
        expect: Expected | None = None,
        service: str = "kms",
        main: bool = False,
        requirements: Iterable[str] | None = None,
    ):
        """Send one request, record it as a step, judge it when `expect` is given (citing `requirements`,
        default the case's)."""
        self.sync_driver_steps()
        obs = self.target.call(operation, params or {}, service=service)
        request = boto3_request(operation, params)
        idx = self.rec.add(Step(label=label, request=redact(request), observed=summarize(obs),
                                expected=expect.to_dict() if expect is not None else None), request, obs)
        self._step_of[id(obs)] = idx
        answered = check_answered(obs)
        if answered is not None:
            self.steps[idx].verdict = str(answered.verdict)
            if obs.unimplemented:
                raise Unimplemented(operation, label)
            raise SetupFailed(f"{label}: no response from target: {obs.transport_error}")
        if expect is not None:
            self.judge(obs, expect, params, main=main, requirements=requirements)
        elif main:
            self.rec.primary, self._main_set = idx, True
        return obs

    def judge(self, obs: Observation, expect: Expected, params: dict | None, *, main: bool = False,
              requirements: Iterable[str] | None = None) -> None:
        """Judge a recorded observation against `expect` (the request's `params` explain the verdict),
        citing `requirements` (default: the case's)."""
        self.rec.judge(expect, obs, request={"params": params or {}}, requirements=requirements)
        if main or not self._main_set:
            self.rec.primary, self._main_set = self._step_of[id(obs)], True

    def setup(self, label: str, operation: str, params: dict | None = None, *, service: str = "kms"):
        """A request the scenario needs to succeed before it can check anything."""
        obs = self.call(label, operation, params, service=service)
        if not obs.ok:
            raise SetupFailed(
                f"setup step '{label}' failed: {operation} answered {obs.status} {obs.error_code or ''} "
                f"{scrub(obs.message or '')}".strip())
        return obs

    def check(self, label: str, passed: bool, detail: str, *, level: str = "MUST",
              requirements: Iterable[str] | None = None) -> bool:
        """An effect check (state seen through Describe etc.) with its own verdict, citing `requirements`
        (default: every id the case cites)."""
        return self.rec.effect(label, passed, detail, level=level, requirements=requirements)

    def sync_driver_steps(self) -> None:
        """Move the steps the StoreDriver recorded (setup, waits, cleanup) into this case's steps."""
        self.rec.pull_driver_steps()

    def note(self, text: str) -> None:
        self.rec.note(text)

    # -- stores -------------------------------------------------------------------------
    def store(self, state: str = "DISCONNECTED", **overrides: Any) -> str:
        """A new store (made through the driver, so it is in the cleanup ledger) in `state`.

        With state phases on, a state-group case asking for a plain store gets its phase's shared
        store (PhaseStores), which outlives the case: `request_in_state` / `state` bring it there.
        """
        self.sync_driver_steps()
        phases: PhaseStores | None = getattr(self.ctx, "phases", None)
        needed = phase_state(self.case)
        opens = entered_state(self.case) is not None  # it brings the store to what it needs itself
        if phases is not None and needed is not None and not overrides and (opens or state in ("DISCONNECTED",
                                                                                                 needed)):
            store_id = phases.store_for(self, needed)
            self.sync_driver_steps()
            if state != "DISCONNECTED":
                self.bring(store_id, state)
            return store_id
        store_id = self.driver.create_store(**overrides)
        self.stores.append(store_id)
        self.sync_driver_steps()
        if state != "DISCONNECTED":
            self.bring(store_id, state)
        return store_id

    def hold(self, store_id: str, state: str):
        """Hold the shared store in `state` while the cases of that phase run (state phases only).

        A generator: `yield from s.hold(sid, "CONNECTING")`. It pauses the case only when the store is the
        phase's shared one and Describe shows `state`; otherwise (no phases, a window already closed)
        nothing happens and the case goes on alone, as without phases.
        """
        phases: PhaseStores | None = getattr(self.ctx, "phases", None)
        if phases is None or phases.store_id != store_id or entered_state(self.case) != state:
            return
        self.sync_driver_steps()
        if (self.driver.describe(store_id, record=False) or {}).get("ConnectionState") != state:
            return
        phases.held_by = self.case.id
        yield Hold(state, store_id)
        phases.held_by = None
        self.target.begin_case(self.case.id)
        self.driver.take_steps()  # the phase's cases took theirs

    def bring(self, store_id: str, state: str) -> None:
        """Drive a store to `state` (NotTriggerable when the target cannot show it)."""
        self.sync_driver_steps()
        self.driver.bring_to_state(store_id, state)
        self.sync_driver_steps()
        entry = self.entry(store_id, label=f"setup: store is {state}")
        seen = (entry or {}).get("ConnectionState")
        if seen in SETTLES_TO.get(state, ()):
            raise StateWindowMissed(f"the store left {state} before it could be used (Describe shows {seen})")
        if seen != state:
            raise SetupFailed(f"setup: could not bring the store to {state} (Describe shows {seen})")

    def wait(self, store_id: str, states: Iterable[str] = SETTLED_STATES) -> str | None:
        """Wait until the store leaves transitional states (driver pollers honour the timeouts)."""
        states = tuple(states)
        try:
            self.driver.wait_for_state(store_id, states)
        except (NotTriggerable, MissingRole):
            raise
        except Exception as exc:  # a timeout is reported as what Describe then shows
            self.note(f"waiting for {states}: {scrub(str(exc))}")
        self.sync_driver_steps()
        entry = self.entry(store_id, label=f"wait for {'/'.join(states)}")
        return (entry or {}).get("ConnectionState")

    def entry(self, store_id: str, *, label: str = "describe store") -> dict | None:
        """The store's Describe entry (None when Describe does not list it)."""
        obs = self.call(label, "DescribeCustomKeyStores", {"CustomKeyStoreId": store_id})
        if not obs.ok or not isinstance(obs.body, dict):
            return None
        for e in obs.body.get("CustomKeyStores") or []:
            if e.get("CustomKeyStoreId") == store_id:
                return e
        return None

    def require_lineage(self, roles: Iterable[str]) -> None:
        """Before anything else: the clusters these roles name must not be held by a store the
        run could not delete (NOT_TRIGGERABLE naming it, after a bounded retry, if they are)."""
        if not getattr(self.driver, "quarantine", None):
            return
        world = self.target.world
        clusters = [getattr(world, role, None) for role in roles if role in CLUSTER_ROLES]
        try:
            self.driver.require_lineage([c for c in clusters if c])
        finally:
            self.sync_driver_steps()

    def forget(self, store_id: str) -> None:
        """The scenario deleted this store itself."""
        if store_id in self.stores:
            self.stores.remove(store_id)

    def cleanup(self) -> None:
        for store_id in reversed(self.stores):
            try:
                self.driver.delete_store(store_id)
            except Exception as exc:  # the runner's ledger cleanup retries at the end
                self.note(f"cleanup of {store_id} failed: {scrub(str(exc))}")
        self.stores.clear()
        self.sync_driver_steps()


@dataclass
class Held:
    """A request that landed while its store was (shown to be) in the intended state."""

    obs: Observation
    store_id: str  # the store it was sent to (a new one when an earlier attempt's request removed the store)
    params: dict
    before: dict | None  # the Describe entry right before the request (when asked for)
    after: dict | None  # the Describe entry right after it


def landing_states(state: str, after: str | None, clock_held: bool) -> set[str]:
    """The states the store may have been in when a request sent in `state` reached the target.

    A settled state stays put; a transitional one may have moved on by itself (SETTLES_TO)
    before the request landed. Describe right after showing `state` means it had not; showing a
    state it settles to means it was one of the two; anything else (the request moved the
    store) leaves every state it could have reached. A target whose clock only we move
    (`abilities.clock`) cannot have moved on between our last Describe and the request.
    """
    ahead = SETTLES_TO.get(state, ())
    if clock_held or not ahead or after == state:
        return {state}
    if after in ahead:
        return {state, after}
    return {state, *ahead}


def request_in_state(s: Scenario, store_id: str, state: str, label: str, operation: str,
                     params: Callable[[str], dict], *, expect: Expected, same_in: Iterable[str] = (),
                     describe_before: bool = False, after_label: str = "describe after",
                     on_missed: Callable[[Observation], None] | None = None,
                     attempts: int = STATE_ATTEMPTS,
                     requirements: Iterable[str] | Callable[[Observation], Iterable[str] | None] | None = None,
                     ) -> Held:
    """Send `operation` to a store in `state` and judge it only if the state held when it landed.

    `same_in` names the other states in which `expect` is just as right (a refusal that a
    CONNECTED store would give too): an answer from any of them may be judged. An answer
    that may come from another state is not judged: the state is set up again and the request
    repeated, up to `attempts` times; then the case is NOT_TRIGGERABLE saying the state could
    not be held. `params(store_id)` gives the request's parameters; `on_missed` gets each
    unjudged observation (to undo what it made). A store an unjudged request removed (a delete
    that landed after DISCONNECTING ended) is replaced by a new one for the next attempt.
    `requirements` (or a function of the observation giving them) is what the judged answer cites.
    """
    allowed = {state, *same_in}
    clock_held = s.target.abilities.clock is not None
    missed: list[str] = []
    for _ in range(max(1, attempts)):
        try:
            s.bring(store_id, state)
        except StateWindowMissed as exc:
            missed.append(str(exc))
            continue
        before = s.entry(store_id, label="describe before") if describe_before else None
        request = params(store_id)
        started = time.monotonic()
        obs = s.call(label, operation, request)
        after = s.entry(store_id, label=after_label)
        seen = (after or {}).get("ConnectionState") if after is not None else "(not listed)"
        if landing_states(state, seen, clock_held) <= allowed:
            cites = requirements(obs) if callable(requirements) else requirements
            s.judge(obs, expect, request, main=True, requirements=cites)
            return Held(obs, store_id, request, before, after)
        within = time.monotonic() - started  # for the reader only: no verdict depends on it
        missed.append(f"the store left {state} within {within:.3g} s (Describe after the request showed {seen}); "
                      f"the answer ({obs.status} {obs.error_code or 'OK'}) was not judged")
        s.note(missed[-1])
        if on_missed is not None:
            on_missed(obs)
        if after is None:
            s.forget(store_id)
            store_id = s.store()
    raise StateWindowMissed(f"{state} could not be held long enough for the request to land in it "
                            f"({len(missed)} attempt(s); last: {missed[-1]})")


def scenario(
    case_id: str,
    operation: str,
    requirements: Iterable[str],
    title: str,
    body: Callable[[Scenario], None],
    *,
    editions: Iterable[str] = EDITIONS,
    needs_roles: Iterable[str] = ("active_cluster_id", "trust_anchor_certificate", "kmsuser_password"),
    needs_operations: Iterable[str] = (),
    schedule_group: str = "stores",
    api_calls: Iterable[str] = (),
    connect_cycles: int = 0,
    tags: Iterable[str] = (),
    lineage_check: bool = True,
) -> Case:
    """Build a scenario Case; the body runs with a Scenario over the kernel's Recorder.

    `lineage_check=False`: the body itself deals with a lineage held by a store the run left
    (a key case that can use that store), instead of NOT_TRIGGERABLE up front.
    """
    ops = tuple(dict.fromkeys((operation, *needs_operations)))
    needs_roles = tuple(needs_roles)

    def run(rec: Recorder):
        s = Scenario(rec)
        if lineage_check:
            s.require_lineage(needs_roles)
        return body(s)  # a generator when the body holds its store for a phase (the kernel drives it)

    return Case(
        id=case_id,
        operation=operation,
        kind="scenario",
        requirements=tuple(requirements),
        title=title,
        run=run,
        editions=tuple(editions),
        needs_roles=needs_roles,
        needs_operations=ops,
        schedule_group=schedule_group,
        tags=tuple(tags),
        api_calls=tuple(api_calls) or ops,
        connect_cycles=connect_cycles,
        style="all",
    )


def describe_without_secrets(body: Any) -> list[str]:
    """Paths in a Describe body whose key looks like a secret (password, secret key)."""
    found: list[str] = []

    def walk(x: Any, path: str) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                kl = k.lower()
                if "password" in kl or "secretaccesskey" in kl or kl == "rawsecretaccesskey":
                    found.append(f"{path}.{k}")
                walk(v, f"{path}.{k}")
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, f"{path}[{i}]")

    walk(body, "$")
    return found


def same_entry(before: dict | None, after: dict | None) -> tuple[bool, str]:
    """Whether two Describe entries are equal, with the differing keys named."""
    if before is None or after is None:
        return False, f"entry missing (before={before is not None}, after={after is not None})"
    keys = sorted(set(before) | set(after))
    diff = [k for k in keys if before.get(k) != after.get(k)]
    if diff:
        return False, "changed: " + ", ".join(f"{k} {before.get(k)!r} -> {after.get(k)!r}" for k in diff)
    return True, "entry unchanged"


# Describe-entry keys that a store's configuration consists of (state keys excluded).
CONFIG_KEYS = (
    "CustomKeyStoreId",
    "CustomKeyStoreName",
    "CloudHsmClusterId",
    "TrustAnchorCertificate",
    "CreationDate",
    "CustomKeyStoreType",
    "XksProxyConfiguration",
)
# Roles every store-owning scenario needs (the driver creates stores from them).
STORE_ROLES = ("active_cluster_id", "trust_anchor_certificate", "kmsuser_password")


def config_of(entry: dict | None) -> dict | None:
    if entry is None:
        return None
    return {k: entry.get(k) for k in CONFIG_KEYS if k in entry}


def expect_unchanged(s: Scenario, label: str, before: dict | None, after: dict | None,
                     requirements: Iterable[str] | None = None) -> bool:
    """Check a rejected request changed none of the store's configuration."""
    same, detail = same_entry(config_of(before), config_of(after))
    return s.check(label, same, detail, requirements=requirements)


def create_params(s: Scenario, **overrides: Any) -> dict[str, Any]:
    """CreateCustomKeyStore parameters for a CloudHSM store on the world's active cluster."""
    params = {
        "CustomKeyStoreName": s.driver.name(overrides.pop("_suffix", "store")),
        "CloudHsmClusterId": s.role("active_cluster_id"),
        "TrustAnchorCertificate": s.role("trust_anchor_certificate"),
        "KeyStorePassword": s.role("kmsuser_password"),
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def create_raw(s: Scenario, label: str, params: dict, *, expect: Expected | None = None, main: bool = False,
               requirements: Iterable[str] | None = None):
    """Call CreateCustomKeyStore directly (to judge its answer). The name goes into the driver's
    cleanup ledger before the call, so a store the target makes, rightly or wrongly, is removed."""
    ledger = getattr(s.driver, "ledger", None)
    name = params.get("CustomKeyStoreName")
    if ledger is not None and name:
        ledger.intent(name)
    obs = s.call(label, "CreateCustomKeyStore", params, expect=expect, main=main, requirements=requirements)
    store_id = obs.body.get("CustomKeyStoreId") if obs.ok and isinstance(obs.body, dict) else None
    if store_id:
        if ledger is not None:
            ledger.created(name, store_id)
        adopt = getattr(s.driver, "adopt", None)
        if adopt is not None:
            adopt(store_id, name, params.get("CloudHsmClusterId"))
        s.stores.append(store_id)
    elif ledger is not None and name and not obs.transport_error:
        ledger.deleted(name, None, note="create refused")
    return obs


def second_lineage_anchor(s: Scenario) -> str:
    """The trust anchor of the unrelated cluster's lineage, for a second simultaneous store.

    Each store needs a cluster of its own lineage (a related cluster is "in use"), so a
    second store lives on the unrelated cluster and needs that lineage's trust anchor:
    the optional world role `unrelated_trust_anchor_certificate`. Without it the case is
    SKIPPED naming the role (CloudHSM's DescribeClusters does not return a trust anchor).
    """
    return s.role("unrelated_trust_anchor_certificate")


def second_store(s: Scenario, **overrides: Any) -> str:
    """A second store, on the unrelated cluster (its own lineage), or NOT_TRIGGERABLE."""
    params = create_params(s, CloudHsmClusterId=s.role("unrelated_cluster_id"),
                           TrustAnchorCertificate=second_lineage_anchor(s), _suffix="second", **overrides)
    obs = create_raw(s, "setup: create a second store on the unrelated cluster", params)
    if not obs.ok:
        raise NotTriggerable(f"needs two stores at once; the target refused a store on the unrelated cluster "
                             f"({obs.status} {obs.error_code}): the world gives no trust anchor for a second lineage")
    return obs.body["CustomKeyStoreId"]


# A PEM-shaped certificate of no world's lineage (made up for this suite, not a real CA).
FOREIGN_CERTIFICATE = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBfzCCASWgAwIBAgIUa21zLWNvbmZvcm1hbmNlLWZvcmVpZ24wCgYIKoZIzj0E\n"
    "AwIwJTEjMCEGA1UEAwwaa21zLWNvbmZvcm1hbmNlIGZvcmVpZ24gQ0EwHhcNMjYw\n"
    "MTAxMDAwMDAwWhcNNDYwMTAxMDAwMDAwWjAlMSMwIQYDVQQDDBprbXMtY29uZm9y\n"
    "bWFuY2UgZm9yZWlnbiBDQQ==\n"
    "-----END CERTIFICATE-----\n"
)
WAITING_PERIOD_PASSED_S = 31 * 24 * 3600  # longer than any ScheduleKeyDeletion window (7-30 days)


def world_control(s: Scenario, why: str) -> WorldControl:
    """The target's world control, known to work (NotTriggerable, naming `why`, where it has none).

    A control surface that turns out not to be there says so on first use; that use is a no-op
    here (the active cluster set to the state it has), so the case ends before it makes a store.
    """
    control = s.target.abilities.need_world_control(why)
    cluster_id = s.role("active_cluster_id")
    try:
        control.set_cluster_state(cluster_id, control.snapshot(cluster_id).state)
    except NotTriggerable as exc:
        raise NotTriggerable(f"{why}; {exc}") from None
    return control


def restore(control: WorldControl, cluster_id: str, snap: ClusterSnapshot) -> None:
    """Put a cluster back as `snapshot` found it."""
    control.set_cluster_state(cluster_id, snap.state)
    control.set_hsms(cluster_id, snap.hsms)


def pass_waiting_period(s: Scenario) -> bool:
    """Let every key deletion's waiting period pass, where the target can; False where it cannot.

    A clock is moved past the longest window; else pending deletions are completed through the
    target's control surface (which may turn out, on first use, not to be there).
    """
    abilities = s.target.abilities
    if abilities.clock is not None:
        abilities.clock.advance(WAITING_PERIOD_PASSED_S)
        return True
    if abilities.pending_deletions is not None:
        try:
            abilities.pending_deletions.complete_pending_deletions()
        except NotTriggerable:
            return False
        return True
    return False


def can_pass_waiting_period(s: Scenario) -> bool:
    """Whether key deletions can complete during the run (a clock, or pending deletions completed on demand)."""
    abilities = s.target.abilities
    if abilities.clock is not None:
        return True
    if abilities.pending_deletions is None:
        return False
    try:
        abilities.pending_deletions.complete_pending_deletions()  # harmless: only what passing time would do
    except NotTriggerable:
        return False
    return True


# What a NOT_TRIGGERABLE reason names to opt in to keys in stores (a test checks both exist).
CREATE_KEYS_HINT = "opt in with --create-keys, or run.create_keys: true in the config"


def require_key_cleanup(s: Scenario) -> None:
    """Refuse (NOT_TRIGGERABLE) to put a KMS key in a store unless the run allows it.

    A key in a store keeps the store, and so its whole cluster lineage, in use until the
    key's 7-30 day waiting period has passed. The run allows it on every target but live
    AWS (`create_keys`, set by the session), where it costs money and blocks the lineage for
    a week; a target that can pass the waiting period is always allowed.
    """
    if s.ctx.options.create_keys or can_pass_waiting_period(s):
        return
    raise NotTriggerable("needs a KMS key in the store; its deletion waits 7-30 days, during which the store and its "
                         f"cluster lineage stay in use, and this target cannot pass that waiting period "
                         f"({CREATE_KEYS_HINT})")


PENDING_WINDOW_DAYS = 7  # the shortest waiting period KMS allows: a store left behind is free soonest


def schedule_key_deletion(s: Scenario, key_ids: list[str], *, expect=None, requirements=None,
                          store_id: str | None = None) -> bool:
    """Schedule the keys' deletion and let the waiting period pass where the target allows it.

    Returns True when the waiting period could be passed (the store may then be deleted). When it
    cannot be, and `store_id` is given, the store is written to the cleanup ledger with the date its
    keys' deletion completes (see `finish_key_deletion`).
    """
    until = schedule_deletion_only(s, key_ids, expect=expect, requirements=requirements)
    return finish_key_deletion(s, store_id, key_ids, until)


def schedule_deletion_only(s: Scenario, key_ids: list[str], *, expect=None, requirements=None) -> float:
    """ScheduleKeyDeletion for each key; returns when the last deletion completes (epoch seconds):
    the DeletionDate the target answers, else the shortest window from now."""
    until = 0.0
    for key_id in key_ids:
        obs = s.call(f"schedule deletion of key {key_id}", "ScheduleKeyDeletion",
                     {"KeyId": key_id, "PendingWindowInDays": PENDING_WINDOW_DAYS}, expect=expect,
                     requirements=requirements)
        date = (obs.body or {}).get("DeletionDate") if obs.ok and isinstance(obs.body, dict) else None
        if hasattr(date, "timestamp"):
            date = date.timestamp()
        until = max(until, float(date) if isinstance(date, (int, float)) else
                    time.time() + PENDING_WINDOW_DAYS * 86400)
    return until


def finish_key_deletion(s: Scenario, store_id: str | None, key_ids: list[str], until: float) -> bool:
    """Pass the waiting period where the target can (True); else write the store to the ledger with `until`."""
    passed = pass_waiting_period(s)
    if not passed and store_id and key_ids and s.driver is not None:
        s.driver.note_keys_pending(store_id, list(key_ids), until)
    return passed
