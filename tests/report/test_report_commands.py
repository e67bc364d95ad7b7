"""`kms-conformance render` and `dashboard` wiring, through the real CLI dispatcher."""

from __future__ import annotations

import re

from junitparser import JUnitXml

from report_synthetic import synthetic_cases, write_run
from conformance.cli import main


def test_render_rebuilds_every_format_from_results_json(tmp_path, capsys):
    writer, _ = write_run(tmp_path)
    out = tmp_path / "rerendered"
    assert main(["render", str(writer.path), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "report.md"]
    assert [s.name for s in JUnitXml.fromfile(str(out / "junit.xml"))] == [
        "UpdateCustomKeyStore", "DescribeCustomKeyStores", "ConnectCustomKeyStore"]  # one suite per operation
    assert (out / "report.md").read_text() == (writer.report_dir / "report.md").read_text()


def test_render_combines_several_runs_into_one_matrix(tmp_path, capsys):
    a, _ = write_run(tmp_path, name="a")
    b, _ = write_run(tmp_path, cases=synthetic_cases()[:3], name="b")
    page = tmp_path / "index.html"
    assert main(["render", str(a.path), str(b.report_dir), "--html", str(page), "--title", "two runs"]) == 0
    html = page.read_text()
    header = re.search(r'<table class="matrix" id="req-matrix">\s*<thead>(.*?)</thead>', html, re.S).group(1)
    assert header.count("synthetic 0.1.0 edition current") == 2
    assert "<title>two runs</title>" in html


def test_render_usage_errors_are_one_line(tmp_path, capsys):
    a, _ = write_run(tmp_path, name="a")
    assert main(["render", str(a.path), str(a.path)]) == 2
    assert "give --html OUT" in capsys.readouterr().err
    assert main(["render", str(tmp_path / "nope" / "results.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kms-conformance: results file not found") and "\n" not in err


def test_dashboard_subcommand_delegates_to_the_dashboard_module(monkeypatch, tmp_path):
    import conformance.runner.dashboard as dashboard

    seen = {}

    def fake(args):
        seen.update(out=args.out, targets=args.targets)
        return 0

    monkeypatch.setattr(dashboard, "cli_dashboard", fake)
    assert main(["dashboard", "--out", str(tmp_path), "--targets", "reference,moto"]) == 0
    assert seen == {"out": str(tmp_path), "targets": "reference,moto"}
