"""Find the redaction marker where it does not belong: inside a value that is not secret.

Allowed: the marker as a whole value (a JSON string, a table cell, a line), or as
the value of a member known to be secret (JSON member, CLI option, `Name=value`,
a validation message quoting a secret member, a SigV4 signature). Report files are
read after undoing HTML and JSON-in-JSON escaping, so each format is judged alike.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from conformance.redact import REDACTED, SECRET_KEYS

_M = re.escape(REDACTED)
_KEYS = "|".join(re.escape(k) for k in sorted(SECRET_KEYS, key=len, reverse=True))
_ALLOWED = [
    re.compile(r'"' + _M + r'"'),  # a whole JSON string value
    re.compile(r"(?i)(?:" + _KEYS + r")\"?\s*[:=]\s*\"?" + _M),  # a secret member
    re.compile(r"--key-store-password[ =]" + _M + r"|--xks-proxy-authentication-credential[ =]" + _M),
    re.compile(r"Signature=" + _M),
    re.compile(r"Value '" + _M + r"' at '[^']*(?i:keyStorePassword|rawSecretAccessKey|xksProxyAuthenticationCredential)"),
    re.compile(r"(?m)^[ \t]*" + _M + r"[ \t]*$"),  # a whole line
    re.compile(r">\s*" + _M + r"\s*<"),  # a whole HTML / XML element text
]


def misplaced_markers(text: str) -> list[str]:
    """The places (with some context) where the marker sits inside a non-secret value."""
    text = html.unescape(text)
    for _ in range(3):  # JSON text inside JSON strings inside a report
        text = text.replace('\\"', '"').replace("\\\\", "\\")
    for rx in _ALLOWED:
        text = rx.sub("", text)
    return [text[max(0, m.start() - 60):m.end() + 30] for m in re.finditer(_M, text)]


def misplaced_markers_in(folder: Path) -> dict[str, list[str]]:
    """misplaced_markers of every file under folder (keyed by relative path), only files with some."""
    found = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            left = misplaced_markers(path.read_text(encoding="utf-8", errors="replace"))
            if left:
                found[str(path.relative_to(folder))] = left[:5]
    return found
