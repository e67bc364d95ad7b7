"""The reference target's external key store rules, through boto3 against the in-process app and the
shared proxy double (refhelpers.xks_proxy): each rule and each Xks* error once."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from refhelpers import InProcess, error_code, threaded_server, url_client, xks_config, xks_params, xks_proxy

W = xks_proxy().world


@pytest.fixture
def kms():
    return InProcess().client()


def create(kms, name="x", **kw):
    return kms.create_custom_key_store(**xks_params(name, **kw))["CustomKeyStoreId"]


def entry(kms, sid):
    return kms.describe_custom_key_stores(CustomKeyStoreId=sid)["CustomKeyStores"][0]


def refused(call, **kw) -> str:
    with pytest.raises(ClientError) as exc:
        call(**kw)
    return error_code(exc)


def connect(kms, sid):
    kms.connect_custom_key_store(CustomKeyStoreId=sid)
    return entry(kms, sid)


def test_describe_shows_the_proxy_configuration_never_the_secret(kms):
    sid = create(kms)
    e = entry(kms, sid)
    assert e["CustomKeyStoreType"] == "EXTERNAL_KEY_STORE" and e["ConnectionState"] == "DISCONNECTED"
    assert e["XksProxyConfiguration"] == {"Connectivity": "PUBLIC_ENDPOINT", "AccessKeyId": W.credential.access_key_id,
                                          "UriEndpoint": W.uri_endpoint, "UriPath": W.uri_path}
    assert W.credential.secret_access_key not in str(e) and "CloudHsmClusterId" not in e


@pytest.mark.parametrize("path_role, code", [
    ("wrong_credential", "XksProxyIncorrectAuthenticationCredentialException"),
    ("unknown_path", "XksProxyInvalidConfigurationException"),
    ("timeout", "XksProxyUriUnreachableException"),
    ("invalid_response", "XksProxyInvalidResponseException"),
    ("malformed_json", "XksProxyInvalidResponseException"),
    ("unavailable", "XksProxyUriUnreachableException"),
])
def test_create_maps_the_health_check_to_its_xks_error(kms, path_role, code):
    assert refused(kms.create_custom_key_store, **xks_params(path=W.faulty_paths[path_role])) == code
    assert kms.describe_custom_key_stores()["CustomKeyStores"] == []


def test_unknown_host_is_unreachable_and_nothing_else_is_reached(kms):
    assert refused(kms.create_custom_key_store, **xks_params(XksProxyUriEndpoint="https://nobody.example.com")) == (
        "XksProxyUriUnreachableException")


def test_uniqueness_of_uri_endpoint_and_vpc_service(kms):
    create(kms, "a")
    assert refused(kms.create_custom_key_store, **xks_params("b")) == "XksProxyUriInUseException"
    create(kms, "b", path="/correct/b/kms/xks/v1")  # same endpoint, own path: fine for public endpoints
    assert refused(kms.create_custom_key_store, **xks_params("v", vpc="main", XksProxyUriEndpoint=W.uri_endpoint,
                                                             path="/correct/v/kms/xks/v1")) == (
        "XksProxyUriEndpointInUseException")
    create(kms, "v", vpc="main")
    second = W.vpc_endpoint_services["second"].uri_endpoint
    assert refused(kms.create_custom_key_store, **xks_params("w", vpc="main", XksProxyUriEndpoint=second)) == (
        "XksProxyVpcEndpointServiceInUseException")


@pytest.mark.parametrize("role, code", [
    ("not_found", "XksProxyVpcEndpointServiceNotFoundException"),
    ("principal_not_allowed", "XksProxyVpcEndpointServiceNotFoundException"),
    ("other_owner", "XksProxyVpcEndpointServiceNotFoundException"),  # looked for in the caller's account
    ("acceptance_required", "XksProxyVpcEndpointServiceInvalidConfigurationException"),
    ("private_dns_unverified", "XksProxyVpcEndpointServiceInvalidConfigurationException"),
    ("no_private_dns", "XksProxyVpcEndpointServiceInvalidConfigurationException"),
    ("single_subnet", "XksProxyVpcEndpointServiceInvalidConfigurationException"),
])
def test_vpc_endpoint_service_roles(kms, role, code):
    params = xks_params(vpc=role)
    if params["XksProxyUriEndpoint"] is None:
        params["XksProxyUriEndpoint"] = "https://xks-vpc.kms-conformance.test"
    assert refused(kms.create_custom_key_store, **params) == code


def test_other_owner_service_with_its_owner_and_mismatched_private_dns(kms):
    other = W.vpc_endpoint_services["other_owner"]
    sid = create(kms, vpc="other_owner", XksProxyVpcEndpointServiceOwner=other.owner)
    assert entry(kms, sid)["XksProxyConfiguration"]["VpcEndpointServiceOwner"] == other.owner
    assert refused(kms.create_custom_key_store, **xks_params("m", vpc="second", XksProxyUriEndpoint=W.vpc_uri_endpoint)
                   ) == "XksProxyVpcEndpointServiceInvalidConfigurationException"


@pytest.mark.parametrize("path_role, code", [
    (None, None),
    ("wrong_credential", "INVALID_CREDENTIALS"),
    ("unknown_path", "XKS_PROXY_INVALID_CONFIGURATION"),
    ("timeout", "XKS_PROXY_TIMED_OUT"),
    ("invalid_response", "XKS_PROXY_INVALID_RESPONSE"),
    ("unavailable", "XKS_PROXY_NOT_REACHABLE"),
])
def test_connect_ends_failed_with_the_xks_code(kms, path_role, code):
    """A VPC endpoint service store is first reached on Connect: every proxy failure is a connection error code."""
    sid = create(kms, vpc="main", path=W.faulty_paths[path_role] if path_role else None)
    e = connect(kms, sid)
    assert (e["ConnectionState"], e.get("ConnectionErrorCode")) == (("CONNECTED", None) if code is None else ("FAILED", code))


def test_connect_finds_a_vpc_endpoint_service_that_broke_after_create(kms):
    ref = InProcess()
    kms = ref.client()
    sid = create(kms, vpc="main")
    service = next(s for s in ref.config.xks_vpc_services.values() if s.name == W.vpc_endpoint_service_name)
    service.acceptance_required = True
    assert connect(kms, sid)["ConnectionErrorCode"] == "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION"
    service.acceptance_required = False
    service.allowed_principals = ()
    kms.disconnect_custom_key_store(CustomKeyStoreId=sid)
    assert connect(kms, sid)["ConnectionErrorCode"] == "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND"


def test_update_rules_by_connection_state(kms):
    sid = create(kms)
    assert connect(kms, sid)["ConnectionState"] == "CONNECTED"
    kms.update_custom_key_store(CustomKeyStoreId=sid, NewCustomKeyStoreName="renamed",
                                XksProxyUriPath="/correct/renamed/kms/xks/v1",
                                XksProxyAuthenticationCredential=W.credential.as_member())
    for change in ({"XksProxyUriEndpoint": W.second_uri_endpoint}, {"XksProxyConnectivity": "VPC_ENDPOINT_SERVICE"}):
        assert refused(kms.update_custom_key_store, CustomKeyStoreId=sid, **change) == (
            "CustomKeyStoreInvalidStateException")
    assert refused(kms.update_custom_key_store, CustomKeyStoreId=sid,
                   XksProxyUriPath=W.faulty_paths["wrong_credential"]) == (
        "XksProxyIncorrectAuthenticationCredentialException")
    assert entry(kms, sid)["XksProxyConfiguration"]["UriPath"] == "/correct/renamed/kms/xks/v1"  # unchanged
    kms.disconnect_custom_key_store(CustomKeyStoreId=sid)
    kms.update_custom_key_store(CustomKeyStoreId=sid, XksProxyConnectivity="VPC_ENDPOINT_SERVICE",
                                XksProxyUriEndpoint=W.vpc_uri_endpoint,
                                XksProxyVpcEndpointServiceName=W.vpc_endpoint_service_name)
    cfg = entry(kms, sid)["XksProxyConfiguration"]
    assert (cfg["Connectivity"], cfg["VpcEndpointServiceName"]) == ("VPC_ENDPOINT_SERVICE", W.vpc_endpoint_service_name)
    assert refused(kms.update_custom_key_store, CustomKeyStoreId=sid, KeyStorePassword="kmsuser-Passw0rd") == (
        "ValidationException")


def test_credential_parts_go_together_and_members_follow_the_store_type(kms):
    sid = create(kms)
    assert refused(kms.update_custom_key_store, CustomKeyStoreId=sid,
                   XksProxyAuthenticationCredential={"AccessKeyId": "XKSOTHERACCESSKEY234"}) == "ValidationException"
    for missing in ("XksProxyConnectivity", "XksProxyUriEndpoint", "XksProxyUriPath",
                    "XksProxyAuthenticationCredential"):
        params = {k: v for k, v in xks_params("n").items() if k != missing}
        assert refused(kms.create_custom_key_store, **params) == "ValidationException", missing
    no_service = {**xks_params("n"), "XksProxyConnectivity": "VPC_ENDPOINT_SERVICE"}
    assert refused(kms.create_custom_key_store, **no_service) == "ValidationException"


def test_createkey_through_the_proxys_key_metadata(kms):
    sid = create(kms)

    def key(role_or_id, store=sid):
        return kms.create_key(CustomKeyStoreId=store, Origin="EXTERNAL_KEY_STORE",
                              XksKeyId=W.keys.get(role_or_id, role_or_id))["KeyMetadata"]

    assert refused(key, role_or_id="usable") == "CustomKeyStoreInvalidStateException"  # not CONNECTED
    connect(kms, sid)
    md = key("usable")
    assert (md["Origin"], md["CustomKeyStoreId"], md["XksKeyConfiguration"]) == (
        "EXTERNAL_KEY_STORE", sid, {"Id": W.keys["usable"]})
    assert refused(key, role_or_id="usable") == "XksKeyAlreadyInUseException"
    assert refused(key, role_or_id="no-such-key") == "XksKeyNotFoundException"
    for role in ("disabled", "not_aes", "wrong_usage"):
        assert refused(key, role_or_id=role) == "XksKeyInvalidConfigurationException", role
    assert key("second_usable")["KeyState"] == "Enabled"
    assert refused(kms.generate_random, NumberOfBytes=8, CustomKeyStoreId=sid) == "UnsupportedOperationException"


def test_2019_12_edition_knows_no_external_key_store():
    kms = InProcess(edition="2019-12").client()
    # The 2019-12 model has no CustomKeyStoreType: it is ignored and the CloudHSM members are missing.
    assert refused(kms.create_custom_key_store, **xks_params()) == "ValidationException"


def test_served_reference_and_proxy_double_through_boto3():
    """A whole XKS life cycle over real loopback HTTP: served reference, proxy double, boto3."""
    with threaded_server(**xks_config()) as (endpoint, _backend):
        kms = url_client(endpoint)
        sid = create(kms, "served")
        assert connect(kms, sid)["ConnectionState"] == "CONNECTED"
        kms.update_custom_key_store(CustomKeyStoreId=sid, NewCustomKeyStoreName="served-2")
        kms.disconnect_custom_key_store(CustomKeyStoreId=sid)
        kms.delete_custom_key_store(CustomKeyStoreId=sid)
        assert kms.describe_custom_key_stores()["CustomKeyStores"] == []


def test_loopback_only():
    with pytest.raises(ValueError, match="loopback"):
        InProcess(xks_network={"xks.example.com": "http://10.0.0.1:443"})


def test_world_control_breaks_a_vpc_endpoint_service_in_process_and_over_the_control_surface():
    from conformance.targets import config_from_options, open_target

    target = open_target(config_from_options(target="reference"), announce=lambda line: None)
    try:
        xks = target.world.xks
        params = {**xks_params(vpc="main"), "XksProxyUriEndpoint": xks.vpc_uri_endpoint,
                  "XksProxyVpcEndpointServiceName": xks.vpc_endpoint_service_name,
                  "XksProxyAuthenticationCredential": target.world.xks_credential()}
        control = target.abilities.world_control
        control.set_vpc_endpoint_service(xks.vpc_endpoint_service_name, acceptance_required=True)
        assert target.call("CreateCustomKeyStore", params).error_code == (
            "XksProxyVpcEndpointServiceInvalidConfigurationException")
        control.set_vpc_endpoint_service(xks.vpc_endpoint_service_name, acceptance_required=False)
        assert target.call("CreateCustomKeyStore", params).status == 200
    finally:
        target.close()
    ref = InProcess(control_api=True)
    status, _, body = ref.raw('{"ServiceName": "%s", "KmsPrincipalAllowed": false}' % W.vpc_endpoint_service_name,
                              target="ReferenceControl.SetVpcEndpointService")
    assert status == 200
    assert refused(ref.client().create_custom_key_store, **xks_params(vpc="main")) == (
        "XksProxyVpcEndpointServiceNotFoundException")
    assert ref.raw('{"ServiceName": "com.amazonaws.vpce.us-east-1.vpce-svc-nothing"}',
                   target="ReferenceControl.SetVpcEndpointService")[0] == 400


def test_serve_option_maps_proxy_hosts_to_loopback_ports():
    from conformance.cli.serve import xks_network
    from conformance.errors import UsageError
    from conformance.targets.reference_xks import default_reference_xks

    xks = default_reference_xks("us-east-1")
    network = xks_network(["4600", "Other.Example.com=4601"], xks)
    assert network[W.uri_endpoint.removeprefix("https://")] == "http://127.0.0.1:4600"
    assert network["xks-vpc.kms-conformance.test"] == "http://127.0.0.1:4600"
    assert network["other.example.com"] == "http://127.0.0.1:4601"
    for bad in ("=4600", "host=port", "70000"):
        with pytest.raises(UsageError, match="--xks-proxy-http"):
            xks_network([bad], xks)
