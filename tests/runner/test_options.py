"""One option table feeds `kms-conformance run` and the pytest plugin: both parsers carry every entry."""

import re
import subprocess
import sys

import pytest

from conformance.cli import build_parser
from conformance.runner.options import OPTIONS, RunOptions, options_from_cli


def run_args(*argv):
    return build_parser().parse_args(["run", *argv])


def test_every_table_entry_is_a_run_argument_with_the_table_default(capsys):
    with pytest.raises(SystemExit):
        run_args("--help")
    help_text = capsys.readouterr().out
    for option in OPTIONS:
        for flag in option.flags:
            assert re.search(rf"(^|[\s,\[]){re.escape(flag)}\b", help_text), flag
    assert options_from_cli(run_args()) == RunOptions()


def test_cli_values_reach_run_options():
    args = run_args("--target", "moto", "--edition", "2019-12", "--strictness", "exact", "-k", "auth",
                    "--seed", "7", "--fault", "a", "--fault", "b", "--call-timeout", "2.5",
                    "--no-progress", "--allow-live", "--expectations", "e.yaml", "--update-expectations")
    o = options_from_cli(args)
    assert (o.target, o.edition, o.strictness, o.keyword, o.seed) == ("moto", "2019-12", "exact", "auth", 7)
    assert o.faults == ("a", "b") and o.call_timeout == 2.5 and o.progress is False and o.allow_live is True
    assert o.expectations == "e.yaml" and o.update_expectations is True


def test_every_plugin_entry_is_a_pytest_option_and_the_plugin_has_no_other(pytestconfig, tmp_path):
    plugin_flags = {o.plugin_flag for o in OPTIONS if o.plugin_flag}
    assert {"--kms-target", "--kms-config", "--kms-endpoint-url", "--kms-edition", "--kms-strictness",
            "--kms-report-dir", "--kms-seed", "--kms-fault", "--kms-expectations", "--kms-record",
            "--kms-allow-live"} <= plugin_flags
    help_text = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
                               capture_output=True, text=True, cwd=tmp_path, timeout=60).stdout
    assert set(re.findall(r"--kms-[a-z-]+", help_text)) == plugin_flags
    # the running session has them too, each at RunOptions' default
    defaults = RunOptions()
    for option in OPTIONS:
        if option.plugin_flag:
            value = option.value(pytestconfig.getoption(option.plugin_dest))
            assert value == getattr(defaults, option.field), option.field


def test_entries_without_a_pytest_flag_say_why_pytest_does_not_need_one():
    assert {o.field for o in OPTIONS if o.plugin_flag is None} == {"keyword", "cases", "update_expectations", "progress",
                                                                 "workers", "state_phases"}  # pytest-xdist -n; no phases under pytest


def test_plugin_values_reach_run_options():
    from conformance.runner.options import options_from_plugin

    given = {"kms_target": "moto", "kms_edition": "2019-12", "kms_seed": 4, "kms_faults": ["x", "y"],
             "kms_call_timeout": 3.0, "kms_report_dir": "out"}
    o = options_from_plugin(lambda dest: given.get(dest, getattr(RunOptions(), dest[len("kms_"):])))
    assert (o.target, o.edition, o.seed, o.faults, o.call_timeout, o.report_dir) == ("moto", "2019-12", 4, ("x", "y"), 3.0, "out")
    assert o.progress is False  # pytest draws its own progress
