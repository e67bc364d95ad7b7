"""The committed slice, its regeneration, and the 2019-12 edition overlay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.cli import main
from conformance.errors import UsageError
from conformance.spec import edition_model, load_model, load_slice
from conformance.spec.data import SLICE_FILE, checkout_specs_dir, spec_file
from conformance.spec.editions import apply_overlay, edition_semantics, known_editions, load_overlay
from conformance.spec.slice import dumps, render_slice, sync_slice

SEED_UPDATE_ERRORS = {
    "CloudHsmClusterInvalidConfigurationException", "CloudHsmClusterNotActiveException",
    "CloudHsmClusterNotFoundException", "CloudHsmClusterNotRelatedException",
    "CustomKeyStoreInvalidStateException", "CustomKeyStoreNameInUseException",
    "CustomKeyStoreNotFoundException", "KMSInternalException",
}


def test_committed_slice_equals_regeneration():
    committed = json.loads(spec_file(SLICE_FILE).read_text(encoding="utf-8"))
    regenerated = render_slice("botocore", generated_on=committed["provenance"]["generated_on"])
    assert dumps(regenerated) == spec_file(SLICE_FILE).read_text(encoding="utf-8")


def test_slice_content_and_provenance():
    doc = json.loads(spec_file(SLICE_FILE).read_text(encoding="utf-8"))
    assert sorted(doc["operations"]) == sorted(CUSTOM_KEY_STORE_OPERATIONS)
    prov = doc["provenance"]
    assert prov["source"] == "botocore" and prov["api_version"] == "2014-11-01"
    assert prov["botocore_version"] and len(prov["sha256"]) == 64 and prov["generated_on"]
    text = spec_file(SLICE_FILE).read_text(encoding="utf-8")
    assert "documentation" not in text and "<p>" not in text
    # Every shape the operations reach is there, and nothing else.
    model = load_slice()
    for op in model.operations.values():
        for name in (op.input, op.output, *op.errors):
            assert name in model.shapes
    assert "CreateKeyRequest" not in model.shapes
    # The newest change in the model history (2025-11-07, `eu` VPC names) is in.
    assert model.shapes["XksProxyVpcEndpointServiceNameType"].pattern.startswith("^(com|eu)")


def test_slice_is_the_full_model_restricted():
    full, part = load_model("botocore"), load_slice()
    for name, shape in part.shapes.items():
        assert full.shapes[name] == shape
    for name, op in part.operations.items():
        assert full.operations[name] == op


def test_sync_check_detects_drift_and_sync_repairs(tmp_path):
    target = tmp_path / "slice.json"
    first = sync_slice(path=target)
    assert first.changed and target.exists()
    assert not sync_slice(path=target, check=True).changed
    doc = json.loads(target.read_text())
    doc["shapes"]["KeyStorePasswordType"]["max_length"] = 99
    doc["provenance"]["generated_on"] = "2000-01-01"
    target.write_text(dumps(doc))
    check = sync_slice(path=target, check=True)
    assert check.changed and any("99" in line for line in check.diff)
    assert any(d.where == "KeyStorePasswordType" and d.item == "max_length" and d.old == 99 and d.new == 32 for d in check.semantic)
    assert json.loads(target.read_text())["shapes"]["KeyStorePasswordType"]["max_length"] == 99  # check does not write
    assert sync_slice(path=target).changed
    assert not sync_slice(path=target, check=True).changed
    assert json.loads(target.read_text())["provenance"]["generated_on"] != "2000-01-01"


def test_the_spec_data_is_the_checkouts_specs_folder_only_when_run_from_the_checkout():
    """Editable install: specs/ itself (sync may write it). Installed wheel (tox): a copy, never written."""
    checkout = Path(__file__).resolve().parents[2]
    assert (spec_file(SLICE_FILE)).is_file()
    if spec_file() == checkout / "specs":
        assert checkout_specs_dir() == checkout / "specs"
    else:
        assert spec_file().parts[-2:] == ("conformance", "specs") and checkout_specs_dir() is None


def test_sync_writes_only_into_a_checkout(monkeypatch, capsys):
    """An installed package has no checkout: sync says so in one line; --check still compares the shipped slice."""
    import conformance.spec.slice as slice_module

    monkeypatch.setattr(slice_module, "checkout_specs_dir", lambda: None)
    assert main(["spec", "sync"]) == 2
    err = capsys.readouterr().err
    assert err == "kms-conformance: no source checkout to update (this is an installed package): pass --out FILE or use --check\n"
    assert main(["spec", "sync", "--check"]) == 0
    assert capsys.readouterr().out == f"{spec_file(SLICE_FILE)}: up to date\n"


def test_sync_keeps_date_when_only_date_would_change(tmp_path):
    target = tmp_path / "slice.json"
    sync_slice(path=target)
    doc = json.loads(target.read_text())
    doc["provenance"]["generated_on"] = "2001-02-03"
    target.write_text(dumps(doc))
    assert not sync_slice(path=target).changed
    assert json.loads(target.read_text())["provenance"]["generated_on"] == "2001-02-03"


def test_slice_from_smithy_differs_only_as_documented(tmp_path):
    target = tmp_path / "s.json"
    sync_slice(source="smithy", path=target)
    smithy_slice = load_slice(path=target)
    assert smithy_slice.provenance["source"] == "smithy"
    assert smithy_slice.shapes["CloudHsmClusterIdType"].pattern == "^cluster-[2-7a-zA-Z]{11,16}$"


def test_load_slice_errors(tmp_path):
    with pytest.raises(UsageError, match="missing"):
        load_slice(path=tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(UsageError, match="not valid JSON"):
        load_slice(path=bad)
    bad.write_text("{}")
    with pytest.raises(UsageError, match="not a kms-conformance-slice"):
        load_slice(path=bad)


# ------------------------------------------------------------------- editions


@pytest.mark.parametrize("build", [lambda: edition_model("2019-12"), lambda: load_slice("2019-12")], ids=["full-model", "slice"])
def test_edition_2019_12(build):
    m = build()
    assert m.edition == "2019-12"
    pw = m.shapes["KeyStorePasswordType"]
    assert (pw.min_length, pw.max_length, pw.sensitive) == (1, None, True)
    assert set(m.operations["UpdateCustomKeyStore"].errors) == SEED_UPDATE_ERRORS
    create = m.operations["CreateCustomKeyStore"]
    assert "LimitExceededException" not in create.errors and not any(e.startswith("Xks") for e in create.errors)
    assert set(m.shapes["CreateCustomKeyStoreRequest"].required) == {
        "CustomKeyStoreName", "CloudHsmClusterId", "TrustAnchorCertificate", "KeyStorePassword"}
    assert m.shapes["CloudHsmClusterIdType"].pattern is None
    assert m.shapes["ConnectionErrorCodeType"].enum == (
        "INVALID_CREDENTIALS", "CLUSTER_NOT_FOUND", "NETWORK_ERRORS", "INTERNAL_ERROR",
        "INSUFFICIENT_CLOUDHSM_HSMS", "USER_LOCKED_OUT")
    assert m.operations["DescribeCustomKeyStores"].errors == ("CustomKeyStoreNotFoundException", "KMSInternalException")
    assert not [n for n in m.shapes if n.startswith("Xks") or n == "CustomKeyStoreType"]
    for s in m.shapes.values():
        for mem in s.members:
            assert not mem.name.startswith("Xks") and mem.shape in m.shapes
    for op in ("ConnectCustomKeyStore", "DisconnectCustomKeyStore", "DeleteCustomKeyStore"):
        assert m.operations[op] == load_model().operations[op]
    assert m.provenance["edition_overlay"] == "specs/editions/2019-12.yaml"


def test_current_edition_is_the_loaded_model():
    cur = edition_model("current")
    assert cur.edition == "current"
    assert cur.shapes is load_model().shapes
    assert edition_model("2019-12") is edition_model("2019-12")  # cached


def test_overlay_records_provenance_for_every_change():
    overlay = load_overlay("2019-12")
    assert overlay["baseline"]["model_date"] == "2019-11-25"
    dates = [c["introduced"]["model_date"] for c in overlay["changes"]]
    assert dates == sorted(dates, reverse=True)  # newest first, as applied
    for change in overlay["changes"]:
        assert change["introduced"]["botocore"] and change["introduced"]["commit"] and change["summary"]


def test_overlay_checks_fail_loudly_when_the_model_moves():
    overlay = load_overlay("2019-12")
    overlay["checks"]["shapes"]["KeyStorePasswordType"]["min_length"] = 3
    with pytest.raises(UsageError, match="KeyStorePasswordType.min_length"):
        apply_overlay(load_model(), overlay)
    bad = load_overlay("2019-12")
    bad["changes"][0]["revert"] = [{"set": {"shape": "NoSuchShape", "field": "pattern", "value": None}}]
    with pytest.raises(UsageError, match="NoSuchShape"):
        apply_overlay(load_model(), bad)


def test_unknown_edition_and_semantics():
    assert known_editions() == ["current", "2019-12"]
    with pytest.raises(UsageError, match="unknown edition"):
        edition_model("1999-01")
    assert edition_semantics("2019-12")["update_requires_disconnected"] == "all"
    cur = edition_semantics("current")["update_requires_disconnected"]
    assert "KeyStorePassword" in cur and "NewCustomKeyStoreName" not in cur
