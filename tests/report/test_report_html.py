"""report.html in headless Chromium: the matrix renders, filters work, a drill-down opens and shows
request / expected / observed side by side, and markup in a target's answer stays text.

The page's own JS runs in a real browser: a probe script is appended to a copy of the page, clicks
and filters through the DOM on load, and writes what it saw into the DOM that `--dump-dom` prints.
Debian's `chromium` is needed (`apt-get install -y chromium`).
"""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil
import subprocess

import pytest

from report_synthetic import case, synthetic_cases, write_run

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=3000", "--dump-dom",
]

PROBE = """<script>
window.addEventListener("load", function () {
  var out = {errors: []};
  function visible(node) { return !!node && getComputedStyle(node).display !== "none" && !node.hidden; }
  function rows(sel) { return Array.from(document.querySelectorAll(sel)).filter(visible).map(function (r) { return r.dataset.id; }); }
  function click(node) { node.dispatchEvent(new MouseEvent("click", {bubbles: true})); }
  function filter(id, value, ev) { var f = document.getElementById(id); f.value = value; f.dispatchEvent(new Event(ev)); }
  function drill() {
    var d = document.getElementById("drill");
    return {visible: visible(d),
            cases: Array.from(d.querySelectorAll(".case")).map(function (c) { return c.dataset.case; }),
            request: (d.querySelector("pre.request") || {}).textContent,
            expected: (d.querySelector("pre.expected") || {}).textContent,
            observed: (d.querySelector("pre.observed") || {}).textContent,
            reproduce: (d.querySelector("pre.reproduce") || {}).textContent,
            sides: d.querySelectorAll(".sides").length,
            text: d.textContent};
  }
  try {
    out.headers = Array.from(document.querySelectorAll("#req-matrix thead th")).map(function (th) { return th.textContent; });
    out.reqRows = rows("#req-matrix tr.req-row");
    out.caseRows = rows("#case-matrix tr.case-row");
    out.drillHiddenAtStart = !visible(document.getElementById("drill"));
    out.cells = Array.from(document.querySelectorAll("#req-matrix tr.req-row")).map(function (r) {
      return [r.dataset.id].concat(Array.from(r.querySelectorAll("td.cell")).map(function (c) { return c.textContent; }));
    });
    click(document.querySelector('#req-matrix td.cell[data-req="UPD-002"]'));
    out.reqDrill = drill();
    document.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape"}));
    out.closedByEscape = !visible(document.getElementById("drill"));
    click(document.querySelector('#case-matrix td.cell[data-case="UpdateCustomKeyStore/structural/CustomKeyStoreId-max+1"]'));
    out.caseDrill = drill();
    out.pwned = window.__pwned === 1;
    filter("f-verdict", "ERROR", "change");
    out.errorRows = rows("#req-matrix tr.req-row").concat(rows("#case-matrix tr.case-row"));
    filter("f-verdict", "", "change");
    filter("f-operation", "ConnectCustomKeyStore", "change");
    out.connectRows = rows("#req-matrix tr.req-row");
    filter("f-operation", "", "change");
    filter("f-level", "SHOULD", "change");
    out.shouldRows = rows("#req-matrix tr.req-row").concat(rows("#case-matrix tr.case-row"));
    filter("f-level", "", "change");
    filter("f-text", "inactive_cluster", "input");
    out.textRows = rows("#case-matrix tr.case-row");
    out.count = document.getElementById("f-count").textContent;
  } catch (e) { out.errors.push(String(e && e.stack || e)); }
  var pre = document.createElement("pre"); pre.id = "probe-result"; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
window.addEventListener("error", function (e) { (window.__errs = window.__errs || []).push(e.message); });
</script>"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("headless Chromium is required for the report.html test: apt-get install -y chromium")
    return path


def probe(page, tmp_path) -> dict:
    text = page.read_text(encoding="utf-8")
    assert "</body>" in text
    probe_page = tmp_path / "probe.html"
    probe_page.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}", probe_page.as_uri()],
        capture_output=True, text=True, timeout=90,
    )
    m = re.search(r'<pre id="probe-result">(.*?)</pre>', proc.stdout, re.S)
    assert m, f"no probe result; chromium exit {proc.returncode}: {proc.stderr[-2000:]}"
    result = json.loads(htmllib.unescape(m.group(1)))
    assert result["errors"] == []
    return result


def test_matrix_filters_and_drill_down_in_chromium(run_dir, tmp_path):
    got = probe(run_dir / "report.html", tmp_path)
    assert got["headers"][:4] == ["requirement", "level", "operation", "title"]
    assert got["headers"][4] == "synthetic 0.1.0 edition current"
    # Failures first: ERROR and FAIL rows before NON_STRICT, SKIPPED and PASS ones.
    assert got["reqRows"] == ["DES-001", "UPD-001", "UPD-002", "UPD-003", "CON-001"]
    assert sorted(got["caseRows"]) == sorted(c.id for c in synthetic_cases())
    assert got["caseRows"][:3] == ["DescribeCustomKeyStores/protocol/garbage",
                                   "UpdateCustomKeyStore/structural/KeyStorePassword-max+1",
                                   "UpdateCustomKeyStore/scenario/password-needs-disconnected"]
    assert ["UPD-001", "FAIL"] in got["cells"] and ["CON-001", "SKIPPED"] in got["cells"]
    # Drill-down of a requirement cell: its case, request / expected / observed side by side.
    assert got["drillHiddenAtStart"]
    d = got["reqDrill"]
    assert d["visible"] and d["cases"] == ["UpdateCustomKeyStore/scenario/password-needs-disconnected"]
    assert d["sides"] >= 3  # the case itself + one per step
    assert '"KeyStorePassword": "***REDACTED***"' in d["request"]
    assert '"error_code": "ValidationException"' in d["expected"]
    assert "describe before" in d["text"] and "update password" in d["text"]
    assert d["reproduce"].startswith("aws kms ")
    assert got["closedByEscape"]
    # Drill-down of a case cell whose answer holds markup: shown as text, never executed.
    c = got["caseDrill"]
    assert c["visible"] and c["cases"] == ["UpdateCustomKeyStore/structural/CustomKeyStoreId-max+1"]
    assert "<img src=x onerror=" in c["observed"]
    assert got["pwned"] is False
    # Filters.
    assert got["errorRows"] == ["DES-001", "DescribeCustomKeyStores/protocol/garbage"]
    assert got["connectRows"] == ["CON-001"]
    assert got["shouldRows"] == ["UPD-003", "UpdateCustomKeyStore/structural/KeyStorePassword-max+1"]
    assert got["textRows"] == ["ConnectCustomKeyStore/scenario/inactive-cluster"]
    assert re.fullmatch(r"\d+ of \d+ rows shown", got["count"])


def test_combined_report_has_one_column_per_target(tmp_path):
    from conformance.report.render import render_combined_html

    a, _ = write_run(tmp_path, name="a")
    b, _ = write_run(tmp_path, cases=synthetic_cases()[:2], name="b",
                     meta={"target": {"name": "other-emulator", "adapter": "endpoint", "version": "9.9",
                                      "endpoint": "http://127.0.0.1:1"}, "edition": "current", "strictness": "code"})
    page = render_combined_html([a.path, b.path], tmp_path / "combined.html")
    got = probe(page, tmp_path)
    assert got["headers"][4:] == ["synthetic 0.1.0 edition current", "other-emulator 9.9 edition current"]
    cells = {row[0]: row[1:] for row in got["cells"]}
    assert cells["UPD-001"] == ["FAIL", "NON_STRICT"]
    assert cells["CON-001"] == ["SKIPPED", "NOT_RUN"]


WIDTH_PROBE = """<script>
window.addEventListener("load", function () {
  var out = {width: window.innerWidth, scroll: document.documentElement.scrollWidth,
             headline: (document.querySelector(".headline") || {}).textContent || "",
             blame: Array.from(document.querySelectorAll("#req-matrix .blame")).map(function (b) { return b.textContent; }),
             first: (document.querySelector("#req-matrix tr.req-row") || {dataset: {}}).dataset.id};
  var cell = document.querySelector('#req-matrix td.cell[data-req="UPD-036"]');
  if (cell) cell.dispatchEvent(new MouseEvent("click", {bubbles: true}));
  out.drill = Array.from(document.querySelectorAll("#drill .blame-table tr")).map(function (r) { return r.textContent; });
  var pre = document.createElement("pre"); pre.id = "probe-result"; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _width_probe(page, tmp_path) -> dict:
    probe_page = tmp_path / "width.html"
    probe_page.write_text(page.read_text(encoding="utf-8").replace("</body>", WIDTH_PROBE + "</body>"), encoding="utf-8")
    flags = [f for f in CHROMIUM_FLAGS] + ["--window-size=1400,900", "--hide-scrollbars"]
    proc = subprocess.run([chromium(), *flags, f"--user-data-dir={tmp_path / 'chromium-profile'}", probe_page.as_uri()],
                          capture_output=True, text=True, timeout=90)
    m = re.search(r'<pre id="probe-result">(.*?)</pre>', proc.stdout, re.S)
    assert m, f"no probe result; chromium exit {proc.returncode}: {proc.stderr[-2000:]}"
    return json.loads(htmllib.unescape(m.group(1)))


def test_long_ids_never_scroll_sideways_at_1400_px_and_blame_is_shown(tmp_path):
    """A real-length case id, many requirements and a long detail wrap inside a 1400 px window; the failing
    requirement row comes first and names the check that blamed it; the drill-down lists the case's blame."""
    long_id = "CreateCustomKeyStore/structural/XksProxyAuthenticationCredential/RawSecretAccessKey/length-above-max-plus-one"
    failing = case(long_id, "FAIL", operation="CreateCustomKeyStore",
                   reqs=("UPD-036", "UPD-006") + tuple(f"CRE-0{n}" for n in range(20, 75)),
                   detail="expected 400 ValidationException, observed 200 success " + "x" * 400)
    failing.blame = {"UPD-036": {"verdict": "FAIL", "checks": [{"name": "code", "verdict": "FAIL",
                                                                "detail": "state rule: observed 200 " + "y" * 300}]},
                     "UPD-006": {"verdict": "PASS", "checks": [{"name": "effect", "verdict": "PASS", "detail": "unchanged"}]},
                     **{rid: {"verdict": "PASS", "checks": []} for rid in failing.requirements[2:]}}
    _, results = write_run(tmp_path, cases=[case("UpdateCustomKeyStore/structural/name-max", "PASS"), failing])
    rows = {r["id"]: r for r in results["requirements"]}
    assert rows["UPD-036"]["verdict"] == "FAIL" and rows["UPD-006"]["verdict"] == "PASS"
    got = _width_probe(tmp_path / "run" / "report.html", tmp_path)
    assert got["width"] == 1400 and got["scroll"] <= got["width"], got
    assert got["first"] == "UPD-036"
    assert any("code: state rule" in b and long_id in b for b in got["blame"])
    assert any(row.startswith("UPD-036FAIL") for row in got["drill"]) and any("UPD-006PASS" in r for r in got["drill"])


def test_a_target_implementing_nothing_leads_with_that_sentence(tmp_path):
    cases = [case(f"UpdateCustomKeyStore/structural/x{i}", "UNIMPLEMENTED") for i in range(3)]
    _, results = write_run(tmp_path, cases=cases)
    got = _width_probe(tmp_path / "run" / "report.html", tmp_path)
    assert got["headline"].startswith("The target implements none of the custom key store operations:")
    md = (tmp_path / "run" / "report.md").read_text()
    assert md.split("\n")[2].startswith("**The target implements none of the custom key store operations:")
