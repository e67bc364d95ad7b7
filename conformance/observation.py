"""What a target returned for one request: the only thing verdicts are computed from."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Set by an in-process transport on the 500 it makes when the target's own handler raised: that
# answer is the target's (the same request crashes it every time), never retried as infrastructure.
IN_PROCESS_CRASH_HEADER = "x-kms-conformance-target-raised"


def sanitize_error_code(raw: str | None) -> str | None:
    """Sanitise `__type` the way botocore does: drop `:...` suffix, then `...#` prefix."""
    if raw is None:
        return None
    code = raw.split(":", 1)[0]
    if "#" in code:
        code = code.rsplit("#", 1)[1]
    return code


@dataclass
class Observation:
    """One response (or the failure to get one).

    `transport_error` is set when no HTTP response arrived (timeout, refused,
    reset); then status is None. `body` is the parsed JSON body when the body
    was JSON, else None; `raw_body` keeps the bytes (decoded, truncated) so a
    report can show garbage exactly as received.
    """

    operation: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error_code: str | None = None
    message: str | None = None
    body: Any = None
    raw_body: str = ""
    latency_s: float = 0.0
    transport_error: str | None = None
    # Set by the adapter when the answer is a recognised "not implemented" shape
    # (moto NotImplementedError / HTML 500, LocalStack 501, InvalidAction, ...).
    unimplemented: bool = False
    # How many times the request was sent (>1 when throttling answers were retried with backoff).
    attempts: int = 1
    # Set when the answer was still the infrastructure's, not the target's, after the retries
    # (a 503, throttling, a reset, a reply cut off): "503 after 5 tries". See targets/health.py.
    infrastructure: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.error_code is None

    @property
    def is_json(self) -> bool:
        return self.body is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Observation":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_http(
        cls,
        *,
        operation: str | None,
        status: int,
        headers: dict[str, str],
        raw: bytes,
        latency_s: float,
    ) -> "Observation":
        """Parse an AWS JSON 1.1 response the way botocore's JSON parser does."""
        text = raw.decode("utf-8", errors="replace")
        body: Any = None
        if raw.strip():
            try:
                body = json.loads(text)
            except ValueError:
                body = None
        elif 200 <= status < 300:
            body = {}
        code = message = None
        if isinstance(body, dict) and (status >= 300 or "__type" in body):
            code = sanitize_error_code(body.get("__type") or body.get("code"))
            message = body.get("message", body.get("Message"))
        return cls(
            operation=operation,
            status=status,
            headers={k.lower(): v for k, v in headers.items()},
            error_code=code,
            message=message,
            body=body,
            raw_body=text[:4000],
            latency_s=latency_s,
        )
