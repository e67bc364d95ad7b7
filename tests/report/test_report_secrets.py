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
