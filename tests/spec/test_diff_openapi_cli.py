"""Edition diff, OpenAPI rendering and the `spec` command group."""

from __future__ import annotations

import json
import re

import pytest

from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.cli import main
from conformance.spec import edition_model, load_model
from conformance.spec.diff import diff_models
from conformance.spec.openapi import anchored, render_openapi


# ------------------------------------------------------------------------ diff


def test_diff_2019_12_to_current_shows_password_bounds_and_xks():
    diffs = diff_models(edition_model("2019-12"), edition_model("current"))
    rows = {(d.where, d.kind, d.item): (d.old, d.new) for d in diffs}
    assert rows[("KeyStorePasswordType", "constraint", "min_length")] == (1, 7)
    assert rows[("KeyStorePasswordType", "constraint", "max_length")] == (None, 32)
    for member in ("XksProxyUriEndpoint", "XksProxyUriPath", "XksProxyAuthenticationCredential", "XksProxyConnectivity",
                   "XksProxyVpcEndpointServiceName", "XksProxyVpcEndpointServiceOwner"):
        assert rows[("UpdateCustomKeyStoreRequest", "member", member)][0] == "absent"
        assert rows[("CreateCustomKeyStoreRequest", "member", member)][0] == "absent"
    assert rows[("CreateCustomKeyStoreRequest", "member", "CustomKeyStoreType")][0] == "absent"
    assert rows[("CustomKeyStoresListEntry", "member", "XksProxyConfiguration")][0] == "absent"
    assert rows[("CreateCustomKeyStoreRequest", "required", "KeyStorePassword")] == (True, False)
    assert rows[("CloudHsmClusterIdType", "constraint", "pattern")] == (None, "cluster-[2-7a-zA-Z]{11,16}")
    assert rows[("DescribeCustomKeyStores", "errors", "InvalidMarkerException")] == ("not listed", "listed")
    assert rows[("CreateCustomKeyStore", "errors", "LimitExceededException")] == ("not listed", "listed")
    assert rows[("ConnectionErrorCodeType", "enum", "USER_NOT_FOUND")] == ("absent", "present")
    assert rows[("XksProxyUriPathType", "shape", "(whole shape)")][0] == "absent"
    assert "len 10..128" in rows[("XksProxyUriPathType", "shape", "(whole shape)")][1]
    # Nothing about the unchanged operations.
    assert not [d for d in diffs if d.where in ("ConnectCustomKeyStore", "DisconnectCustomKeyStore", "DeleteCustomKeyStore")]


def test_diff_is_empty_for_the_same_edition_and_reversible():
    assert diff_models(edition_model("current"), edition_model("current")) == []
    fwd = diff_models(edition_model("2019-12"), edition_model("current"))
    back = diff_models(edition_model("current"), edition_model("2019-12"))
    assert len(fwd) == len(back)
    assert {(d.where, d.item) for d in fwd} == {(d.where, d.item) for d in back}


def test_cli_diff_table_and_json(capsys):
    assert main(["spec", "diff", "2019-12", "current"]) == 0
    out = capsys.readouterr().out
    assert "KeyStorePasswordType" in out and "XksProxyUriEndpoint" in out and "2019-12" in out
    assert main(["spec", "diff", "2019-12", "current", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["old"], doc["new"]) == ("2019-12", "current")
    assert {"where": "KeyStorePasswordType", "kind": "constraint", "item": "min_length", "old": 1, "new": 7} in doc["differences"]


def test_diff_table_in_a_terminal_keeps_bracketed_regex_text():
    """rich reads `[a-zA-Z0-9.-]` as markup: in a terminal the pattern lost its brackets (`^https://+$`)."""
    from rich.console import Console

    from conformance.spec.diff import render_diff_table

    diffs = diff_models(edition_model("2019-12"), edition_model("current"))
    assert any("^https://[a-zA-Z0-9.-]+$" in str(d.new) for d in diffs)
    console = Console(force_terminal=True, width=400, record=True, color_system=None)
    render_diff_table(diffs, "[old]", "[new]", console=console)
    text = console.export_text()
    assert "^https://[a-zA-Z0-9.-]+$" in text and "^https://+$" not in text
    assert "[old]" in text and "[new]" in text


def test_requirements_table_in_a_terminal_keeps_bracketed_text(capsys, monkeypatch):
    import dataclasses

    import rich.console

    from conformance.cli.spec import _print_requirements_table
    from conformance.spec.requirements import load_requirements

    monkeypatch.setattr(rich.console.Console, "is_terminal", property(lambda self: True))
    monkeypatch.setenv("COLUMNS", "400")
    base = load_requirements()[0]
    req = dataclasses.replace(base, title="UriEndpoint must match ^https://[a-zA-Z0-9.-]+$ [bold]")
    _print_requirements_table([req], None, None)
    out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)  # colours only
    assert "^https://[a-zA-Z0-9.-]+$ [bold]" in out


def test_cli_rejects_unknown_edition(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["spec", "diff", "2019-12", "1999"])
    assert exc.value.code == 2
    assert "unknown edition '1999'" in capsys.readouterr().err


# --------------------------------------------------------------------- openapi


@pytest.fixture(scope="module")
def openapi_doc():
    return render_openapi(edition_model("current"))


def test_openapi_loads_in_schemathesis(openapi_doc):
    import schemathesis

    schema = schemathesis.openapi.from_dict(openapi_doc)
    labels = sorted(r.ok().label for r in schema.get_all_operations())
    assert labels == sorted(f"POST /TrentService.{op}" for op in CUSTOM_KEY_STORE_OPERATIONS)


def test_openapi_is_valid_openapi_3_1(openapi_doc):
    from jsonschema import Draft202012Validator

    assert openapi_doc["openapi"] == "3.1.0"
    for name, schema in openapi_doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        if "pattern" in schema:
            re.compile(schema["pattern"])


def test_openapi_constraints_match_the_model(openapi_doc):
    model = load_model()
    schemas = openapi_doc["components"]["schemas"]
    pw = schemas["KeyStorePasswordType"]
    assert (pw["minLength"], pw["maxLength"], pw["x-kms-sensitive"]) == (7, 32, True)
    assert schemas["CloudHsmClusterIdType"]["pattern"] == "^(?:cluster-[2-7a-zA-Z]{11,16})$"
    assert schemas["LimitType"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert schemas["CustomKeyStoreType"]["enum"] == ["AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"]
    upd = schemas["UpdateCustomKeyStoreRequest"]
    assert upd["required"] == ["CustomKeyStoreId"] and upd["additionalProperties"] is True
    assert set(upd["properties"]) == {m.name for m in model.shapes["UpdateCustomKeyStoreRequest"].members}
    # Every string constraint of every reachable shape is carried over.
    for name, schema in schemas.items():
        if name not in model.shapes:
            continue
        s = model.shapes[name]
        if s.type == "string":
            assert schema.get("minLength") == s.min_length and schema.get("maxLength") == s.max_length, name
            assert schema.get("pattern") == (anchored(s.pattern) if s.pattern else None), name
            assert schema.get("enum") == (list(s.enum) if s.enum else None), name
    post = openapi_doc["paths"]["/TrentService.UpdateCustomKeyStore"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/UpdateCustomKeyStoreRequest"}
    assert set(post["responses"]) == {"200", "400", "500"}
    assert post["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("AwsJsonErrorEnvelope")
    assert schemas["AwsJsonErrorEnvelope"]["required"] == ["__type"]


def test_openapi_2019_12_has_seed_constraints():
    doc = render_openapi(edition_model("2019-12"))
    schemas = doc["components"]["schemas"]
    assert schemas["KeyStorePasswordType"]["minLength"] == 1 and "maxLength" not in schemas["KeyStorePasswordType"]
    assert "XksProxyUriEndpoint" not in schemas["UpdateCustomKeyStoreRequest"]["properties"]
    assert doc["info"]["version"].endswith("+2019-12")


def test_every_botocore_kms_pattern_compiles_for_schemathesis():
    model = load_model()
    for s in model.shapes.values():
        if s.pattern:
            re.compile(anchored(s.pattern))
    render_openapi(model, operations=list(model.operations))  # whole service renders


def test_openapi_cli_writes_file(tmp_path, capsys):
    out = tmp_path / "o.json"
    assert main(["spec", "openapi", "--edition", "2019-12", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["info"]["version"].endswith("2019-12")
    assert "wrote" in capsys.readouterr().out
    assert main(["spec", "openapi", "--operation", "GenerateRandom"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc["paths"]) == ["/TrentService.GenerateRandom"]
    assert main(["spec", "openapi", "--operation", "Nope"]) == 2
    assert "unknown operation" in capsys.readouterr().err


# ------------------------------------------------------------------------ sync


def test_cli_sync_check_on_committed_slice(capsys):
    assert main(["spec", "sync", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_cli_sync_check_reports_drift(tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["spec", "sync", "--out", str(out)]) == 0
    assert main(["spec", "sync", "--check", "--source", "smithy", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "differs" in err and "CloudHsmClusterIdType" in err and "--" not in err.splitlines()[0]
    assert main(["spec", "sync", "--source", str(tmp_path / "missing.json"), "--out", str(out)]) == 2
    assert "model source not found" in capsys.readouterr().err


def test_spec_without_subcommand_is_usage_error(capsys):
    assert main(["spec"]) == 2


@pytest.mark.slow
def test_schemathesis_positive_bodies_pass_the_oracle(openapi_doc):
    """What Schemathesis generates as valid, the oracle also calls valid (same constraints)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    from conformance.spec import predict_validation

    model = edition_model("current")
    schema = schemathesis.openapi.from_dict(openapi_doc)
    for result in schema.get_all_operations():
        op = result.ok()
        name = op.definition.raw["operationId"]
        if name not in ("CreateCustomKeyStore", "UpdateCustomKeyStore", "DescribeCustomKeyStores"):
            continue  # the others only carry CustomKeyStoreId, covered by these

        @settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        @given(op.as_strategy())
        def check(case):
            prediction = predict_validation(name, case.body, model=model)
            assert prediction is None, (case.body, prediction.message)

        check()


def test_diff_shows_every_xks_requirement_as_an_edition_difference(capsys):
    from conformance.spec.diff import requirement_differences
    from conformance.spec.requirements import load_requirements

    rows = {d.where: (d.old, d.new) for d in requirement_differences("2019-12", "current")}
    xks = [r.id for r in load_requirements() if r.preconditions.store_type == "EXTERNAL_KEY_STORE"]
    assert xks and all(rows[rid] == ("absent", "applies") for rid in xks)
    assert {d.where for d in requirement_differences("current", "current")} == set()
    assert main(["spec", "diff", "2019-12", "current", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"where": "UPD-040", "kind": "requirement"}.items() <= next(
        d for d in doc["differences"] if d["where"] == "UPD-040").items()
