"""`kms-conformance cases`: list case ids; `--where ID` names the source line that makes the case."""

from pathlib import Path

import pytest

from conformance.cli import main

REPO = Path(__file__).resolve().parents[2]


def listed(capsys, *argv):
    assert main(["cases", *argv]) == 0
    return [line.split("\t") for line in capsys.readouterr().out.splitlines()]


def test_lists_id_kind_operation_requirements(capsys):
    rows = listed(capsys, "-k", "DescribeCustomKeyStores and auth")
    assert len(rows) == 5
    for case_id, kind, operation, requirements in rows:
        assert case_id.startswith("DescribeCustomKeyStores/auth/") and kind == "auth"
        assert operation == "DescribeCustomKeyStores" and requirements.startswith("AUTH-")


def test_edition_changes_the_list(capsys):
    current = {r[0] for r in listed(capsys, "-k", "KeyStorePassword and structural")}
    old = {r[0] for r in listed(capsys, "--edition", "2019-12", "-k", "KeyStorePassword and structural")}
    assert "UpdateCustomKeyStore/structural/KeyStorePassword/length-above-max" in current - old


def where(capsys, case_id):
    assert main(["cases", "--where", case_id]) == 0
    site = capsys.readouterr().out.strip()
    path, line = site.rsplit(":", 1)
    path = Path(path) if Path(path).is_absolute() else Path.cwd() / path
    return path.resolve(), path.read_text().splitlines()[int(line) - 1]


@pytest.mark.parametrize(
    "case_id,module,source_line",
    [
        # a scenario: the line that names it
        ("DisconnectCustomKeyStore/scenario/refused-while-disconnected", "cases/scenarios/connection.py",
         "/scenario/refused-while-disconnected"),
        # generated ids: the generator's line that hands the id over to the case builder
        ("CreateCustomKeyStore/structural/CustomKeyStoreName/required-missing", "cases/structural.py", "single_request_case("),
        ("CreateCustomKeyStore/property/valid-accepted", "cases/properties.py", "Case("),
    ],
)
def test_where_names_the_source_line_that_makes_the_case(capsys, case_id, module, source_line):
    path, text = where(capsys, case_id)
    assert path == REPO / "conformance" / module
    assert source_line in text


def test_where_an_unknown_case_is_one_line_and_exit_2(capsys):
    assert main(["cases", "--where", "Nope/scenario/none"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "kms-conformance: no case 'Nope/scenario/none' in edition current (list them: kms-conformance cases)"
