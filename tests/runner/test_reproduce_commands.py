"""How a case's reproduce command is chosen and written: the request alone only when it is
stateless and can be written without a secret value; otherwise the case run with the run's flags."""

from __future__ import annotations

import json
import shlex
from types import SimpleNamespace

import pytest

from conformance import cli
from conformance.cases.base import Case, CaseContext
from conformance.cases.requests import PASSWORD_VARIABLE, boto3_request, reproduce_command, wire_request
from conformance.errors import UsageError
from conformance.redact import scrub_secret_fragments
from conformance.runner.options import OPTIONS, RERUN_REPORT_DIR, RunOptions, rerun_args
from conformance.runner.select import select_cases, select_for_run
from conformance.world import World

PASSWORD = "world-Passw0rd"


def ctx(endpoint="http://127.0.0.1:4599", adapter="endpoint", rerun=()):
    target = SimpleNamespace(identity=SimpleNamespace(region="us-east-1", adapter=adapter, endpoint=endpoint),
                             world=World(kmsuser_password=PASSWORD))
    return CaseContext(target=target, edition="current", strictness="regex", seed=0, driver=None, model=None,
                       rerun_args=tuple(rerun))


def case(kind="structural", cid="UpdateCustomKeyStore/structural/x"):
    return Case(id=cid, operation="UpdateCustomKeyStore", kind=kind, requirements=("UPD-001",), title="t",
                run=lambda rec: None)


def test_a_stateless_request_with_the_world_password_is_an_aws_cli_line_reading_a_variable():
    request = boto3_request("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-1", "KeyStorePassword": PASSWORD})
    line = reproduce_command(ctx(), case(), request, steps=1, observed={"status": 400})
    command, _, hint = line.partition("  # ")
    assert command.startswith("aws kms update-custom-key-store --endpoint-url http://127.0.0.1:4599")
    assert PASSWORD not in line and "REDACTED" not in line and PASSWORD_VARIABLE in hint
    words = shlex.split(command.replace(f"${PASSWORD_VARIABLE}", PASSWORD))  # what bash passes the CLI
    assert json.loads(words[words.index("--cli-input-json") + 1]) == request["params"]
    assert scrub_secret_fragments(line) == line  # the report keeps the variable


def test_a_raw_body_with_the_world_password_is_a_curl_line_reading_a_variable():
    body = json.dumps({"CustomKeyStoreId": "cks-1", "KeyStorePassword": PASSWORD})
    line = reproduce_command(ctx(), case("protocol"), wire_request(body, amz_target="TrentService.UpdateCustomKeyStore"),
                             steps=1)
    command = line.partition("  # ")[0]
    assert command.startswith("curl ") and PASSWORD not in line
    words = shlex.split(command.replace(f"${PASSWORD_VARIABLE}", PASSWORD))
    assert json.loads(words[words.index("--data-binary") + 1]) == json.loads(body)


def test_any_other_secret_value_or_state_or_generation_makes_it_the_case_run():
    rerun = ("--endpoint-url", "http://127.0.0.1:4599", "--fault", "f")
    c = ctx(rerun=rerun)
    generated = boto3_request("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-1", "KeyStorePassword": "x" * 129})
    plain = boto3_request("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-1"})
    expected = shlex.join(["kms-conformance", "run", "--case", case().id, *rerun])
    assert reproduce_command(c, case(), generated, steps=1) == expected  # a secret the user cannot supply
    assert reproduce_command(c, case(), plain, steps=2) == expected  # setup steps
    assert reproduce_command(c, case(), None, steps=1) == expected
    for kind in ("scenario", "property", "stateful", "schemathesis"):
        assert reproduce_command(c, case(kind), plain, steps=1) == expected
    expired = wire_request("{}", amz_target="TrentService.DescribeCustomKeyStores", signing="expired")
    assert reproduce_command(c, case("auth"), expired, steps=1) == expected  # curl would sign it correctly


def test_an_answer_the_cli_would_not_show_is_a_curl_line():
    plain = boto3_request("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-1"})
    assert reproduce_command(ctx(), case(), plain, steps=1, observed={"status": 400}).startswith("aws kms ")
    assert reproduce_command(ctx(), case(), plain, steps=1, observed={"status": 404}).startswith("curl ")


def test_an_in_process_reference_line_says_how_to_serve_the_same_target():
    plain = boto3_request("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-1"})
    line = reproduce_command(ctx(endpoint=None, adapter="reference", rerun=("--fault", "f1", "--seed", "0")),
                             case(), plain, steps=1)
    assert "${KMS_ENDPOINT_URL:-" in line and "kms-conformance serve --edition current --fault f1" in line


def test_rerun_args_repeat_every_target_and_verdict_option_and_nothing_else():
    options = RunOptions(config="t.yaml", edition="2019-12", strictness="code", seed=3, faults=("a", "b"),
                         expectations="e.yaml", allow_live=True, call_timeout=2.5, keyword="x", cases=("y",),
                         report_dir="out", record="cas", progress=False)
    args = list(rerun_args(options))
    assert args == ["--config", "t.yaml", "--edition", "2019-12", "--strictness", "code", "--seed", "3",
                    "--fault", "a", "--fault", "b", "--expectations", "e.yaml", "--allow-live",
                    "--call-timeout", "2.5", "--report-dir", RERUN_REPORT_DIR]
    assert rerun_args(RunOptions()) == ("--edition", "current", "--strictness", "regex", "--seed", "0",
                                        "--report-dir", RERUN_REPORT_DIR)
    # every option that selects the target or changes a verdict is repeated
    assert {o.field for o in OPTIONS if o.rerun} == {"target", "config", "endpoint_url", "edition", "strictness",
                                                     "seed", "faults", "expectations", "allow_live", "call_timeout",
                                                     "stateful_transitions"}


CASES = [case(cid=i) for i in ("A/structural/x", "A/structural/x-long", "B/scenario/y")]


def test_case_selects_exactly_that_id_and_an_unknown_id_is_a_usage_error():
    assert [c.id for c in select_cases(CASES, None, ["A/structural/x"])] == ["A/structural/x"]
    assert [c.id for c in select_cases(CASES, "x")] == ["A/structural/x", "A/structural/x-long"]  # -k: substrings
    with pytest.raises(UsageError, match="--case A/nope: no such case"):
        select_cases(CASES, None, ["A/nope"])


def test_a_selection_of_nothing_is_a_usage_error_naming_it_and_a_hint():
    with pytest.raises(UsageError) as err:
        select_for_run(CASES, "typo", (), "current")
    assert "-k typo selected no case of edition current" in str(err.value)
    assert "kms-conformance cases -k typo --edition current" in str(err.value)
    assert select_for_run(CASES, None, ()) == CASES


def test_run_with_k_matching_nothing_exits_2_with_one_line(tmp_path, capsys):
    assert cli.main(["run", "--no-progress", "--report-dir", str(tmp_path), "-k", "NoSuchThing"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "selected no case" in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "results.json").exists()


def test_redaction_keeps_our_shell_variables_and_blanks_everything_else():
    kept = '--cli-input-json "{\\"KeyStorePassword\\": \\"$KMS_KEYSTORE_PASSWORD\\"}"'
    assert scrub_secret_fragments(kept) == kept
    for value in ("$home-Passw0rd", "kmsuser-Passw0rd", "$HOME"):
        assert value not in scrub_secret_fragments(f'{{"KeyStorePassword": "{value}"}}')
        assert value not in scrub_secret_fragments(f"--key-store-password '{value}'")
