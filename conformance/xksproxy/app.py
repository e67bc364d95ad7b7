"""The XKS proxy double over HTTP (a WSGI app): the four XKS Proxy API operations, SigV4, modes.

Request pipeline: POST only (405) → the path names a mode and an operation
(`[/<mode>[/...]]/kms/xks/v1/health` or `.../keys/<externalKeyId>/<metadata|encrypt|decrypt>`;
anything else InvalidUriPathException 404, checked before the signature because a proxy keeps
its credentials per path) → SigV4 with the service name `kms-xks-proxy` (reference/sigv4.py,
botocore's signer; any failure AuthenticationFailedException 401) → JSON body with
requestMetadata (ValidationException 400) → the mode → the operation. Errors are the spec's
`{"errorName", "errorMessage"}` with its status. Encrypt and Decrypt are real AES-GCM
(`cryptography`), with key material derived from the key id: a test double, not a key store.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import threading
from typing import Any, Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from conformance.redact import register_secret
from conformance.reference.errors import KmsError
from conformance.reference.sigv4 import SignedRequest, parse_authorization, verify
from conformance.xksproxy.config import SIGNING_SERVICE, ProxyConfig
from conformance.xksproxy.keys import MODE_KEY, ExternalKey
from conformance.xksproxy.modes import MODES

log = logging.getLogger("conformance.xksproxy")

CONTENT_TYPE = "application/json"
_PATH_RE = re.compile(
    r"^(?P<prefix>(?:/[A-Za-z0-9_-]+)*)/kms/xks/v1/"
    r"(?:(?P<health>health)|keys/(?P<key>[A-Za-z0-9._-]{1,128})/(?P<op>metadata|encrypt|decrypt))$"
)
_REQUIRED = {
    "encrypt": ("plaintext", "encryptionAlgorithm"),
    "decrypt": ("ciphertext", "encryptionAlgorithm", "initializationVector", "authenticationTag"),
}


class ProxyError(Exception):
    """An XKS proxy error answer (errorName, status) from the spec's error table."""

    status = 400

    def __init__(self, name: str, status: int, message: str | None = None):
        self.name, self.status, self.message = name, status, message
        super().__init__(name)

    def body(self) -> dict:
        out = {"errorName": self.name}
        if self.message:
            out["errorMessage"] = self.message
        return out


def validation(message: str) -> ProxyError:
    return ProxyError("ValidationException", 400, message)


def aad_for(aad: bytes | None, metadata: bytes | None) -> bytes:
    """The AAD the external key manager sees: 2-byte AAD length, AAD, 1-byte metadata length, metadata."""
    aad, metadata = aad or b"", metadata or b""
    return len(aad).to_bytes(2, "big") + aad + len(metadata).to_bytes(1, "big") + metadata


class XksProxyApp:
    """WSGI callable for one proxy double. `.config` is its set-up; `.requests` counts calls by operation."""

    def __init__(self, config: ProxyConfig | None = None):
        self.config = config or ProxyConfig()
        register_secret(self.config.secret_access_key)
        self.requests: dict[str, int] = {}
        self._stop = threading.Event()  # releases requests held by the timeout mode on shutdown
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any) -> Iterable[bytes]:
        return self.respond(Request(environ))(environ, start_response)

    def release(self) -> None:
        """Let every request the timeout mode holds go (called when the server stops)."""
        self._stop.set()

    # ------------------------------------------------------------------
    def respond(self, request: Request) -> Response:
        try:
            status, body = self.handle(request)
        except ProxyError as err:
            log.debug("%s %s -> %s", request.method, request.path, err.name)
            return self._json(err.status, err.body())
        except Exception as exc:  # a bug must still answer in the spec's error form
            log.error("xks proxy double: internal error %r", type(exc).__name__)
            return self._json(500, {"errorName": "InternalException"})
        if isinstance(body, bytes):
            return Response(body, status=status, headers={"Content-Type": CONTENT_TYPE})
        return self._json(status, body)

    def handle(self, request: Request) -> tuple[int, Any]:
        match = _PATH_RE.match(request.path)
        mode = self.mode_for(match.group("prefix")) if match else None
        if request.method != "POST":
            if match:  # the spec: a GET (or other method) to an API URI is refused with 405 [INFER errorName]
                raise ProxyError("ValidationException", 405, "XKS proxy API operations are invoked with POST.")
            raise ProxyError("InvalidUriPathException", 404, "No XKS proxy API at this path.")
        if match is None or mode is None or mode == "unknown-path":
            raise ProxyError("InvalidUriPathException", 404, "No XKS proxy API at this path.")
        operation = "health" if match.group("health") else match.group("op")
        with self._lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1
        raw = self._read(request)
        self.authenticate(request, raw, mode)
        params = self._parse(raw)
        if mode == "timeout":
            self._stop.wait(self.config.hang_s)
        elif mode == "throttled":
            raise ProxyError("ThrottlingException", 429, "Request rate too high.")
        elif mode == "internal-error":
            raise ProxyError("InternalException", 500, "The external key manager failed.")
        elif mode == "malformed-json":
            return 200, b"<html><body>not the XKS proxy you are looking for</body></html>"
        elif mode == "invalid-response":
            return 200, {"xksProxyFleetSize": 0, "ekmFleetDetails": "ACTIVE"} if operation == "health" else {
                "keySpec": 256, "keyStatus": ["ENABLED"]}
        if operation == "health":
            return 200, self.health(mode)
        if mode == "unavailable":
            raise ProxyError("InternalException", 500, "No external key manager is available.")
        key = self.key(match.group("key"), mode)
        if operation == "metadata":
            return 200, key.metadata()
        return 200, (self.encrypt if operation == "encrypt" else self.decrypt)(match.group("key"), key, params)

    def mode_for(self, prefix: str) -> str | None:
        """The mode a path prefix selects: its first segment, or --mode for the bare path; None: unknown."""
        if not prefix:
            return self.config.mode
        first = prefix.split("/")[1]
        return first if first in MODES else None

    # ------------------------------------------------------------------ the pipeline's steps
    def _read(self, request: Request) -> bytes:
        request.max_content_length = self.config.max_request_bytes
        try:
            return request.get_data()
        except RequestEntityTooLarge:
            raise validation("The request body is too large.") from None
        except ClientDisconnected:
            raise validation("The request body is shorter than its Content-Length.") from None

    def authenticate(self, request: Request, body: bytes, mode: str) -> None:
        """SigV4 with the proxy's credential and the service name kms-xks-proxy; any failure is a 401."""
        failed = ProxyError("AuthenticationFailedException", 401, "The request signature could not be verified.")
        if mode == "wrong-credential":
            raise failed
        headers = dict(request.headers.items())
        try:
            auth = headers.get("Authorization") or ""
            scope = parse_authorization(auth)["Credential"].split("/") if auth else []
            region = scope[2] if len(scope) == 5 else ""  # any Region: it is the one KMS calls from
            verify(SignedRequest(method=request.method, path=request.path,
                                 query=request.query_string.decode("latin-1"), headers=headers, body=body),
                   access_key_id=self.config.access_key_id, secret_access_key=self.config.secret_access_key,
                   region=region, services=(SIGNING_SERVICE,), skew_s=self.config.signature_skew_s)
        except KmsError as err:
            log.debug("xks proxy double: authentication failed: %s", err.code)
            raise failed from None

    def _parse(self, raw: bytes) -> dict:
        try:
            params = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            raise validation("The request body is not JSON.") from None
        if not isinstance(params, dict) or not isinstance(params.get("requestMetadata"), dict):
            raise validation("The request body needs a requestMetadata object.")
        return params

    # ------------------------------------------------------------------ operations
    def health(self, mode: str) -> dict:
        status = "UNAVAILABLE" if mode == "unavailable" else "ACTIVE"
        return {
            "xksProxyFleetSize": 1,
            "xksProxyVendor": self.config.vendor,
            "xksProxyModel": self.config.model,
            "ekmVendor": self.config.vendor,
            "ekmFleetDetails": [{"id": "ekm-1", "model": "in-memory key manager", "healthStatus": status},
                                {"id": "ekm-2", "model": "in-memory key manager", "healthStatus": status}],
        }

    def key(self, key_id: str, mode: str) -> ExternalKey:
        key = MODE_KEY[mode] if mode in MODE_KEY else self.config.keys.get(key_id)
        if key is None:
            raise ProxyError("KeyNotFoundException", 404, "The external key is not found.")
        return key

    def _usable(self, key: ExternalKey, usage: str) -> None:
        if key.key_status != "ENABLED":
            raise ProxyError("InvalidStateException", 400, "The external key is disabled.")
        if not key.can(usage):
            raise ProxyError("InvalidKeyUsageException", 400, f"The external key does not allow {usage}.")

    def _material(self, key_id: str) -> bytes:
        """256 bits derived from the key id: stable across restarts, so ciphertext stays decryptable."""
        return hashlib.sha256(b"kms-conformance xks proxy double\0" + key_id.encode()).digest()

    def encrypt(self, key_id: str, key: ExternalKey, p: dict) -> dict:
        self._usable(key, "ENCRYPT")
        self._check(p, "encrypt")
        plaintext, aad = _b64(p, "plaintext"), _b64(p, "additionalAuthenticatedData", optional=True)
        iv = os.urandom(12)
        sealed = AESGCM(self._material(key_id)).encrypt(iv, plaintext, aad_for(aad, None))
        ciphertext, tag = sealed[:-16], sealed[-16:]
        out = {"ciphertext": _e(ciphertext), "initializationVector": _e(iv), "authenticationTag": _e(tag)}
        algorithm = p.get("ciphertextDataIntegrityValueAlgorithm")
        if algorithm is not None:
            if algorithm != "SHA_256":
                raise validation("ciphertextDataIntegrityValueAlgorithm must be SHA_256.")
            out["ciphertextDataIntegrityValue"] = _e(hashlib.sha256((aad or b"") + iv + ciphertext + tag).digest())
        return out

    def decrypt(self, key_id: str, key: ExternalKey, p: dict) -> dict:
        self._usable(key, "DECRYPT")
        self._check(p, "decrypt")
        ciphertext, iv, tag = _b64(p, "ciphertext"), _b64(p, "initializationVector"), _b64(p, "authenticationTag")
        aad = _b64(p, "additionalAuthenticatedData", optional=True)
        metadata = _b64(p, "ciphertextMetadata", optional=True)
        if len(iv) not in (12, 16) or len(tag) != 16:
            raise ProxyError("InvalidCiphertextException", 400, "The initialization vector or tag has a wrong size.")
        try:
            plaintext = AESGCM(self._material(key_id)).decrypt(iv, ciphertext + tag, aad_for(aad, metadata))
        except InvalidTag:
            raise ProxyError("InvalidCiphertextException", 400, "The ciphertext or its context is not valid.") from None
        return {"plaintext": _e(plaintext)}

    def _check(self, p: dict, operation: str) -> None:
        missing = [m for m in _REQUIRED[operation] if m not in p]
        if missing:
            raise validation(f"Missing required field(s): {', '.join(missing)}.")
        if p["encryptionAlgorithm"] != "AES_GCM":
            raise validation("encryptionAlgorithm must be AES_GCM.")

    # ------------------------------------------------------------------ the served server's hooks
    def http_error(self, status: int, reason: str) -> Response:
        """What the loopback server answers for a request it could not read (reference/server.py)."""
        return self._json(status, {"errorName": "ValidationException", "errorMessage": reason[:200]})

    def _json(self, status: int, body: dict) -> Response:
        return Response(json.dumps(body), status=status, headers={"Content-Type": CONTENT_TYPE})


def _e(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _b64(p: dict, name: str, *, optional: bool = False) -> bytes | None:
    value = p.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise validation(f"{name} must be a Base64 string.")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise validation(f"{name} is not valid Base64.") from None
