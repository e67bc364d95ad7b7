"""Every seeded fault changes the target's behaviour (a quick check each, over HTTP), and cites real requirement ids."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from conformance.reference import FAULTS
from conformance.reference.world import LINEAGE_B_CERT, Cluster
from refhelpers import ANCHOR, ROLES, InProcess, create_params, xks_params, xks_proxy

UNRELATED = {"cluster": ROLES["unrelated_cluster_id"], "TrustAnchorCertificate": LINEAGE_B_CERT}


def answer(ref, op, params):
    """A signed AWS JSON 1.1 request through the whole app (wire-level faults included): (status, body)."""
    status, _, body = ref.raw(json.dumps(params), target=f"TrentService.{op}")
    return status, body


def call(ref, op, params):
    status, body = answer(ref, op, params)
    return status, body.get("__type")


def new_store(ref, name="s", **kw):
    status, body = answer(ref, "CreateCustomKeyStore", create_params(name, **kw))
    assert status == 200, body
    return body["CustomKeyStoreId"]


def connected(ref, **kw):
    sid = new_store(ref, **kw)
    assert call(ref, "ConnectCustomKeyStore", {"CustomKeyStoreId": sid})[0] == 200
    return sid


def entry(ref, sid):
    return answer(ref, "DescribeCustomKeyStores", {"CustomKeyStoreId": sid})[1]["CustomKeyStores"][0]


def failed_store(ref):
    sid = new_store(ref, KeyStorePassword="not-the-password")
    call(ref, "ConnectCustomKeyStore", {"CustomKeyStoreId": sid})
    return sid


def eleven_stores(ref):
    for i in range(11):
        cid = f"cluster-faultlimit{'abcdefghijk'[i]}"
        ref.backend.world.add_cluster(Cluster(cluster_id=cid, lineage=f"F{i}", certificate=ANCHOR))
        ref.backend.world.set_hsms(cid, [("us-east-1a", "ACTIVE"), ("us-east-1b", "ACTIVE")])
        last = call(ref, "CreateCustomKeyStore", create_params(f"s{i}", cluster=cid))
    return last


def store_with_key(ref):
    sid = connected(ref)
    assert call(ref, "CreateKey", {"Origin": "AWS_CLOUDHSM", "CustomKeyStoreId": sid})[0] == 200
    call(ref, "DisconnectCustomKeyStore", {"CustomKeyStoreId": sid})
    return call(ref, "DeleteCustomKeyStore", {"CustomKeyStoreId": sid})


def not_atomic(ref):
    sid = new_store(ref)
    call(ref, "UpdateCustomKeyStore", {"CustomKeyStoreId": sid, "NewCustomKeyStoreName": "moved",
                                       "CloudHsmClusterId": ROLES["unrelated_cluster_id"]})
    return entry(ref, sid)["CustomKeyStoreName"]


def validation_message(ref, params):
    return answer(ref, "UpdateCustomKeyStore", params)[1].get("message")


def expired(ref):
    return ref.raw("{}", when=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(minutes=10))[0]


def xks_store(ref, name="x", **kw):
    status, body = answer(ref, "CreateCustomKeyStore", xks_params(name, **kw))
    assert status == 200, body
    return body["CustomKeyStoreId"]


def xks_connected(ref, **kw):
    sid = xks_store(ref, **kw)
    assert call(ref, "ConnectCustomKeyStore", {"CustomKeyStoreId": sid})[0] == 200
    return sid


def xks_key(ref, sid, role="usable"):
    return call(ref, "CreateKey", {"Origin": "EXTERNAL_KEY_STORE", "CustomKeyStoreId": sid,
                                   "XksKeyId": xks_proxy().world.keys[role]})


def xks_failed_connect(ref):
    """A VPC store (no proxy call on Create) on the wrong-credential path: how its connect ends."""
    sid = xks_connected(ref, vpc="main", path=xks_proxy().world.faulty_paths["wrong_credential"])
    e = entry(ref, sid)
    return e["ConnectionState"], e.get("ConnectionErrorCode")


XKS_CHECKS = {
    "xks-endpoint-change-while-connected": lambda r: call(r, "UpdateCustomKeyStore", {
        "CustomKeyStoreId": xks_connected(r), "XksProxyUriEndpoint": xks_proxy().world.second_uri_endpoint}),
    "xks-credential-part-alone": lambda r: call(r, "UpdateCustomKeyStore", {
        "CustomKeyStoreId": xks_store(r), "XksProxyAuthenticationCredential": {"AccessKeyId": "XKSOTHERACCESSKEY234"}}),
    "xks-secret-in-describe": lambda r: sorted(entry(r, xks_store(r))["XksProxyConfiguration"]),
    "xks-uri-not-unique": lambda r: (xks_store(r, "a"), call(r, "CreateCustomKeyStore", xks_params("b")))[1],
    "xks-vpc-service-not-unique": lambda r: (xks_store(r, "a", vpc="main"), call(r, "CreateCustomKeyStore", xks_params(
        "b", vpc="main", XksProxyUriEndpoint=xks_proxy().world.vpc_endpoint_services["second"].uri_endpoint)))[1],
    "xks-auth-failure-misreported": lambda r: call(r, "CreateCustomKeyStore", xks_params(
        path=xks_proxy().world.faulty_paths["wrong_credential"])),
    "xks-connect-ignores-proxy": xks_failed_connect,
    "xks-connect-error-code-generic": xks_failed_connect,
    "xks-create-skips-health-check": lambda r: call(r, "CreateCustomKeyStore", xks_params(
        path=xks_proxy().world.faulty_paths["unknown_path"])),
    "xks-key-reuse-allowed": lambda r: (lambda sid: (xks_key(r, sid), xks_key(r, sid))[1])(xks_connected(r)),
    "xks-key-not-checked": lambda r: xks_key(r, xks_connected(r), "disabled"),
}

CHECKS = {
    **XKS_CHECKS,
    "update-skips-state-check": lambda r: call(r, "UpdateCustomKeyStore", {"CustomKeyStoreId": connected(r), "KeyStorePassword": "new-password"}),
    "update-name-connected-rejected": lambda r: call(r, "UpdateCustomKeyStore", {"CustomKeyStoreId": connected(r), "NewCustomKeyStoreName": "n"}),
    "update-password-while-connected": lambda r: call(r, "UpdateCustomKeyStore", {"CustomKeyStoreId": connected(r), "KeyStorePassword": "new-password"}),
    "connect-failed-allowed": lambda r: call(r, "ConnectCustomKeyStore", {"CustomKeyStoreId": failed_store(r)}),
    "disconnect-idempotent": lambda r: call(r, "DisconnectCustomKeyStore", {"CustomKeyStoreId": new_store(r)}),
    "delete-connected-allowed": lambda r: call(r, "DeleteCustomKeyStore", {"CustomKeyStoreId": connected(r)}),
    "createkey-disconnected-allowed": lambda r: call(r, "CreateKey", {"Origin": "AWS_CLOUDHSM", "CustomKeyStoreId": new_store(r)}),
    "wrong-password-connects": lambda r: entry(r, failed_store(r))["ConnectionState"],
    "stale-connection-error-code": lambda r: (lambda sid: (call(r, "DisconnectCustomKeyStore", {"CustomKeyStoreId": sid}),
                                                           entry(r, sid).get("ConnectionErrorCode")))(failed_store(r)),
    "create-name-not-unique": lambda r: (new_store(r, "same"), call(r, "CreateCustomKeyStore", create_params("same", **UNRELATED)))[1],
    "update-name-not-unique": lambda r: (new_store(r, "a"), call(r, "UpdateCustomKeyStore", {
        "CustomKeyStoreId": new_store(r, "b", **UNRELATED), "NewCustomKeyStoreName": "a"}))[1],
    "limit-not-enforced": eleven_stores,
    "cluster-in-use-not-checked": lambda r: (new_store(r, "a"), call(r, "CreateCustomKeyStore", create_params("b")))[1],
    "unrelated-cluster-accepted": lambda r: call(r, "UpdateCustomKeyStore", {"CustomKeyStoreId": new_store(r), "CloudHsmClusterId": ROLES["unrelated_cluster_id"]}),
    "inactive-cluster-accepted": lambda r: call(r, "CreateCustomKeyStore", create_params(cluster=ROLES["inactive_cluster_id"])),
    "invalid-config-cluster-accepted": lambda r: call(r, "CreateCustomKeyStore", create_params(cluster=ROLES["invalid_config_cluster_id"])),
    "trust-anchor-not-checked": lambda r: call(r, "CreateCustomKeyStore", create_params(TrustAnchorCertificate=LINEAGE_B_CERT)),
    "delete-ignores-keys": store_with_key,
    "update-not-atomic": not_atomic,
    "update-not-applied": lambda r: (lambda sid: (call(r, "UpdateCustomKeyStore", {"CustomKeyStoreId": sid, "NewCustomKeyStoreName": "n2"}),
                                                  entry(r, sid)["CustomKeyStoreName"]))(new_store(r)),
    "password-echoed": lambda r: sorted(entry(r, new_store(r))),
    "describe-unknown-empty-list": lambda r: call(r, "DescribeCustomKeyStores", {"CustomKeyStoreId": "cks-00000000000000000"}),
    "invalid-marker-ignored": lambda r: call(r, "DescribeCustomKeyStores", {"Marker": "bogus"}),
    "password-max-off-by-one": lambda r: call(r, "UpdateCustomKeyStore", {"CustomKeyStoreId": new_store(r), "KeyStorePassword": "p" * 33}),
    "cluster-id-pattern-ignored": lambda r: call(r, "UpdateCustomKeyStore", {"CustomKeyStoreId": new_store(r), "CloudHsmClusterId": "cluster-11111111111"}),
    "store-name-min-zero": lambda r: call(r, "CreateCustomKeyStore", create_params("")),
    "notfound-before-validation": lambda r: call(r, "UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-00000000000000000", "KeyStorePassword": "x"}),
    "serialization-as-validation": lambda r: call(r, "DescribeCustomKeyStores", {"Limit": "2"}),
    "wrong-type-coerced": lambda r: call(r, "DescribeCustomKeyStores", {"Limit": "2"}),
    "validation-message-pascalcase": lambda r: validation_message(r, {"CustomKeyStoreId": ""}),
    "password-in-validation-message": lambda r: validation_message(r, {"CustomKeyStoreId": "cks-1", "KeyStorePassword": "leak"}),
    "notfound-404": lambda r: call(r, "DeleteCustomKeyStore", {"CustomKeyStoreId": "cks-00000000000000000"}),
    "invalid-state-409": lambda r: call(r, "DeleteCustomKeyStore", {"CustomKeyStoreId": connected(r)}),
    "wrong-error-code-invalid-state": lambda r: call(r, "DeleteCustomKeyStore", {"CustomKeyStoreId": connected(r)}),
    "unknown-operation-500": lambda r: ref_raw_status(r, target="TrentService.Nope"),
    "missing-request-id": lambda r: "x-amzn-RequestId" in r.raw("{}")[1],
    "json-content-type": lambda r: r.raw("{}")[1]["Content-Type"],
    "signature-not-checked": lambda r: r.raw("{}", sign="wrong-secret")[0],
    "expired-signature-accepted": expired,
    "validation-echoes-whole-value": lambda r: len(answer(r, "DescribeCustomKeyStores", {"CustomKeyStoreName": "n" * 20_000})[1]["message"]) > 20_000,
    "deep-json-internal-error": lambda r: ref_raw_status(r, body='{"CustomKeyStoreId": ' + "[" * 5000 + "]" * 5000 + "}"),
    "http-errors-as-html": lambda r: r.raw(json.dumps({"CustomKeyStoreName": "n" * 300_000}))[1]["Content-Type"],
}


def ref_raw_status(ref, body="{}", **kw):
    return ref.raw(body, **kw)[0]


def test_every_fault_has_a_check_and_there_are_enough():
    assert set(CHECKS) == set(FAULTS)
    assert len(FAULTS) >= 20


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_changes_behaviour(name):
    clean = CHECKS[name](InProcess())
    faulty = CHECKS[name](InProcess(faults=(name,)))
    assert faulty != clean, f"{name}: same observable result {clean!r} with and without the fault"


def test_fault_does_not_change_the_suites_model():
    from conformance.spec import edition_model

    before = edition_model("current").shapes["KeyStorePasswordType"].max_length
    InProcess(faults=("password-max-off-by-one", "cluster-id-pattern-ignored"))
    assert edition_model("current").shapes["KeyStorePasswordType"].max_length == before
    assert edition_model("current").shapes["CloudHsmClusterIdType"].pattern


def test_faults_cite_known_requirement_ids():
    path = Path(__file__).resolve().parents[2] / "specs" / "requirements.yaml"
    data = yaml.safe_load(path.read_text())
    items = data["requirements"] if isinstance(data, dict) else data
    known = {r["id"] for r in items}
    for fault in FAULTS.values():
        assert fault.breaks, fault.name
        assert set(fault.breaks) <= known, (fault.name, set(fault.breaks) - known)


def test_unknown_fault_is_refused():
    with pytest.raises(ValueError, match="unknown fault"):
        InProcess(faults=("no-such-fault",))


def test_fault_names_appear_only_in_the_faults_module():
    """The emulator reads as the contract: no rule, wire code or CLI branches on a fault's name."""
    import conformance

    package = Path(conformance.__file__).resolve().parent
    faults_module = package / "reference" / "faults.py"
    sources = {path: path.read_text() for path in package.rglob("*.py") if path != faults_module}
    assert len(sources) > 50  # really scanning the package
    found = {(name, str(path.relative_to(package))) for name in FAULTS for path, text in sources.items() if name in text}
    assert found == set()
    assert all(name in faults_module.read_text() for name in FAULTS)


def test_every_fault_override_replaces_a_hook_of_the_clean_emulator():
    """A renamed hook must not leave a fault's override silently unused."""
    from conformance.reference import ReferenceApp, ReferenceBackend

    for fault in FAULTS.values():
        base = ReferenceApp if fault.layer == "http" else ReferenceBackend
        own = [n for n, v in vars(fault.hooks).items() if callable(v) and not n.startswith("__")]
        assert own, fault.name
        for method in own:
            assert callable(getattr(base, method, None)), (fault.name, f"{base.__name__}.{method} does not exist")


def test_backend_without_http_applies_the_rule_faults_only():
    """`make_backend(config).handle` is the behaviour without HTTP: rule faults yes, wire faults no."""
    from conformance.reference import ReferenceConfig, make_backend

    unknown = {"CustomKeyStoreId": "cks-00000000000000000"}
    clean = make_backend(ReferenceConfig()).handle("kms", "DescribeCustomKeyStores", unknown)
    assert clean == (400, {"__type": "CustomKeyStoreNotFoundException"})
    rule_fault = make_backend(ReferenceConfig(faults=("describe-unknown-empty-list",)))
    assert rule_fault.handle("kms", "DescribeCustomKeyStores", unknown)[0] == 200
    wire_fault = make_backend(ReferenceConfig(faults=("notfound-404",)))
    assert wire_fault.handle("kms", "DescribeCustomKeyStores", unknown) == clean


def test_two_faults_on_one_hook_compose():
    headers = InProcess(faults=("json-content-type", "missing-request-id")).raw("{}")[1]
    assert headers["Content-Type"] == "application/json" and "x-amzn-RequestId" not in headers


# ------------------------------------------------------------------------------------------------
# Blame: with one seeded fault, the requirements the suite shows failing are those the fault breaks.
# ------------------------------------------------------------------------------------------------

# The suite's cases of every module but the property and Schemathesis runs (their blame, the broken member's
# requirement and the Schemathesis check's, has tests of its own in tests/cases), and but the combination cases
# (whose blame of an allowed alternative answered with a wrong status is not yet precise), with a short stateful run:
# each fault run over the cases that can observe it (`adequacy.observing_cases`): about 2 s of CPU per fault.
# The adequacy engine (`kms-conformance adequacy`) runs and judges each fault, so this test is CI's proof of
# adequacy: every seeded fault is detected, and blamed precisely.
BLAME_MODULES = tuple(f"conformance.cases.{m}" for m in ("structural", "protocol", "auth", "scenarios", "stateful"))
BLAME_RUN_OPTIONS = {"stateful_examples": 3, "stateful_steps": 8, "stateful_budget_s": 4.0,
                     "stateful_shrink_budget_s": 2.0}


@pytest.fixture(scope="module")
def adequacy_plan(tmp_path_factory):
    """The current edition's cases of BLAME_MODULES, collected once for all faults."""
    from conformance.runner import adequacy
    from conformance.runner.options import RunOptions

    options = RunOptions(edition="current", modules=BLAME_MODULES, keyword="not combination",
                         extra=dict(BLAME_RUN_OPTIONS))
    return adequacy.prepare(options, tmp_path_factory.mktemp("adequacy"))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_is_detected_and_blames_only_the_requirements_it_breaks(name, adequacy_plan):
    """The acceptance test of adequacy and blame: the fault is detected (some requirement is shown FAIL or
    NON_STRICT), and every requirement shown failing is one the fault declares it breaks (a check citing it failed)."""
    from conformance.runner import adequacy

    # narrow: only the cases that can observe the fault (its breaks' operations and citers, protocol/auth for
    # cross-cutting breaks): the other operations' cases pass either way, and running them all cost ~800 s of CPU.
    out = adequacy.check_fault(adequacy_plan, name, narrow=True)
    assert out.applies and out.problem is None, out
    assert not out.beyond, f"{name} (breaks {sorted(out.breaks)}) shows other requirements failing: {out.beyond}"
    assert out.detected, f"{name}: no requirement shown failing: the fault went undetected"
    assert set(out.shown) <= set(out.breaks) and out.cases
