"""What a run is asked to do, and the one option table behind `kms-conformance run` and the pytest plugin.

`RunOptions` holds the values; `OPTIONS` describes each user-facing option once
(flags, type, choices, help), so the CLI and the plugin cannot drift apart.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from typing import Any, Callable

from conformance import EDITIONS
from conformance.errors import UsageError
from conformance.targets.config import STATE_PHASES
from conformance.targets.health import DEFAULT_RETRY_BUDGET_S, DEFAULT_TRIES
from conformance.verdicts import STRICTNESS


@dataclass
class RunOptions:
    target: str | None = None  # adapter name: reference | moto | endpoint | aws | replay
    config: str | None = None  # target config file (YAML)
    endpoint_url: str | None = None
    edition: str = "current"
    strictness: str = "regex"
    report_dir: str = "./kms-conformance-report"
    keyword: str | None = None  # -k expression (pytest's grammar)
    cases: tuple[str, ...] = ()  # exact case ids (--case); a reproduce command selects its case with it
    seed: int = 0
    faults: tuple[str, ...] = ()  # seeded faults of the reference target
    expectations: str | None = None
    update_expectations: bool = False
    record: str | None = None  # cassette directory
    allow_live: bool = False
    create_keys: bool = False  # live AWS: put keys into stores anyway (they hold the store 7-30 days)
    call_timeout: float | None = None
    retry_tries: int = DEFAULT_TRIES  # tries per call for throttling, 5xx, resets, cut-off replies
    retry_budget: float = DEFAULT_RETRY_BUDGET_S  # total retry wait per run, in seconds
    progress: bool = True  # live progress bar and summary table on the terminal
    workers: int | None = None  # worker processes (None: the config's run.workers, else 1); runner/workers.py
    state_phases: str | None = None  # auto | on | off (None: the config's run.state_phases, else auto)
    stateful_transitions: int | None = None  # None: the config's run.stateful_transitions, else per target
    operations: str | None = None  # model-wide structural run: `all`, names or globs (None: the custom key store suite)
    modules: tuple[str, ...] | None = None  # case modules to collect (None = all); tests narrow a run with it
    extra: dict = field(default_factory=dict)  # options passed through to the cases (tests shrink examples)

    def validate(self) -> "RunOptions":
        if self.edition not in EDITIONS:
            raise UsageError(f"--edition must be one of {', '.join(EDITIONS)}, not {self.edition!r}")
        if self.strictness not in STRICTNESS:
            raise UsageError(f"--strictness must be one of {', '.join(STRICTNESS)}, not {self.strictness!r}")
        if self.update_expectations and not self.expectations:
            raise UsageError("--update-expectations needs --expectations FILE (the file to write)")
        if self.call_timeout is not None and self.call_timeout <= 0:
            raise UsageError("--call-timeout must be a positive number of seconds")
        if self.retry_tries < 1:
            raise UsageError("--retry-tries must be at least 1")
        if self.retry_budget < 0:
            raise UsageError("--retry-budget must be >= 0 seconds")
        if self.workers is not None and self.workers < 1:
            raise UsageError("--workers must be at least 1")
        if self.state_phases is not None and self.state_phases not in STATE_PHASES:
            raise UsageError(f"--state-phases must be one of {', '.join(STATE_PHASES)}, not {self.state_phases!r}")
        if self.stateful_transitions is not None and self.stateful_transitions < 0:
            raise UsageError("--stateful-transitions must be >= 0")
        return self


_DEFAULTS = {f.name: f.default for f in fields(RunOptions)}


@dataclass(frozen=True)
class Option:
    """One user-facing run option: its RunOptions field, its CLI flag(s) and its pytest flag.

    `plugin_flag` is None only where pytest already has the option (-k) or it has
    no meaning inside pytest (see the entries).
    """

    field: str
    flags: tuple[str, ...]
    plugin_flag: str | None
    help: str
    metavar: str | None = None
    type: Callable[[str], Any] | None = None
    choices: tuple[str, ...] | None = None
    action: str | None = None  # store_true | store_false | append
    # Whether a reproduce command repeats this option: it selects the target or changes a verdict.
    # Options that only say where output goes, or what to select (the command names its case), do not.
    rerun: bool = False

    @property
    def plugin_dest(self) -> str:
        return "kms_" + self.field

    def argparse_kwargs(self, dest: str) -> dict[str, Any]:
        """Keyword arguments for argparse's (and pytest's) add_argument/addoption."""
        default = _DEFAULTS[self.field]
        help_text = self.help
        if self.action is None and default is not None:
            help_text += f" (default: {default})"
        kwargs: dict[str, Any] = {"dest": dest, "help": help_text}
        if self.action in ("store_true", "store_false"):
            return {**kwargs, "action": self.action, "default": default}
        if self.action == "append":
            return {**kwargs, "action": "append", "default": None, "metavar": self.metavar}
        kwargs.update(default=default, metavar=self.metavar)
        if self.type is not None:
            kwargs["type"] = self.type
        if self.choices is not None:
            kwargs.update(choices=self.choices, metavar=None)
        return kwargs

    def value(self, raw: Any) -> Any:
        """The RunOptions value for what the parser produced."""
        return tuple(raw or ()) if self.action == "append" else raw


OPTIONS: tuple[Option, ...] = (
    Option("target", ("--target",), "--kms-target", "adapter: reference (default), moto, endpoint, aws, replay",
           metavar="NAME", rerun=True),
    Option("config", ("--config",), "--kms-config", "target config file (YAML: target + world)", metavar="FILE",
           rerun=True),
    Option("endpoint_url", ("--endpoint-url",), "--kms-endpoint-url",
           "URL of the target (implies --target endpoint)", metavar="URL", rerun=True),
    Option("edition", ("--edition",), "--kms-edition", "contract edition", choices=EDITIONS, rerun=True),
    Option("strictness", ("--strictness",), "--kms-strictness",
           "code: error code+status; regex: plus message shape; exact: plus exact message", choices=STRICTNESS,
           rerun=True),
    Option("report_dir", ("--report-dir",), "--kms-report-dir", "where results.json and the reports go",
           metavar="DIR"),
    # pytest has its own -k, which the plugin feeds with each case's names (pytest_collection_modifyitems).
    Option("keyword", ("-k",), None, "select cases by id/kind/operation/requirement id (pytest -k grammar)",
           metavar="EXPR"),
    # Under pytest, a node id selects one case exactly.
    Option("cases", ("--case",), None, "run exactly the case with this id (repeatable; ids: `kms-conformance cases`)",
           metavar="ID", action="append"),
    Option("seed", ("--seed",), "--kms-seed", "seed for generated and Hypothesis cases", metavar="N", type=int,
           rerun=True),
    Option("faults", ("--fault",), "--kms-fault",
           "seed a fault into the reference target (repeatable; `kms-conformance serve --list-faults`)",
           metavar="NAME", action="append", rerun=True),
    Option("expectations", ("--expectations",), "--kms-expectations",
           "expected verdicts per case/requirement (YAML): known failures pass, unexpected passes fail",
           metavar="FILE", rerun=True),
    # Writing the file needs the whole run's results; under pytest each case is judged as it runs.
    Option("update_expectations", ("--update-expectations",), None, "write --expectations FILE from this run",
           action="store_true"),
    Option("record", ("--record",), "--kms-record", "record every observation as a cassette in DIR",
           metavar="DIR"),
    Option("allow_live", ("--allow-live",), "--kms-allow-live",
           "allow calls to real AWS (the aws adapter, or an endpoint whose host is an AWS service domain)",
           action="store_true", rerun=True),
    Option("create_keys", ("--create-keys",), "--kms-create-keys",
           "live AWS: run the cases that put a KMS key in a store (the key's 7-30 day deletion holds the store "
           "and its cluster lineage; config: run.create_keys)", action="store_true", rerun=True),
    Option("call_timeout", ("--call-timeout",), "--kms-call-timeout", "per-call timeout in seconds",
           metavar="S", type=float, rerun=True),
    Option("retry_tries", ("--retry-tries",), "--kms-retry-tries",
           "tries per call when the target throttles, answers 5xx, resets or cuts a reply short",
           metavar="N", type=int),
    Option("retry_budget", ("--retry-budget",), "--kms-retry-budget",
           "total seconds a run may wait between retries; then failures are ERROR at once", metavar="S",
           type=float),
    # Under pytest, pytest-xdist's `-n N` splits the cases by the same rules (pytest_plugin.py).
    Option("workers", ("--workers",), None,
           "split the cases over N worker processes that never contend (default: the config's run.workers, "
           "else 1); verdicts do not depend on N", metavar="N", type=int),
    # Cost on live and slow targets; the pytest plugin runs each case on its own (no phases there).
    Option("state_phases", ("--state-phases",), None,
           "share one store per connection state across the cases that need it (auto: on for aws and for targets "
           "whose connects take seconds; else the config's run.state_phases)", choices=STATE_PHASES),
    Option("stateful_transitions", ("--stateful-transitions",), "--kms-stateful-transitions",
           "connects + disconnects the stateful run may make (0: none; default: run.stateful_transitions, else 0 on "
           "aws, 2 on slow targets, unlimited elsewhere)", metavar="N", type=int, rerun=True),
    Option("operations", ("--operations",), "--kms-operations",
           "model-wide structural cases for these operations instead of the custom key store suite: `all`, "
           "names or globs, comma-separated (e.g. 'Create*,Encrypt'; config: run.operations)",
           metavar="LIST", rerun=True),
    # pytest draws its own progress; the plugin always runs without ours.
    Option("progress", ("--no-progress",), None, "no progress bar or summary table", action="store_false"),
)


# A pasted reproduce command must not overwrite the report it was copied from.
RERUN_REPORT_DIR = "./kms-conformance-rerun"


def rerun_args(options: RunOptions) -> tuple[str, ...]:
    """The flags that make `kms-conformance run` select the same target and judge the same way.

    Every option marked `rerun` in OPTIONS that has a value (edition, strictness and seed
    always, so a later change of default cannot change what the command does), as the
    user gave it; paths are kept as given (the command is pasted where the run was started).
    """
    args: list[str] = []
    for option in OPTIONS:
        value = getattr(options, option.field)
        if not option.rerun or value is None or value == () or value is False:
            continue
        flag = option.flags[0]
        if option.action == "store_true":
            args.append(flag)
        elif option.action == "append":
            for item in value:
                args += [flag, str(item)]
        else:
            args += [flag, str(value)]
    return (*args, "--report-dir", RERUN_REPORT_DIR)


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    for option in OPTIONS:
        parser.add_argument(*option.flags, **option.argparse_kwargs(option.field))


def options_from_cli(args: argparse.Namespace) -> RunOptions:
    return RunOptions(**{o.field: o.value(getattr(args, o.field)) for o in OPTIONS})


def add_plugin_options(group) -> None:
    """Register the options on a pytest option group (pytest's addoption takes argparse's keywords)."""
    for option in OPTIONS:
        if option.plugin_flag is not None:
            group.addoption(option.plugin_flag, **option.argparse_kwargs(option.plugin_dest))


def options_from_plugin(getoption: Callable[[str], Any]) -> RunOptions:
    values = {o.field: o.value(getoption(o.plugin_dest)) for o in OPTIONS if o.plugin_flag is not None}
    return RunOptions(**values, progress=False)


def options_table_markdown() -> str:
    """The README's table of `kms-conformance run` options, made from OPTIONS (a test keeps them equal)."""
    rows = ["| option | pytest plugin | what it does | repeated by reproduce commands |", "|---|---|---|---|"]
    for option in OPTIONS:
        flag = " ".join(option.flags)
        if option.choices:
            flag += " {" + ",".join(option.choices) + "}"
        elif option.metavar:
            flag += f" {option.metavar}"
        help_text = option.argparse_kwargs(option.field)["help"].replace("|", "\\|")
        plugin = f"`{option.plugin_flag}`" if option.plugin_flag else "-"
        rows.append(f"| `{flag}` | {plugin} | {help_text} | {'yes' if option.rerun else 'no'} |")
    return "\n".join(rows)
