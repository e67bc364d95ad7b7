"""Every input is checked before the first request: one line, exit 2 (issue 11, Why 7).

The target URL is a closed loopback port: had anything been sent, the run would end with exit 3
(unreachable), so exit 2 proves the input was refused first.
"""

from __future__ import annotations

import pytest

from conformance.cli import main

CLOSED = "http://127.0.0.1:9"


def _run(capsys, *args: str) -> tuple[int, list[str]]:
    code = main(["run", "--no-progress", "--endpoint-url", CLOSED, *args])
    return code, capsys.readouterr().err.strip().splitlines()


def test_closed_port_alone_is_exit_3(tmp_path, capsys):
    """The premise of the tests below."""
    code, err = _run(capsys, "--report-dir", str(tmp_path / "r"))
    assert code == 3 and len(err) == 1


def test_missing_expectation_file(tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    code, err = _run(capsys, "--report-dir", str(tmp_path / "r"), "--expectations", str(missing))
    assert (code, err) == (2, [f"kms-conformance: --expectations: no such file: {missing}"])


def test_bad_expectation_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("cases: [unclosed\n")
    code, err = _run(capsys, "--report-dir", str(tmp_path / "r"), "--expectations", str(bad))
    assert code == 2 and len(err) == 1 and str(bad) in err[0]


@pytest.mark.parametrize("flag", ["--record", "--report-dir"])
def test_folder_that_cannot_be_created(tmp_path, capsys, flag):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    args = ["--report-dir", str(tmp_path / "r")] if flag == "--record" else []
    code, err = _run(capsys, *args, flag, str(blocker / "sub"))
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"kms-conformance: {flag}: cannot create folder {blocker / 'sub'}")
    code, err = _run(capsys, *args, flag, str(blocker))
    assert (code, err) == (2, [f"kms-conformance: {flag}: {blocker} exists and is not a folder"])


def test_bad_config_file(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("target:\n  adapter: endpoint\n  endpoint_url: http://127.0.0.1:9\n  colour: blue\n")
    code = main(["run", "--no-progress", "--config", str(cfg), "--report-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "target.colour: unknown key" in err[0]
