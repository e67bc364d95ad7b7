"""`run --workers N` and the plugin under pytest-xdist: the split, the merge, and verdicts that do not depend on N."""

import json
import subprocess
import sys

import pytest

from conformance.cases.base import Case
from conformance.errors import ConfigError
from conformance.report.merge import DuplicateCase, merge_results, missing_cases
from conformance.runner import RunOptions, run_suite
from conformance.runner.workers import partition, spreadable
from conformance.runner.xdist import group_names
from conformance.targets.config import parse_config

# A small selection with lineage-free, stateless and store (disconnected) schedule groups.
SELECTION = "(UpdateCustomKeyStore and auth) or refused-while-disconnected or not-found"


def _case(cid, kind="structural", group="stateless", calls=("DescribeCustomKeyStores",)):
    return Case(id=cid, operation=calls[0], kind=kind, requirements=(), title=cid, run=lambda rec: None,
                schedule_group=group, api_calls=calls)


CASES = [
    _case("a/structural/1"),
    _case("b/scenario/store-1", kind="scenario", group="disconnected"),
    _case("c/property/create", kind="property", calls=("CreateCustomKeyStore",)),
    _case("d/structural/2"),
    _case("e/scenario/store-2", kind="scenario", group="disconnected"),
    _case("f/scenario/limit", kind="scenario", group="limit"),
    _case("g/scenario/stateless-create", kind="scenario", calls=("CreateCustomKeyStore",)),
    _case("h/auth/1", kind="auth"),
]


def _ids(parts):
    return [[c.id for c in p] for p in parts]


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("n", [1, 2, 3, 20])
def test_partition_gives_every_case_to_exactly_one_worker_in_run_order(shared, n):
    parts = partition(CASES, n, shared_world=shared)
    flat = [cid for part in _ids(parts) for cid in part]
    assert sorted(flat) == sorted(c.id for c in CASES) and len(flat) == len(set(flat))
    order = {c.id: i for i, c in enumerate(CASES)}
    for part in _ids(parts):
        assert part == sorted(part, key=order.__getitem__)
    assert 1 <= len(parts) <= min(n, len(CASES))


def test_one_shared_world_keeps_every_lineage_case_in_the_first_worker():
    parts = _ids(partition(CASES, 3, shared_world=True))
    lineage = [c.id for c in CASES if not spreadable(c)]
    assert lineage == ["b/scenario/store-1", "c/property/create", "e/scenario/store-2", "f/scenario/limit",
                       "g/scenario/stateless-create"]
    assert [cid for cid in parts[0] if cid in lineage] == lineage
    assert all(cid not in lineage for part in parts[1:] for cid in part)


def test_own_worlds_keep_a_schedule_group_together_and_spread_the_rest():
    parts = _ids(partition(CASES, 3, shared_world=False))
    holder = [i for i, p in enumerate(parts) if "b/scenario/store-1" in p]
    assert len(holder) == 1 and "e/scenario/store-2" in parts[holder[0]]
    assert len(parts) == 3
    names = group_names(CASES, "reference")
    assert names == {"b/scenario/store-1": "kms-disconnected", "e/scenario/store-2": "kms-disconnected",
                     "f/scenario/limit": "kms-limit"}
    assert set(group_names(CASES, "endpoint").values()) == {"kms-lineage"}


def _results(*ids, **head):
    return {"schema_version": 1, "target": {"name": "t"}, "edition": "current", "started": head.get("started", "1"),
            "finished": head.get("finished", "2"), "run_prefix": head.get("prefix"), "requirements": [],
            "cases": [{"id": i, "verdict": "PASS", "requirements": []} for i in ids]}


def test_merge_keeps_every_case_once_in_run_order():
    merged = merge_results([_results("c", "a", prefix="p1"), _results("b", prefix="p2", finished=None)],
                           order=["a", "b", "c"])
    assert [c["id"] for c in merged["cases"]] == ["a", "b", "c"]
    assert merged["summary"]["PASS"] == 3 and merged["summary"]["total"] == 3
    assert merged["finished"] is None  # one part never finished: the merged run is partial
    assert [w["run_prefix"] for w in merged["workers"]] == ["p1", "p2"]
    assert missing_cases(merged, ["a", "b", "c", "d"]) == ["d"]
    with pytest.raises(DuplicateCase, match="case a"):
        merge_results([_results("a"), _results("a")])


def test_config_run_workers_is_read_and_checked():
    assert parse_config({"run": {"workers": 3}}).run_workers == 3
    assert parse_config({}).run_workers is None
    with pytest.raises(ConfigError, match="run.workers"):
        parse_config({"run": {"workers": 0}})
    with pytest.raises(ConfigError, match="run.threads"):
        parse_config({"run": {"threads": 2}})


def test_two_workers_give_the_verdicts_of_one(in_tmp):
    one = run_suite(RunOptions(report_dir=str(in_tmp / "one"), keyword=SELECTION, progress=False))
    two = run_suite(RunOptions(report_dir=str(in_tmp / "two"), keyword=SELECTION, progress=False, workers=2))
    verdicts = lambda outcome: [(c["id"], c["verdict"]) for c in outcome.results["cases"]]  # noqa: E731
    assert len(verdicts(one)) > 5 and verdicts(two) == verdicts(one)
    assert one.exit_code == two.exit_code == 0
    written = json.loads((in_tmp / "two" / "results.json").read_text())
    assert [c["id"] for c in written["cases"]] == [c["id"] for c in one.results["cases"]]
    assert len(written["workers"]) == 2 and sum(w["cases"] for w in written["workers"]) == len(written["cases"])
    assert len({w["run_prefix"] for w in written["workers"]}) == 2
    assert written["finished"] and not (in_tmp / "two" / ".workers").exists()
    for name in ("junit.xml", "report.md", "report.html"):
        assert (in_tmp / "two" / name).is_file()


def test_plugin_under_xdist_merges_the_workers_results(in_tmp):
    """Two cases, two xdist workers: each worker runs one and writes its own results; the controller merges them.

    Schemathesis's and Hypothesis's own pytest plugins are left out of the inner session (the suite imports
    what it needs itself): each of its three processes would load them for nothing.
    """
    (in_tmp / "pytest.ini").write_text("[pytest]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "conformance.runner.suite", "-q", "-p", "no:cacheprovider",
         "-p", "no:randomly", "-p", "no:schemathesis", "-p", "no:hypothesispytest", "--assert=plain",
         "-c", str(in_tmp / "pytest.ini"), "--rootdir", str(in_tmp), "-n", "2",
         "-k", "DescribeCustomKeyStores and auth and (unsigned or expired)", "--kms-report-dir", str(in_tmp / "x")],
        capture_output=True, text=True, cwd=in_tmp, timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "kms-conformance: 2 PASS" in proc.stdout
    res = json.loads((in_tmp / "x" / "results.json").read_text())
    assert sorted(c["id"] for c in res["cases"]) == ["DescribeCustomKeyStores/auth/expired-signature",
                                                      "DescribeCustomKeyStores/auth/unsigned"]
    # Both workers ran a case under a run prefix of its own; the merge holds each case once.
    assert sorted(w["cases"] for w in res["workers"]) == [1, 1]
    assert len({w["run_prefix"] for w in res["workers"]}) == 2
    assert not (in_tmp / "x" / ".workers").exists()


def test_plain_run_help_loads_no_engine_or_target_library():
    code = ("import sys\nfrom conformance.cli import main\ntry:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = ('schemathesis', 'moto', 'hypothesis', 'boto3', 'botocore', 'werkzeug', 'jinja2')\n"
            "print('LOADED', sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "--workers" in proc.stdout
    assert "LOADED []" in proc.stdout, proc.stdout[-500:]
