"""The Schemathesis run: AWS JSON 1.1 rewriting, its checks, re-checks, URL and in-process targets."""

from __future__ import annotations

import json

import pytest

from conformance.cases import schemathesis_run
from conformance.cases.base import CaseContext
from conformance.observation import Observation
from conformance.spec import edition_model
from conformance.targets.base import Capabilities, Identity, Target
from conformance.world import World
from conformance.verdicts import Verdict

from test_scenarios_support import collect_context, reference_context, run, served_reference, url_context

FEW = {"schemathesis_examples": 3}


def _cases(edition="current"):
    return {c.id: c for c in schemathesis_run.collect(collect_context(edition))}


def test_one_case_per_operation_and_check():
    cases = _cases()
    assert len(cases) == 6 * 5
    assert {c.kind for c in cases.values()} == {"schemathesis"}
    assert all(c.requirements for c in cases.values())


@pytest.mark.parametrize("edition", ["current", "2019-12"])
def test_every_check_holds_on_the_in_process_reference(tmp_path, edition):
    with reference_context(tmp_path, edition, options=FEW) as ctx:
        results = [run(case, ctx) for case in _cases(edition).values()]
    bad = [f"{r.id}: {r.verdict} {r.detail}" for r in results if r.verdict != Verdict.PASS]
    assert not bad, "\n".join(bad)
    positive = [r for r in results if r.id.endswith("positive_data_acceptance")]
    assert all("requests held" in r.detail for r in positive)


def test_it_drives_a_url_target_over_sigv4(tmp_path):
    cases = [c for c in _cases().values() if c.operation == "UpdateCustomKeyStore"]
    with served_reference() as url, url_context(tmp_path, url, options=FEW) as ctx:
        results = [run(case, ctx) for case in cases]
    assert [r.verdict for r in results] == [Verdict.PASS] * 5, [r.detail for r in results]


def test_validation_skipped_for_unknown_ids_fails_negative_data_rejection(tmp_path):
    case = _cases()["DeleteCustomKeyStore/schemathesis/negative_data_rejection"]
    with reference_context(tmp_path, faults=["notfound-before-validation"], options=FEW) as ctx:
        result = run(case, ctx)
    assert result.verdict == Verdict.FAIL
    assert "CustomKeyStoreNotFoundException" in result.detail
    assert result.request["amz_target"] == "TrentService.DeleteCustomKeyStore"
    # a finding of a generated run reproduces by running the case again (its example is in the steps)
    assert result.reproduce.startswith("kms-conformance run --case DeleteCustomKeyStore/schemathesis/")


class CannedTarget(Target):
    """A target that answers every request the same way (to show each check can fail)."""

    def __init__(self, status: int, body: dict | None, content_type: str = "application/x-amz-json-1.1"):
        self.identity = Identity(name="canned", adapter="endpoint", endpoint="http://127.0.0.1:9")
        self.world = World()
        self.capabilities = Capabilities()
        self.status, self.body, self.content_type = status, body, content_type
        self.requests: list[tuple[str, bytes]] = []

    def call(self, operation, params=None, *, service="kms"):  # pragma: no cover - not used here
        raise AssertionError("the Schemathesis run sends raw wire requests only")

    def send_raw(self, body, *, amz_target, content_type="application/x-amz-json-1.1", headers=None,
                 signing="valid", method="POST", path="/"):
        assert (method, path, content_type, signing) == ("POST", "/", "application/x-amz-json-1.1", "valid")
        self.requests.append((amz_target, body))
        raw = json.dumps(self.body).encode() if self.body is not None else b""
        return Observation.from_http(operation=amz_target.split(".")[-1], status=self.status,
                                     headers={"Content-Type": self.content_type, "x-amzn-RequestId": "r"},
                                     raw=raw, latency_s=0.001)


@pytest.mark.parametrize("status,body,check", [
    (400, {"__type": "ValidationException", "message": "no"}, "positive_data_acceptance"),
    (500, {"__type": "KMSInternalException", "message": "boom"}, "not_a_server_error"),
    (404, {"__type": "CustomKeyStoreNotFoundException"}, "status_code_conformance"),
    (400, {"message": "no __type"}, "response_schema_conformance"),
    (200, {}, "negative_data_rejection"),
])
def test_each_check_can_fail(status, body, check):
    target = CannedTarget(status, body)
    ctx = CaseContext(target=target, edition="current", strictness="code", seed=0, driver=None,
                      model=edition_model("current"), options=FEW)
    result = run(_cases()[f"UpdateCustomKeyStore/schemathesis/{check}"], ctx)
    assert result.verdict == Verdict.FAIL, result.detail
    assert result.detail.startswith(check)
    assert all(t == "TrentService.UpdateCustomKeyStore" for t, _ in target.requests)
