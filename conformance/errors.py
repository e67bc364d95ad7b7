"""Errors our tools report to users as one line and an exit code, never a traceback."""

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


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


# ------------------------------------------------------------------------------------------
# Case outcomes that are not the target's fault: raised anywhere below a case, turned into a
# verdict by the case kernel (conformance.cases.kernel) alone. One class per meaning.
# ------------------------------------------------------------------------------------------


class CaseOutcome(Exception):
    """Base of the exceptions that end a case with a verdict other than FAIL."""


class MissingRole(CaseOutcome):
    """A case needs a world role the config does not give: the case is SKIPPED with this reason."""

    def __init__(self, role: str):
        self.role = role
        where = f"world.{role}" if "." in role else f"world.cloudhsm.{role}"  # xks roles are dotted paths
        super().__init__(f"world role '{role}' is not configured ({where})")


class NotTriggerable(CaseOutcome):
    """The target cannot be made to show this (CONNECTING on an instant emulator, no control surface).

    The text is the reason the report prints; when it suggests an option, the option exists.
    """


class Unimplemented(CaseOutcome):
    """The target says it lacks an operation the case needs: the case is UNIMPLEMENTED."""

    def __init__(self, operation: str, evidence: str = ""):
        self.operation = operation
        self.evidence = evidence
        super().__init__(f"target does not implement {operation}" + (f": {evidence}" if evidence else ""))


class SetupFailed(CaseOutcome):
    """A step the case needs before it can check anything did not work: the case is ERROR with this reason."""
