"""Generated structural cases: counts, and each value violates exactly the intended constraint."""

import json
import re
from collections import Counter

import pytest

from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.cases import structural
from conformance.cases.base import CaseContext, CollectContext
from conformance.cases.common import UNKNOWN_STORE_ID
from conformance.cases.kernel import run_case
from conformance.cases.structural import sample_matching
from conformance.observation import Observation
from conformance.spec import edition_model, predict_validation, type_mismatches
from conformance.spec.requirements import load_requirements
from conformance.targets.base import Capabilities, Identity, Target
from conformance.world import World


class EchoTarget(Target):
    """Answers every request with the same error and remembers what was sent."""

    def __init__(self):
        self.identity = Identity(name="echo", adapter="test", endpoint="http://127.0.0.1:9")
        self.world = World()
        self.capabilities = Capabilities()
        self.sent = []

    def _answer(self, op):
        return Observation(operation=op, status=400, error_code="Nope", body={"__type": "Nope"}, raw_body='{"__type": "Nope"}')

    def call(self, operation, params=None, *, service="kms"):
        self.sent.append(("boto3", operation, params))
        return self._answer(operation)

    def send_raw(self, body, *, amz_target, **kw):
        self.sent.append(("wire", amz_target, body))
        return self._answer(amz_target)


def _world_clusters():
    from conformance.reference import default_world
    from conformance.world import CLUSTER_ROLES

    world = default_world()
    return {getattr(world, r) for r in CLUSTER_ROLES}


WORLD_CLUSTERS = _world_clusters()


def generated(edition):
    cc = CollectContext(edition=edition, model=edition_model(edition), requirements=load_requirements())
    return cc, structural.collect(cc)


def sent_params(case, edition):
    target = EchoTarget()
    ctx = CaseContext(target=target, edition=edition, strictness="exact", seed=0, driver=None, model=edition_model(edition))
    result = run_case(case, ctx)
    # the echo answer is wrong for every case (a SHOULD rule differs only NON_STRICT)
    assert str(result.verdict) in ("FAIL", "NON_STRICT"), (case.id, result.detail)
    via, _, payload = target.sent[0]
    params = payload if via == "boto3" else json.loads(payload)
    return params, result


@pytest.mark.parametrize("edition", ["current", "2019-12"])
def test_every_operation_and_member_is_covered(edition):
    cc, cases = generated(edition)
    ops = Counter(c.operation for c in cases)
    assert set(ops) == set(CUSTOM_KEY_STORE_OPERATIONS)
    ids = {c.id for c in cases}
    assert len(ids) == len(cases)
    for op in CUSTOM_KEY_STORE_OPERATIONS:
        for m in structural.input_members(cc.model, op):
            assert any(i.startswith(f"{op}/structural/{m.path}/") for i in ids), (op, m.path)
            if m.required:
                assert f"{op}/structural/{m.path}/required-missing" in ids
                assert f"{op}/structural/{m.path}/required-null" in ids
        assert f"{op}/structural/empty-object" in ids
    for c in cases:
        assert c.kind in ("structural", "combination") and c.requirements, c.id


def test_bounds_per_edition():
    _, current = generated("current")
    _, old = generated("2019-12")
    cur = {c.id for c in current}
    prefix = "UpdateCustomKeyStore/structural/KeyStorePassword/"
    for label in ("length-below-min", "length-min", "length-min-plus-1", "length-max-minus-1", "length-max", "length-above-max"):
        assert prefix + label in cur
    oldids = {c.id for c in old}
    assert {i for i in oldids if i.startswith(prefix + "length")} == {prefix + "length-below-min", prefix + "length-min", prefix + "length-min-plus-1"}
    # XKS members only exist in the current edition
    assert any("XksProxyUriEndpoint" in i for i in cur) and not any("Xks" in i for i in oldids)
    # Describe Limit value bounds
    for label in ("value-below-min", "value-min", "value-max", "value-above-max"):
        assert f"DescribeCustomKeyStores/structural/Limit/{label}" in cur


INVALID = {
    "length-below-min": "min_length",
    "length-above-max": "max_length",
    "value-below-min": "min_value",
    "value-above-max": "max_value",
    "pattern-violation": "pattern",
    "enum-violation": "enum",
    "enum-wrong-case": "enum",
    "required-missing": "required",
    "required-null": "required",
}


def _lower_path(path):
    return ".".join(p[:1].lower() + p[1:] for p in path.split("."))


@pytest.mark.parametrize("edition", ["current", "2019-12"])
def test_each_value_violates_exactly_the_intended_constraint(edition):
    cc, cases = generated(edition)
    checked = Counter()
    for case in cases:
        if case.kind == "combination":  # breaks a rule between members: tests/cases/test_generated_values.py
            continue
        op, _, rest = case.id.split("/", 2)
        params, result = sent_params(case, edition)
        # never a real store or cluster: one condition in play
        if op == "CreateCustomKeyStore":
            cluster = params.get("CloudHsmClusterId")
            assert not (isinstance(cluster, str) and cluster in WORLD_CLUSTERS) and "CustomKeyStoreId" not in params
        elif "CustomKeyStoreId" in params and isinstance(params["CustomKeyStoreId"], str) and "CustomKeyStoreId/" not in rest:
            assert params["CustomKeyStoreId"] == UNKNOWN_STORE_ID
        label = rest.rsplit("/", 1)[-1]
        path = rest.rsplit("/", 1)[0]
        pred = predict_validation(op, params, model=cc.model, edition=edition)
        if label in INVALID:
            assert pred is not None, case.id
            intended = [v for v in pred.violations if v.constraint == INVALID[label] and v.path == _lower_path(path)]
            assert intended, (case.id, pred.message)
            others = [v for v in pred.violations if v not in intended]
            for v in others:  # only a pattern the length makes impossible to match
                shape = next(m.shape for m in structural.input_members(cc.model, op) if m.path == path)
                value = params
                for p in path.split("."):
                    value = value[p]
                assert v.constraint == "pattern" and sample_matching(shape.pattern, len(value)) is None, (case.id, pred.message)
            assert result.expected["error_code"] == "ValidationException"
            assert result.expected["message"] == pred.message
            checked["invalid"] += 1
        elif label.startswith("type-"):
            assert type_mismatches(op, params, model=cc.model, edition=edition), case.id
            assert result.expected["error_code"] == "SerializationException"
            checked["type"] += 1
        elif label == "empty-object":
            assert params == {}
        elif label == "required-for-external-key-store":  # the model leaves it optional; the store type needs it
            assert pred is None and params["CustomKeyStoreType"] == "EXTERNAL_KEY_STORE", case.id
            assert path not in params or params.get("XksProxyConnectivity") == "VPC_ENDPOINT_SERVICE", case.id
            assert result.expected["error_code"] == "ValidationException"
            checked["xks-required"] += 1
        elif params.get("CustomKeyStoreType") == "EXTERNAL_KEY_STORE":  # valid on a proxy no one serves
            assert pred is None, (case.id, pred and pred.message)
            assert params["XksProxyUriEndpoint"].endswith(".invalid") or "XksProxyUriEndpoint/" in rest, case.id
            assert "CloudHsmClusterId" not in params and "XksProxyVpcEndpointServiceName" not in params, case.id
            assert result.expected["error_code"] == "XksProxyUriUnreachableException", case.id
            checked["xks-valid"] += 1
        else:  # valid boundary values, enum values, unknown member: get past validation
            assert pred is None, (case.id, pred and pred.message)
            assert result.expected["error_code"] in ("CustomKeyStoreNotFoundException", "CloudHsmClusterNotFoundException"), case.id
            checked["valid"] += 1
    assert checked["invalid"] > 30 and checked["valid"] > 20 and checked["type"] > 40
    if edition == "current":  # every XKS member's valid bounds on Create, and each member the store type needs
        assert checked["xks-valid"] >= 17 and checked["xks-required"] == 5, checked


def test_boundary_values_use_the_right_alphabet():
    cc, cases = generated("current")
    byid = {c.id: c for c in cases}
    params, _ = sent_params(byid["UpdateCustomKeyStore/structural/CloudHsmClusterId/length-min"], "current")
    assert re.fullmatch(r"cluster-[2-7a-zA-Z]{11}", params["CloudHsmClusterId"])
    params, _ = sent_params(byid["UpdateCustomKeyStore/structural/CloudHsmClusterId/length-below-min"], "current")
    assert params["CloudHsmClusterId"].startswith("cluster-") and len(params["CloudHsmClusterId"]) == 18
    params, _ = sent_params(byid["UpdateCustomKeyStore/structural/CloudHsmClusterId/pattern-violation"], "current")
    assert 19 <= len(params["CloudHsmClusterId"]) <= 24
    # a valid boundary that no pattern-matching value has is not generated (UriPath min 10 < shortest match 11)
    assert "UpdateCustomKeyStore/structural/XksProxyUriPath/length-min" not in byid
    assert "UpdateCustomKeyStore/structural/XksProxyUriPath/length-below-min" in byid


@pytest.mark.parametrize(
    "pattern,length,ok",
    [
        ("cluster-[2-7a-zA-Z]{11,16}", 19, True),
        ("cluster-[2-7a-zA-Z]{11,16}", 24, True),
        ("cluster-[2-7a-zA-Z]{11,16}", 25, False),
        (r"^https://[a-zA-Z0-9.-]+$", 128, True),
        (r"^(/[a-zA-Z0-9\/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$", 10, False),
        (r"^(/[a-zA-Z0-9\/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$", 128, True),
        ("[\u0020-\u00FF]*", 1024, True),
        ("[0-9]{12}", 12, True),
        ("[0-9]{12}", 11, False),
    ],
)
def test_sample_matching(pattern, length, ok):
    value = sample_matching(pattern, length)
    if ok:
        assert value is not None and len(value) == length and re.fullmatch(pattern, value)
    else:
        assert value is None
