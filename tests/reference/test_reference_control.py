"""The served control surface (`serve --enable-control`) as the endpoint adapter's world-control ability uses it."""

from __future__ import annotations

import json

import pytest

from conformance.abilities import ClusterSnapshot
from conformance.reference.world import LINEAGE_B_CERT
from conformance.targets import open_target, parse_config
from refhelpers import ANCHOR, InProcess, create_params, threaded_server

NEW_CLUSTER = "cluster-addedbycontrol2"


@pytest.fixture
def served_target():
    with threaded_server(control_api=True) as (endpoint, backend):
        target = open_target(parse_config({"target": {"adapter": "endpoint", "endpoint_url": endpoint}}),
                             announce=lambda line: None)
        try:
            yield target, backend
        finally:
            target.close()


def test_add_cluster_over_the_served_surface_makes_a_usable_cluster(served_target):
    target, backend = served_target
    control = target.abilities.need_world_control("adding a cluster")
    hsms = (("us-east-1a", "ACTIVE"), ("us-east-1c", "DEGRADED"))
    control.add_cluster(NEW_CLUSTER, lineage="added", certificate=LINEAGE_B_CERT, hsms=hsms)

    assert control.snapshot(NEW_CLUSTER) == ClusterSnapshot("ACTIVE", hsms)
    added = backend.world.get(NEW_CLUSTER)
    assert (added.lineage, added.certificate) == ("added", LINEAGE_B_CERT)
    assert added.kmsuser_password == backend.world.kmsuser_password
    # Only one active HSM: the store rules see exactly the cluster that was described.
    obs = target.call("CreateCustomKeyStore", create_params(cluster=NEW_CLUSTER, TrustAnchorCertificate=LINEAGE_B_CERT))
    assert obs.error_code == "CloudHsmClusterInvalidConfigurationException"
    control.set_hsms(NEW_CLUSTER, [("us-east-1a", "ACTIVE"), ("us-east-1c", "ACTIVE")])
    obs = target.call("CreateCustomKeyStore", create_params(cluster=NEW_CLUSTER, TrustAnchorCertificate=LINEAGE_B_CERT))
    assert obs.ok, obs.body


def test_add_cluster_replaces_a_known_id_like_the_in_process_control(served_target):
    target, backend = served_target
    control = target.abilities.need_world_control("replacing a cluster")
    active = "cluster-refactivea2b3"
    control.add_cluster(active, lineage="other", certificate=ANCHOR, hsms=[("us-east-1a", "ACTIVE")])
    assert backend.world.get(active).lineage == "other"
    assert control.snapshot(active) == ClusterSnapshot("ACTIVE", (("us-east-1a", "ACTIVE"),))


@pytest.mark.parametrize("params, complaint", [
    ({"Lineage": "x", "Certificate": ANCHOR, "Hsms": []}, "ClusterId"),
    ({"ClusterId": NEW_CLUSTER, "Certificate": ANCHOR, "Hsms": []}, "Lineage"),
    ({"ClusterId": NEW_CLUSTER, "Lineage": "x", "Certificate": "", "Hsms": []}, "Certificate"),
    ({"ClusterId": NEW_CLUSTER, "Lineage": "x", "Certificate": ANCHOR, "Hsms": "two"}, "Hsms"),
    ({"ClusterId": NEW_CLUSTER, "Lineage": "x", "Certificate": ANCHOR, "Hsms": ["us-east-1a"]}, "Hsms"),
])
def test_add_cluster_refuses_incomplete_input_and_adds_nothing(params, complaint):
    ref = InProcess(control_api=True)
    status, _, body = ref.raw(json.dumps(params), target="ReferenceControl.AddCluster")
    assert (status, body["__type"]) == (400, "ReferenceControlException")
    assert complaint in body["message"]
    assert ref.backend.world.get(NEW_CLUSTER) is None


def test_add_cluster_is_not_offered_without_enable_control(ref):
    params = {"ClusterId": NEW_CLUSTER, "Lineage": "x", "Certificate": ANCHOR, "Hsms": []}
    status, _, body = ref.raw(json.dumps(params), target="ReferenceControl.AddCluster")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    assert ref.backend.world.get(NEW_CLUSTER) is None
