"""The errors the reference target answers with, and their wire status.

Real KMS sends 400 for every client error (aws-behaviour-facts.md §1.3), whatever
the Smithy model's httpError says; only KMSInternalException is 500.
"""

from __future__ import annotations

SERVER_ERRORS = {"KMSInternalException": 500, "DependencyTimeoutException": 503, "KeyUnavailableException": 500}
AUTH_STATUSES = {"MissingAuthenticationTokenException": 403}

INVALID_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)


class ApiError(Exception):
    """An AWS error answer: `__type`, optional message, HTTP status."""

    def __init__(self, code: str, message: str | None = None, status: int | None = None):
        self.code = code
        self.message = message
        self.status = status if status is not None else SERVER_ERRORS.get(code, AUTH_STATUSES.get(code, 400))
        super().__init__(f"{code}: {message}" if message else code)

    def body(self) -> dict:
        out = {"__type": self.code}
        if self.message is not None:
            out["message"] = self.message
        return out
