"""Stateful differential case: random sequences of the six operations, target vs the model.

A Hypothesis `RuleBasedStateMachine` sends every step to the target and to a
fresh, fault-free `ReferenceBackend` (same edition, same world, zero delays)
and compares status + error code, then the normalised Describe view of the
stores the sequence made (target ids mapped to model ids; CreationDate left
out). After a Connect or Disconnect the target is waited on until the store
settles, so a target with slow transitions is compared at the same point.
The first divergence fails the example; Hypothesis shrinks it and the minimal,
replayable sequence goes into the CaseResult (detail + steps).

Every step's agreement with the model and the run's outcome are checks of
`conformance.verdicts` (model agreement, secret echo). Deterministic by default
(`@seed(ctx.seed)`, no example database) and bounded (`stateful_examples`,
`stateful_steps`, `stateful_budget_s` in ctx.options).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.reporting import with_reporter
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from conformance import CUSTOM_KEY_STORE_OPERATIONS, SETTLED_STATES
from conformance.cases.base import Case, CaseContext, CollectContext
from conformance.cases.common import UNKNOWN_CLUSTER_ID, name_nothing
from conformance.cases.kernel import Recorder
from conformance.observation import sanitize_error_code
from conformance.redact import redact, scrub
from conformance.reference import ReferenceBackend, ReferenceConfig
from conformance.steps import Step
from conformance.verdicts import Check, Verdict, check_answered, check_available, check_model_agreement, \
    check_property, check_secret_echo, harness_error, unimplemented
from conformance.world import CLUSTER_ROLES

OPERATIONS = CUSTOM_KEY_STORE_OPERATIONS
# Rules pick clusters from this (the active lineage twice as often: those create stores and pass checks).
CLUSTER_CHOICES = ("active_cluster_id", "related_cluster_id") + CLUSTER_ROLES + ("unknown",)
WRONG_PASSWORD = "not-the-kmsuser-pw"
NAME_KEYS = ("a", "b")
ENTRY_KEYS = ("CustomKeyStoreName", "CloudHsmClusterId", "ConnectionState", "ConnectionErrorCode",
              "CustomKeyStoreType")
# External key stores beside the CloudHSM ones (where the world names a proxy): on the world's working
# URI path or on the path the proxy does not serve, with the world's credential or one it does not know.
# Only proxy faults that answer at once: a sequence must not wait on a proxy's timeout.
XKS_PATHS = ("uri_path", "faulty_paths.unknown_path")
XKS_VIEW_KEYS = ("Connectivity", "UriEndpoint", "UriPath", "AccessKeyId")
XKS_WRONG_CREDENTIAL = {"AccessKeyId": "KMSCONFORMANCESTATE2", "RawSecretAccessKey": "a" * 43 + "kmsconformancestate="}


class Divergence(AssertionError):
    """The target and the model answered one step differently (`check` says how, decided by verdicts)."""

    def __init__(self, check: Check):
        self.check = check
        super().__init__(check.detail)


class _TargetUnavailable(BaseException):
    """The target did not answer a step (or only its infrastructure did, after the retries): ERROR, not a
    divergence. A BaseException, so Hypothesis neither shrinks nor replays it."""

    def __init__(self, check: Check):
        self.check = check
        super().__init__(check.detail)


def _stores_of(obs) -> list[dict]:
    """The store entries of a Describe answer, whatever the target sent (garbage gives none)."""
    body = obs.body if isinstance(obs.body, dict) else {}
    entries = body.get("CustomKeyStores")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _require_answer(label: str, obs) -> None:
    unanswered = check_answered(obs) or check_available(obs)
    if unanswered is not None and unanswered.verdict is Verdict.ERROR:
        raise _TargetUnavailable(unanswered.restated(f"{label}: {unanswered.detail}"))


class _ShrinkBudgetSpent(BaseException):
    """Stops Hypothesis' shrinking when the time budget is spent (the best sequence so far is kept)."""


def _outcome(status: int | None, code: str | None) -> str:
    return f"{status} {code or 'OK'}"


def _model_code(body: Any) -> str | None:
    if isinstance(body, dict) and "__type" in body:
        return sanitize_error_code(body["__type"])
    return None


# Blame: a divergence is checked against the rule the model's answer applied (the model is the
# contract), so an Update-in-CONNECTED divergence blames the Update state rules, never CRE-001.
_ANSWER_RULES: dict[str, dict[str | None, tuple[str, ...]]] = {
    "CreateCustomKeyStore": {
        None: ("CRE-001",), "CloudHsmClusterInUseException": ("CRE-030", "CRE-031"),
        "CustomKeyStoreNameInUseException": ("CRE-032",), "CloudHsmClusterNotFoundException": ("CRE-033",),
        "CloudHsmClusterNotActiveException": ("CRE-034",), "IncorrectTrustAnchorException": ("CRE-035",),
        "CloudHsmClusterInvalidConfigurationException": ("CRE-036",), "LimitExceededException": ("CRE-037",),
        "XksProxyUriInUseException": ("CRE-040",), "XksProxyIncorrectAuthenticationCredentialException": ("CRE-043",),
        "XksProxyInvalidConfigurationException": ("CRE-048",)},
    "UpdateCustomKeyStore": {
        "CustomKeyStoreNotFoundException": ("UPD-030",), "CustomKeyStoreNameInUseException": ("UPD-031",),
        "CloudHsmClusterNotFoundException": ("UPD-032",), "CloudHsmClusterNotRelatedException": ("UPD-033",),
        "CloudHsmClusterNotActiveException": ("UPD-034",),
        "CloudHsmClusterInvalidConfigurationException": ("UPD-035",), "XksProxyUriInUseException": ("UPD-040",),
        "XksProxyIncorrectAuthenticationCredentialException": ("UPD-043",),
        "XksProxyInvalidConfigurationException": ("UPD-048",)},
    "ConnectCustomKeyStore": {
        None: ("CON-001",), "CustomKeyStoreNotFoundException": ("CON-007",),
        "CloudHsmClusterNotActiveException": ("CON-008",), "CloudHsmClusterInvalidConfigurationException": ("CON-009",)},
    "DisconnectCustomKeyStore": {"CustomKeyStoreNotFoundException": ("DIS-006",)},
    "DeleteCustomKeyStore": {
        None: ("DEL-001",), "CustomKeyStoreInvalidStateException": ("DEL-002",),
        "CustomKeyStoreHasCMKsException": ("DEL-003",), "CustomKeyStoreNotFoundException": ("DEL-004",)},
}
INVALID_STATE = "CustomKeyStoreInvalidStateException"
# Describe-view fields with a rule of their own, whatever step came before.
ENTRY_RULES = {"has_password": "DES-011", "ConnectionErrorCode": "DES-010"}


def answer_rules(operation: str, params: dict, code: str | None, state: str | None, edition: str) -> tuple[str, ...]:
    """The requirement ids of the answer the model gave to one step (`state`: the store's, before the step)."""
    if operation == "DescribeCustomKeyStores":
        by_name = "CustomKeyStoreName" in params
        return (("DES-005",) if by_name else ("DES-004",)) if code else (("DES-003",) if by_name else ("DES-002",))
    if operation == "UpdateCustomKeyStore" and code in (None, INVALID_STATE):
        return _update_state_rules(params, code, state, edition)
    if operation == "ConnectCustomKeyStore" and code == INVALID_STATE:
        return ("CON-004",) if state == "FAILED" else ("CON-003",)
    if operation == "DisconnectCustomKeyStore" and code in (None, INVALID_STATE):
        if code:
            return ("DIS-003",) if state == "DISCONNECTING" else ("DIS-002",)
        return {"CONNECTING": ("DIS-004",), "FAILED": ("DIS-005",)}.get(state or "", ("DIS-001",))
    rules = _ANSWER_RULES.get(operation, {})
    return rules.get(code, rules.get(None, ()))


def _update_state_rules(params: dict, code: str | None, state: str | None, edition: str) -> tuple[str, ...]:
    name = "NewCustomKeyStoreName" in params
    others = [m for m, rid in (("KeyStorePassword", "UPD-011"), ("CloudHsmClusterId", "UPD-012")) if m in params]
    if code is None:
        return ("UPD-013",) if state == "CONNECTED" else ("UPD-001",)
    ids = ["UPD-036"]
    if edition == "2019-12":
        ids.append("UPD-010")
    ids += ["UPD-011" if m == "KeyStorePassword" else "UPD-012" for m in others]
    if edition != "2019-12" and name:
        ids.append("UPD-015" if state == "CONNECTED" else "UPD-014")
    return tuple(ids)


def view_rules(operation: str, params: dict, code: str | None, state: str | None,
               model_state: str | None) -> tuple[str, ...]:
    """The requirement ids a Describe view after the step checks (what the step should have changed)."""
    if operation == "CreateCustomKeyStore":
        return ("CRE-080", "DES-081") if params.get("CustomKeyStoreType") == "EXTERNAL_KEY_STORE" else ("CRE-003",)
    if operation == "UpdateCustomKeyStore":
        if code:
            return ("UPD-006",)
        if any(m.startswith("Xks") for m in params):
            return ("UPD-080",) if state == "CONNECTED" else ("UPD-082",)
        shown = [rid for m, rid in (("NewCustomKeyStoreName", "UPD-002"), ("CloudHsmClusterId", "UPD-005"),
                                    ("KeyStorePassword", "UPD-003")) if m in params]
        return tuple(shown) or ("UPD-001",)
    if operation == "ConnectCustomKeyStore":
        if code:
            return answer_rules(operation, params, code, state, "")
        return ("CON-002", "CON-010") if model_state == "FAILED" else ("CON-001",)
    if operation == "DisconnectCustomKeyStore":
        return answer_rules(operation, params, code, state, "")
    if operation == "DeleteCustomKeyStore":
        return answer_rules(operation, params, code, state, "")
    return ()


def _anchor_digest(pem: str | None) -> str | None:
    return hashlib.sha256("".join((pem or "").split()).encode()).hexdigest()[:12] if pem else None


class _Run:
    """What one case run shares with every machine instance (set on a per-run subclass)."""

    def __init__(self, ctx: CaseContext, budget_s: float, shrink_budget_s: float):
        self.ctx = ctx
        self.shrink_budget_s = shrink_budget_s
        self.deadline = time.monotonic() + budget_s
        self.steps: list[Step] = []
        self.failure: Check | None = None  # the smallest divergence seen so far, and its steps
        self.failing_steps: list[Step] = []
        self.shrink_deadline: float | None = None
        self.examples = 0
        self.calls = 0
        self.over = False
        # Connects + disconnects left (None: no limit): on a slow target each costs minutes.
        self.transitions_left: int | None = ctx.options.stateful_transitions
        self.transitions_skipped = 0
        prefix = ctx.driver.name("sm") if ctx.driver is not None else "kmsconf-sm"
        self.names = {k: f"{prefix}-{k}" for k in NAME_KEYS}

    def out_of_time(self) -> bool:
        """True once the budget is spent while nothing failed (rules then do nothing).

        After a divergence, shrinking gets its own budget; when it is spent the run stops
        with the smallest failing sequence found so far.
        """
        if self.failure is not None:
            if self.shrink_deadline is not None and time.monotonic() > self.shrink_deadline:
                raise _ShrinkBudgetSpent()
            return False
        if time.monotonic() > self.deadline:
            self.over = True
        return self.over

    def may_transition(self) -> bool:
        """Whether a connect/disconnect rule may still call (the transition budget); counts a skip."""
        if self.transitions_left is None or self.transitions_left > 0:
            return True
        self.transitions_skipped += 1
        return False

    def transitioned(self) -> None:
        if self.transitions_left is not None:
            self.transitions_left = max(0, self.transitions_left - 1)

    def budget_note(self) -> str:
        if not self.transitions_skipped:
            return ""
        budget = self.ctx.options.stateful_transitions
        return (f" (transition budget of {budget} spent: {self.transitions_skipped} connect/disconnect step(s) "
                f"not sent; raise it with --stateful-transitions)" if budget else
                f" (connect/disconnect rules off on this target: stateful_transitions 0; "
                f"{self.transitions_skipped} step(s) not sent; enable with --stateful-transitions N)")

    def diverged(self, check: Check) -> Divergence:
        if self.failure is None or len(self.steps) <= len(self.failing_steps):
            if self.failure is None:
                self.shrink_deadline = time.monotonic() + self.shrink_budget_s
            self.failure, self.failing_steps = check, list(self.steps)
        return Divergence(check)

    def agree(self, label: str, same: bool, detail: str, requirements: tuple[str, ...] = ()) -> Check:
        """A step's agreement with the model, decided by verdicts; a disagreement ends the example."""
        check = check_model_agreement(label, same, detail, requirements=requirements)
        if not check.held:
            raise self.diverged(check)
        return check


class StoreMachine(RuleBasedStateMachine):
    """Random sequences of the six operations on the target and on the model, side by side."""

    run: _Run  # set on the per-run subclass
    stores = Bundle("stores")

    def __init__(self) -> None:
        super().__init__()
        ctx = self.run.ctx
        self.ctx = ctx
        world = ctx.target.world
        region = ctx.target.identity.region or "us-east-1"
        # The model reaches the target's XKS proxy the way the target does (only a reference target
        # says how: `xks_network`); elsewhere the sequences hold CloudHSM stores only.
        # Only the target's own attribute: a recording or replaying wrapper sends the same sequences either way.
        own = "xks_network" in dir(type(ctx.target))
        self.xks_network = dict(ctx.target.xks_network or {}) if own else {}
        xks_kw = {"xks_network": self.xks_network} if self.xks_network else {}
        self.model = ReferenceBackend(ReferenceConfig.from_world(world, edition=ctx.edition, region=region, **xks_kw))
        self.t2m: dict[str, str] = {}
        self.created: list[str] = []
        self.last: tuple[str, dict, str | None, str | None] | None = None  # the step a Describe view follows
        self.run.steps = []
        self.run.examples += 1

    # ------------------------------------------------------------------ plumbing
    def _cluster(self, role: str) -> str | None:
        if role == "unknown":  # changed away if the world happens to have a cluster of that id
            return name_nothing(self.ctx, "CreateCustomKeyStore", {"CloudHsmClusterId": UNKNOWN_CLUSTER_ID})[
                "CloudHsmClusterId"]
        return getattr(self.ctx.target.world, role, None)

    def _model_state(self, model_params: dict) -> str | None:
        store = self.model.stores.get(model_params.get("CustomKeyStoreId") or "")
        return store.state if store is not None else None

    def _both(self, label: str, operation: str, target_params: dict, model_params: dict | None = None):
        """Send one step to both sides, record it; a different status or error code, or a secret the
        target's answer quotes, ends the example (blaming the rule of the model's answer)."""
        model_params = target_params if model_params is None else model_params
        before = self._model_state(model_params)
        obs = self.ctx.target.call(operation, target_params)
        self.run.calls += 1
        _require_answer(label, obs)
        m_status, m_body = self.model.handle("kms", operation, dict(model_params))
        m_code = _model_code(m_body) if m_status >= 300 else None
        self.last = (operation, model_params, m_code, before)
        rules = answer_rules(operation, model_params, m_code, before, self.ctx.edition)
        if (operation == "UpdateCustomKeyStore" and m_code == INVALID_STATE and obs.status is not None
                and 400 <= obs.status < 500):
            rules = ("UPD-036",)  # refused as it must be, under another code: only the code rule
        t_out, m_out = _outcome(obs.status, obs.error_code), _outcome(m_status, m_code)
        same = (obs.status, obs.error_code) == (m_status, m_code)
        if obs.ok and not isinstance(obs.body, dict):
            agreement = check_model_agreement(label, False, f"{label}: target answered {obs.status} with a non-JSON "
                                                            f"body {scrub(obs.raw_body)[:80]!r}, the model {m_out}",
                                              requirements=rules)
        elif obs.transport_error:
            agreement = check_model_agreement(label, False, f"{label}: no response from the target ({obs.transport_error})",
                                              requirements=rules)
        else:
            agreement = check_model_agreement(label, same, f"{label}: target answered {t_out}, the model {m_out}",
                                              requirements=rules)
        echo = check_secret_echo(obs, {"params": target_params})
        decided = echo if echo is not None and not echo.held else agreement
        self.run.steps.append(Step(
            label=label, request=redact({"via": "boto3", "operation": operation, "params": target_params}),
            observed=redact({"target": {"status": obs.status, "error_code": obs.error_code, "message": obs.message,
                                        "body": obs.body},
                             "model": {"status": m_status, "error_code": m_code, "body": m_body}}),
            expected={"status": m_status, "error_code": m_code},
            verdict=str(decided.verdict)))
        if operation == "CreateCustomKeyStore" and obs.ok and isinstance(obs.body, dict):
            # Remember every store the target made, even one the model refused: teardown must
            # remove it, or it leaks into the next sequence and makes the run flaky.
            made = obs.body.get("CustomKeyStoreId")
            if made and made not in self.created:
                self.created.append(made)
        if not decided.held:
            raise self.run.diverged(decided.restated(f"{label}: {decided.detail}") if decided is echo else decided)
        return obs, m_status, m_body

    def _settle(self, target_id: str) -> None:
        """Wait on the target until the store leaves CONNECTING / DISCONNECTING (the model is instant)."""
        try:
            self.ctx.driver.wait_for_state(target_id, SETTLED_STATES)
        except Exception as exc:  # noqa: BLE001 - a store that never settles shows up in the comparison
            self.run.steps.append(Step(label="wait", request={"wait": target_id}, observed={"error": scrub(str(exc))}))

    def _normalised(self, entries: list[dict], *, target_side: bool) -> dict[str, dict]:
        out = {}
        for e in entries:
            sid = e.get("CustomKeyStoreId")
            if target_side:
                if sid not in self.t2m:
                    continue  # not a store of this sequence
                sid = self.t2m[sid]
            elif sid not in self.t2m.values():
                continue
            view = {k: e.get(k) for k in ENTRY_KEYS if k in e}
            xks = e.get("XksProxyConfiguration")
            if isinstance(xks, dict):
                view["Xks"] = {k: xks.get(k) for k in XKS_VIEW_KEYS}
            view["TrustAnchor"] = _anchor_digest(e.get("TrustAnchorCertificate"))
            view["has_password"] = any("password" in k.lower() or "secretaccesskey" in k.lower() for k in e)
            out[sid] = view
        return out

    def _compare_views(self, label: str = "describe all") -> None:
        obs = self.ctx.target.call("DescribeCustomKeyStores", {"Limit": 1000})
        self.run.calls += 1
        _require_answer(label, obs)
        m_status, m_body = self.model.handle("kms", "DescribeCustomKeyStores", {"Limit": 1000})
        t_view = self._normalised(_stores_of(obs) if obs.ok else [], target_side=True)
        m_view = self._normalised(m_body.get("CustomKeyStores") or [] if m_status == 200 else [], target_side=False)
        same = obs.ok == (m_status == 200) and t_view == m_view
        diff = sorted(k for k in set(t_view) | set(m_view) if t_view.get(k) != m_view.get(k))
        detail = "; ".join(f"{k}: target {t_view.get(k)} vs model {m_view.get(k)}" for k in diff[:2])
        operation, params, code, before = self.last or ("", {}, None, None)
        after = self._model_state(params)
        fields = {f for k in diff for f in set(t_view.get(k) or {}) | set(m_view.get(k) or {})
                  if (t_view.get(k) or {}).get(f) != (m_view.get(k) or {}).get(f)}
        if not obs.ok:
            rules: tuple[str, ...] = ("DES-001",)
        elif fields and fields <= set(ENTRY_RULES):  # only what Describe must never / only sometimes show
            rules = tuple(dict.fromkeys(ENTRY_RULES[f] for f in sorted(fields)))
        else:
            rules = view_rules(operation, params, code, before, after)
        decided = check_model_agreement(
            label, same, f"{label}: Describe views differ ({detail or _outcome(obs.status, obs.error_code)})",
            requirements=rules)
        self.run.steps.append(Step(label=label, request={"via": "boto3", "operation": "DescribeCustomKeyStores",
                                                         "params": {"Limit": 1000}},
                                   observed=redact({"target": t_view, "model": m_view}),
                                   verdict=str(decided.verdict)))
        if not decided.held:
            raise self.run.diverged(decided)

    # ------------------------------------------------------------------ rules
    @initialize(target=stores)
    def first_store(self):
        """Every sequence starts with one valid store, so the other rules have something to work on."""
        return self.create(name=NAME_KEYS[0], cluster="active_cluster_id", right_password=True)

    @rule(target=stores, name=st.sampled_from(NAME_KEYS), cluster=st.sampled_from(CLUSTER_CHOICES),
          right_password=st.booleans())
    def create(self, name, cluster, right_password):
        if self.run.out_of_time():
            return multiple()
        world = self.ctx.target.world
        cluster_id = self._cluster(cluster)
        if cluster_id is None:
            return multiple()
        params = {"CustomKeyStoreName": self.run.names[name], "CloudHsmClusterId": cluster_id,
                  "TrustAnchorCertificate": world.trust_anchor_certificate,
                  "KeyStorePassword": world.kmsuser_password if right_password else WRONG_PASSWORD}
        ledger = getattr(self.ctx.driver, "ledger", None)
        if ledger is not None:
            ledger.intent(params["CustomKeyStoreName"])
        obs, m_status, m_body = self._both(f"create {name} on {cluster}", "CreateCustomKeyStore", params)
        if obs.ok and m_status == 200:
            tid, mid = obs.body.get("CustomKeyStoreId"), m_body.get("CustomKeyStoreId")  # a dict: see _both
            if ledger is not None:
                ledger.created(params["CustomKeyStoreName"], tid)
            self.t2m[tid] = mid
            self._compare_views()
            return (tid, mid)
        if ledger is not None and not obs.ok:
            ledger.deleted(params["CustomKeyStoreName"], None, note="create refused")
        return multiple()

    @rule(store=stores, name=st.one_of(st.none(), st.sampled_from(NAME_KEYS)),
          cluster=st.one_of(st.none(), st.sampled_from(CLUSTER_CHOICES)), password=st.sampled_from([None, "right", "wrong"]))
    def update(self, store, name, cluster, password):
        if self.run.out_of_time():
            return
        tid, mid = store
        params: dict[str, Any] = {}
        if name is not None:
            params["NewCustomKeyStoreName"] = self.run.names[name]
        if cluster is not None and self._cluster(cluster):
            params["CloudHsmClusterId"] = self._cluster(cluster)
        if password is not None:
            params["KeyStorePassword"] = (self.ctx.target.world.kmsuser_password if password == "right"
                                          else WRONG_PASSWORD)
        self._both(f"update {sorted(params)}", "UpdateCustomKeyStore", {"CustomKeyStoreId": tid, **params},
                   {"CustomKeyStoreId": mid, **params})
        self._compare_views()

    # -- external key stores ------------------------------------------------------------
    def _xks(self, name: str) -> str | None:
        """A world.xks role's value, None where the world (or the edition) has no external key stores."""
        if self.ctx.edition != "current":
            return None
        try:
            return self.ctx.target.world.get(f"xks.{name}")
        except Exception:  # noqa: BLE001 - MissingRole: this world has no such proxy role
            return None

    def _xks_credential(self, right: bool) -> dict | None:
        try:
            world_credential = self.ctx.target.world.xks_credential()
        except Exception:  # noqa: BLE001 - MissingRole, or a world without external key stores
            return None
        return world_credential if right else XKS_WRONG_CREDENTIAL

    def xks_ready(self) -> bool:
        return bool(self.xks_network and self._xks("uri_endpoint") and self._xks("uri_path")
                    and self._xks_credential(True))

    @precondition(xks_ready)
    @rule(target=stores, name=st.sampled_from(NAME_KEYS), path=st.sampled_from(XKS_PATHS),
          right_credential=st.booleans())
    def create_xks(self, name, path, right_credential):
        if self.run.out_of_time():
            return multiple()
        uri_path = self._xks(path)
        if uri_path is None:
            return multiple()
        params = {"CustomKeyStoreName": self.run.names[name], "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
                  "XksProxyConnectivity": "PUBLIC_ENDPOINT", "XksProxyUriEndpoint": self._xks("uri_endpoint"),
                  "XksProxyUriPath": uri_path,
                  "XksProxyAuthenticationCredential": self._xks_credential(right_credential)}
        ledger = getattr(self.ctx.driver, "ledger", None)
        if ledger is not None:
            ledger.intent(params["CustomKeyStoreName"])
        obs, m_status, m_body = self._both(f"create external key store {name} on {path}", "CreateCustomKeyStore",
                                           params)
        if obs.ok and m_status == 200:
            tid, mid = obs.body.get("CustomKeyStoreId"), m_body.get("CustomKeyStoreId")
            if ledger is not None:
                ledger.created(params["CustomKeyStoreName"], tid)
            self.t2m[tid] = mid
            self._compare_views()
            return (tid, mid)
        if ledger is not None and not obs.ok:
            ledger.deleted(params["CustomKeyStoreName"], None, note="create refused")
        return multiple()

    @precondition(xks_ready)
    @rule(store=stores, path=st.one_of(st.none(), st.sampled_from(XKS_PATHS)),
          credential=st.sampled_from([None, "right", "wrong"]))
    def update_xks(self, store, path, credential):
        """Proxy members sent to any store of the sequence (a CloudHSM store refuses them like the model)."""
        if self.run.out_of_time():
            return
        tid, mid = store
        params: dict[str, Any] = {}
        if path is not None and self._xks(path):
            params["XksProxyUriPath"] = self._xks(path)
        if credential is not None:
            params["XksProxyAuthenticationCredential"] = self._xks_credential(credential == "right")
        if not params:
            return
        self._both(f"update {sorted(params)}", "UpdateCustomKeyStore", {"CustomKeyStoreId": tid, **params},
                   {"CustomKeyStoreId": mid, **params})
        self._compare_views()

    @rule(store=stores)
    def connect(self, store):
        if self.run.out_of_time() or not self.run.may_transition():
            return
        tid, mid = store
        obs, _, _ = self._both("connect", "ConnectCustomKeyStore", {"CustomKeyStoreId": tid}, {"CustomKeyStoreId": mid})
        if obs.ok:
            self.run.transitioned()
            self._settle(tid)
        self._compare_views()

    @rule(store=stores)
    def disconnect(self, store):
        if self.run.out_of_time() or not self.run.may_transition():
            return
        tid, mid = store
        obs, _, _ = self._both("disconnect", "DisconnectCustomKeyStore", {"CustomKeyStoreId": tid},
                               {"CustomKeyStoreId": mid})
        if obs.ok:
            self.run.transitioned()
            self._settle(tid)
        self._compare_views()

    @rule(store=stores)
    def delete(self, store):
        if self.run.out_of_time():
            return
        tid, mid = store
        self._both("delete", "DeleteCustomKeyStore", {"CustomKeyStoreId": tid}, {"CustomKeyStoreId": mid})
        self._compare_views()

    @rule(store=stores)
    def describe_one(self, store):
        if self.run.out_of_time():
            return
        tid, mid = store
        obs, m_status, m_body = self._both("describe by id", "DescribeCustomKeyStores", {"CustomKeyStoreId": tid},
                                           {"CustomKeyStoreId": mid})
        if obs.ok and m_status == 200:
            t_view = self._normalised(_stores_of(obs), target_side=True)
            m_view = self._normalised(m_body.get("CustomKeyStores") or [], target_side=False)
            self.run.agree("describe by id", t_view == m_view, f"describe by id: target {t_view} vs model {m_view}",
                           requirements=("DES-002",))

    @rule(name=st.sampled_from(NAME_KEYS))
    def describe_by_name(self, name):
        if self.run.out_of_time():
            return
        self._both(f"describe by name {name}", "DescribeCustomKeyStores", {"CustomKeyStoreName": self.run.names[name]})

    def teardown(self) -> None:
        """Remove this sequence's stores from the target (the model is thrown away)."""
        for tid in self.created:
            try:
                self.ctx.driver.delete_store(tid)
            except Exception:  # noqa: BLE001 - the run's ledger cleanup is the backstop
                pass
        self.ctx.driver.take_steps()


def run_stateful(rec: Recorder) -> None:
    ctx, case = rec.ctx, rec.case
    ids = case.requirements
    opts = ctx.options
    run = _Run(ctx, opts.stateful_budget_s, opts.stateful_shrink_budget_s)
    machine = seed(ctx.seed)(type("CustomKeyStoreMachine", (StoreMachine,), {"run": run}))  # deterministic runs
    config = settings(max_examples=opts.stateful_examples, stateful_step_count=opts.stateful_steps,
                      deadline=None, database=None, print_blob=False, derandomize=False,
                      phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))
    printed: list[str] = []
    decided: Check
    try:
        with with_reporter(printed.append):
            run_state_machine_as_test(machine, settings=config)
    except Divergence as exc:
        lines = printed + [n for n in getattr(exc, "__notes__", []) if isinstance(n, str)]
        sequence = "\n".join(line for line in lines if line.strip() and not line.startswith("Falsifying"))
        decided = exc.check.restated(f"target diverged from the model: {exc}\nminimal sequence (shrunk):\n{sequence}")
        run.steps = run.steps if run.steps and run.steps[-1].verdict == str(exc.check.verdict) else run.failing_steps
    except _TargetUnavailable as exc:
        decided = replace(exc.check, requirements=ids)
        if run.failure is not None:  # unavailable while shrinking: the divergence seen before stands
            run.steps = run.failing_steps
            decided = run.failure.restated(f"target diverged from the model: {run.failure.detail}\n(shrinking "
                                           f"stopped: {exc.check.detail})")
    except _ShrinkBudgetSpent:
        run.steps = run.failing_steps
        sequence = "\n".join(f"{i + 1}. {st.label}" for i, st in enumerate(run.steps))
        decided = run.failure.restated(f"target diverged from the model: {run.failure.detail}\nsmallest sequence "
                                       f"found before the shrink budget ran out:\n{sequence}")
    except Exception as exc:  # noqa: BLE001 - harness trouble is ERROR, with the reason
        if run.failure is not None:
            # A divergence was observed, but replaying it while shrinking behaved differently
            # (e.g. Hypothesis reports flaky data generation because the target kept state the
            # sequence did not create). The divergence itself is real: report the smallest
            # sequence that showed it, and say why it is not shrunk further.
            run.steps = run.failing_steps
            sequence = "\n".join(f"{i + 1}. {st.label}" for i, st in enumerate(run.steps))
            decided = run.failure.restated(f"target diverged from the model: {run.failure.detail}\nsmallest "
                                           f"sequence observed (shrinking stopped: {type(exc).__name__}):\n{sequence}")
        else:
            decided = harness_error(f"stateful run failed: {type(exc).__name__}: {scrub(str(exc))[:300]}", ids)
    else:
        if any(op in ctx.target.capabilities.unimplemented for op in OPERATIONS):
            decided = unimplemented("target does not implement the custom key store operations", ids)
        else:
            note = (" (time budget reached)" if run.over else "") + run.budget_note()
            decided = check_property(case.id, run.examples, None, requirements=ids).restated(
                f"{run.examples} sequences, {run.calls} target calls, no divergence from the model{note}")
    if decided.verdict != Verdict.FAIL:  # only a divergence shows its sequence
        rec.record(decided)
        return
    for step in run.steps:
        idx = rec.add(step)
        if step.verdict == str(decided.verdict):
            rec.primary = idx
    rec.keep_single_step = True
    rec.record(replace(decided, requirements=decided.requirements or ids))


REQUIREMENTS = ("CRE-001", "CRE-003", "CRE-030", "CRE-032", "UPD-002", "UPD-006", "UPD-036", "CON-001",
                "DIS-001", "DEL-001", "DES-002", "DES-003")
# External key stores join the sequences in the current edition (where the world names a proxy).
XKS_REQUIREMENTS = ("CRE-080", "DES-081", "UPD-080", "UPD-082")


def collect(cc: CollectContext) -> list[Case]:
    case = Case(
        id="UpdateCustomKeyStore/stateful/differential-vs-model", operation="UpdateCustomKeyStore", kind="stateful",
        requirements=REQUIREMENTS + (XKS_REQUIREMENTS if cc.edition == "current" else ()),
        title="Random sequences of the six operations answer like the model (status, code, Describe view)",
        run=run_stateful, editions=(cc.edition,),
        needs_roles=("active_cluster_id", "trust_anchor_certificate", "kmsuser_password"),
        needs_operations=OPERATIONS, schedule_group="stateful", api_calls=OPERATIONS, connect_cycles=8,
        tags=("hypothesis",),
    )
    return [case]
