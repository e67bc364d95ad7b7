"""Errors our tools report to users as one line and an exit code, never a traceback."""

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class ConformanceError(Exception):
    """Base: carries the process exit code the CLI should use."""

    exit_code = EXIT_USAGE


class UsageError(ConformanceError):
    """Bad option, bad config file (the message names the key), unknown target."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A target config file that cannot be used; message names the offending key."""


class TargetUnreachable(ConformanceError):
    """Nothing listens at the target's URL (connection refused / DNS failure)."""

    exit_code = EXIT_UNREACHABLE

    def __init__(self, url: str, reason: str = ""):
        self.url = url
        super().__init__(f"target unreachable at {url}" + (f" ({reason})" if reason else ""))
