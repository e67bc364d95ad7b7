"""Keep secrets out of logs, reports, cassettes and exception text.

Three mechanisms:
- members known to be secret (SECRET_KEYS, anywhere in a request, config or
  answer) are replaced as whole values;
- secret *values* (the config's passwords and credentials, registered at run
  time; a case's own KeyStorePassword values, handed in per case) are replaced
  in any string we write, under one rule (`Redactor`): a value that is long and
  varied enough (`is_distinctive`) is replaced wherever it occurs, any other
  only where a whole string equals it. A short or filler password ("aaaaaaa")
  occurs inside ordinary values by chance (`cluster-aaaaaaaaaaa`), and
  replacing it there corrupts the report and makes it depend on which cases ran
  before;
- fragments of text that name a secret member (JSON `"KeyStorePassword": "..."`,
  `--key-store-password ...`, `Value '...' at 'keyStorePassword'`, SigV4
  `Signature=...`) are blanked whatever the value's length.

Redaction depends only on its input and the *set* of secret values: never on
the order they were registered in.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, Callable, Iterable

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
# A secret value is replaced inside longer text only from this length on and with at least
# DISTINCT_CHARS different characters; shorter or filler values only as whole values.
MIN_DISTINCTIVE_LEN = 8
DISTINCT_CHARS = 4

_lock = threading.Lock()
_values: set[str] = set()
_version = 0  # bumped on every new registered value: the cached Redactor is rebuilt
_cached: tuple[int, "Redactor"] | None = None

_SIG_RE = re.compile(r"(Signature=)[0-9a-f]{16,}")
# Secret-bearing command-line / JSON fragments a reproduce command or a raw body
# can hold: blanked whatever the value's length (a one-character password cannot be
# replaced as a value without mangling ordinary text, but must still not reach a report).
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
# "Secret": "value" pairs in JSON text that does not parse (malformed on purpose).
_SECRET_IN_JSON_TEXT = re.compile(
    r'"(?:' + "|".join(re.escape(k) for k in sorted(SECRET_KEYS)) + r')"\s*:\s*"((?:[^"\\]|\\.)*)'
)


def is_secret_key(key: Any) -> bool:
    """Whether a member / key name holds a secret wherever it appears."""
    return isinstance(key, str) and (key in SECRET_KEYS or key.lower() in SECRET_KEYS)


def is_distinctive(value: str) -> bool:
    """Long and varied enough that finding it inside other text means it was echoed, not chance."""
    return len(value) >= MIN_DISTINCTIVE_LEN and len(set(value)) >= DISTINCT_CHARS


def map_strings(obj: Any, text: Callable[[str], str], *, mask_secret_keys: bool = False) -> Any:
    """Deep copy of a JSON-like value with every string passed through `text`.

    With `mask_secret_keys`, a member under a secret key becomes REDACTED as a
    whole (a dict under one, e.g. XksProxyAuthenticationCredential, too); None stays None.
    The one walker behind report, step and cassette redaction.
    """
    if isinstance(obj, dict):
        return {k: ((REDACTED if v is not None else None) if mask_secret_keys and is_secret_key(k)
                    else map_strings(v, text, mask_secret_keys=mask_secret_keys)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [map_strings(v, text, mask_secret_keys=mask_secret_keys) for v in obj]
    if isinstance(obj, str):
        return text(obj)
    return obj


class Redactor:
    """Replaces a fixed set of secret values in text, by the rule of the module docstring.

    `replacement` maps a value to what replaces it (default REDACTED; a cassette uses
    numbered placeholders that a replay can put back).
    """

    def __init__(self, values: Iterable[str | None], replacement: Callable[[str], str] | None = None):
        values = {v for v in values if isinstance(v, str) and v and v != REDACTED}
        self._replacement = replacement or (lambda _v: REDACTED)
        self.whole = frozenset(values)
        # Longest first, ties by value: the result never depends on registration order.
        inside = sorted((v for v in values if is_distinctive(v)), key=lambda v: (-len(v), v))
        self._inside = re.compile("|".join(re.escape(v) for v in inside)) if inside else None

    def __bool__(self) -> bool:
        return bool(self.whole)

    def text(self, s: str) -> str:
        """`s` with the secret values replaced (no fragment or signature rules)."""
        if s in self.whole:
            return self._replacement(s)
        if self._inside is not None:
            return self._inside.sub(lambda m: self._replacement(m.group(0)), s)
        return s
# A reproduce command names a secret by a shell variable of ours ("$KMS_KEYSTORE_PASSWORD"): no
# secret. Only KMS_/AWS_ upper-case names, so a password that merely starts with "$" is still blanked.
_SHELL_VARIABLE_RE = re.compile(r'"?\$\{?(?:KMS|AWS)_[A-Z0-9_]+\}?"?')


def register_secret(value: str | None) -> None:
    """Remember a secret value of this process (config, credentials) so scrub() removes it from any text."""
    global _version
    if isinstance(value, str) and value and value != REDACTED:
        with _lock:
            if value not in _values:
                _values.add(value)
                _version += 1


def registered_secrets() -> list[str]:
    with _lock:
        return sorted(_values)


def _registered() -> Redactor:
    global _cached
    with _lock:
        if _cached is None or _cached[0] != _version:
            _cached = (_version, Redactor(_values))
        return _cached[1]


def scrub_signatures(text: str) -> str:
    """Blank SigV4 signatures (`Signature=<hex>` in Authorization headers and presigned URLs)."""
    return _SIG_RE.sub(r"\1" + REDACTED, text)


def scrub(text: str) -> str:
    """Remove the registered secret values (and SigV4 signatures) from text."""
    if not isinstance(text, str):
        return text
    return scrub_signatures(_registered().text(text))


def scrub_secret_fragments(text: str) -> str:
    """Blank secret values in CLI arguments, JSON text and validation messages, whatever their length.

    A shell variable of ours standing for the secret in a reproduce command is kept.
    """
    def blank(m: re.Match, value: int, kept: str) -> str:
        return m.group(0) if _SHELL_VARIABLE_RE.fullmatch(m.group(value)) else kept

    for rx in _SECRET_ARG_RES:
        text = rx.sub(lambda m: blank(m, 2, m.group(1) + REDACTED), text)
    text = _SECRET_VALUE_IN_MESSAGE_RE.sub(lambda m: f"{m.group(1)}'{REDACTED}'{m.group(2)}", text)
    return _SECRET_JSON_RE.sub(lambda m: blank(m, 3, m.group(1) + m.group(2) + REDACTED + m.group(2)), text)


def secret_values(obj: Any) -> list[str]:
    """The string values held under secret keys in obj, in order of first appearance.

    Also looks inside raw JSON bodies (a `body` member holding JSON text, or
    malformed JSON text with `"Secret": "value"` pairs).
    """
    found: list[str] = []

    def add(value: Any) -> None:
        if isinstance(value, str) and value and value != REDACTED and value not in found:
            found.append(value)

    def walk(o: Any, secret: bool = False) -> None:
        if isinstance(o, dict):
            for k, v in o.items():
                walk(v, secret or is_secret_key(k))
                if k == "body" and isinstance(v, (str, bytes)) and not secret:
                    walk_body(v)
        elif isinstance(o, (list, tuple)):
            for v in o:
                walk(v, secret)
        elif secret:
            add(o)

    def walk_body(body: str | bytes) -> None:
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="surrogateescape")
        if not body.strip():
            return
        try:
            walk(json.loads(body))
        except (ValueError, RecursionError):  # malformed, or nested past the parser, on purpose
            for m in _SECRET_IN_JSON_TEXT.finditer(body):
                add(m.group(1))

    walk(obj)
    return found


def redact(obj: Any, secrets: Iterable[str] = ()) -> Any:
    """Deep copy of obj as a report may show it.

    Members under secret keys are replaced; every string is scrubbed of the
    registered secrets and `secrets` (e.g. the case's own passwords), of SigV4
    signatures and of secret-bearing fragments.
    """
    extra = [s for s in secrets if s]
    values = Redactor([*registered_secrets(), *extra]) if extra else _registered()

    def text(s: str) -> str:
        return scrub_secret_fragments(scrub_signatures(values.text(s)))

    return map_strings(obj, text, mask_secret_keys=True)


def request_strings(request: Any, *, min_length: int = 4) -> tuple[list[str], list[str]]:
    """(secret values, other string values) a request carries, also inside a raw JSON body.

    Secrets are values under SECRET_KEYS. A response that quotes one leaks it; the
    other values let a checker tell a leak from a public value that happens to
    contain the secret. Secrets shorter than `min_length` are left out: they occur
    in any text by chance.
    """
    secrets: list[str] = []
    public: list[str] = []

    def walk(obj: Any, secret: bool) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, secret or is_secret_key(k))
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
        except (ValueError, RecursionError):  # not JSON, or nested past the parser (a hostile-body case)
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
