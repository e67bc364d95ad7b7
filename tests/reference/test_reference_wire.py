"""AWS JSON 1.1 wire behaviour and SigV4 checks of the reference target (raw requests, in-process)."""

from __future__ import annotations

import datetime as dt

import pytest

from conformance.reference.errors import INVALID_SIGNATURE_MESSAGE
from refhelpers import InProcess, create_params


def test_success_headers_and_body(ref):
    status, headers, body = ref.raw("{}")
    assert status == 200
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert headers.get("x-amzn-RequestId")
    assert body == {"CustomKeyStores": [], "Truncated": False}


def test_empty_body_is_accepted_and_empty_success_is_an_object(ref):
    assert ref.raw(b"")[0] == 200
    import json

    sid = ref.raw(json.dumps(create_params()), target="TrentService.CreateCustomKeyStore")[2]["CustomKeyStoreId"]
    status, _, body = ref.raw(json.dumps({"CustomKeyStoreId": sid}), target="TrentService.ConnectCustomKeyStore")
    assert (status, body) == (200, {})


def test_error_envelope(ref):
    status, headers, body = ref.raw('{"CustomKeyStoreId": "cks-00000000000000000"}')
    assert status == 400 and headers["Content-Type"] == "application/x-amz-json-1.1"
    assert body == {"__type": "CustomKeyStoreNotFoundException"}
    assert headers.get("x-amzn-RequestId")


@pytest.mark.parametrize("target", ["TrentService.NoSuchOperation", "Other.DescribeCustomKeyStores", None, "TrentService"])
def test_unknown_operation(ref, target):
    status, _, body = ref.raw("{}", target=target)
    assert (status, body["__type"]) == (400, "UnknownOperationException")


@pytest.mark.parametrize("raw", ['{"CustomKeyStoreId": ', "not json", "[]", '"text"'])
def test_malformed_json_is_serialization_exception(ref, raw):
    status, _, body = ref.raw(raw)
    assert (status, body["__type"]) == (400, "SerializationException")


@pytest.mark.parametrize("params", [{"Limit": "2"}, {"CustomKeyStoreName": True}, {"CustomKeyStoreId": 5},
                                    {"CustomKeyStoreName": {"a": 1}}])
def test_wrong_json_types_are_serialization_exception(ref, params):
    import json

    status, _, body = ref.raw(json.dumps(params))
    assert (status, body["__type"]) == (400, "SerializationException")
    assert body["message"]


def test_unknown_members_are_ignored(ref):
    assert ref.raw('{"NoSuchMember": 1}')[0] == 200


def test_missing_signature(ref):
    status, _, body = ref.raw("{}", sign="none")
    assert (status, body["__type"]) == (403, "MissingAuthenticationTokenException")


def test_wrong_secret(ref):
    status, _, body = ref.raw("{}", sign="wrong-secret")
    assert (status, body) == (400, {"__type": "InvalidSignatureException", "message": INVALID_SIGNATURE_MESSAGE})


def test_unknown_access_key(ref):
    status, _, body = ref.raw("{}", sign="unknown-key")
    assert (status, body["__type"]) == (400, "UnrecognizedClientException")
    assert body["message"] == "The security token included in the request is invalid."


@pytest.mark.parametrize("auth", ["AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/kms/aws4_request",
                                  "Bearer abc", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00"])
def test_malformed_authorization(ref, auth):
    status, _, body = ref.raw("{}", sign="none", headers={"Authorization": auth, "X-Amz-Date": "20260101T000000Z"})
    assert (status, body["__type"]) == (400, "IncompleteSignatureException")


def test_expired_and_future_signatures(ref):
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    status, _, body = ref.raw("{}", when=now - dt.timedelta(minutes=6))
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["message"].startswith("Signature expired: ")
    status, _, body = ref.raw("{}", when=now + dt.timedelta(minutes=6))
    assert body["message"].startswith("Signature not yet current: ")
    assert ref.raw("{}", when=now - dt.timedelta(minutes=4))[0] == 200


def test_body_tampering_is_detected(ref):
    from botocore.awsrequest import AWSRequest

    from refhelpers import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, FAKE_URL, sign_request

    req = AWSRequest(method="POST", url=FAKE_URL + "/", data=b"{}",
                     headers={"Content-Type": "application/x-amz-json-1.1",
                              "X-Amz-Target": "TrentService.DescribeCustomKeyStores"})
    sign_request(req, EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, "kms", "us-east-1")
    headers = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in req.headers.items()]
    resp = ref.http.open(path="/", method="POST", headers=headers, data=b'{"Limit": 1}', base_url=FAKE_URL)
    import json

    assert resp.status_code == 400 and json.loads(resp.get_data())["__type"] == "InvalidSignatureException"


def test_service_scope_must_match_target(ref):
    status, _, body = ref.raw("{}", service="cloudhsm")
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    status, _, body = ref.raw("{}", target="BaldrApiService.DescribeClusters", service="cloudhsm")
    assert status == 200 and len(body["Clusters"]) == 5


def test_region_scope_must_match(ref):
    kms = ref.client(region="eu-west-1")
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as e:
        kms.describe_custom_key_stores()
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert "eu-west-1" in e.value.response["Error"]["Message"]


def test_configured_credentials_are_the_only_ones():
    ref = InProcess(access_key_id="AKIAREFERENCETEST123", secret_access_key="configured-secret-value")
    assert ref.raw("{}")[2]["__type"] == "UnrecognizedClientException"  # the example key is refused now
    kms = ref.client(key="AKIAREFERENCETEST123", secret="configured-secret-value")
    assert kms.describe_custom_key_stores()["CustomKeyStores"] == []


def test_verification_can_be_switched_off_explicitly():
    ref = InProcess(verify_signatures=False)
    assert ref.raw("{}", sign="none")[0] == 200


def test_control_surface_is_off_by_default(ref):
    status, _, body = ref.raw('{"ClusterId": "cluster-refactivea2b3"}', target="ReferenceControl.RemoveCluster")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    assert ref.backend.world.get("cluster-refactivea2b3") is not None


def test_control_surface_when_enabled_is_signed_and_changes_the_world():
    import json

    ref = InProcess(control_api=True)
    sid = ref.raw(json.dumps(create_params()), target="TrentService.CreateCustomKeyStore")[2]["CustomKeyStoreId"]
    status, _, body = ref.raw('{"ClusterId": "cluster-refactivea2b3", "State": "DEGRADED"}',
                              target="ReferenceControl.SetClusterState", sign="none")
    assert status == 403  # unsigned control calls are refused like any other
    assert ref.raw('{"ClusterId": "cluster-refactivea2b3", "State": "DEGRADED"}',
                   target="ReferenceControl.SetClusterState")[0] == 200
    status, _, body = ref.raw(json.dumps({"CustomKeyStoreId": sid}), target="TrentService.ConnectCustomKeyStore")
    assert body["__type"] == "CloudHsmClusterNotActiveException"
    assert ref.raw('{"ClusterId": "cluster-nosuchcluster"}', target="ReferenceControl.RemoveCluster")[0] == 400
    assert ref.raw('{"Password": "rotated-pass"}', target="ReferenceControl.SetKmsuserPassword")[0] == 200
    assert ref.backend.world.get("cluster-refrelateda2b3").kmsuser_password == "rotated-pass"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_only_post_runs_operations(ref, method):
    import json

    resp = ref.http.open(path="/", method=method, headers=[("X-Amz-Target", "TrentService.DescribeCustomKeyStores")])
    assert resp.status_code == 405 and json.loads(resp.get_data())["__type"] == "MethodNotAllowedException"


def test_an_internal_bug_is_a_json_500(ref, monkeypatch):
    def boom(params):
        raise RuntimeError("bug")

    monkeypatch.setitem(ref.backend._handlers, ("kms", "DescribeCustomKeyStores"), boom)
    status, headers, body = ref.raw("{}")
    assert (status, body["__type"]) == (500, "KMSInternalException")
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
