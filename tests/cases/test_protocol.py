"""Protocol and auth cases: what they send, and that the reference passes them and faults fail them."""

import json

import pytest

from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.cases import auth, protocol
from conformance.cases.base import CollectContext
from conformance.runner import RunOptions, run_suite
from conformance.spec import edition_model
from conformance.spec.requirements import load_requirements

MODULES = ("conformance.cases.protocol", "conformance.cases.auth")


def cases(module, edition="current"):
    cc = CollectContext(edition=edition, model=edition_model(edition), requirements=load_requirements())
    return {c.id: c for c in module.collect(cc)}


def sent_by(case):
    from conformance.cases.base import CaseContext
    from conformance.cases.kernel import Recorder
    from conformance.observation import Observation
    from conformance.targets.base import Capabilities, Identity, Target
    from conformance.world import World

    class T(Target):
        identity = Identity(name="t", adapter="test")
        world = World()
        capabilities = Capabilities()

        def __init__(self):
            self.sent = []

        def call(self, operation, params=None, *, service="kms"):
            self.sent.append({"operation": operation, "params": params})
            return Observation(status=200, body={}, raw_body="{}")

        def send_raw(self, body, **kw):
            self.sent.append({"body": body, **kw})
            return Observation(status=200, body={}, raw_body="{}")

    t = T()
    case.run(Recorder(CaseContext(target=t, edition="current", strictness="code", seed=0, driver=None, model=None), case))
    return t.sent[0]


def test_wire_variants_are_sent_as_described():
    p = cases(protocol)
    assert sent_by(p["DescribeCustomKeyStores/protocol/target-missing"])["amz_target"] is None
    assert sent_by(p["DescribeCustomKeyStores/protocol/target-wrong-prefix"])["amz_target"] == "KmsService.DescribeCustomKeyStores"
    assert sent_by(p["DescribeCustomKeyStores/protocol/get-instead-of-post"])["method"] == "GET"
    assert sent_by(p["DescribeCustomKeyStores/protocol/content-type-missing"])["content_type"] is None
    for op in CUSTOM_KEY_STORE_OPERATIONS:
        assert sent_by(p[f"{op}/protocol/empty-body"])["body"] == ""
        body = sent_by(p[f"{op}/protocol/malformed-json"])["body"]
        with pytest.raises(ValueError):
            json.loads(body)
    a = cases(auth)
    modes = {cid.rsplit("/", 1)[1]: sent_by(c)["signing"] for cid, c in a.items() if cid.startswith("Describe")}
    assert modes == {"unsigned": "none", "malformed-signature": "malformed", "wrong-secret": "wrong-secret",
                     "unknown-access-key": "unknown-key", "expired-signature": "expired"}


def test_every_case_cites_requirements():
    for module in (protocol, auth):
        for edition in ("current", "2019-12"):
            for case in cases(module, edition).values():
                assert case.requirements, case.id


@pytest.mark.parametrize("strictness", ["code", "exact"])
def test_reference_passes_protocol_and_auth_cases(tmp_path, monkeypatch, strictness):
    monkeypatch.chdir(tmp_path)
    outcome = run_suite(RunOptions(report_dir=str(tmp_path / "r"), keyword="protocol or auth", strictness=strictness,
                                   modules=MODULES, progress=False))
    assert outcome.exit_code == 0
    results = outcome.results["cases"]
    assert len(results) > 60
    for c in results:
        # A NON_STRICT is only allowed where the rule is a SHOULD (the reference's own reading of an [INFER] rule).
        assert c["verdict"] == "PASS" or (c["verdict"] == "NON_STRICT" and c["expected"]["level"] == "SHOULD"), (c["id"], c["detail"])


@pytest.mark.parametrize(
    "fault,case_id",
    [
        ("signature-not-checked", "DescribeCustomKeyStores/auth/wrong-secret"),
        ("missing-request-id", "DescribeCustomKeyStores/protocol/post-root-success"),
        ("json-content-type", "DescribeCustomKeyStores/protocol/error-envelope"),
        ("notfound-404", "DescribeCustomKeyStores/protocol/error-envelope"),
    ],
)
def test_seeded_faults_fail_named_cases(tmp_path, monkeypatch, fault, case_id):
    monkeypatch.chdir(tmp_path)
    outcome = run_suite(RunOptions(report_dir=str(tmp_path / "f"), keyword=case_id, faults=(fault,), modules=MODULES, progress=False))
    (result,) = [c for c in outcome.results["cases"] if c["id"] == case_id]
    assert result["verdict"] == "FAIL", result["detail"]
    assert outcome.exit_code == 1
