"""junit.xml: one testcase per case, so any CI shows regressions without knowing our verdicts.

Built with the stdlib ElementTree (the format is a handful of elements; no
library adds anything). One <testsuite> per operation; testcase classname is
the operation and name the case id; the requirement ids are testcase
<properties> (read by Jenkins, GitLab and junitparser; ignored by others), and so
is the blame: a `blamed` property per requirement a failing check cited
("UPD-036 FAIL"), also written out in the failure text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from conformance.report.formatting import FAILING, NOT_EXERCISED, blame_lines, outcome_line, pretty
from conformance.verdicts import Verdict

# A run's unexpected verdicts are JUnit errors (ERROR) or failures (the rest); what was not exercised is skipped.
ERROR = {Verdict.ERROR.value}
FAILURE = FAILING - ERROR

# XML 1.0 cannot hold most control characters; garbage responses may contain them.
_BAD_XML = {c: None for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)}


def _clean(text: Any) -> str:
    return str(text if text is not None else "").translate(_BAD_XML)


def _case_text(case: dict[str, Any]) -> str:
    lines = [
        f"verdict: {case['verdict']}" + (f" (judged {case['raw_verdict']})" if case.get("raw_verdict") else ""),
        f"requirements: {', '.join(case.get('requirements') or [])}",
        *[f"blame: {line}" for line in blame_lines(case)],
        f"detail: {case.get('detail') or ''}",
        f"expected: {outcome_line(case.get('expected'), expected=True)}",
        f"observed: {outcome_line(case.get('observed'))}",
    ]
    if case.get("expectation"):
        exp = case["expectation"]
        lines.append(f"expectation: {exp.get('reason', '')} {exp.get('link') or ''}".rstrip())
    if case.get("reproduce"):
        lines.append(f"reproduce: {case['reproduce']}")
    for i, step in enumerate(case.get("steps") or [], 1):
        lines.append(f"step {i} {step.get('label', '')}: {outcome_line(step.get('observed'))}"
                     + (f" [{step['verdict']}]" if step.get("verdict") else ""))
    lines.append("request: " + pretty(case.get("request")))
    return _clean("\n".join(lines))


def junit_tree(results: dict[str, Any]) -> ET.ElementTree:
    root = ET.Element("testsuites", name=f"kms-conformance {(results.get('target') or {}).get('name') or ''}".strip())
    suites: dict[str, ET.Element] = {}
    counts: dict[str, dict[str, float]] = {}
    for case in results.get("cases", []):
        op = case.get("operation") or "?"
        if op not in suites:
            suites[op] = ET.SubElement(root, "testsuite", name=op)
            props = ET.SubElement(suites[op], "properties")
            for key in ("edition", "strictness", "suite_version"):
                ET.SubElement(props, "property", name=key, value=_clean(results.get(key)))
            ET.SubElement(props, "property", name="target", value=_clean((results.get("target") or {}).get("name")))
            counts[op] = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
        c = counts[op]
        tc = ET.SubElement(suites[op], "testcase", classname=op, name=_clean(case["id"]),
                           time=f"{float(case.get('duration_s') or 0):.3f}")
        props = ET.SubElement(tc, "properties")
        for rid in case.get("requirements") or []:
            ET.SubElement(props, "property", name="requirement", value=_clean(rid))
        for rid, entry in (case.get("blame") or {}).items():
            if entry.get("verdict") not in (None, Verdict.PASS.value):
                ET.SubElement(props, "property", name="blamed", value=_clean(f"{rid} {entry['verdict']}"))
        ET.SubElement(props, "property", name="verdict", value=case["verdict"])
        ET.SubElement(props, "property", name="kind", value=_clean(case.get("kind")))
        message = _clean(f"{case['verdict']}: {case.get('detail') or ''}")[:1000]
        verdict = case["verdict"]
        if verdict in FAILURE:
            el = ET.SubElement(tc, "failure", message=message, type=verdict)
            el.text = _case_text(case)
            c["failures"] += 1
        elif verdict in ERROR:
            el = ET.SubElement(tc, "error", message=message, type=verdict)
            el.text = _case_text(case)
            c["errors"] += 1
        elif verdict in NOT_EXERCISED:
            el = ET.SubElement(tc, "skipped", message=message, type=verdict)
            c["skipped"] += 1
        if verdict not in FAILURE | ERROR:
            ET.SubElement(tc, "system-out").text = _case_text(case)
        c["tests"] += 1
        c["time"] += float(case.get("duration_s") or 0)
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for op, suite in suites.items():
        for key, value in counts[op].items():
            suite.set(key, f"{value:.3f}" if key == "time" else str(int(value)))
            total[key] += value
    for key, value in total.items():
        root.set(key, f"{value:.3f}" if key == "time" else str(int(value)))
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(results: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    junit_tree(results).write(path, encoding="utf-8", xml_declaration=True)
    return path
