"""No secret (registered with conformance.redact, or sent as KeyStorePassword) reaches any written file."""

from __future__ import annotations

import re

from report_synthetic import SECRET_CONFIG_VALUE, SECRET_PASSWORD, SHORT_PASSWORD, synthetic_cases, write_run
from conformance.redact import REDACTED, register_secret, registered_secrets


def _all_text(folder):
    return {p: p.read_text(encoding="utf-8", errors="replace") for p in folder.rglob("*") if p.is_file()}


def test_no_secret_in_any_written_file(tmp_path):
    from conformance.report.compare import compare_files, write_comparison_html
    from conformance.report.expectations import apply_expectations, load_expectations, write_expectations
    from conformance.report.render import render_combined_html

    before = set(registered_secrets())  # other tests' secrets (e.g. a word in our templates) are not ours
    register_secret("xks-secret-H5a-0123456789abcdef")
    cases = synthetic_cases()
    cases[0].observed["raw_body"] = "echo xks-secret-H5a-0123456789abcdef"
    cases[0].detail = f"the config password {SECRET_CONFIG_VALUE} was refused"
    writer, results = write_run(tmp_path, cases=cases)
    other, _ = write_run(tmp_path, cases=synthetic_cases()[:4], name="other")
    exp_path = write_expectations(results, tmp_path / "run" / "expectations.yaml")
    applied = apply_expectations(results, load_expectations(exp_path))
    writer.replace_results(applied)
    render_combined_html([writer.path, other.path], tmp_path / "run" / "combined.html")
    write_comparison_html(compare_files(writer.path, other.path, "exact"), tmp_path / "run" / "compare.html")

    # (another test may have registered the placeholder itself: scrubbing it is a no-op, not a leak)
    secrets = ({SECRET_PASSWORD, SECRET_CONFIG_VALUE, "xks-secret-H5a-0123456789abcdef"}
               | (set(registered_secrets()) - before)) - {REDACTED}
    files = _all_text(tmp_path)
    assert len(files) >= 10
    for path, text in files.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked into {path}"
        # The one-character password cannot be grepped for; the places it was sent must be blanked.
        assert not re.search(r"--key-store-password '?%s'?(\s|$)" % re.escape(SHORT_PASSWORD), text), path
        assert not re.search(r'"KeyStorePassword":\s*"%s"' % re.escape(SHORT_PASSWORD), text), path
    assert "***REDACTED***" in files[writer.path]


# ---------------------------------------------------------------------------- values, not substrings


def test_a_short_or_filler_secret_is_replaced_only_as_a_whole_value():
    from conformance.redact import redact

    request = {"params": {"KeyStorePassword": "aaaaaaa", "CloudHsmClusterId": "cluster-aaaaaaaaaaa",
                          "CustomKeyStoreName": "aaaaaaa", "Note": "a" * 257}}
    out = redact(request, secrets=["aaaaaaa", "0000", "q"])
    assert out["params"] == {"KeyStorePassword": REDACTED, "CloudHsmClusterId": "cluster-aaaaaaaaaaa",
                             "CustomKeyStoreName": REDACTED, "Note": "a" * 257}
    assert redact(["cks-0000000000000000", "q", "quiet"], secrets=["0000", "q"]) == ["cks-0000000000000000", REDACTED, "quiet"]
    # a long, varied secret is found inside any text: that is an echo, not chance
    echoed = redact({"message": "password Hunter2-Secret! is wrong"}, secrets=["Hunter2-Secret!"])
    assert echoed == {"message": f"password {REDACTED} is wrong"}


def test_registered_filler_values_do_not_touch_other_values():
    from conformance.redact import scrub

    register_secret("zzzzzzzzzz")  # a config secret made of filler: whole values only
    assert scrub("cluster-zzzzzzzzzzzz") == "cluster-zzzzzzzzzzzz"
    assert scrub("zzzzzzzzzz") == REDACTED


def test_redaction_does_not_depend_on_the_order_secrets_are_known_in():
    from itertools import permutations

    from conformance.redact import Redactor, redact

    secrets = ["abcdefgh12", "gh12345678xyz", "12345678", "Pa55-word-9"]
    text = {"m": "abcdefgh12345678xyz and Pa55-word-99 and 12345678"}
    outputs = {redact(text, secrets=list(p))["m"] for p in permutations(secrets)}
    assert outputs == {Redactor(p).text(text["m"]) for p in permutations(secrets)}
    assert outputs == {f"{REDACTED}345678xyz and {REDACTED}9 and {REDACTED}"}  # longest first, then by value


def test_the_marker_scan_finds_a_marker_inside_a_value():
    from redaction_scan import misplaced_markers

    assert misplaced_markers(f"Value 'cluster-{REDACTED}aa' at 'cloudHsmClusterId'")
    assert misplaced_markers(f'{{"CustomKeyStoreName": "{REDACTED}{REDACTED}"}}')
    assert misplaced_markers(f"https://{REDACTED}.example")
    assert not misplaced_markers(f'{{"KeyStorePassword": "{REDACTED}", "Name": "{REDACTED}"}}')
    assert not misplaced_markers(f"aws kms update-custom-key-store --key-store-password {REDACTED}")
    assert not misplaced_markers(f"Value '{REDACTED}' at 'keyStorePassword' failed")
    assert not misplaced_markers(f'"body": "{{\\"KeyStorePassword\\": \\"{REDACTED}\\"}}"')


def test_a_case_report_does_not_depend_on_the_cases_run_before_it(tmp_path):
    """Password cases (filler passwords at the length bounds) then cluster-id cases: nothing leaks across."""
    from redaction_scan import misplaced_markers_in

    from conformance.report.compare import compare_results
    from conformance.report.results import load_results
    from conformance.runner import RunOptions, run_suite

    clusters = "UpdateCustomKeyStore and structural and CloudHsmClusterId"
    run_suite(RunOptions(report_dir=str(tmp_path / "alone"), keyword=clusters, progress=False))
    run_suite(RunOptions(report_dir=str(tmp_path / "after"), progress=False,
                         keyword=f"(structural and KeyStorePassword) or ({clusters})"))
    alone, after = load_results(tmp_path / "alone"), load_results(tmp_path / "after")
    assert any(c["id"].startswith("CreateCustomKeyStore/structural/KeyStorePassword/") for c in after["cases"])
    assert "cluster-" in str(alone["cases"])  # the cases quote cluster ids, which must stay whole
    ids = {c["id"] for c in alone["cases"]}
    after["cases"] = [c for c in after["cases"] if c["id"] in ids]
    cmp = compare_results(alone, after, "exact")
    assert cmp.compared == len(ids) >= 10 and cmp.exit_code == 0, cmp.summary_line()
    for folder in ("alone", "after"):
        assert misplaced_markers_in(tmp_path / folder) == {}


def test_a_case_quoting_an_unpaired_surrogate_is_still_written(tmp_path):
    """A target may echo a generated value with a lone surrogate; results.json must still be written."""
    from report_synthetic import synthetic_cases

    from conformance.report.results import load_results

    cases = synthetic_cases()
    cases[0].observed["message"] = "Value 'cluster-\ud800x' at 'cloudHsmClusterId' failed"
    writer, _ = write_run(tmp_path, cases=cases)
    assert "Value 'cluster-\\ud800x' at" in load_results(writer.path)["cases"][0]["observed"]["message"]
