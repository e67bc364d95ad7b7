"""conformance.targets.emulators: start a real moto server on loopback, reach it, stop exactly it."""

from __future__ import annotations

import json
import os
import socket
import urllib.request

import pytest

from conformance.targets import emulators as emulator_tools


@pytest.fixture
def emulators(tmp_path, monkeypatch):
    monkeypatch.setenv("KMS_CONFORMANCE_EMULATORS_HOME", str(tmp_path / "home"))
    return emulator_tools


@pytest.mark.slow  # starts moto server (about 1-2 s)
def test_moto_server_starts_on_loopback_answers_and_stops(emulators):
    port = emulators.free_port()
    running = emulators.start("moto-server", port, timeout_s=30)
    try:
        assert running.url == f"http://127.0.0.1:{port}"
        assert running.version == emulators.version_of("moto-server") and running.version
        state = json.loads(emulators.state_file("moto-server").read_text())
        assert state["pid"] == running.pid
        request = urllib.request.Request(running.url + "/", data=b"{}", method="POST", headers={
            "X-Amz-Target": "TrentService.ListKeys", "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/kms/aws4_request, "
                             "SignedHeaders=host, Signature=00"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 200 and "Keys" in json.loads(resp.read())
        # a second start on the same port is refused with one clear reason
        with pytest.raises(emulators.EmulatorError, match="already in use"):
            emulators.start("moto-server", port)
    finally:
        emulators.stop("moto-server")  # by the recorded state file: the PID we started
    assert not emulators.state_file("moto-server").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(running.pid, 0)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_unknown_or_missing_emulators_are_one_line_errors(emulators, capsys):
    with pytest.raises(emulators.EmulatorError, match="unknown emulator 'nope'"):
        emulators.start("nope")
    assert emulators.main(["version", "ministack"]) in (0, 2)  # installed here or not: never a traceback
    capsys.readouterr()
    if not emulators.is_installed("ministack"):
        assert emulators.main(["start", "ministack", "--port", str(emulators.free_port())]) == 2
        assert ("ministack is not installed (run: python -m conformance.targets.emulators install ministack)"
                in capsys.readouterr().err)
    emulators.stop("moto-server")  # nothing recorded: a no-op


def test_servers_are_told_to_bind_loopback_only(emulators, tmp_path):
    for name in ("moto-server", "localstack", "ministack"):
        cmd, env = emulators._command(emulators.get(name), 4999, tmp_path)
        joined = " ".join(cmd) + " " + " ".join(f"{k}={v}" for k, v in env.items())
        assert "127.0.0.1" in joined and "0.0.0.0" not in joined, name
    _, env = emulators._command(emulators.get("localstack"), 4999, tmp_path)
    assert env["GATEWAY_SERVER"] == "hypercorn" and env["GATEWAY_LISTEN"] == "127.0.0.1:4999"
