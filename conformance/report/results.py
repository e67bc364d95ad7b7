"""results.json: the one record of a run that every other format is rendered from.

It is rewritten atomically (temp file + os.replace) after every case, so a run
that crashes or is interrupted still leaves a valid file with every case it
finished (`finished` stays null, which is how readers tell a partial run).
"""

from __future__ import annotations

import atexit
import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, is_dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from conformance import __version__
from conformance.errors import UsageError
from conformance.redact import map_strings, redact, secret_values
from conformance.report.formatting import VERDICT_NAMES
from conformance.report.reachability import reachability
from conformance.verdicts import Verdict

RESULTS_FILE = "results.json"
SCHEMA_VERSION = 1
# A requirement that no case of this run exercised (filtered out by -k, or the
# run was interrupted first). Not a Verdict: nothing was judged.
NOT_RUN = "NOT_RUN"

def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _report_text(text: str) -> str:
    """A string as results.json holds it: UTF-8 encodable (a target may echo a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", errors="backslashreplace").decode("utf-8")
    return text


def _deep_scrub_fragments(obj: Any, secrets: Iterable[str] = ()) -> Any:
    """obj redacted for a report (conformance.redact.redact), `secrets` being the case's own secret values.

    A case's own secrets are scrubbed from that case only: registering them for the
    whole process would make a case's report depend on which cases ran before it.
    """
    return map_strings(redact(obj, secrets), _report_text)


def _jsonable(obj: Any) -> Any:
    """Make dataclasses/enums/bytes JSON-safe (observations may carry odd types)."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(asdict(obj))
    if isinstance(obj, Verdict):
        return obj.value
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, bytes):
        return obj.decode("utf-8", errors="replace")
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def case_to_dict(case_result: Any) -> dict[str, Any]:
    """A CaseResult (or an already-dict case) as a redacted, JSON-safe dict."""
    if hasattr(case_result, "to_dict"):
        data = case_result.to_dict()
    elif isinstance(case_result, dict):
        data = dict(case_result)
    else:
        data = asdict(case_result)
    data = _jsonable(data)
    data["verdict"] = Verdict(data["verdict"]).value
    data.setdefault("requirements", [])
    data.setdefault("steps", [])
    secrets = secret_values([data.get("request"), *(step.get("request") for step in data.get("steps") or [])])
    return _deep_scrub_fragments(data, secrets)


def _requirement_to_dict(req: Any) -> dict[str, Any]:
    get = req.get if isinstance(req, dict) else (lambda k, d=None: getattr(req, k, d))
    return {
        "id": get("id"),
        "title": get("title", "") or "",
        "operation": get("operation", "") or "",
        "level": get("level", "") or "",
        "editions": list(get("editions", None) or []),
        "source": _jsonable(get("source", None)),
    }


def summarize(cases: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Count cases per verdict; every verdict name appears (0 when none), plus total."""
    counts = {name: 0 for name in VERDICT_NAMES}
    total = 0
    for case in cases:
        counts[case["verdict"]] = counts.get(case["verdict"], 0) + 1
        total += 1
    counts["total"] = total
    return counts


def _blamed(case: dict[str, Any], rid: str) -> tuple[str | None, list[dict[str, Any]]]:
    """A requirement's verdict within one case and the checks that cited it.

    From the case's blame; a case without blame for it (a results.json of an older suite,
    a hand-made CaseResult) gives every requirement it cites the case verdict. An expectation file changes the case
    verdict (raw_verdict keeps the judged one): a requirement whose own verdict was the
    judged one takes the changed verdict too (FAIL -> EXPECTED_FAIL), the others keep theirs.
    """
    blame = case.get("blame")
    if not isinstance(blame, dict) or rid not in blame:
        return case["verdict"], []
    entry = blame[rid] or {}
    verdict = entry.get("verdict")
    raw = case.get("raw_verdict")
    if verdict is not None and raw and raw != case["verdict"] and verdict == raw:
        verdict = case["verdict"]
    return verdict, list(entry.get("checks") or [])


def requirement_verdicts(
    requirements: list[dict[str, Any]], cases: list[dict[str, Any]], edition: str | None
) -> list[dict[str, Any]]:
    """Each requirement with its cases and its verdict: the worst of the checks that cite it.

    A requirement is FAIL only when a check citing it failed (the case's blame); the other
    requirements of the same case keep their own verdicts. NOT_RUN when no case of this
    run exercised it or decided it (filtered out by -k, interrupted, or every case citing
    it stopped at another requirement's failure first). `checks` lists the non-PASS checks
    that cited it, with their case. Requirements of another edition are left out; an id
    a case or one of its checks cites that the catalogue lacks still gets a row, so
    nothing a case checked is hidden.
    """
    by_req: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        blame = case.get("blame") if isinstance(case.get("blame"), dict) else {}
        for rid in dict.fromkeys([*(case.get("requirements") or []), *blame]):
            by_req.setdefault(rid, []).append(case)
    rows = []
    seen = set()
    for req in requirements:
        rid = req["id"]
        if edition and req.get("editions") and edition not in req["editions"] and rid not in by_req:
            continue
        seen.add(rid)
        rows.append(dict(req))
    for rid, rcases in by_req.items():
        if rid not in seen:
            seen.add(rid)
            rows.append({"id": rid, "title": "", "operation": rcases[0].get("operation", ""),
                         "level": "", "editions": [], "source": None})
    rank = {name: i for i, name in enumerate(VERDICT_NAMES)}
    for row in rows:
        rcases = by_req.get(row["id"], [])
        decided: list[str] = []
        failed: list[dict[str, Any]] = []
        for case in rcases:
            verdict, checks = _blamed(case, row["id"])
            if verdict is None:
                continue
            decided.append(verdict)
            failed += [{"case": case["id"], **c} for c in checks if c.get("verdict") != Verdict.PASS.value]
        row["cases"] = [c["id"] for c in rcases]
        row["verdict"] = max(decided, key=rank.__getitem__) if decided else NOT_RUN
        row["checks"] = failed
    return rows


def refresh_derived(results: dict[str, Any]) -> dict[str, Any]:
    """Recompute summary and requirement verdicts from the cases (after expectations, too)."""
    results["summary"] = summarize(results["cases"])
    catalogue = [{k: v for k, v in r.items() if k not in ("cases", "verdict", "checks")}
                 for r in results.get("requirements", [])]
    results["requirements"] = requirement_verdicts(catalogue, results["cases"], results.get("edition"))
    rsum = {name: 0 for name in VERDICT_NAMES + [NOT_RUN]}
    for row in results["requirements"]:
        rsum[row["verdict"]] = rsum.get(row["verdict"], 0) + 1
    rsum["total"] = len(results["requirements"])
    results["requirements_summary"] = rsum
    if results.get("finished"):  # once per finished run, not on every incremental rewrite
        results["reachability"] = reachability(results)
    return results


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def dumps_results(head: dict[str, Any], case_lines: list[str]) -> str:
    """results.json text: one line per top-level key, per requirement and per case.

    Line-oriented on purpose: greppable, diff-friendly when committed, and
    encoded by the C JSON encoder (an indented dump of a long run is ~20x slower).
    """
    lines = ["{"]
    for key, value in head.items():
        if key in ("cases", "requirements") or key.startswith("_"):
            continue
        lines.append(f" {_compact(key)}: {_compact(value)},")
    reqs = head.get("requirements") or []
    lines.append(' "requirements": [' + ("" if reqs else "],"))
    if reqs:
        lines.append(",\n".join("  " + _compact(r) for r in reqs))
        lines.append(" ],")
    lines.append(' "cases": [' + ("" if case_lines else "]"))
    if case_lines:
        lines.append(",\n".join("  " + c for c in case_lines))
        lines.append(" ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_MODE = _file_mode()  # mkstemp makes 0600 files; results are meant to be shared like any report


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file in the same folder + os.replace: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, _MODE)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class ResultsWriter:
    """Collects CaseResults of one run into `report_dir/results.json`, rewriting it after each.

    Each case is redacted and serialised once when added; a rewrite only joins
    the cached fragments. Rewriting a multi-megabyte file after every one of
    1500 cases is quadratic disk traffic (a minute here), so a rewrite happens
    after a case only when `min_interval_s` has passed since the last one; the
    file is always current after finish(), flush(), and at interpreter exit
    (an exception that kills the run). A hard kill loses at most the cases of
    the last `min_interval_s`. Pass 0 to rewrite after every case.
    """

    def __init__(self, report_dir: str | os.PathLike, meta: dict[str, Any], requirements: Iterable[Any] = (),
                 min_interval_s: float = 0.5):
        self.report_dir = Path(report_dir)
        self.path = self.report_dir / RESULTS_FILE
        self._lock = threading.Lock()
        target = dict(meta.get("target") or {})
        for key in ("name", "adapter", "version", "endpoint"):
            target.setdefault(key, None)
        self.header: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "target": _jsonable(redact(target)),
            "edition": meta.get("edition"),
            "strictness": meta.get("strictness"),
            "suite_version": meta.get("suite_version") or __version__,
            "seed": meta.get("seed"),
            "started": meta.get("started") or utc_now(),
            "finished": None,
        }
        for key, value in meta.items():  # extra meta keys are kept (e.g. faults, keyword)
            if key not in self.header and key != "target":
                self.header[key] = _jsonable(redact(value))
        self.catalogue = [_requirement_to_dict(r) for r in requirements]
        self.cases: list[dict[str, Any]] = []
        self._fragments: list[str] = []
        self._t0 = time.monotonic()
        self.min_interval_s = min_interval_s
        self._last_write = 0.0
        self._write_cost = 0.0
        self._dirty = False
        try:
            self.report_dir.mkdir(parents=True, exist_ok=True)
            self._write()
        except OSError as exc:  # a bad --report-dir is a usage error, not a traceback
            raise UsageError(f"cannot write the report in {self.report_dir}: {exc.strerror or exc}") from None
        atexit.register(self._flush_at_exit)

    def add(self, case_result: Any) -> dict[str, Any]:
        """Record one case (redacted) and rewrite results.json. Returns the stored dict."""
        data = case_to_dict(case_result)
        with self._lock:
            self.cases.append(data)
            self._fragments.append(_compact(data))
            self._dirty = True
            if time.monotonic() - self._last_write >= self._interval():
                self._write()
        return data

    def _flush_at_exit(self) -> None:
        """Best effort at interpreter exit: never recreate a deleted folder, never raise."""
        if self._dirty and self.report_dir.is_dir():
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - an exit hook must not mask the real error
                pass

    def flush(self) -> None:
        """Rewrite results.json now if cases were added since the last rewrite."""
        with self._lock:
            if self._dirty:
                self._write()

    def results(self) -> dict[str, Any]:
        """The current results as a dict (summary and requirement verdicts up to date)."""
        out = dict(self.header)
        out["requirements"] = [dict(r) for r in self.catalogue]
        out["cases"] = list(self.cases)
        return refresh_derived(out)

    def _interval(self) -> float:
        """Seconds between rewrites after a case: min_interval_s, or 20x what the last rewrite took.

        A rewrite recomputes every requirement verdict and writes every case; late in a long
        run it costs tens of milliseconds, and the 20x keeps rewriting under 5% of the run.
        """
        return max(self.min_interval_s, 20.0 * self._write_cost) if self.min_interval_s else 0.0

    def _write(self) -> None:
        started = time.monotonic()
        atomic_write_text(self.path, dumps_results(self.results(), self._fragments))
        self._dirty = False
        self._last_write = time.monotonic()
        self._write_cost = self._last_write - started

    def finish(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Close the run: stamp `finished` and write the final results.json (render.py renders the rest)."""
        with self._lock:
            self.header["finished"] = utc_now()
            self.header["duration_s"] = round(time.monotonic() - self._t0, 3)
            if extra:
                self.header.update(_jsonable(redact(extra)))
            self._write()
        atexit.unregister(self._flush_at_exit)
        return load_results(self.path)

    def replace_results(self, results: dict[str, Any]) -> None:
        """Overwrite results.json with a transformed copy (e.g. after apply_expectations)."""
        write_results(results, self.path)


def write_results(results: dict[str, Any], path: str | os.PathLike) -> None:
    results = {k: v for k, v in results.items() if not k.startswith("_")}  # _source is in-memory only
    results = refresh_derived(_deep_scrub_fragments(_jsonable(results)))
    atomic_write_text(Path(path), dumps_results(results, [_compact(c) for c in results["cases"]]))


def load_results(path: str | os.PathLike) -> dict[str, Any]:
    """Read a results.json (a file or a report folder); one-line UsageError if unusable."""
    p = Path(path)
    if p.is_dir():
        p = p / RESULTS_FILE
        if not p.exists() and p.with_name(RESULTS_FILE + ".gz").exists():
            p = p.with_name(RESULTS_FILE + ".gz")  # a large run kept compressed (the dashboard's model-wide runs)
    try:
        if p.suffix == ".gz":
            import gzip

            data = json.loads(gzip.decompress(p.read_bytes()).decode("utf-8"))
        else:
            data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"results file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read results file {p}: {exc.__class__.__name__}") from None
    except ValueError as exc:
        raise UsageError(f"{p} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise UsageError(f"{p} is not a kms-conformance results file (no 'cases' list)")
    for case in data["cases"]:
        if not isinstance(case, dict) or "id" not in case or "verdict" not in case:
            raise UsageError(f"{p} is not a kms-conformance results file (a case lacks id/verdict)")
    data.setdefault("requirements", [])
    data.setdefault("target", {})
    data["_source"] = str(p)
    return data


def results_schema() -> dict[str, Any]:
    """The JSON Schema shipped with the package (results.schema.json)."""
    text = resources.files("conformance.report").joinpath("results.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def validate_results(results: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when results do not match the shipped schema."""
    import jsonschema

    data = {k: v for k, v in results.items() if not k.startswith("_")}
    jsonschema.validate(data, results_schema(), cls=jsonschema.Draft202012Validator)
