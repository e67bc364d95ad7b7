"""The reference target over HTTP: AWS JSON 1.1 in, AWS JSON 1.1 out (a WSGI app).

Request pipeline: the body is read within the size limit
(RequestEntityTooLargeException 413, never read past the limit) → X-Amz-Target
routes to a service and operation (UnknownOperationException when it names
nothing we know) → SigV4 check (credential scope must name the routed service)
→ JSON body (SerializationException when it is not a JSON object or nests
deeper than the limit) → backend (validation, then semantics). Every response carries `Content-Type:
application/x-amz-json-1.1` and `x-amzn-RequestId`; errors are
`{"__type": ..., "message": ...}`. The rules raise typed errors (errors.py);
this layer alone decides the status, headers and body they go out with.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from itertools import accumulate
from typing import Any, Iterable

from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from conformance.redact import register_secret, scrub
from conformance.reference.backend import ReferenceBackend
from conformance.reference.config import ReferenceConfig
from conformance.reference.control import ACTIONS, CONTROL_PREFIX, run_action
from conformance.reference.errors import (
    HTTP_LEVEL_ERRORS,
    KmsError,
    KMSInternalException,
    MalformedHttpRequestException,
    MethodNotAllowedException,
    RequestEntityTooLargeException,
    RequestTimeoutException,
    SerializationException,
    UnknownOperationException,
    error_document,
)
from conformance.reference.sigv4 import SignedRequest, verify

log = logging.getLogger("conformance.reference")

CONTENT_TYPE = "application/x-amz-json-1.1"
# X-Amz-Target prefix -> (backend service, SigV4 signing names accepted)
TARGET_PREFIXES = {
    "TrentService": ("kms", ("kms",)),
    "BaldrApiService": ("cloudhsm", ("cloudhsm",)),
}


class ReferenceApp:
    """WSGI callable; `.backend` is the state (and the test control surface).

    The wire rules (status per error, response headers, the signature check)
    are small methods, so a seeded fault (faults.py) can replace one of them.
    Build one with its faults through `conformance.reference.make_app(config)`.
    """

    def __init__(self, config: ReferenceConfig | None = None, backend: ReferenceBackend | None = None):
        self.backend = backend or ReferenceBackend(config or ReferenceConfig())
        self.config = self.backend.config
        register_secret(self.config.secret_access_key)
        register_secret(self.config.kmsuser_password)

    def __call__(self, environ: dict, start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.respond(request)
        return response(environ, start_response)

    # ------------------------------------------------------------------
    def respond(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        target = request.headers.get("X-Amz-Target", "")
        try:
            if request.method != "POST":  # operations are POST / only; never run one for another method [INFER code]
                raise MethodNotAllowedException("Operations are invoked with POST /.")
            raw = self.read_body(request)
            service, operation, signing_names = self._route(target)
            self.authenticate(request, signing_names)
            params = self.parse_body(raw)
            if service == "control":
                status, body = 200, run_action(self.backend, operation, params)
            else:
                status, body = 200, self.backend.dispatch(service, operation, params)
        except KmsError as err:
            log.debug("%s %s -> %s", request_id, target, err.code)
            return self.error_response(err, request_id)
        except Exception as exc:  # a bug here must still look like AWS to the client, not an HTML 500
            log.error("%s %s: internal error %s", request_id, target, scrub(repr(exc)))
            return self.error_response(KMSInternalException("An internal error occurred."), request_id)
        log.debug("%s %s -> %s", request_id, target, status)
        return self._response(status, body, request_id)

    def error_response(self, err: KmsError, request_id: str) -> Response:
        """Any error, from a validation refusal to an oversized body: AWS JSON with the error's status."""
        return self._response(self.error_status(err), error_document(err), request_id)

    def http_error(self, status: int, reason: str) -> Response:
        """The answer to a request the HTTP server refused before the app saw it (garbage request
        line, oversize headers, a stalled request): the same AWS JSON error envelope, never HTML."""
        error_class = HTTP_LEVEL_ERRORS.get(status, MalformedHttpRequestException)
        return self.error_response(error_class(reason), str(uuid.uuid4()))

    def max_request_bytes(self) -> int | None:
        """The largest body read; a larger one is refused before it is read (None: no limit)."""
        return self.config.max_request_bytes

    def read_body(self, request: Request) -> bytes:
        """The body, never read past the size limit; a stalled body ends in a 408, not a held thread."""
        limit = self.max_request_bytes()
        too_large = RequestEntityTooLargeException(f"Request body exceeds the limit of {limit} bytes.")
        # werkzeug refuses a Content-Length above its limit up front, but stops a chunked body at the
        # limit without a word: read one byte more than allowed so a cut body shows itself.
        request.max_content_length = None if limit is None else limit + 1
        try:
            data = request.get_data()
        except RequestEntityTooLarge:
            raise too_large from None
        except ClientDisconnected as exc:  # werkzeug's word for a body cut short, or stalled past the socket timeout
            if isinstance(exc.__context__, TimeoutError):  # the served handler's config.read_timeout_s
                raise RequestTimeoutException("The request body did not arrive in time.") from None
            raise MalformedHttpRequestException("The request body is shorter than its Content-Length.") from None
        if limit is not None and len(data) > limit:
            raise too_large
        return data

    def max_json_depth(self) -> int | None:
        """How deep a JSON body may nest (None: as deep as the parser's own recursion goes)."""
        return self.config.max_json_depth

    def _route(self, target: str) -> tuple[str, str, tuple[str, ...]]:
        prefix, _, operation = target.partition(".")
        if prefix == CONTROL_PREFIX and self.config.control_api and operation in ACTIONS:
            return "control", operation, ("kms",)
        entry = TARGET_PREFIXES.get(prefix)
        if entry is None or not operation:
            raise UnknownOperationException()
        service, signing_names = entry
        if not self.backend.supports(service, operation):
            raise UnknownOperationException()
        return service, operation, signing_names

    def error_status(self, err: KmsError) -> int:
        """The HTTP status an error is sent with: the one AWS uses for its code."""
        return err.status

    def response_headers(self, request_id: str) -> dict[str, str]:
        return {"Content-Type": CONTENT_TYPE, "x-amzn-RequestId": request_id}

    def checks_signature_age(self) -> bool:
        """X-Amz-Date must be within the configured skew of the wall clock."""
        return True

    def authenticate(self, request: Request, signing_names: tuple[str, ...]) -> None:
        """Recompute the SigV4 signature; raise the error AWS would answer for a bad one."""
        if not self.config.verify_signatures:
            return
        verify(
            SignedRequest(
                method=request.method,
                path=request.path,
                query=request.query_string.decode("latin-1"),
                headers=dict(request.headers.items()),
                body=request.get_data(),
            ),
            access_key_id=self.config.access_key_id,
            secret_access_key=self.config.secret_access_key,
            region=self.config.region,
            services=signing_names,
            skew_s=self.config.signature_skew_s,
            check_expiry=self.checks_signature_age(),
        )

    def parse_body(self, raw: bytes) -> Any:
        if not raw.strip():
            return {}  # an empty body is accepted for operations without required input
        limit = self.max_json_depth()
        if limit is not None and json_depth(raw) > limit:  # before the parser recurses into a RecursionError
            raise SerializationException(f"JSON nesting exceeds the maximum depth of {limit}.")  # [INFER] text
        try:
            params = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise SerializationException("The request body is not valid JSON.") from None  # [INFER] text
        if not isinstance(params, dict):
            raise SerializationException("Start of structure or map found where not expected.")
        return params

    def _response(self, status: int, body: dict, request_id: str) -> Response:
        return Response(json.dumps(body, separators=(",", ":")), status=status, headers=self.response_headers(request_id))


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"{}[]")


def json_depth(raw: bytes) -> int:
    """How deep the objects and arrays of a JSON text nest, without parsing it.

    By hand because the json module has no depth limit: it recurses until Python's
    recursion limit and fails with a RecursionError. Brackets inside strings do not count.
    """
    skeleton = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(1 if c in b"{[" else -1 for c in skeleton), default=0)
