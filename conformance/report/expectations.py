"""Expectation files: known results per target, so CI fails only on regressions.

A YAML file (kept outside the code, one per target) says which verdict a case
or a requirement is known to have, with a reason and an optional link:

    target: moto-server          # informational
    cases:
      "UpdateCustomKeyStore/*":  # fnmatch wildcards on case ids
        verdict: UNIMPLEMENTED
        reason: moto has no custom key store support
      "CreateCustomKeyStore/structural/CustomKeyStoreName-max+1":
        verdict: FAIL
        reason: accepts 257 characters
        link: https://example.invalid/issue/12
    requirements:
      UPD-010: {verdict: [FAIL, ERROR], reason: "...", link: null}

Matching: an exact case id wins, then the most specific wildcard (longest
pattern), then the requirements the case cites (any of them). Applying:
  - a judged FAIL/ERROR the entry expects becomes EXPECTED_FAIL;
  - a PASS (or NON_STRICT, i.e. right code and status) where the entry expects
    anything but PASS/NON_STRICT becomes UNEXPECTED_PASS (the file is stale:
    the target improved; update the file);
  - any other mismatch keeps the judged verdict (a new FAIL stays FAIL);
the judged verdict is kept in the case as `raw_verdict`.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance.yamlfile import read_yaml
from conformance.errors import ConfigError
from conformance.report.results import atomic_write_text, refresh_derived
from conformance.report.formatting import FAILING
from conformance.verdicts import Verdict

# Judged verdicts an expectation entry turns into EXPECTED_FAIL, and those it finds unexpectedly passing.
EXCUSABLE = {Verdict.FAIL.value, Verdict.ERROR.value}
PASSING = {Verdict.PASS.value, Verdict.NON_STRICT.value}
_WILDCARD = set("*?[")


@dataclass
class Expectation:
    key: str  # case id, case id pattern, or requirement id
    verdicts: tuple[str, ...]
    reason: str
    link: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "verdict": list(self.verdicts), "reason": self.reason, "link": self.link}


@dataclass
class Expectations:
    cases: dict[str, Expectation] = field(default_factory=dict)
    requirements: dict[str, Expectation] = field(default_factory=dict)
    target: str | None = None
    path: str | None = None

    def for_case(self, case: dict[str, Any]) -> Expectation | None:
        """The entry that governs a case (exact id > longest matching wildcard > cited requirement)."""
        cid = case["id"]
        if cid in self.cases:
            return self.cases[cid]
        patterns = [k for k in self.cases if _WILDCARD & set(k) and fnmatch.fnmatchcase(cid, k)]
        if patterns:
            return self.cases[max(patterns, key=len)]
        found = [self.requirements[r] for r in case.get("requirements") or [] if r in self.requirements]
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        verdicts = tuple(dict.fromkeys(v for e in found for v in e.verdicts))
        return Expectation(key=",".join(e.key for e in found), verdicts=verdicts,
                           reason="; ".join(e.reason for e in found), link=found[0].link)


def _parse_entry(section: str, key: Any, value: Any, where: str) -> Expectation:
    if not isinstance(key, str) or not key:
        raise ConfigError(f"{where}: {section} keys must be non-empty strings (got {key!r})")
    if isinstance(value, str):
        value = {"verdict": value}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {section}.{key} must be a mapping with verdict and reason")
    unknown = set(value) - {"verdict", "reason", "link"}
    if unknown:
        raise ConfigError(f"{where}: {section}.{key} has unknown key(s): {', '.join(sorted(map(str, unknown)))}")
    raw = value.get("verdict")
    raw_list = raw if isinstance(raw, list) else [raw]
    verdicts = []
    for v in raw_list:
        try:
            verdicts.append(Verdict(str(v).upper()).value)
        except ValueError:
            allowed = ", ".join(v.value for v in Verdict)
            raise ConfigError(f"{where}: {section}.{key}.verdict {v!r} is not one of {allowed}") from None
    if not verdicts:
        raise ConfigError(f"{where}: {section}.{key}.verdict is required")
    reason = value.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{where}: {section}.{key}.reason is required (say why this result is expected)")
    link = value.get("link")
    if link is not None and not isinstance(link, str):
        raise ConfigError(f"{where}: {section}.{key}.link must be a string")
    return Expectation(key=key, verdicts=tuple(verdicts), reason=reason.strip(), link=link)


def parse_expectations(data: Any, where: str = "expectations") -> Expectations:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: top level must be a mapping with 'cases' and/or 'requirements'")
    unknown = set(data) - {"target", "cases", "requirements", "note"}
    if unknown:
        raise ConfigError(f"{where}: unknown top-level key(s): {', '.join(sorted(map(str, unknown)))}")
    out = Expectations(target=data.get("target"), path=where)
    for section in ("cases", "requirements"):
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise ConfigError(f"{where}: '{section}' must be a mapping of id -> {{verdict, reason, link}}")
        for key, value in entries.items():
            getattr(out, section)[key] = _parse_entry(section, key, value, where)
    return out


def load_expectations(path: str | os.PathLike) -> Expectations:
    """Read an expectation file; a bad file is a one-line ConfigError (exit 2)."""
    p = Path(path)
    data = read_yaml(p, "expectation file")
    return parse_expectations(data, where=str(p))


def resolve(judged: str, expectation: Expectation) -> str:
    """The verdict a judged verdict becomes under one expectation entry."""
    if judged in EXCUSABLE and judged in expectation.verdicts:
        return Verdict.EXPECTED_FAIL.value
    if judged in PASSING and not (set(expectation.verdicts) & PASSING):
        return Verdict.UNEXPECTED_PASS.value
    return judged


def apply_expectations(results: dict[str, Any], expectations: Expectations) -> dict[str, Any]:
    """A copy of results with expectations applied (raw_verdict kept) and summaries recomputed.

    Applying twice is harmless: the judged verdict (raw_verdict) is the input.
    """
    out = dict(results)
    cases = []
    changed = 0
    for case in results.get("cases", []):
        case = dict(case)
        judged = case.get("raw_verdict") or case["verdict"]
        case.pop("raw_verdict", None)
        case.pop("expectation", None)
        case["verdict"] = judged
        entry = expectations.for_case(case)
        if entry is not None:
            new = resolve(judged, entry)
            case["expectation"] = entry.to_dict()
            if new != judged:
                case["raw_verdict"] = judged
                case["verdict"] = new
                changed += 1
        cases.append(case)
    out["cases"] = cases
    out["expectations"] = {"path": expectations.path, "applied": changed}
    return refresh_derived(out)


def exit_code(results: dict[str, Any]) -> int:
    """0 when only expected results occurred; 1 on any FAIL, ERROR or UNEXPECTED_PASS."""
    return 1 if any(c["verdict"] in FAILING for c in results.get("cases", [])) else 0


def _entry_dict(verdicts: list[str], reason: str, link: str | None) -> dict[str, Any]:
    d: dict[str, Any] = {"verdict": verdicts[0] if len(verdicts) == 1 else verdicts, "reason": reason}
    if link:
        d["link"] = link
    return d


def expectations_from_results(results: dict[str, Any], previous: Expectations | None = None) -> dict[str, Any]:
    """The expectation document a run implies: every FAIL, ERROR and UNIMPLEMENTED case.

    Judged verdicts are used (raw_verdict when present). A previous wildcard or
    requirement entry that still describes a case is kept instead of a new
    per-case entry (with its reason and link); an operation whose cases are all
    UNIMPLEMENTED collapses to one "<Operation>/*" entry; entries that no longer
    match anything are dropped.
    """
    cases = results.get("cases", [])
    judged = {c["id"]: (c.get("raw_verdict") or c["verdict"]) for c in cases}
    by_op: dict[str, list[dict[str, Any]]] = {}
    for c in cases:
        by_op.setdefault(c.get("operation") or "?", []).append(c)
    case_entries: dict[str, dict[str, Any]] = {}
    req_entries: dict[str, dict[str, Any]] = {}
    notable = EXCUSABLE | {Verdict.UNIMPLEMENTED.value}

    def keep(old: Expectation) -> None:
        doc = _entry_dict(list(old.verdicts), old.reason, old.link)
        if previous and old.key in previous.requirements:
            req_entries[old.key] = doc
        elif previous and old.key in previous.cases:
            case_entries[old.key] = doc
        else:  # a merge of several requirement entries: keep each
            for key in old.key.split(","):
                e = previous.requirements[key]  # type: ignore[union-attr]
                req_entries[key] = _entry_dict(list(e.verdicts), e.reason, e.link)

    # An old wildcard/requirement entry is kept only if it still holds for every case it governs.
    governing = {c["id"]: previous.for_case(c) for c in cases} if previous else {}
    valid: dict[str, bool] = {}
    for c in cases:
        old = governing.get(c["id"])
        if old is not None:
            holds = resolve(judged[c["id"]], old) not in FAILING
            valid[old.key] = valid.get(old.key, True) and holds

    for op, op_cases in by_op.items():
        if all(judged[c["id"]] == Verdict.UNIMPLEMENTED.value for c in op_cases):
            key = f"{op}/*"
            old = previous.cases.get(key) if previous else None
            if old is not None and Verdict.UNIMPLEMENTED.value in old.verdicts and valid.get(key, True):
                keep(old)
            else:
                case_entries[key] = _entry_dict([Verdict.UNIMPLEMENTED.value],
                                                f"{op} is not implemented by this target", None)
            continue
        for c in op_cases:
            verdict = judged[c["id"]]
            if verdict not in notable:
                continue
            old = governing.get(c["id"])
            if old is not None and verdict in old.verdicts and valid.get(old.key, False):
                keep(old)
            else:
                reason = (c.get("detail") or "").strip()[:300] or f"judged {verdict}"
                case_entries[c["id"]] = _entry_dict([verdict], reason, None)
    doc: dict[str, Any] = {}
    target = (results.get("target") or {}).get("name")
    if target:
        doc["target"] = target
    doc["cases"] = dict(sorted(case_entries.items()))
    if req_entries:
        doc["requirements"] = dict(sorted(req_entries.items()))
    return doc


def write_expectations(results: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write (or refresh) an expectation file from a run, for `--update-expectations`."""
    p = Path(path)
    previous = load_expectations(p) if p.exists() else None
    doc = expectations_from_results(results, previous)
    header = (
        "# kms-conformance expectation file (see conformance/report/expectations.py for the rules).\n"
        f"# Written by --update-expectations from a run of {results.get('started') or 'unknown date'}; "
        "review the reasons before committing.\n"
    )
    atomic_write_text(p, header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120))
    return p
