"""Keep secrets out of logs, reports, cassettes and exception text.

Two mechanisms: members known to be secret (by name, anywhere in a request or
config) are replaced, and every secret *value* registered at run time (config
passwords, credentials) is scrubbed from any string we write.
"""

from __future__ import annotations

import re
import threading
from typing import Any

REDACTED = "***REDACTED***"

# Member / key names whose values are secret wherever they appear.
SECRET_KEYS = frozenset(
    {
        "KeyStorePassword",
        "RawSecretAccessKey",
        "XksProxyAuthenticationCredential",
        "kmsuser_password",
        "secret_access_key",
        "aws_secret_access_key",
        "SecretAccessKey",
        "session_token",
        "aws_session_token",
        "x-amz-security-token",
    }
)

_lock = threading.Lock()
_values: set[str] = set()
_SIG_RE = re.compile(r"(Signature=)[0-9a-f]{16,}")
# Secret-bearing command-line / JSON fragments a reproduce command or a raw body
# can hold. Needed on top of redact(): a one-character password is too short to
# register as a secret value, but it must still not reach a report.
_SECRET_ARG_RES = [
    re.compile(r"(--key-store-password[ =])('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\S+)"),
    re.compile(r"(--xks-proxy-authentication-credential[ =])('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\S+)"),
    re.compile(r"(RawSecretAccessKey=)([^,\s'\"]+)"),
]
# A validation message that quotes a sensitive member's value (AWS never does; a target might).
_SECRET_VALUE_IN_MESSAGE_RE = re.compile(
    r"(Value )'(?:[^'\\]|\\.)*'( at '[^']*(?:[kK]eyStorePassword|[rR]awSecretAccessKey|"
    r"[xX]ksProxyAuthenticationCredential)[^']*')"
)
_SECRET_JSON_RE = re.compile(
    r"(\\?\"(?:" + "|".join(re.escape(k) for k in sorted(SECRET_KEYS)) + r")\\?\"\s*:\s*)(\\?\")((?:[^\"\\]|\\.)*?)\\?\""
)
# A reproduce command names a secret by a shell variable of ours ("$KMS_KEYSTORE_PASSWORD"): no
# secret. Only KMS_/AWS_ upper-case names, so a password that merely starts with "$" is still blanked.
_SHELL_VARIABLE_RE = re.compile(r'"?\$\{?(?:KMS|AWS)_[A-Z0-9_]+\}?"?')


def register_secret(value: str | None) -> None:
    """Remember a secret value so scrub() removes it from any text."""
    if value and len(value) >= 4:
        with _lock:
            _values.add(value)


def registered_secrets() -> list[str]:
    with _lock:
        return sorted(_values)


def scrub(text: str) -> str:
    """Remove every registered secret value (and SigV4 signatures) from text."""
    if not isinstance(text, str):
        return text
    with _lock:
        values = sorted(_values, key=len, reverse=True)
    for v in values:
        if v in text:
            text = text.replace(v, REDACTED)
    return _SIG_RE.sub(r"\1" + REDACTED, text)


def request_strings(request: Any, *, min_length: int = 4) -> tuple[list[str], list[str]]:
    """(secret values, other string values) a request carries, also inside a raw JSON body.

    Secrets are values under SECRET_KEYS. A response that quotes one leaks it; the
    other values let a checker tell a leak from a public value that happens to
    contain the secret. Secrets shorter than `min_length` are left out: they occur
    in any text by chance.
    """
    import json

    secrets: list[str] = []
    public: list[str] = []

    def walk(obj: Any, secret: bool) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, secret or (isinstance(k, str) and (k in SECRET_KEYS or k.lower() in SECRET_KEYS)))
        elif isinstance(obj, list):
            for v in obj:
                walk(v, secret)
        elif isinstance(obj, str):
            if not secret:
                public.append(obj)
            elif len(obj) >= min_length:
                secrets.append(obj)

    walk(request, False)
    body = request.get("body") if isinstance(request, dict) else None
    if isinstance(body, (str, bytes)):
        try:
            walk(json.loads(body), False)
        except ValueError:
            pass
    return sorted(set(secrets)), sorted(set(public), key=len, reverse=True)


def echoes_secret(text: str, request: Any) -> bool:
    """Whether `text` quotes a secret value of `request` as a value of its own.

    Public values of the request that contain the secret are removed first, and the
    secret must stand alone (not inside a longer run of token characters), so a
    password "0000000" is not "found" inside an echoed 5000-zero certificate that the
    report truncated.
    """
    secrets, public = request_strings(request)
    if not secrets:
        return False
    for value in public:
        if any(s in value for s in secrets):
            text = text.replace(value, "")
    token = r"[A-Za-z0-9+/=_.-]"
    return any(re.search(rf"(?<!{token}){re.escape(s)}(?!{token})", text) for s in secrets)


def scrub_secret_fragments(text: str) -> str:
    """Blank secret values in CLI arguments and JSON text, whatever their length."""
    def blank(m: re.Match, value: int, kept: str) -> str:
        return m.group(0) if _SHELL_VARIABLE_RE.fullmatch(m.group(value)) else kept

    for rx in _SECRET_ARG_RES:
        text = rx.sub(lambda m: blank(m, 2, m.group(1) + REDACTED), text)
    text = _SECRET_VALUE_IN_MESSAGE_RE.sub(lambda m: f"{m.group(1)}'{REDACTED}'{m.group(2)}", text)
    return _SECRET_JSON_RE.sub(lambda m: blank(m, 3, m.group(1) + m.group(2) + REDACTED + m.group(2)), text)


def redact(obj: Any) -> Any:
    """Deep copy of obj with secret keys replaced and secret values scrubbed."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(k, str) and (k in SECRET_KEYS or k.lower() in SECRET_KEYS):
                out[k] = REDACTED if v is not None else None
            else:
                out[k] = redact(v)
        return out
    if isinstance(obj, (list, tuple)):
        return [redact(v) for v in obj]
    if isinstance(obj, str):
        return scrub(obj)
    return obj
