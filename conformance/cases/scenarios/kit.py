"""The small toolkit every hand-written scenario is written with.

A scenario is a function `body(s: Scenario)` that drives the target through a
few requests. Each request becomes a `Step`; requests that carry an `Expected`
are judged by `conformance.verdicts.judge` (the one place verdicts are
decided), and effect checks ("the name changed", "nothing changed") become
steps with their own verdict. The case's verdict is the worst judged step.

Written here rather than in `conformance/cases/common.py` because it is about
multi-step, store-owning cases only; the parts that are general (reproduce
command, observation summary) can move there later.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from conformance import EDITIONS
from conformance.cases.base import Case, CaseContext
from conformance.steps import CaseResult, Expected, Step
from conformance.cases.common import UNKNOWN_CLUSTER_ID, UNKNOWN_STORE_ID, boto3_request, reproduce  # noqa: F401 (re-exported)
from conformance.redact import redact, scrub
from conformance.verdicts import Verdict, worst

# Connection states of a store (ConnectionStateType).
STATES = ("DISCONNECTED", "CONNECTING", "CONNECTED", "DISCONNECTING", "FAILED")
SETTLED = ("DISCONNECTED", "CONNECTED", "FAILED")
# Errors that mean "the request was rejected by input validation or parsing".
VALIDATION_CODES = ("ValidationException", "SerializationException")


class Abort(Exception):
    """Stop the scenario now with this verdict (setup failed, operation missing, ...)."""

    def __init__(self, verdict: Verdict, detail: str):
        self.verdict = verdict
        self.detail = detail
        super().__init__(detail)


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


def _is_not_triggerable(exc: BaseException) -> bool:
    return type(exc).__name__ == "NotTriggerable"


def _is_missing_role(exc: BaseException) -> bool:
    return type(exc).__name__ == "MissingRole"


def _is_unimplemented(exc: BaseException) -> bool:
    return any(c.__name__ == "UnimplementedOperation" for c in type(exc).__mro__)


@dataclass
class Scenario:
    """The running state of one scenario: its steps, judgements and the stores it owns."""

    ctx: CaseContext
    case: Case
    steps: list[Step] = field(default_factory=list)
    judged: list[tuple[Verdict, str]] = field(default_factory=list)
    stores: list[str] = field(default_factory=list)
    main: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    # -- context ------------------------------------------------------------------------
    @property
    def target(self):
        return self.ctx.target

    @property
    def driver(self):
        return self.ctx.driver

    @property
    def edition(self) -> str:
        return self.ctx.edition

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
    ):
        """Send one request, record it as a step, judge it when `expect` is given."""
        self.sync_driver_steps()
        obs = self.target.call(operation, params or {}, service=service)
        verdict = detail = None
        if obs.unimplemented:
            self._record(label, operation, params, obs, expect, Verdict.UNIMPLEMENTED)
            raise Abort(Verdict.UNIMPLEMENTED, f"target does not implement {operation} ({label})")
        if obs.transport_error:
            self._record(label, operation, params, obs, expect, Verdict.ERROR)
            raise Abort(Verdict.ERROR, f"{label}: no response from target: {obs.transport_error}")
        if expect is not None:
            from conformance.verdicts import judge

            verdict, detail = judge(expect, obs, self.ctx.strictness, request={"params": params or {}})
            self.judged.append((verdict, f"{label}: {detail}"))
        self._record(label, operation, params, obs, expect, verdict)
        if main or (self.main is None and expect is not None):
            self.main = {"operation": operation, "params": params, "expect": expect, "obs": obs, "service": service,
                         "label": label}
        return obs

    def setup(self, label: str, operation: str, params: dict | None = None, *, service: str = "kms"):
        """A request the scenario needs to succeed before it can check anything."""
        obs = self.call(label, operation, params, service=service)
        if not obs.ok:
            raise Abort(
                Verdict.ERROR,
                f"setup step '{label}' failed: {operation} answered {obs.status} {obs.error_code or ''} "
                f"{scrub(obs.message or '')}".strip(),
            )
        return obs

    def _record(self, label, operation, params, obs, expect, verdict) -> None:
        self.steps.append(
            Step(
                label=label,
                request=redact(boto3_request(operation, params)),
                observed=summarize(obs),
                expected=expect.to_dict() if expect is not None else None,
                verdict=str(verdict) if verdict is not None else None,
            )
        )

    def check(self, label: str, passed: bool, detail: str, *, level: str = "MUST") -> bool:
        """An effect check (state seen through Describe etc.) with its own verdict."""
        verdict = Verdict.PASS if passed else (Verdict.NON_STRICT if level == "SHOULD" else Verdict.FAIL)
        self.judged.append((verdict, f"{label}: {detail}"))
        self.steps.append(
            Step(label=label, request={"check": label}, observed={"detail": scrub(detail)}, verdict=str(verdict))
        )
        return passed

    def sync_driver_steps(self) -> None:
        """Move the steps the StoreDriver recorded (setup, waits, cleanup) into this case's steps."""
        take = getattr(self.driver, "take_steps", None)
        if callable(take):
            self.steps.extend(take())

    def note(self, text: str) -> None:
        self.notes.append(text)

    # -- stores -------------------------------------------------------------------------
    def store(self, state: str = "DISCONNECTED", **overrides: Any) -> str:
        """A new store (made through the driver, so it is in the cleanup ledger) in `state`."""
        self.sync_driver_steps()
        store_id = self.driver.create_store(**overrides)
        self.stores.append(store_id)
        self.sync_driver_steps()
        if state != "DISCONNECTED":
            self.bring(store_id, state)
        return store_id

    def bring(self, store_id: str, state: str) -> None:
        """Drive a store to `state` (NotTriggerable when the target cannot show it)."""
        self.sync_driver_steps()
        self.driver.bring_to_state(store_id, state)
        self.sync_driver_steps()
        entry = self.entry(store_id, label=f"setup: store is {state}")
        seen = (entry or {}).get("ConnectionState")
        if seen != state:
            raise Abort(Verdict.ERROR, f"setup: could not bring the store to {state} (Describe shows {seen})")

    def wait(self, store_id: str, states: Iterable[str] = SETTLED) -> str | None:
        """Wait until the store leaves transitional states (driver pollers honour the timeouts)."""
        states = tuple(states)
        try:
            self.driver.wait_for_state(store_id, states)
        except Exception as exc:  # a timeout is reported as what Describe then shows
            if _is_not_triggerable(exc) or _is_missing_role(exc):
                raise
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

    # -- result -------------------------------------------------------------------------
    def result(self, verdict: Verdict | None = None, detail: str | None = None, duration: float = 0.0) -> CaseResult:
        if verdict is None:
            if not self.judged:
                verdict, detail = Verdict.ERROR, "the scenario checked nothing"
            else:
                verdict = worst(v for v, _ in self.judged)
                bad = [d for v, d in self.judged if v == verdict and v != Verdict.PASS]
                if bad:
                    detail = "; ".join(bad)
                else:
                    main_label = self.main.get("label") if self.main else None
                    lead = next((d for _, d in self.judged if main_label and d.startswith(main_label + ":")),
                                self.judged[0][1])
                    detail = f"all {len(self.judged)} checks held; {lead}"
        if self.notes:
            detail = f"{detail} [{'; '.join(self.notes)}]"
        m = self.main or {}
        params = m.get("params")
        return self.case.result(
            verdict,
            request=redact(boto3_request(m["operation"], params)) if m else None,
            expected=m["expect"].to_dict() if m.get("expect") is not None else None,
            observed=summarize(m["obs"]) if m else None,
            detail=scrub(detail or ""),
            reproduce=reproduce(self.ctx, boto3_request(m["operation"], params)) if m else None,
            steps=self.steps,
            duration_s=round(duration, 4),
        )


def run_scenario(case: Case, body: Callable[[Scenario], None], ctx: CaseContext) -> CaseResult:
    """Run a scenario body and turn whatever happens into a CaseResult."""
    s = Scenario(ctx=ctx, case=case)
    take = getattr(ctx.driver, "take_steps", None)
    if callable(take):
        take()  # steps of earlier cases are not ours
    start = time.monotonic()
    verdict = detail = None
    try:
        body(s)
    except Abort as exc:
        verdict, detail = exc.verdict, exc.detail
    except Exception as exc:  # noqa: BLE001 - every failure becomes a verdict, never a crash
        if _is_missing_role(exc):
            verdict, detail = Verdict.SKIPPED, str(exc)
        elif _is_not_triggerable(exc):
            verdict, detail = Verdict.NOT_TRIGGERABLE, getattr(exc, "reason", None) or str(exc)
        elif _is_unimplemented(exc):
            verdict, detail = Verdict.UNIMPLEMENTED, str(exc)
        else:
            verdict, detail = Verdict.ERROR, f"{type(exc).__name__}: {exc}"
    finally:
        try:
            s.cleanup()
        except Exception as exc:  # noqa: BLE001
            s.note(f"cleanup failed: {exc}")
    if verdict is not None and verdict not in (Verdict.UNIMPLEMENTED, Verdict.SKIPPED) and s.judged:
        # A setup problem after some judged steps: keep the worst of both.
        worse = worst([verdict] + [v for v, _ in s.judged])
        if worse != verdict:
            verdict, detail = worse, "; ".join(d for v, d in s.judged if v == worse)
    return s.result(verdict, detail, time.monotonic() - start)


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
) -> Case:
    """Build a scenario Case; the body runs with a Scenario recorder."""
    ops = tuple(dict.fromkeys((operation, *needs_operations)))
    case = Case(
        id=case_id,
        operation=operation,
        kind="scenario",
        requirements=tuple(requirements),
        title=title,
        run=lambda ctx: ctx,  # replaced below (needs the case object itself)
        editions=tuple(editions),
        needs_roles=tuple(needs_roles),
        needs_operations=ops,
        schedule_group=schedule_group,
        tags=tuple(tags),
        api_calls=tuple(api_calls) or ops,
        connect_cycles=connect_cycles,
    )
    case.run = lambda ctx, _case=case: run_scenario(_case, body, ctx)
    return case


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


def expect_unchanged(s: Scenario, label: str, before: dict | None, after: dict | None) -> bool:
    """Check a rejected request changed none of the store's configuration."""
    same, detail = same_entry(config_of(before), config_of(after))
    return s.check(label, same, detail)


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


def create_raw(s: Scenario, label: str, params: dict, *, expect: Expected | None = None, main: bool = False):
    """Call CreateCustomKeyStore directly (to judge its answer). The name goes into the driver's
    cleanup ledger before the call, so a store the target makes, rightly or wrongly, is removed."""
    ledger = getattr(s.driver, "ledger", None)
    name = params.get("CustomKeyStoreName")
    if ledger is not None and name:
        ledger.intent(name)
    obs = s.call(label, "CreateCustomKeyStore", params, expect=expect, main=main)
    store_id = obs.body.get("CustomKeyStoreId") if obs.ok and isinstance(obs.body, dict) else None
    if store_id:
        if ledger is not None:
            ledger.created(name, store_id)
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
        raise Abort(Verdict.NOT_TRIGGERABLE,
                    f"needs two stores at once; the target refused a store on the unrelated cluster "
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


def extra(s: Scenario, name: str):
    """A target-specific control hook from `capabilities.extras` (None when the target has none)."""
    caps = getattr(s.target, "capabilities", None)
    return (getattr(caps, "extras", None) or {}).get(name)


_control_works: "weakref.WeakKeyDictionary[Any, bool]" = weakref.WeakKeyDictionary()


class WorldControl:
    """Changes to the cluster world that a target lets a test make, and undo.

    The in-process reference exposes its backend (`extras["reference_backend"]`); a served
    reference started with `serve --enable-control` answers `ReferenceControl.*` requests
    (`extras["reference_control"]`). No other target offers this: cases that need it are
    NOT_TRIGGERABLE there.
    """

    def __init__(self, s: Scenario, world=None, control=None):
        self.s, self.world, self.control = s, world, control

    @classmethod
    def of(cls, s: Scenario) -> "WorldControl | None":
        world = getattr(extra(s, "reference_backend"), "world", None)
        if world is not None:
            return cls(s, world=world)
        control = extra(s, "reference_control")
        if not callable(control):
            return None
        works = _control_works.get(s.target)
        if works is None:
            # The least intrusive action (it only does what passing time would do); asked once per target.
            works = _control_works[s.target] = bool(control("CompletePendingDeletions").ok)
        return cls(s, control=control) if works else None

    def _http(self, action: str, params: dict) -> None:
        obs = self.control(action, params)
        if not obs.ok:
            raise Abort(Verdict.ERROR, f"reference control {action} failed: {obs.status} {obs.error_code}")

    def snapshot(self, cluster_id: str) -> tuple[str, list[tuple[str, str]]]:
        if self.world is not None:
            c = self.world.get(cluster_id)
            return c.state, [(h.availability_zone, h.state) for h in c.hsms]
        obs = self.s.target.call("DescribeClusters", {"Filters": {"clusterIds": [cluster_id]}}, service="cloudhsmv2")
        c = next((c for c in (obs.body or {}).get("Clusters") or [] if c.get("ClusterId") == cluster_id), None)
        if c is None:
            raise Abort(Verdict.ERROR, f"DescribeClusters does not show {cluster_id}")
        return c.get("State", "ACTIVE"), [(h.get("AvailabilityZone", ""), h.get("State", "ACTIVE"))
                                           for h in c.get("Hsms") or []]

    def set_cluster_state(self, cluster_id: str, state: str) -> None:
        if self.world is not None:
            self.world.set_cluster_state(cluster_id, state)
        else:
            self._http("SetClusterState", {"ClusterId": cluster_id, "State": state})

    def set_hsms(self, cluster_id: str, hsms: list[tuple[str, str]]) -> None:
        if self.world is not None:
            self.world.set_hsms(cluster_id, hsms)
        else:
            self._http("SetHsms", {"ClusterId": cluster_id,
                                   "Hsms": [{"AvailabilityZone": az, "State": st} for az, st in hsms]})

    def restore(self, cluster_id: str, snap: tuple[str, list[tuple[str, str]]]) -> None:
        state, hsms = snap
        self.set_cluster_state(cluster_id, state)
        self.set_hsms(cluster_id, hsms)

    def complete_pending_deletions(self) -> None:
        if self.world is not None:
            extra(self.s, "complete_pending_deletions")()
        else:
            self._http("CompletePendingDeletions", {})


def can_pass_waiting_period(s: Scenario) -> bool:
    """Whether key deletions can complete during the run (a clock or a control hook)."""
    return bool(extra(s, "advance_clock")) or WorldControl.of(s) is not None


def require_key_cleanup(s: Scenario) -> None:
    """Refuse (NOT_TRIGGERABLE) to put a KMS key in a store the run could not delete afterwards.

    A key in a store keeps the store, and so its whole cluster lineage, in use until the
    key's 7-30 day waiting period has passed: every later case would fail its set-up. Only
    a target that can pass the waiting period runs these cases, unless the run opts in with
    the option `create_keys` (e.g. a live account whose clusters may stay busy for a week).
    """
    if s.ctx.options.get("create_keys") or can_pass_waiting_period(s):
        return
    raise Abort(Verdict.NOT_TRIGGERABLE,
                "needs a KMS key in the store; its deletion waits 7-30 days, during which the store and its "
                "cluster lineage stay in use, and this target cannot pass that waiting period "
                "(opt in with the run option create_keys)")


def schedule_key_deletion(s: Scenario, key_ids: list[str], *, expect=None) -> bool:
    """Schedule the keys' deletion and let the waiting period pass where the target allows it.

    Returns True when the waiting period could be passed (the store may then be deleted).
    """
    for key_id in key_ids:
        s.call(f"schedule deletion of key {key_id}", "ScheduleKeyDeletion",
               {"KeyId": key_id, "PendingWindowInDays": 7}, expect=expect)
    advance = extra(s, "advance_clock")
    if callable(advance):
        advance(WAITING_PERIOD_PASSED_S)
        return True
    control = WorldControl.of(s)
    if control is not None:
        control.complete_pending_deletions()
        return True
    return False
