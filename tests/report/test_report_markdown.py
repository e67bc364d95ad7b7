"""report.md: summary, per-operation table, and every non-PASS case with expected vs observed."""

from __future__ import annotations

from report_synthetic import synthetic_cases


def test_markdown_explains_every_non_pass_case(run_dir):
    md = (run_dir / "report.md").read_text()
    assert "## Summary" in md and "## Per operation" in md
    assert "| UpdateCustomKeyStore | 2 |" in md  # PASS column of the per-operation table
    for c in synthetic_cases():
        if str(c.verdict) == "PASS":
            assert f"<code>{c.id}</code>" not in md
        else:
            assert f"<code>{c.id}</code>" in md
    block = md.split("<code>UpdateCustomKeyStore/structural/KeyStorePassword-max+1</code>")[1].split("</details>")[0]
    assert "- expected: `400 ValidationException: bad`" in block
    assert "- observed: `200 success`" in block
    assert "aws kms updatecustomkeystore" in block  # the reproduce command
    assert "UPD-001, UPD-003" in block


def test_markdown_lists_steps_of_multi_step_cases(run_dir):
    md = (run_dir / "report.md").read_text()
    block = md.split("<code>UpdateCustomKeyStore/scenario/password-needs-disconnected</code>")[1].split("</details>")[0]
    assert "1. describe before: `200 success` [PASS]" in block
    assert "400 CustomKeyStoreInvalidStateException: store is CONNECTED` [FAIL]" in block


def test_markdown_escapes_html_from_target_answers(run_dir):
    md = (run_dir / "report.md").read_text()
    assert "<script>alert" not in md.split("## Cases not passing")[1].split("```")[0]


def test_markdown_names_the_checks_that_blamed_a_requirement(tmp_path):
    from report_synthetic import case, write_run
    from conformance.verdicts import Check, Verdict, requirement_blame

    failing = case("UpdateCustomKeyStore/scenario/b", "FAIL", reqs=("UPD-001", "UPD-002"))
    failing.blame = requirement_blame(failing.requirements, [
        Check("effect", Verdict.PASS, "unchanged", ("UPD-001",)),
        Check("code", Verdict.FAIL, "observed 200 while CONNECTED", ("UPD-002",))])
    write_run(tmp_path, cases=[failing])
    md = (tmp_path / "run" / "report.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| UPD-002 "))
    assert "| FAIL |" in row and "FAIL UpdateCustomKeyStore/scenario/b: code: observed 200 while CONNECTED" in row
    assert not any(line.startswith("| UPD-001 ") for line in md.splitlines())  # PASS: not among the failing
    assert "  - UPD-002 FAIL (code: observed 200 while CONNECTED)" in md
