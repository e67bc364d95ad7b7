"""Compare two runs case by case: where do two targets' (or a live run's and a cassette's) answers differ?

Two kinds of difference:
- verdict changes: a case whose verdict differs (PASS -> ERROR, FAIL -> PASS, ...) or
  that only one run has. They always count, at every strictness: a run that
  errors where the other passed is not "the same";
- observation differences, each classed by the lowest strictness at which it matters:
  code  - status, error code, transport failure, unimplemented, a step missing on one side
  regex - message shape (ids, timestamps, numbers and quoted values blanked), body structure
          (a JSON path present on one side only, or a different JSON type)
  exact - message text, body values
  info  - shown, never counted (step labels)
`compare --strictness S` exits 1 when any verdict changed or any observation difference at S
or below exists.
Ids (cks-, cluster-, UUIDs, ARNs, account ids) and timestamps are normalised
on both sides first, so two runs of the same behaviour compare equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.report.results import load_results, utc_now
from conformance.report.formatting import outcome_line, target_label

LEVELS = ("code", "regex", "exact")
_RANK = {"code": 0, "regex": 1, "exact": 2, "info": 99}

# Order matters: ARNs contain account ids and UUIDs.
_ID_PATTERNS = [
    # The store-name run prefix of conformance.targets.driving.make_run_prefix (kmsconf-<UTC stamp>-<hex>).
    (re.compile(r"\bkmsconf-\d{8}T\d{6}-[0-9a-f]{4}"), "<run>"),
    (re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:[^\s\"',]+"), "<arn>"),
    (re.compile(r"\bcks-[0-9a-zA-Z]+\b"), "cks-<id>"),
    (re.compile(r"\bcluster-[0-9a-zA-Z]+\b"), "cluster-<id>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<uuid>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "<timestamp>"),
    # SigV4's compact X-Amz-Date form (also quoted in "Signature expired: ..." messages).
    (re.compile(r"\b\d{8}T\d{6}Z\b"), "<timestamp>"),
    (re.compile(r"\b\d{12}\b"), "<account>"),
    # Epoch seconds (2017..2033) quoted in a check's detail ("CreationDate 1796211610.885 is a JSON number").
    (re.compile(r"\b1[5-9]\d{8}(?:\.\d+)?\b"), "<timestamp>"),
]
_SHAPE_PATTERNS = [
    (re.compile(r"'[^']*'|\"[^\"]*\"|\[[^\]]*\]"), "<value>"),
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "<n>"),
    (re.compile(r"\s+"), " "),
]
_TIME_KEY = re.compile(r"(Date|Time|Timestamp)$")
# Members whose value is random by definition (GenerateRandom's bytes, a fresh ciphertext).
_RANDOM_KEYS = {"Plaintext", "CiphertextBlob"}
# Error envelope keys: compared through error_code/message, not again in the body.
_ENVELOPE_KEYS = {"__type", "message", "Message", "code"}
# Timing and bookkeeping that differ between any two runs.
_VOLATILE_KEYS = {"latency_s", "polls", "waited_s", "attempts", "request_id", "duration_s"}


def normalise_text(text: str) -> str:
    for rx, repl in _ID_PATTERNS:
        text = rx.sub(repl, text)
    return text


def message_shape(text: str) -> str:
    text = normalise_text(text)
    for rx, repl in _SHAPE_PATTERNS:
        text = rx.sub(repl, text)
    return text.strip()


def normalise_value(value: Any, key: str = "") -> Any:
    if _TIME_KEY.search(key) and value is not None and not isinstance(value, (dict, list)):
        return "<timestamp>"
    if key in _RANDOM_KEYS and isinstance(value, str):
        return "<random>"
    if isinstance(value, dict):
        return {k: normalise_value(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise_value(v, key) for v in value]
    if isinstance(value, str):
        return normalise_text(value)
    return value


def _type_name(v: Any) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    return {dict: "object", list: "array", str: "string", type(None): "null"}.get(type(v), type(v).__name__)


def json_diff(a: Any, b: Any, path: str = "$") -> list[tuple[str, Any, Any, str]]:
    """(json path, a, b, level) for every place two JSON values differ.

    Hand-written: ~20 lines, and no installed library reports JSON paths with a
    structural/value distinction.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if path == "$" and k in _ENVELOPE_KEYS:
                continue
            sub = f"{path}.{k}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) else f"{path}[{k!r}]"
            if k not in a:
                out.append((sub, "(absent)", b[k], "regex"))
            elif k not in b:
                out.append((sub, a[k], "(absent)", "regex"))
            else:
                out.extend(json_diff(a[k], b[k], sub))
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for i in range(max(len(a), len(b))):
            sub = f"{path}[{i}]"
            if i >= len(a):
                out.append((sub, "(absent)", b[i], "regex"))
            elif i >= len(b):
                out.append((sub, a[i], "(absent)", "regex"))
            else:
                out.extend(json_diff(a[i], b[i], sub))
        return out
    if _type_name(a) != _type_name(b):
        return [(path, a, b, "regex")]
    return [] if a == b else [(path, a, b, "exact")]


@dataclass
class Difference:
    case_id: str
    where: str  # "observed", "step 2 (connect)", "case"
    path: str  # status | error_code | message | $.json.path | verdict | ...
    a: Any
    b: Any
    level: str  # code | regex | exact | info

    def counts_at(self, strictness: str) -> bool:
        return _RANK[self.level] <= _RANK[strictness]

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "where": self.where, "path": self.path, "a": self.a, "b": self.b,
                "level": self.level}


def compare_observations(case_id: str, where: str, a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[Difference]:
    if a is None and b is None:
        return []
    if a is None or b is None:
        return [Difference(case_id, where, "observation", outcome_line(a), outcome_line(b), "code")]
    diffs = []

    def add(path, va, vb, level):
        diffs.append(Difference(case_id, where, path, va, vb, level))

    if not ({"status", "error_code", "transport_error"} & (set(a) | set(b))):
        # A check or poll step, not an HTTP answer: compare what it found, minus timing.
        strip = lambda d: {k: v for k, v in d.items() if k not in _VOLATILE_KEYS}  # noqa: E731
        for path, va, vb, level in json_diff(normalise_value(strip(a)), normalise_value(strip(b))):
            add(path, va, vb, level)
        return diffs

    for key in ("status", "error_code"):
        if a.get(key) != b.get(key):
            add(key, a.get(key), b.get(key), "code")
    if bool(a.get("transport_error")) != bool(b.get("transport_error")):
        add("transport_error", a.get("transport_error"), b.get("transport_error"), "code")
    if bool(a.get("unimplemented")) != bool(b.get("unimplemented")):
        add("unimplemented", a.get("unimplemented"), b.get("unimplemented"), "code")
    ma, mb = a.get("message"), b.get("message")
    if (ma is None) != (mb is None):
        add("message", ma, mb, "regex")
    elif ma is not None:
        na, nb = normalise_text(str(ma)), normalise_text(str(mb))
        if na != nb:
            add("message", ma, mb, "regex" if message_shape(na) != message_shape(nb) else "exact")
    ba, bb = a.get("body"), b.get("body")
    if ba is None and bb is None:
        ra, rb = normalise_text(a.get("raw_body") or ""), normalise_text(b.get("raw_body") or "")
        if ra != rb:
            add("raw_body", a.get("raw_body"), b.get("raw_body"), "exact")
    elif ba is None or bb is None:
        add("body", "(not JSON)" if ba is None else "JSON", "(not JSON)" if bb is None else "JSON", "regex")
    else:
        for path, va, vb, level in json_diff(normalise_value(ba), normalise_value(bb)):
            add(path, va, vb, level)
    return diffs


@dataclass
class VerdictChange:
    """A case whose verdict differs between the runs; None on the side that does not have the case."""

    case_id: str
    a: str | None
    b: str | None
    detail_a: str = ""
    detail_b: str = ""

    @property
    def detail(self) -> str:
        """Why, from the side that did not pass (B's when neither did)."""
        return self.detail_a if self.b == "PASS" and self.a not in (None, "PASS") else self.detail_b or self.detail_a

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "a": self.a or ABSENT, "b": self.b or ABSENT,
                "detail_a": self.detail_a, "detail_b": self.detail_b}


ABSENT = "(absent)"


def compare_cases(a: dict[str, Any], b: dict[str, Any]) -> list[Difference]:
    """Observation differences of one case (its verdicts are compared by compare_results)."""
    cid = a["id"]
    diffs = []
    diffs += compare_observations(cid, "observed", a.get("observed"), b.get("observed"))
    sa, sb = a.get("steps") or [], b.get("steps") or []
    if len(sa) != len(sb):
        diffs.append(Difference(cid, "steps", "count", len(sa), len(sb), "code"))
    for i, (x, y) in enumerate(zip(sa, sb), 1):
        where = f"step {i} ({x.get('label', '')})"
        if normalise_text(x.get("label", "")) != normalise_text(y.get("label", "")):
            diffs.append(Difference(cid, where, "label", x.get("label"), y.get("label"), "info"))
        diffs += compare_observations(cid, where, x.get("observed"), y.get("observed"))
    return diffs


@dataclass
class Comparison:
    a: dict[str, Any]
    b: dict[str, Any]
    strictness: str
    differences: list[Difference]
    compared: int
    only_a: list[str]
    only_b: list[str]
    verdict_changes: list[VerdictChange] = field(default_factory=list)

    @property
    def counting(self) -> list[Difference]:
        return [d for d in self.differences if d.counts_at(self.strictness)]

    @property
    def differing_cases(self) -> list[str]:
        """Cases whose observations differ at the strictness (verdict changes are listed apart)."""
        return list(dict.fromkeys(d.case_id for d in self.counting))

    @property
    def exit_code(self) -> int:
        return 1 if self.counting or self.verdict_changes else 0

    def by_case(self) -> dict[str, list[Difference]]:
        out: dict[str, list[Difference]] = {}
        for d in self.differences:
            out.setdefault(d.case_id, []).append(d)
        return out

    def summary_line(self) -> str:
        n, v = len(self.differing_cases), len(self.verdict_changes)
        return (f"{self.compared} cases compared ({len(self.only_a)} only in A, {len(self.only_b)} only in B): "
                f"{v} verdict change{'' if v == 1 else 's'}, {n} differ at strictness {self.strictness}"
                + ("" if n or v else " (no difference)"))


def _replace_tokens(obj: Any, tokens: list[str]) -> Any:
    """Replace run-unique literals (a store-name run prefix) with <run>, as cassettes do."""
    if not tokens:
        return obj
    if isinstance(obj, dict):
        return {k: _replace_tokens(v, tokens) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_replace_tokens(v, tokens) for v in obj]
    if isinstance(obj, str):
        for t in tokens:
            obj = obj.replace(t, "<run>")
    return obj


def _run_tokens(results: dict[str, Any]) -> list[str]:
    tokens = results.get("run_prefix") or results.get("run_tokens") or []
    if isinstance(tokens, str):
        tokens = [tokens]
    return sorted((t for t in tokens if isinstance(t, str) and len(t) >= 3), key=len, reverse=True)


def compare_results(a: dict[str, Any], b: dict[str, Any], strictness: str | None = None) -> Comparison:
    strictness = strictness or a.get("strictness") or "regex"
    if strictness not in LEVELS:
        from conformance.errors import UsageError

        raise UsageError(f"unknown strictness {strictness!r} (choose from {', '.join(LEVELS)})")
    tokens_a, tokens_b = _run_tokens(a), _run_tokens(b)
    cases_b = {c["id"]: c for c in b.get("cases", [])}
    ids_a = [c["id"] for c in a.get("cases", [])]
    diffs: list[Difference] = []
    compared = 0
    for case in a.get("cases", []):
        other = cases_b.get(case["id"])
        if other is None:
            continue
        compared += 1
        diffs += compare_cases(_replace_tokens(case, tokens_a), _replace_tokens(other, tokens_b))
    only_a = [i for i in ids_a if i not in cases_b]
    only_b = [i for i in cases_b if i not in set(ids_a)]
    return Comparison(a, b, strictness, diffs, compared, only_a, only_b, verdict_changes(a, b))


def verdict_changes(a: dict[str, Any], b: dict[str, Any]) -> list[VerdictChange]:
    """Every case whose verdict differs, or that one run lacks, in A's case order then B's."""
    cases_a = {c["id"]: c for c in a.get("cases", [])}
    cases_b = {c["id"]: c for c in b.get("cases", [])}
    changes = []
    for cid in dict.fromkeys([*cases_a, *cases_b]):
        ca, cb = cases_a.get(cid), cases_b.get(cid)
        va, vb = (ca or {}).get("verdict"), (cb or {}).get("verdict")
        if va != vb:
            changes.append(VerdictChange(cid, va, vb, (ca or {}).get("detail") or "", (cb or {}).get("detail") or ""))
    return changes


def compare_files(path_a, path_b, strictness: str | None = None) -> Comparison:
    return compare_results(load_results(path_a), load_results(path_b), strictness)


def _short(v: Any, limit: int = 160) -> str:
    import json

    text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_comparison(cmp: Comparison, console=None, show_all: bool = False) -> None:
    """Terminal view: one table per differing case (counting differences; all with show_all)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    console.print(f"A: {target_label(cmp.a)}  ({cmp.a.get('_source', '')})", highlight=False, soft_wrap=True)
    console.print(f"B: {target_label(cmp.b)}  ({cmp.b.get('_source', '')})", highlight=False, soft_wrap=True)
    if cmp.verdict_changes:
        # Lines, not a table: a case id stays whole (ready for -k) at any terminal width.
        console.print(f"Verdict changes ({len(cmp.verdict_changes)}):", style="bold", highlight=False)
        for change in cmp.verdict_changes:
            row = change.to_dict()
            console.print(f"  {row['a']} -> {row['b']}  {escape(change.case_id)}", highlight=False, soft_wrap=True)
            if change.detail:
                console.print(f"      {escape(_short(change.detail, 240))}", highlight=False, soft_wrap=True)
    shown_by_case = {cid: shown for cid, diffs in cmp.by_case().items()
                     if (shown := [d for d in diffs if show_all or d.counts_at(cmp.strictness)])}
    if shown_by_case:
        console.print("Observation differences", style="bold", highlight=False)
    for cid, shown in shown_by_case.items():
        table = Table(title=escape(cid), title_justify="left", show_lines=False, expand=False)
        for col in ("where", "path", "A", "B", "level"):
            table.add_column(col, overflow="fold")
        for d in shown:
            table.add_row(*(escape(x) for x in (d.where, d.path, _short(d.a), _short(d.b), d.level)))
        console.print(table)
    console.print(cmp.summary_line(), highlight=False, soft_wrap=True)


def write_comparison_html(cmp: Comparison, path: str | Path) -> Path:
    from conformance.report.templating import environment

    env = environment(autoescape=True)
    rows = []
    for cid, diffs in cmp.by_case().items():
        rows.append({
            "id": cid,
            "counting": any(d.counts_at(cmp.strictness) for d in diffs),
            "diffs": [dict(d.to_dict(), a=_short(d.a, 2000), b=_short(d.b, 2000),
                           counts=d.counts_at(cmp.strictness)) for d in diffs],
        })
    html = env.get_template("compare.html.j2").render(
        a_label=target_label(cmp.a), b_label=target_label(cmp.b),
        a_source=cmp.a.get("_source"), b_source=cmp.b.get("_source"),
        strictness=cmp.strictness, summary=cmp.summary_line(), rows=rows, generated=utc_now(),
        verdict_changes=[dict(c.to_dict(), detail=_short(c.detail, 2000)) for c in cmp.verdict_changes],
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
