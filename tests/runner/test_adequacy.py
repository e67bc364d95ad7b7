"""`kms-conformance adequacy`: exit codes, what it reports, bad input. Small selections keep it cheap;
tests/reference/test_reference_faults.py runs every fault through the same engine."""

from __future__ import annotations

import json

from conformance import cli

# Cases that see a not-found answer's status (so notfound-404 shows) and never make eleven stores
# (so limit-not-enforced cannot show).
SELECTION = "DeleteCustomKeyStore/scenario/not-found"


def test_a_fault_the_selection_cannot_detect_exits_1_and_says_which(tmp_path, capsys):
    out = tmp_path / "adq"
    code = cli.main(["adequacy", "-k", SELECTION, "--fault", "notfound-404", "--fault", "limit-not-enforced",
                     "--jobs", "2", "--report-dir", str(out)])
    printed = capsys.readouterr()
    assert code == 1, printed.err
    assert "1 of 2 seeded faults detected (undetected: limit-not-enforced)" in printed.out
    data = json.loads((out / "adequacy.json").read_text())
    faults = {f["fault"]: f for f in data["faults"]}
    assert faults["notfound-404"]["detected"] and faults["notfound-404"]["shown"] == {"PROTO-005": "FAIL"}
    assert faults["notfound-404"]["cases"] == [SELECTION] and not faults["notfound-404"]["beyond"]
    assert not faults["limit-not-enforced"]["detected"] and faults["limit-not-enforced"]["missed"] == ["CRE-037"]
    assert data["summary"]["undetected"] == ["limit-not-enforced"]
    assert data["control"]["summary"]["PASS"] == 1 and data["summary"]["control_failing_cases"] == []
    # per requirement the selection cites (or a fault showed failing): the faults that guard it
    assert {r["id"]: r["faults"] for r in data["requirements"]} == {"PROTO-005": ["notfound-404"], "DEL-004": []}
    md = (out / "adequacy.md").read_text()
    assert "| limit-not-enforced | **NO** | 0 |" in md and "| notfound-404 | yes | 1 | PROTO-005 |" in md
    # each fault's run is a results.json the usual reports render from
    assert json.loads((out / "faults" / "notfound-404" / "results.json").read_text())["faults"] == ["notfound-404"]


def test_every_fault_detected_exits_0(tmp_path, capsys):
    code = cli.main(["adequacy", "-k", SELECTION, "--fault", "notfound-404", "--jobs", "1", "--no-control",
                     "--report-dir", str(tmp_path / "adq")])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "1 of 1 seeded faults detected;" in printed.out
    assert "[1/1] notfound-404: detected (PROTO-005) by 1 case(s)" in printed.err


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    for argv, said in ((["--fault", "no-such-fault"], "--fault no-such-fault: no such fault"),
                       (["-k", "no-such-case-anywhere"], "selected no case")):
        code = cli.main(["adequacy", *argv, "--report-dir", str(tmp_path / "adq")])
        err = capsys.readouterr().err
        assert code == 2 and said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    try:  # argparse refuses it before anything runs
        cli.main(["adequacy", "--jobs", "0"])
    except SystemExit as exc:
        assert exc.code == 2 and "must be at least 1" in capsys.readouterr().err
    else:
        raise AssertionError("--jobs 0 was accepted")
