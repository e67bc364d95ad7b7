"""Whole-run cost of the suite against its floor, as ratios from one process.

Run: .venv/bin/python benchmarks/bench_whole_run.py [--rounds N] [--targets reference,served,moto] [--write]

For each target (the in-process reference, the served reference, moto):

1. record: one default run in this process, with every request the cases send captured
   where it leaves the suite (`WireTarget.call`: service, operation, params;
   `WireTarget.send_raw`: the raw request's arguments), with the status and error code
   of each answer;
2. floor: the same requests sent again, in order, straight through a plain botocore client
   (raw ones signed with botocore's SigV4 and sent through the same transport) against a
   fresh target of the same kind; store and key ids the target made are mapped from the
   recorded answers to the new ones, so later requests name what exists. `fidelity` is the
   share of replayed answers with the recorded status and error code (ability calls of the
   in-process reference, e.g. its virtual clock, are not requests and are not replayed);
3. run: `kms-conformance run` as a user starts it (a subprocess: interpreter start-up,
   imports, collection, every case, cleanup, every report).

Rounds alternate run and floor and the table shows medians. Also measured: start-up
(`--version`, `run --help`, time to the first request), the pytest plugin against the
CLI on the same selection, and `--workers 2` against one worker. Wall times on a busy
machine are noisy; the CPU-time ratios (user+sys of the subprocess) are less so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLI = str(BIN / "kms-conformance")
ID_RE = re.compile(r"cks-[0-9a-f]{17}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Subprocesses run as a user's would: with bytecode caches (some CI images set this variable).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


# ------------------------------------------------------------------------------ recording

def record_run(target_args: dict[str, Any], report_dir: str) -> list[dict[str, Any]]:
    """One run in this process; every request the cases sent, in order."""
    from conformance.runner import RunOptions, run_suite
    from conformance.targets.wire_target import WireTarget

    log: list[dict[str, Any]] = []
    call, send_raw = WireTarget.call, WireTarget.send_raw

    def recording_call(self, operation, params=None, *, service="kms"):
        obs = call(self, operation, params, service=service)
        log.append({"kind": "call", "service": service, "operation": operation, "params": dict(params or {}),
                    "status": obs.status, "code": obs.error_code, "body": obs.raw_body or ""})
        return obs

    def recording_raw(self, body, **kwargs):
        obs = send_raw(self, body, **kwargs)
        log.append({"kind": "raw", "body": body, "kwargs": kwargs, "status": obs.status, "code": obs.error_code,
                    "body_out": obs.raw_body or ""})
        return obs

    import conformance.runner.session as session_module

    open_target = session_module.open_target

    def recording_open(*args, **kwargs):  # ability calls (virtual clock, world control) are replayed too
        target = open_target(*args, **kwargs)
        for name in ("clock", "world_control", "pending_deletions"):
            ability = getattr(target.abilities, name, None)
            if ability is not None:
                setattr(target.abilities, name, _Recording(ability, name, log))
        return target

    WireTarget.call, WireTarget.send_raw = recording_call, recording_raw
    session_module.open_target = recording_open
    try:
        run_suite(RunOptions(report_dir=report_dir, progress=False, **target_args))
    finally:
        WireTarget.call, WireTarget.send_raw = call, send_raw
        session_module.open_target = open_target
    return log


class _Recording:
    """An ability whose method calls are logged (in request order) for the floor to repeat."""

    def __init__(self, inner, name: str, log: list):
        self._inner, self._name, self._log = inner, name, log

    def __getattr__(self, attr):
        value = getattr(self._inner, attr)
        if not callable(value):
            return value

        def logged(*args, **kwargs):
            self._log.append({"kind": "ability", "name": self._name, "method": attr, "args": args,
                              "kwargs": kwargs})
            return value(*args, **kwargs)

        return logged


# ------------------------------------------------------------------------------ the floor

class Floor:
    """Sends recorded requests through a plain botocore client (and raw ones through `transport`)."""

    def __init__(self, client_for, transport, endpoint_url: str, credentials, region: str = "us-east-1",
                 abilities=None):
        self.client_for, self.transport, self.endpoint_url = client_for, transport, endpoint_url
        self.abilities = abilities
        self.credentials, self.region = credentials, region

    def replay(self, log: list[dict[str, Any]]) -> tuple[float, float]:
        """(seconds, fidelity) for sending every request of `log` in order."""
        from botocore import xform_name
        from botocore.exceptions import ClientError

        from conformance.targets.wire import build_raw_request

        ids: dict[str, str] = {}
        same = 0
        methods = {}
        started = time.perf_counter()
        requests = 0
        for entry in log:
            if entry["kind"] == "ability":  # not a request: repeated so the target's state follows the run's
                ability = getattr(self.abilities, entry["name"], None) if self.abilities else None
                if ability is not None:
                    args = [_remap_text(a, ids) if isinstance(a, str) else a for a in entry["args"]]
                    try:
                        getattr(ability, entry["method"])(*args, **entry["kwargs"])
                    except Exception:  # noqa: BLE001 - refused as in the run, or not applicable
                        pass
                continue
            requests += 1
            if entry["kind"] == "call":
                key = (entry["service"], entry["operation"])
                if key not in methods:
                    methods[key] = getattr(self.client_for(entry["service"]), xform_name(entry["operation"]))
                params = _remap(entry["params"], ids)
                try:
                    answer = methods[key](**params)
                    answer.pop("ResponseMetadata", None)  # request ids are not the target's ids
                    status, code, text = 200, None, json.dumps(answer, default=str)
                except ClientError as exc:
                    meta = exc.response.get("ResponseMetadata", {})
                    status, code, text = meta.get("HTTPStatusCode"), exc.response["Error"].get("Code"), ""
                except Exception:  # noqa: BLE001 - a garbled answer the suite would judge; the floor just sends
                    status, code, text = None, None, ""
                recorded_text = entry["body"]
            else:
                body = entry["body"]
                if isinstance(body, (str, bytes)) and ids:
                    body = _remap_text(body if isinstance(body, str) else body.decode("utf-8", "replace"), ids)
                kwargs = dict(entry["kwargs"])
                request = build_raw_request(endpoint_url=self.endpoint_url, body=body,
                                            amz_target=kwargs.get("amz_target"),
                                            content_type=kwargs.get("content_type", "application/x-amz-json-1.1"),
                                            headers=kwargs.get("headers"), signing=kwargs.get("signing", "valid"),
                                            method=kwargs.get("method", "POST"), path=kwargs.get("path", "/"),
                                            credentials=self.credentials, region=self.region)
                try:
                    raw = self.transport.send(request, 30.0)
                    status, text = raw.status, raw.body.decode("utf-8", "replace")
                except Exception:  # noqa: BLE001
                    status, text = None, ""
                code = _code_of(text) if status and status >= 400 else None
                recorded_text = entry["body_out"]
            same += (status == entry["status"] and (code or None) == (entry["code"] or None))
            for old, new in zip(ID_RE.findall(recorded_text), ID_RE.findall(text)):
                if old != new:
                    ids.setdefault(old, new)
        return time.perf_counter() - started, same / max(1, requests)


def _code_of(text: str) -> str | None:
    try:
        kind = json.loads(text).get("__type")
    except (ValueError, AttributeError):
        return None
    return kind.rsplit("#", 1)[-1] if isinstance(kind, str) else None


def _remap_text(text: str, ids: dict[str, str]) -> str:
    return ID_RE.sub(lambda m: ids.get(m.group(0), m.group(0)), text)


def _remap(params: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    if not ids:
        return params
    try:
        return json.loads(_remap_text(json.dumps(params), ids))
    except (TypeError, ValueError):  # bytes and such: sent as recorded
        return params


def _plain_client(service: str, endpoint_url: str | None, credentials):
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        {"cloudhsm": "cloudhsmv2"}.get(service, service), region_name="us-east-1", endpoint_url=endpoint_url,
        aws_access_key_id=credentials.access_key, aws_secret_access_key=credentials.secret_key,
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}))


def floor_reference() -> tuple[Floor, Any]:
    """A fresh in-process reference (built as the adapter builds it), reached by botocore + werkzeug's client."""
    from conformance.targets import config_from_options, open_target
    from conformance.targets.wire import RawRequest, to_aws_response

    target = open_target(config_from_options(), announce=lambda *_: None)
    transport, creds = target._transport, target._credentials
    clients: dict[str, Any] = {}

    def hook(request, **_):
        body = request.body.read() if hasattr(request.body, "read") else request.body
        body = body.encode() if isinstance(body, str) else (body or b"")
        headers = {k: (v.decode("latin-1") if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()}
        return to_aws_response(request.url, transport.send(RawRequest(request.method, request.url, headers, body), 30))

    def client_for(service):
        if service not in clients:
            clients[service] = _plain_client(service, target.endpoint_url, creds)
            clients[service].meta.events.register("before-send", hook)
        return clients[service]

    return Floor(client_for, transport, target.endpoint_url, creds, abilities=target.abilities), target


def floor_served(url: str) -> tuple[Floor, Any]:
    from botocore.credentials import Credentials

    from conformance.reference import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY
    from conformance.targets.wire import HttpTransport

    creds = Credentials(EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY)
    clients: dict[str, Any] = {}

    def client_for(service):
        if service not in clients:
            clients[service] = _plain_client(service, url, creds)
        return clients[service]

    transport = HttpTransport()
    return Floor(client_for, transport, url, creds), transport


def floor_moto() -> tuple[Floor, Any]:
    from botocore.credentials import Credentials
    from moto import mock_aws

    from conformance.targets.wire import MotoTransport

    mock = mock_aws()
    mock.start()
    creds = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    clients: dict[str, Any] = {}

    def client_for(service):
        if service not in clients:
            clients[service] = _plain_client(service, None, creds)
        return clients[service]

    class Stop:
        def close(self):
            mock.stop()

    return Floor(client_for, MotoTransport(), "https://kms.us-east-1.amazonaws.com", creds), Stop()


# ------------------------------------------------------------------------------ subprocess timing

def timed_process(args: list[str], cwd: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+sys) of a subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(args[:4])}... exited {proc.returncode}: {proc.stderr[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def first_request_s(cwd: str) -> float:
    """Seconds from starting `kms-conformance run` to its first request leaving the suite."""
    code = ("import os, sys\nimport conformance.targets.wire as w\nsend = w.WsgiTransport.send\n"
            "def first(self, *a, **k):\n    print('FIRST', flush=True); os._exit(0)\n"
            "w.WsgiTransport.send = first\nfrom conformance.cli import main\n"
            "sys.exit(main(['run', '--no-progress', '--report-dir', 'ttfr']))")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=cwd, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if line.startswith("FIRST"):
            break
    elapsed = time.perf_counter() - started
    proc.wait()
    return elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served_reference():
    port = free_port()
    proc = subprocess.Popen([CLI, "serve", "--port", str(port)], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            break
        time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait()


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# ------------------------------------------------------------------------------ main

def bench_target(name: str, target_args: dict[str, Any], cli_args: list[str], make_floor, rounds: int,
                 work: str) -> dict[str, Any]:
    log = record_run(target_args, os.path.join(work, f"rec-{name}"))
    runs, cpus, floors, fidelity = [], [], [], []
    cases = None
    for r in range(rounds):
        out = os.path.join(work, f"run-{name}-{r}")
        wall, cpu = timed_process([CLI, "run", "--no-progress", "--report-dir", out, *cli_args], work)
        runs.append(wall)
        cpus.append(cpu)
        cases = len(json.loads(Path(out, "results.json").read_text())["cases"])
        floor, closer = make_floor()
        try:
            seconds, same = floor.replay(log)
        finally:
            closer.close()
        floors.append(seconds)
        fidelity.append(same)
    return {"target": name, "requests": sum(e["kind"] != "ability" for e in log), "cases": cases, "run_s": median(runs), "run_cpu_s": median(cpus),
            "floor_s": median(floors), "fidelity": median(fidelity)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--targets", default="reference,served,moto")
    parser.add_argument("--no-extras", action="store_true", help="targets only (no start-up, plugin, workers)")
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/README.md and README.md")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="kmsconf-bench-")
    os.environ.setdefault("KMS_CONFORMANCE_STATE_DIR", os.path.join(work, "state"))
    ENV["KMS_CONFORMANCE_STATE_DIR"] = os.environ["KMS_CONFORMANCE_STATE_DIR"]
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "conformance")], env=ENV,
                   stdout=subprocess.DEVNULL)
    rows = []
    wanted = args.targets.split(",")
    try:
        if "reference" in wanted:
            rows.append(bench_target("reference (in-process)", {}, [], floor_reference, args.rounds, work))
        if "served" in wanted:
            with served_reference() as url:
                rows.append(bench_target("reference (served, HTTP)", {"endpoint_url": url}, ["--endpoint-url", url],
                                         lambda: floor_served(url), args.rounds, work))
        if "moto" in wanted:
            rows.append(bench_target("moto (in-process)", {"target": "moto"}, ["--target", "moto"], floor_moto,
                                     args.rounds, work))
        extra = None if args.no_extras else bench_extras(args.rounds, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = render(rows, extra, args.rounds)
    print(table)
    if args.write:
        write_tables(table)


def bench_extras(rounds: int, work: str) -> dict[str, float]:
    """Start-up, plugin vs CLI, 1 vs 2 workers (alternated, medians)."""
    version, helps, ttfr = [], [], []
    for _ in range(max(5, rounds)):
        version.append(timed_process([CLI, "--version"], work)[0])
        helps.append(timed_process([CLI, "run", "--help"], work)[0])
    for _ in range(rounds):
        ttfr.append(first_request_s(work))
    ini = Path(work, "pytest.ini")
    ini.write_text("[pytest]\n")
    cli, plugin, cli_cpu, plugin_cpu, one, two, one_cpu, two_cpu = ([] for _ in range(8))
    for r in range(rounds):
        w, c = timed_process([CLI, "run", "--no-progress", "--report-dir", f"c{r}"], work)
        cli.append(w)
        cli_cpu.append(c)
        w, c = timed_process([sys.executable, "-m", "pytest", "--pyargs", "conformance.runner.suite", "-q",
                              "-p", "no:cacheprovider", "-p", "no:randomly", "-c", str(ini), "--rootdir", work,
                              "--kms-report-dir", f"p{r}"], work)
        plugin.append(w)
        plugin_cpu.append(c)
        w, c = timed_process([CLI, "run", "--no-progress", "--report-dir", f"one{r}", "--workers", "1"], work)
        one.append(w)
        one_cpu.append(c)
        w, c = timed_process([CLI, "run", "--no-progress", "--report-dir", f"two{r}", "--workers", "2"], work)
        two.append(w)
        two_cpu.append(c)
    return {"version_s": median(version), "help_s": median(helps), "first_request_s": median(ttfr),
            "cli_s": median(cli), "plugin_s": median(plugin), "cli_cpu_s": median(cli_cpu),
            "plugin_cpu_s": median(plugin_cpu), "one_s": median(one), "two_s": median(two),
            "one_cpu_s": median(one_cpu), "two_cpu_s": median(two_cpu)}


def render(rows: list[dict[str, Any]], extra: dict[str, float], rounds: int) -> str:
    load = os.getloadavg()[0]
    lines = [f"Measured {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, 1-min load average {load:.1f} "
             f"at the end, medians of {rounds} alternated rounds.", "",
             "| target | requests | floor s | run s | run / floor | run CPU s | cases/s | requests/s | fidelity |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['target']} | {r['requests']} | {r['floor_s']:.2f} | {r['run_s']:.2f} | "
                     f"{r['run_s'] / r['floor_s']:.2f} | {r['run_cpu_s']:.2f} | {r['cases'] / r['run_s']:.0f} | "
                     f"{r['requests'] / r['run_s']:.0f} | {r['fidelity']:.0%} |")
    e = extra
    if e is None:
        return "\n".join(lines)
    lines += ["", "| measure | value | goal |", "|---|---|---|",
              f"| `kms-conformance --version` | {e['version_s']:.2f} s | < 0.5 s |",
              f"| `kms-conformance run --help` | {e['help_s']:.2f} s | < 0.5 s |",
              f"| start to first request (`run`, in-process reference) | {e['first_request_s']:.2f} s | - |",
              f"| pytest plugin / CLI, full default run (wall) | {e['plugin_s'] / e['cli_s']:.2f} "
              f"({e['plugin_s']:.1f} s / {e['cli_s']:.1f} s) | <= 1.2 |",
              f"| pytest plugin / CLI (CPU) | {e['plugin_cpu_s'] / e['cli_cpu_s']:.2f} | - |",
              f"| `--workers 2` / `--workers 1` (wall) | {e['two_s'] / e['one_s']:.2f} "
              f"({e['two_s']:.1f} s / {e['one_s']:.1f} s) | - |",
              f"| `--workers 2` / `--workers 1` (CPU) | {e['two_cpu_s'] / e['one_cpu_s']:.2f} | - |"]
    return "\n".join(lines)


MARK_BEGIN, MARK_END = "<!-- bench_whole_run: begin -->", "<!-- bench_whole_run: end -->"


def write_tables(table: str) -> None:
    for path in (ROOT / "benchmarks" / "README.md", ROOT / "README.md"):
        text = path.read_text()
        if MARK_BEGIN in text and MARK_END in text:
            head, rest = text.split(MARK_BEGIN, 1)
            text = head + MARK_BEGIN + "\n" + table + "\n" + MARK_END + rest.split(MARK_END, 1)[1]
            path.write_text(text)
        else:
            print(f"{path}: no {MARK_BEGIN} marker; table not written", file=sys.stderr)


if __name__ == "__main__":
    main()
