"""Install, start and stop the third-party KMS emulators the dashboard and CI run against.

Standard library only (it starts servers, it does not talk KMS). Emulators whose
pins clash with ours (LocalStack 4.10, ministack) get their own virtualenv under the emulator home
(`$KMS_CONFORMANCE_EMULATORS_HOME`, default `~/.cache/kms-conformance/emulators`).
Every server binds 127.0.0.1 only. `stop` signals only the PID that `start`
recorded (and that process's own group), never processes by name.

    python -m conformance.targets.emulators install localstack
    python -m conformance.targets.emulators start moto-server --port 4599   # prints the URL
    python -m conformance.targets.emulators stop moto-server
    python -m conformance.targets.emulators version ministack
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Exact install lines. LocalStack 4.10 is the last release that runs without
# Docker on Python 3.11; its runtime extras need these upper bounds here.
LOCALSTACK_REQUIREMENTS = [
    "localstack-core[runtime]==4.10.0",
    "cbor2<6",
    "pyOpenSSL<24.3",
    "cryptography>=41.0.5,<44",
    "service_identity",
]
# ministack's KMS makes asymmetric and HMAC keys with `cryptography`, which only its "full" extra
# pulls in (with Docker and database clients it does not need for KMS): installed on its own.
MINISTACK_REQUIREMENTS = ["ministack==1.5.33", "cryptography>=41.0"]


@dataclass
class Emulator:
    name: str
    description: str
    default_port: int
    requirements: list[str] = field(default_factory=list)  # empty: runs from our own environment
    distribution: str = ""  # pip distribution whose version we report
    ready_path: str = "/"
    stop_grace_s: float = 5.0


EMULATORS = {
    "moto-server": Emulator(
        "moto-server", "moto in server mode (from the suite's own environment)", 4599,
        distribution="moto", ready_path="/moto-api/",
    ),
    "localstack": Emulator(
        "localstack", "LocalStack 4.10 without Docker (own venv)", 4566, LOCALSTACK_REQUIREMENTS,
        distribution="localstack-core", ready_path="/_localstack/health", stop_grace_s=3.0,
    ),
    "ministack": Emulator(
        "ministack", "ministack from PyPI (own venv)", 4567, MINISTACK_REQUIREMENTS,
        distribution="ministack",
    ),
}


class EmulatorError(Exception):
    """One-line failure (install failed, did not become ready, unknown emulator)."""


def home() -> Path:
    root = os.environ.get("KMS_CONFORMANCE_EMULATORS_HOME") or Path.home() / ".cache" / "kms-conformance" / "emulators"
    return Path(root)


def venv_dir(emu: Emulator) -> Path:
    return home() / emu.name / "venv"


def python_for(emu: Emulator) -> str:
    """The interpreter that runs this emulator: its own venv, or the one running this script."""
    if not emu.requirements:
        return sys.executable
    return str(venv_dir(emu) / "bin" / "python")


def get(name: str) -> Emulator:
    try:
        return EMULATORS[name]
    except KeyError:
        raise EmulatorError(f"unknown emulator {name!r} (known: {', '.join(EMULATORS)})") from None


def is_installed(name: str) -> bool:
    emu = get(name)
    if not emu.requirements:
        return _version_in(sys.executable, emu.distribution) is not None
    py = Path(python_for(emu))
    return py.exists() and _version_in(str(py), emu.distribution) is not None


def install(name: str, *, quiet: bool = True) -> str:
    """Create the emulator's venv and pip-install its pinned requirements. Returns its version."""
    emu = get(name)
    if not emu.requirements:
        version = _version_in(sys.executable, emu.distribution)
        if version is None:
            raise EmulatorError(f"{emu.distribution} is not installed in {sys.executable}'s environment")
        return version
    if is_installed(name):
        return version_of(name)
    vdir = venv_dir(emu)
    vdir.parent.mkdir(parents=True, exist_ok=True)
    base_python = os.environ.get("KMS_CONFORMANCE_EMULATOR_PYTHON") or _base_python()
    _run([base_python, "-m", "venv", str(vdir)], f"creating a venv for {name}")
    pip = [str(vdir / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("-q")
    _run(pip + ["--upgrade", "pip"], f"upgrading pip for {name}")
    _run(pip + emu.requirements, f"installing {name}")
    return version_of(name)


def version_of(name: str) -> str | None:
    emu = get(name)
    return _version_in(python_for(emu), emu.distribution)


@dataclass
class Running:
    """A started emulator: enough to reach it and to stop exactly this process."""

    name: str
    pid: int
    port: int
    url: str
    version: str | None
    log: str


def state_file(name: str) -> Path:
    return home() / name / "running.json"


def start(name: str, port: int | None = None, *, timeout_s: float = 60.0) -> Running:
    """Start the emulator on 127.0.0.1:port and wait until it answers HTTP."""
    emu = get(name)
    port = port or emu.default_port
    if not is_installed(name):
        raise EmulatorError(f"{name} is not installed (run: python -m conformance.targets.emulators install {name})")
    if _port_open(port):
        raise EmulatorError(f"port {port} on 127.0.0.1 is already in use")
    workdir = home() / name
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"server-{port}.log"
    cmd, env = _command(emu, port, workdir)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=str(workdir), start_new_session=True,  # its own group: stop() can reach its children
        )
    url = f"http://127.0.0.1:{port}"
    running = Running(name, proc.pid, port, url, version_of(name), str(log_path))
    state_file(name).write_text(json.dumps(asdict(running)))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            state_file(name).unlink(missing_ok=True)
            raise EmulatorError(f"{name} exited with code {proc.returncode} before it was ready (log: {log_path})")
        if _answers_http(url + emu.ready_path):
            return running
        time.sleep(0.2)
    stop(running)
    raise EmulatorError(f"{name} did not answer on {url} within {timeout_s:.0f}s (log: {log_path})")


def stop(running: Running | str) -> None:
    """SIGTERM the PID we started, then SIGKILL it after the emulator's grace period."""
    if isinstance(running, str):
        path = state_file(running)
        if not path.exists():
            return
        running = Running(**json.loads(path.read_text()))
    emu = get(running.name)
    pid = running.pid
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + emu.stop_grace_s
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    if _alive(pid):
        _signal(pid, signal.SIGKILL)  # LocalStack 4.10 hangs in shutdown: expected
        for _ in range(50):
            if not _alive(pid):
                break
            time.sleep(0.1)
    state_file(running.name).unlink(missing_ok=True)


# ---------------------------------------------------------------- helpers


def _command(emu: Emulator, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    py = python_for(emu)
    if emu.name == "moto-server":
        return [py, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env
    if emu.name == "localstack":
        fs_root = tempfile.mkdtemp(prefix="localstack-", dir=str(workdir))
        env.update(
            OVERRIDE_IN_DOCKER="0",
            GATEWAY_SERVER="hypercorn",  # the default server binds 0.0.0.0
            GATEWAY_LISTEN=f"127.0.0.1:{port}",
            DNS_ADDRESS="0",
            SERVICES="kms",
            FILESYSTEM_ROOT=fs_root,
            DISABLE_EVENTS="1",
            API_ENDPOINT="http://127.0.0.1:9/v1",  # no analytics or licence calls leave the host
            ANALYTICS_API="http://127.0.0.1:9/v1",
        )
        return [py, "-m", "localstack.runtime.main"], env
    if emu.name == "ministack":
        env.update(BIND_HOST="127.0.0.1", GATEWAY_PORT=str(port), SERVICES="kms")
        exe = str(Path(py).parent / "ministack")
        return [exe], env
    raise EmulatorError(f"no start command for {emu.name}")


def _base_python() -> str:
    """A plain interpreter for new venvs (not our .venv, so the emulator does not inherit it)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def _version_in(python: str, distribution: str) -> str | None:
    if not Path(python).exists():
        return None
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise EmulatorError(f"{what} failed: " + " | ".join(tail))


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _answers_http(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1.0).close()
        return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except (OSError, ValueError):
        return False


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the group start() created (start_new_session): pid == pgid
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.targets.emulators",
                                     description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("install", help="install an emulator (own venv where needed)")
    p.add_argument("name", choices=sorted(EMULATORS))
    p = sub.add_parser("start", help="start an emulator on 127.0.0.1 and print its URL")
    p.add_argument("name", choices=sorted(EMULATORS))
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--timeout", type=float, default=60.0)
    p = sub.add_parser("stop", help="stop the emulator `start` recorded")
    p.add_argument("name", choices=sorted(EMULATORS))
    p = sub.add_parser("version", help="print the installed version")
    p.add_argument("name", choices=sorted(EMULATORS))
    sub.add_parser("list", help="list the emulators and whether they are installed")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "install":
            print(install(args.name, quiet=True))
        elif args.cmd == "start":
            print(start(args.name, args.port, timeout_s=args.timeout).url)
        elif args.cmd == "stop":
            stop(args.name)
        elif args.cmd == "version":
            version = version_of(args.name)
            if version is None:
                raise EmulatorError(f"{args.name} is not installed")
            print(version)
        elif args.cmd == "list":
            for name, emu in EMULATORS.items():
                print(f"{name:12} {version_of(name) or 'not installed':16} {emu.description}")
    except EmulatorError as exc:
        print(f"emulators: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
