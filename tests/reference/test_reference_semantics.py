"""The six operations' semantics through boto3 against the in-process reference target."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from conformance.reference import manual_clock
from refhelpers import ANCHOR, PASSWORD, ROLES, InProcess, create_params, error_code
from conformance.reference.world import LINEAGE_B_CERT


def describe(kms, sid):
    return kms.describe_custom_key_stores(CustomKeyStoreId=sid)["CustomKeyStores"][0]


def test_full_lifecycle(edition):
    ref = InProcess(edition=edition)
    kms = ref.client()
    sid = kms.create_custom_key_store(**create_params("life"))["CustomKeyStoreId"]
    assert re.fullmatch(r"cks-[0-9a-f]{17}", sid)
    entry = describe(kms, sid)
    assert entry["ConnectionState"] == "DISCONNECTED"
    assert entry["CloudHsmClusterId"] == ROLES["active_cluster_id"]
    assert entry["TrustAnchorCertificate"] == ANCHOR
    assert "KeyStorePassword" not in entry and "ConnectionErrorCode" not in entry
    assert ("CustomKeyStoreType" in entry) == (edition == "current")
    kms.connect_custom_key_store(CustomKeyStoreId=sid)
    assert describe(kms, sid)["ConnectionState"] == "CONNECTED"
    kms.disconnect_custom_key_store(CustomKeyStoreId=sid)
    assert describe(kms, sid)["ConnectionState"] == "DISCONNECTED"
    resp = kms.update_custom_key_store(CustomKeyStoreId=sid, NewCustomKeyStoreName="renamed",
                                       KeyStorePassword="another-pass", CloudHsmClusterId=ROLES["related_cluster_id"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    entry = describe(kms, sid)
    assert entry["CustomKeyStoreName"] == "renamed"
    assert entry["CloudHsmClusterId"] == ROLES["related_cluster_id"]
    assert "another-pass" not in str(kms.describe_custom_key_stores())
    kms.delete_custom_key_store(CustomKeyStoreId=sid)
    assert kms.describe_custom_key_stores()["CustomKeyStores"] == []
    with pytest.raises(ClientError) as e:
        describe(kms, sid)
    assert error_code(e) == "CustomKeyStoreNotFoundException"


def test_connect_and_disconnect_take_time_on_the_clock():
    clock = manual_clock()
    ref = InProcess(connect_delay_s=5, disconnect_delay_s=3, clock=clock)
    kms = ref.client()
    sid = kms.create_custom_key_store(**create_params())["CustomKeyStoreId"]
    kms.connect_custom_key_store(CustomKeyStoreId=sid)
    assert describe(kms, sid)["ConnectionState"] == "CONNECTING"
    kms.connect_custom_key_store(CustomKeyStoreId=sid)  # no-op while CONNECTING
    clock.advance(4.9)
    assert describe(kms, sid)["ConnectionState"] == "CONNECTING"
    clock.advance(0.2)
    assert describe(kms, sid)["ConnectionState"] == "CONNECTED"
    kms.connect_custom_key_store(CustomKeyStoreId=sid)  # no-op while CONNECTED
    kms.disconnect_custom_key_store(CustomKeyStoreId=sid)
    assert describe(kms, sid)["ConnectionState"] == "DISCONNECTING"
    for op in (kms.connect_custom_key_store, kms.disconnect_custom_key_store, kms.delete_custom_key_store):
        with pytest.raises(ClientError) as e:
            op(CustomKeyStoreId=sid)
        assert error_code(e) == "CustomKeyStoreInvalidStateException"
    clock.advance(3)
    assert describe(kms, sid)["ConnectionState"] == "DISCONNECTED"


def test_wrong_password_fails_and_repair_workflow(ref):
    kms = ref.client()
    sid = kms.create_custom_key_store(**create_params(KeyStorePassword="wrong-password"))["CustomKeyStoreId"]
    kms.connect_custom_key_store(CustomKeyStoreId=sid)
    entry = describe(kms, sid)
    assert (entry["ConnectionState"], entry["ConnectionErrorCode"]) == ("FAILED", "INVALID_CREDENTIALS")
    for op, kw in [(kms.connect_custom_key_store, {}), (kms.update_custom_key_store, {"KeyStorePassword": PASSWORD}),
                   (kms.update_custom_key_store, {"NewCustomKeyStoreName": "x"})]:
        with pytest.raises(ClientError) as e:
            op(CustomKeyStoreId=sid, **kw)
        assert error_code(e) == "CustomKeyStoreInvalidStateException"
    kms.disconnect_custom_key_store(CustomKeyStoreId=sid)
    assert "ConnectionErrorCode" not in describe(kms, sid)
    kms.update_custom_key_store(CustomKeyStoreId=sid, KeyStorePassword=PASSWORD)
    kms.connect_custom_key_store(CustomKeyStoreId=sid)
    assert describe(kms, sid)["ConnectionState"] == "CONNECTED"
    # Updating the stored password never changes the cluster's kmsuser password.
    assert ref.backend.world.get(ROLES["active_cluster_id"]).kmsuser_password == PASSWORD


def test_connect_outcomes_from_the_world(ref):
    kms = ref.client()
    world = ref.backend.world
    sid = kms.create_custom_key_store(**create_params())["CustomKeyStoreId"]
    world.set_cluster_state(ROLES["active_cluster_id"], "DEGRADED")
    with pytest.raises(ClientError) as e:
        kms.connect_custom_key_store(CustomKeyStoreId=sid)
    assert error_code(e) == "CloudHsmClusterNotActiveException"
    assert describe(kms, sid)["ConnectionState"] == "DISCONNECTED"
    world.set_cluster_state(ROLES["active_cluster_id"], "ACTIVE")
    world.set_hsms(ROLES["active_cluster_id"], [("us-east-1a", "DEGRADED")])
    with pytest.raises(ClientError) as e:
        kms.connect_custom_key_store(CustomKeyStoreId=sid)
    assert error_code(e) == "CloudHsmClusterInvalidConfigurationException"
    assert describe(kms, sid)["ConnectionState"] == "DISCONNECTED"
    world.remove_cluster(ROLES["active_cluster_id"])
    kms.connect_custom_key_store(CustomKeyStoreId=sid)
    entry = describe(kms, sid)
    assert (entry["ConnectionState"], entry["ConnectionErrorCode"]) == ("FAILED", "CLUSTER_NOT_FOUND")
    # repair: disconnect, move to a related cluster, connect
    kms.disconnect_custom_key_store(CustomKeyStoreId=sid)
    kms.update_custom_key_store(CustomKeyStoreId=sid, CloudHsmClusterId=ROLES["related_cluster_id"])
    kms.connect_custom_key_store(CustomKeyStoreId=sid)
    assert describe(kms, sid)["ConnectionState"] == "CONNECTED"


def test_hsms_lost_while_connecting_fail_with_insufficient_hsms():
    clock = manual_clock()
    ref = InProcess(connect_delay_s=10, clock=clock)
    kms = ref.client()
    sid = kms.create_custom_key_store(**create_params())["CustomKeyStoreId"]
    kms.connect_custom_key_store(CustomKeyStoreId=sid)
    ref.backend.world.set_hsms(ROLES["active_cluster_id"], [])
    clock.advance(10)
    entry = describe(kms, sid)
    assert (entry["ConnectionState"], entry["ConnectionErrorCode"]) == ("FAILED", "INSUFFICIENT_CLOUDHSM_HSMS")


@pytest.mark.parametrize("overrides, code", [
    ({"CloudHsmClusterId": "cluster-doesnotexist2"}, "CloudHsmClusterNotFoundException"),
    ({"CloudHsmClusterId": ROLES["inactive_cluster_id"]}, "CloudHsmClusterNotActiveException"),
    ({"CloudHsmClusterId": ROLES["invalid_config_cluster_id"]}, "CloudHsmClusterInvalidConfigurationException"),
    ({"TrustAnchorCertificate": LINEAGE_B_CERT}, "IncorrectTrustAnchorException"),
])
def test_create_cluster_errors(ref, edition, overrides, code):
    ref = InProcess(edition=edition)
    kms = ref.client()
    with pytest.raises(ClientError) as e:
        kms.create_custom_key_store(**create_params(**overrides))
    assert error_code(e) == code
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert kms.describe_custom_key_stores()["CustomKeyStores"] == []


def test_create_uniqueness_and_cluster_in_use(ref):
    kms = ref.client()
    kms.create_custom_key_store(**create_params("one"))
    with pytest.raises(ClientError) as e:
        kms.create_custom_key_store(**create_params("one", cluster=ROLES["unrelated_cluster_id"],
                                                    TrustAnchorCertificate=LINEAGE_B_CERT))
    assert error_code(e) == "CustomKeyStoreNameInUseException"
    for cluster in (ROLES["active_cluster_id"], ROLES["related_cluster_id"]):
        with pytest.raises(ClientError) as e:
            kms.create_custom_key_store(**create_params("two", cluster=cluster))
        assert error_code(e) == "CloudHsmClusterInUseException"
    # the unrelated lineage is free
    kms.create_custom_key_store(**create_params("two", cluster=ROLES["unrelated_cluster_id"],
                                                TrustAnchorCertificate=LINEAGE_B_CERT))


def test_limit_of_ten_stores_current_only(edition):
    ref = InProcess(edition=edition)
    b = ref.backend
    for i in range(10):  # one lineage per store: give each its own cluster
        cid = f"cluster-limitstore{'abcdefghij'[i]}x"
        from conformance.reference.world import Cluster
        b.world.add_cluster(Cluster(cluster_id=cid, lineage=f"L{i}", certificate=ANCHOR))
        b.world.set_hsms(cid, [("us-east-1a", "ACTIVE"), ("us-east-1b", "ACTIVE")])
        assert b.handle("kms", "CreateCustomKeyStore", create_params(f"s{i}", cluster=cid))[0] == 200
    status, body = b.handle("kms", "CreateCustomKeyStore", create_params("eleventh", cluster=ROLES["unrelated_cluster_id"],
                                                                         TrustAnchorCertificate=LINEAGE_B_CERT))
    if edition == "current":
        assert (status, body["__type"]) == (400, "LimitExceededException")
    else:
        assert status == 200


def test_create_requires_cloudhsm_members_current(ref):
    status, body = ref.backend.handle("kms", "CreateCustomKeyStore", {"CustomKeyStoreName": "only-a-name"})
    assert (status, body["__type"]) == (400, "ValidationException")
    old = InProcess(edition="2019-12").backend
    status, body = old.handle("kms", "CreateCustomKeyStore", {"CustomKeyStoreName": "only-a-name"})
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "Member must not be null" in body["message"]


def test_update_errors_and_atomicity(ref):
    kms = ref.client()
    a = kms.create_custom_key_store(**create_params("a"))["CustomKeyStoreId"]
    kms.create_custom_key_store(**create_params("b", cluster=ROLES["unrelated_cluster_id"],
                                                TrustAnchorCertificate=LINEAGE_B_CERT))
    before = describe(kms, a)
    cases = [
        ({"CustomKeyStoreId": "cks-00000000000000000"}, "CustomKeyStoreNotFoundException"),
        ({"NewCustomKeyStoreName": "b"}, "CustomKeyStoreNameInUseException"),
        ({"NewCustomKeyStoreName": "new", "CloudHsmClusterId": "cluster-doesnotexist2"}, "CloudHsmClusterNotFoundException"),
        ({"NewCustomKeyStoreName": "new", "CloudHsmClusterId": ROLES["unrelated_cluster_id"]}, "CloudHsmClusterNotRelatedException"),
        ({"NewCustomKeyStoreName": "new", "CloudHsmClusterId": ROLES["inactive_cluster_id"]}, "CloudHsmClusterNotActiveException"),
        ({"NewCustomKeyStoreName": "new", "CloudHsmClusterId": ROLES["invalid_config_cluster_id"]},
         "CloudHsmClusterInvalidConfigurationException"),
        ({"KeyStorePassword": "short"}, "ValidationException"),
    ]
    for params, code in cases:
        with pytest.raises(ClientError) as e:
            kms.update_custom_key_store(**{"CustomKeyStoreId": a, **params})
        assert error_code(e) == code, params
        assert describe(kms, a) == before  # a refused update changes nothing
    # renaming a store to its own name is fine
    kms.update_custom_key_store(CustomKeyStoreId=a, NewCustomKeyStoreName="a")


@pytest.mark.parametrize("member, value", [("NewCustomKeyStoreName", "n2"), ("KeyStorePassword", "pass-word-2"),
                                           ("CloudHsmClusterId", ROLES["related_cluster_id"])])
def test_update_state_rules_per_edition(edition, member, value):
    ref = InProcess(edition=edition)
    kms = ref.client()
    sid = kms.create_custom_key_store(**create_params())["CustomKeyStoreId"]
    kms.connect_custom_key_store(CustomKeyStoreId=sid)
    allowed_connected = edition == "current" and member == "NewCustomKeyStoreName"
    try:
        kms.update_custom_key_store(CustomKeyStoreId=sid, **{member: value})
        outcome = "ok"
    except ClientError as exc:
        outcome = exc.response["Error"]["Code"]
    assert outcome == ("ok" if allowed_connected else "CustomKeyStoreInvalidStateException")
    # mixing the name with a DISCONNECTED-only member is refused whole
    if member != "NewCustomKeyStoreName":
        with pytest.raises(ClientError):
            kms.update_custom_key_store(CustomKeyStoreId=sid, NewCustomKeyStoreName="mixed", **{member: value})
        assert describe(kms, sid)["CustomKeyStoreName"] != "mixed"


def test_update_name_in_connecting_disconnecting_failed_is_invalid():
    clock = manual_clock()
    ref = InProcess(connect_delay_s=5, disconnect_delay_s=5, clock=clock)
    kms = ref.client()
    sid = kms.create_custom_key_store(**create_params())["CustomKeyStoreId"]
    kms.connect_custom_key_store(CustomKeyStoreId=sid)
    states = []
    for step in ("CONNECTING", "DISCONNECTING"):
        states.append(describe(kms, sid)["ConnectionState"])
        with pytest.raises(ClientError) as e:
            kms.update_custom_key_store(CustomKeyStoreId=sid, NewCustomKeyStoreName="x")
        assert error_code(e) == "CustomKeyStoreInvalidStateException"
        clock.advance(5)
        if step == "CONNECTING":
            kms.disconnect_custom_key_store(CustomKeyStoreId=sid)
    assert states == ["CONNECTING", "DISCONNECTING"]


def test_disconnect_and_delete_rules(ref):
    kms = ref.client()
    sid = kms.create_custom_key_store(**create_params())["CustomKeyStoreId"]
    with pytest.raises(ClientError) as e:
        kms.disconnect_custom_key_store(CustomKeyStoreId=sid)
    assert error_code(e) == "CustomKeyStoreInvalidStateException"
    kms.connect_custom_key_store(CustomKeyStoreId=sid)
    with pytest.raises(ClientError) as e:
        kms.delete_custom_key_store(CustomKeyStoreId=sid)
    assert error_code(e) == "CustomKeyStoreInvalidStateException"
    for op in (kms.connect_custom_key_store, kms.disconnect_custom_key_store, kms.delete_custom_key_store,
               kms.update_custom_key_store):
        with pytest.raises(ClientError) as e:
            op(CustomKeyStoreId="cks-ffffffffffffffff0")
        assert error_code(e) == "CustomKeyStoreNotFoundException"
        assert "message" not in e.value.response["Error"] or e.value.response["Error"]["Message"] == ""


def test_keys_block_delete_until_deleted():
    clock = manual_clock()
    ref = InProcess(clock=clock)
    kms = ref.client()
    sid = kms.create_custom_key_store(**create_params())["CustomKeyStoreId"]
    with pytest.raises(ClientError) as e:
        kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=sid)
    assert error_code(e) == "CustomKeyStoreInvalidStateException"
    with pytest.raises(ClientError) as e:
        kms.generate_random(NumberOfBytes=8, CustomKeyStoreId=sid)
    assert error_code(e) == "CustomKeyStoreInvalidStateException"
    kms.connect_custom_key_store(CustomKeyStoreId=sid)
    md = kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=sid)["KeyMetadata"]
    assert md["CustomKeyStoreId"] == sid and md["Origin"] == "AWS_CLOUDHSM"
    assert len(kms.generate_random(NumberOfBytes=8, CustomKeyStoreId=sid)["Plaintext"]) == 8
    assert kms.describe_key(KeyId=md["Arn"])["KeyMetadata"]["KeyId"] == md["KeyId"]
    kms.disconnect_custom_key_store(CustomKeyStoreId=sid)
    with pytest.raises(ClientError) as e:
        kms.delete_custom_key_store(CustomKeyStoreId=sid)
    assert error_code(e) == "CustomKeyStoreHasCMKsException"
    resp = kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=7)
    assert resp["KeyState"] == "PendingDeletion"
    with pytest.raises(ClientError) as e:  # pending keys still exist
        kms.delete_custom_key_store(CustomKeyStoreId=sid)
    assert error_code(e) == "CustomKeyStoreHasCMKsException"
    clock.advance(7 * 86400)
    with pytest.raises(ClientError) as e:
        kms.describe_key(KeyId=md["KeyId"])
    assert error_code(e) == "NotFoundException"
    kms.delete_custom_key_store(CustomKeyStoreId=sid)


def test_generate_random_validation(ref):
    kms = ref.client()
    with pytest.raises(ClientError) as e:
        kms.generate_random()
    assert (error_code(e), e.value.response["Error"]["Message"]) == ("ValidationException", "NumberOfBytes is required.")
    with pytest.raises(ClientError) as e:
        kms.generate_random(NumberOfBytes=1025)
    assert "less than or equal to 1024" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        kms.generate_random(NumberOfBytes=4, CustomKeyStoreId="cks-00000000000000001")
    assert error_code(e) == "CustomKeyStoreNotFoundException"


def test_describe_filters_and_pagination(ref):
    b = ref.backend
    kms = ref.client()
    ids = []
    for i in range(5):
        cid = f"cluster-pagestore{'abcde'[i]}xy"
        from conformance.reference.world import Cluster
        b.world.add_cluster(Cluster(cluster_id=cid, lineage=f"P{i}", certificate=ANCHOR))
        b.world.set_hsms(cid, [("us-east-1a", "ACTIVE"), ("us-east-1b", "ACTIVE")])
        ids.append(kms.create_custom_key_store(**create_params(f"p{i}", cluster=cid))["CustomKeyStoreId"])
    assert [s["CustomKeyStoreId"] for s in kms.describe_custom_key_stores(CustomKeyStoreName="p3")["CustomKeyStores"]] == [ids[3]]
    seen, marker, pages = [], None, 0
    while True:
        kw = {"Limit": 2, **({"Marker": marker} if marker else {})}
        page = kms.describe_custom_key_stores(**kw)
        pages += 1
        seen += [s["CustomKeyStoreId"] for s in page["CustomKeyStores"]]
        assert ("NextMarker" in page) == page["Truncated"]
        if not page["Truncated"]:
            break
        marker = page["NextMarker"]
    assert (seen, pages) == (ids, 3)
    with pytest.raises(ClientError) as e:
        kms.describe_custom_key_stores(Marker="not-a-marker-we-issued")
    assert error_code(e) == "InvalidMarkerException"
    with pytest.raises(ClientError) as e:
        kms.describe_custom_key_stores(CustomKeyStoreName="nope")
    assert error_code(e) == "CustomKeyStoreNotFoundException"
    with pytest.raises(ClientError) as e:
        kms.describe_custom_key_stores(Limit=0)
    assert error_code(e) == "ValidationException"


def test_validation_wins_over_existence(ref):
    status, body = ref.backend.handle("kms", "UpdateCustomKeyStore",
                                      {"CustomKeyStoreId": "cks-00000000000000000", "KeyStorePassword": "x"})
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "Value at 'keyStorePassword'" in body["message"] and "'x'" not in body["message"]


def test_cloudhsm_describe_clusters(ref):
    hsm = ref.client("cloudhsmv2")
    clusters = {c["ClusterId"]: c for c in hsm.describe_clusters()["Clusters"]}
    assert set(clusters) == set(ROLES.values())
    assert clusters[ROLES["inactive_cluster_id"]]["State"] != "ACTIVE"
    assert len(clusters[ROLES["invalid_config_cluster_id"]]["Hsms"]) == 1
    only = hsm.describe_clusters(Filters={"clusterIds": [ROLES["related_cluster_id"]]})["Clusters"]
    assert [c["ClusterId"] for c in only] == [ROLES["related_cluster_id"]]
    assert only[0]["Certificates"]["ClusterCertificate"] == ANCHOR


def test_from_world_and_default_world():
    from conformance.reference import ReferenceBackend, ReferenceConfig, default_world
    from conformance.world import World

    w = default_world()
    assert w.active_cluster_id == ROLES["active_cluster_id"] and w.kmsuser_password == PASSWORD
    assert w.trust_anchor_certificate == ANCHOR
    custom = World(active_cluster_id="cluster-customactive2", inactive_cluster_id="cluster-custominactive",
                   trust_anchor_certificate=LINEAGE_B_CERT, kmsuser_password="custom-password")
    b = ReferenceBackend(ReferenceConfig.from_world(custom, edition="2019-12"))
    assert set(b.world.clusters) == {"cluster-customactive2", "cluster-custominactive"}
    ok = b.handle("kms", "CreateCustomKeyStore", create_params(cluster="cluster-customactive2",
                                                               TrustAnchorCertificate=LINEAGE_B_CERT,
                                                               KeyStorePassword="custom-password"))
    assert ok[0] == 200
    b.handle("kms", "ConnectCustomKeyStore", {"CustomKeyStoreId": ok[1]["CustomKeyStoreId"]})
    assert b.snapshot()[0]["ConnectionState"] == "CONNECTED"
    assert b.world.get("cluster-custominactive").state != "ACTIVE"


def test_seeded_ids_are_reproducible():
    from conformance.reference import ReferenceBackend, ReferenceConfig

    ids = [ReferenceBackend(ReferenceConfig(seed=7)).handle("kms", "CreateCustomKeyStore", create_params())[1]
           for _ in range(2)]
    assert ids[0] == ids[1]


def test_secrets_stay_out_of_reprs():
    from conformance.reference import ReferenceBackend, ReferenceConfig

    cfg = ReferenceConfig(secret_access_key="very-secret-key-value", kmsuser_password="very-secret-pw")
    b = ReferenceBackend(cfg)
    b.handle("kms", "CreateCustomKeyStore", create_params(KeyStorePassword="stored-secret-pw"))
    text = repr(cfg) + repr(list(b.stores.values())) + repr(list(b.world.clusters.values()))
    for secret in ("very-secret-key-value", "very-secret-pw", "stored-secret-pw"):
        assert secret not in text
