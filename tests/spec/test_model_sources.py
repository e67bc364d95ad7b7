"""Both model sources (botocore, Smithy JSON AST) give the same constraints for the six
custom key store operations, except for the differences listed here one by one."""

from __future__ import annotations

import dataclasses
import json

import pytest

from conformance.errors import UsageError
from conformance.spec import CUSTOM_KEY_STORE_OPERATIONS, load_model
from conformance.spec.botocore_source import installed_model_path
from conformance.spec.data import VENDORED_SMITHY_FILE, spec_file

VENDORED_SMITHY = spec_file(*VENDORED_SMITHY_FILE)

ANCHORED = {"CloudHsmClusterIdType", "MarkerType"}  # botocore `x`, Smithy `^x$`
# The vendored Smithy snapshot (api-models-aws 2025-04-02) predates two botocore model changes:
NEWER_IN_BOTOCORE = {
    # botocore 1.40.63, 2025-10-30: cross-account VPC endpoint service owner
    ("CreateCustomKeyStoreRequest", "XksProxyVpcEndpointServiceOwner"),
    ("UpdateCustomKeyStoreRequest", "XksProxyVpcEndpointServiceOwner"),
    ("XksProxyConfigurationType", "VpcEndpointServiceOwner"),
}
NEWER_SHAPES_IN_BOTOCORE = {"AccountIdType"}  # target of the members above
# botocore 1.40.69, 2025-11-07: VPC endpoint service names may start with `eu.`
VPCE_PATTERN = {
    "botocore": r"^(com|eu)\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$",
    "smithy": r"^com\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$",
}


@pytest.fixture(scope="module")
def models():
    return load_model("botocore"), load_model("smithy")


def _reachable(model, op):
    o = model.operations[op]
    seen, stack = set(), [n for n in (o.input, o.output, *o.errors) if n]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        s = model.shapes[n]
        stack += [m.shape for m in s.members] + [x for x in (s.list_member, s.map_key, s.map_value) if x]
    return seen


def _normalise_smithy(shape):
    """Undo exactly the known, documented differences of a Smithy shape."""
    changes = {}
    if shape.name in ANCHORED:
        assert shape.pattern.startswith("^") and shape.pattern.endswith("$"), shape.name
        changes["pattern"] = shape.pattern[1:-1]
    if shape.name == "XksProxyVpcEndpointServiceNameType":
        assert shape.pattern == VPCE_PATTERN["smithy"]
        changes["pattern"] = VPCE_PATTERN["botocore"]
    if shape.error is not None:
        # Smithy carries httpError; botocore has no status for any KMS error shape.
        want = 400 if shape.error.fault == "client" else 500
        assert shape.error.http_status == want, (shape.name, shape.error)
        changes["error"] = dataclasses.replace(shape.error, http_status=None)
    return dataclasses.replace(shape, **changes)


def _normalise_botocore(shape):
    drop = {m for s, m in NEWER_IN_BOTOCORE if s == shape.name}
    if drop:
        assert drop <= {m.name for m in shape.members}
        return dataclasses.replace(shape, members=tuple(m for m in shape.members if m.name not in drop))
    return shape


@pytest.mark.parametrize("op", CUSTOM_KEY_STORE_OPERATIONS)
def test_sources_agree_for_custom_key_store_operations(models, op):
    boto, smithy = models
    bo, so = boto.operations[op], smithy.operations[op]
    assert (bo.input, bo.output) == (so.input, so.output)
    assert sorted(bo.errors) == sorted(so.errors)  # Smithy lists errors sorted; botocore in model order
    bshapes, sshapes = _reachable(boto, op), _reachable(smithy, op)
    assert bshapes - sshapes <= NEWER_SHAPES_IN_BOTOCORE
    assert sshapes <= bshapes
    for name in sorted(sshapes):
        assert _normalise_botocore(boto.shapes[name]) == _normalise_smithy(smithy.shapes[name]), name


def test_known_differences_are_real(models):
    """Each listed difference exists (so the list cannot rot into silently ignoring things)."""
    boto, smithy = models
    for name in ANCHORED:
        assert smithy.shapes[name].pattern == "^" + boto.shapes[name].pattern + "$"
    assert boto.shapes["XksProxyVpcEndpointServiceNameType"].pattern == VPCE_PATTERN["botocore"]
    for shape, member in NEWER_IN_BOTOCORE:
        assert boto.shapes[shape].member(member) is not None and smithy.shapes[shape].member(member) is None
    assert "AccountIdType" not in smithy.shapes or "AccountIdType" not in _reachable(smithy, "CreateCustomKeyStore")
    assert boto.shapes["KMSInternalException"].error.http_status is None
    assert smithy.shapes["KMSInternalException"].error.http_status == 500
    # Elsewhere in the model Smithy has 404/409 where real AWS sends 400 (fact sheet §1.3).
    assert smithy.shapes["NotFoundException"].error.http_status == 404
    assert smithy.shapes["KMSInvalidStateException"].error.http_status == 409


def test_service_metadata_matches(models):
    for m in models:
        assert (m.service, m.api_version, m.target_prefix, m.protocol, m.signing_name) == (
            "kms", "2014-11-01", "TrentService", "awsJson1_1", "kms")


def test_internal_form_details(models):
    boto, smithy = models
    for m in models:
        pw = m.shapes["KeyStorePasswordType"]
        assert (pw.type, pw.min_length, pw.max_length, pw.sensitive) == ("string", 7, 32, True)
        limit = m.shapes["LimitType"]
        assert (limit.type, limit.min_value, limit.max_value, limit.min_length) == ("integer", 1, 1000, None)
        assert m.shapes["CustomKeyStoreType"].enum == ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE")
        assert m.shapes["CustomKeyStoresList"].list_member == "CustomKeyStoresListEntry"
        enc = m.shapes["EncryptionContextType"]
        assert enc.type == "map" and enc.map_key and enc.map_value
        assert m.shapes["XksProxyAuthenticationCredentialType"].required == ("AccessKeyId", "RawSecretAccessKey")
        assert m.shapes["KMSInternalException"].error.fault == "server"
        assert m.shapes["CustomKeyStoreNotFoundException"].error.fault == "client"
    assert boto.shapes["DependencyTimeoutException"].error.fault == "server"
    assert boto.provenance["source"] == "botocore" and len(boto.provenance["sha256"]) == 64
    assert smithy.provenance["source"] == "smithy"


def test_load_model_from_paths(tmp_path):
    assert load_model("botocore") is load_model("botocore")  # cached
    via_path = load_model(installed_model_path())
    assert via_path.shapes == load_model("botocore").shapes
    assert load_model(VENDORED_SMITHY).shapes == load_model("smithy").shapes
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(UsageError, match="neither a Smithy JSON AST nor a botocore"):
        load_model(bad)
    garbage = tmp_path / "g.json"
    garbage.write_text("{nope")
    with pytest.raises(UsageError, match="not readable JSON"):
        load_model(garbage)
    with pytest.raises(UsageError, match="not found"):
        load_model(tmp_path / "missing.json")


def test_vendored_smithy_has_license_and_notice():
    up = VENDORED_SMITHY.parent
    assert "Apache License" in (up / "LICENSE").read_text()
    notice = (up / "NOTICE").read_text()
    import hashlib

    assert hashlib.sha256(VENDORED_SMITHY.read_bytes()).hexdigest() in notice
