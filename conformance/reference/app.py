"""The reference target over HTTP: AWS JSON 1.1 in, AWS JSON 1.1 out (a WSGI app).

Request pipeline: X-Amz-Target routes to a service and operation
(UnknownOperationException when it names nothing we know) → SigV4 check
(credential scope must name the routed service) → JSON body
(SerializationException when it is not a JSON object) → backend (validation,
then semantics). Every response carries `Content-Type:
application/x-amz-json-1.1` and `x-amzn-RequestId`; errors are
`{"__type": ..., "message": ...}`. The rules raise typed errors (errors.py);
this layer alone decides the status, headers and body they go out with.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, Iterable

from werkzeug.wrappers import Request, Response

from conformance.redact import register_secret, scrub
from conformance.reference.backend import ReferenceBackend
from conformance.reference.config import ReferenceConfig
from conformance.reference.control import ACTIONS, CONTROL_PREFIX, run_action
from conformance.reference.errors import (
    KmsError,
    KMSInternalException,
    MethodNotAllowedException,
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
            service, operation, signing_names = self._route(target)
            self.authenticate(request, signing_names)
            params = self._parse_body(request.get_data())
            if service == "control":
                status, body = 200, run_action(self.backend, operation, params)
            else:
                status, body = 200, self.backend.dispatch(service, operation, params)
        except KmsError as err:
            status, body = self.error_status(err), error_document(err)
        except Exception as exc:  # a bug here must still look like AWS to the client, not an HTML 500
            log.error("%s %s: internal error %s", request_id, target, scrub(repr(exc)))
            status, body = 500, error_document(KMSInternalException("An internal error occurred."))
        log.debug("%s %s -> %s %s", request_id, target, status, scrub(str(body.get("__type", ""))))
        return self._response(status, body, request_id)

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

    @staticmethod
    def _parse_body(raw: bytes) -> Any:
        if not raw.strip():
            return {}  # an empty body is accepted for operations without required input
        try:
            params = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise SerializationException("The request body is not valid JSON.") from None  # [INFER] text
        if not isinstance(params, dict):
            raise SerializationException("Start of structure or map found where not expected.")
        return params

    def _response(self, status: int, body: dict, request_id: str) -> Response:
        return Response(json.dumps(body, separators=(",", ":")), status=status, headers=self.response_headers(request_id))
