"""What can go wrong on the proxy side: one mode per misbehaviour, each on its own path prefix.

`--mode` sets the behaviour of the bare path (`/kms/xks/v1`); every mode is also served under
`/<mode>[/<anything>]/kms/xks/v1` on the same process, so one proxy double serves every faulty
path a world config names. An unknown first segment is an unknown path (InvalidUriPathException).
"""

from __future__ import annotations

MODES: dict[str, str] = {
    "correct": "a conforming proxy: signatures checked, keys served from its config",
    "wrong-credential": "every request fails authentication (AuthenticationFailedException, 401)",
    "unknown-path": "every request gets InvalidUriPathException (404): the path is not one the proxy serves",
    "timeout": "every request is answered only after the hang time (longer than KMS waits)",
    "invalid-response": "200 answers with well-formed JSON that does not conform to the proxy API",
    "malformed-json": "200 answers whose body is not JSON",
    "unavailable": "health status reports every external key manager UNAVAILABLE; key calls fail (500)",
    "throttled": "every request gets ThrottlingException (429)",
    "internal-error": "every request gets InternalException (500)",
    "key-not-found": "every key is unknown (KeyNotFoundException, 404); health is fine",
    "key-disabled": "every key is DISABLED; health is fine",
    "key-not-usable": "every key is an AES_256 key that may only ENCRYPT; health is fine",
}
DEFAULT_MODE = "correct"

# The world.xks.faulty_paths role each path-only mode stands for (world.XKS_FAULTY_PATH_ROLES).
FAULTY_PATH_MODES = {
    "wrong_credential": "wrong-credential",
    "unknown_path": "unknown-path",
    "timeout": "timeout",
    "invalid_response": "invalid-response",
    "malformed_json": "malformed-json",
    "unavailable": "unavailable",
}

API_PATH = "/kms/xks/v1"


def mode_path(mode: str, suffix: str = "") -> str:
    """The URI path (XksProxyUriPath) under which the proxy behaves as `mode`."""
    return f"/{mode}{suffix}{API_PATH}"
