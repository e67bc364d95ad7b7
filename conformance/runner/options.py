"""What a run is asked to do: one dataclass shared by the CLI, the pytest plugin and tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance import EDITIONS
from conformance.errors import UsageError
from conformance.verdicts import STRICTNESS

DEFAULT_REPORT_DIR = "./kms-conformance-report"
DEFAULT_STRICTNESS = "regex"


@dataclass
class RunOptions:
    target: str | None = None  # adapter name: reference | moto | endpoint | aws | replay
    config: str | None = None  # target config file (YAML)
    endpoint_url: str | None = None
    edition: str = "current"
    strictness: str = DEFAULT_STRICTNESS
    report_dir: str = DEFAULT_REPORT_DIR
    keyword: str | None = None  # -k expression (pytest's grammar)
    seed: int = 0
    faults: tuple[str, ...] = ()  # seeded faults of the reference target
    expectations: str | None = None
    update_expectations: bool = False
    record: str | None = None  # cassette directory
    allow_live: bool = False
    call_timeout: float | None = None
    progress: bool = True  # live progress bar and summary table on the terminal
    modules: tuple[str, ...] | None = None  # case modules to collect (None = all)
    extra: dict = field(default_factory=dict)

    def validate(self) -> "RunOptions":
        if self.edition not in EDITIONS:
            raise UsageError(f"--edition must be one of {', '.join(EDITIONS)}, not {self.edition!r}")
        if self.strictness not in STRICTNESS:
            raise UsageError(f"--strictness must be one of {', '.join(STRICTNESS)}, not {self.strictness!r}")
        if self.update_expectations and not self.expectations:
            raise UsageError("--update-expectations needs --expectations FILE (the file to write)")
        if self.call_timeout is not None and self.call_timeout <= 0:
            raise UsageError("--call-timeout must be a positive number of seconds")
        return self
