"""The reference target over HTTP: AWS JSON 1.1 in, AWS JSON 1.1 out (a WSGI app).

Request pipeline: X-Amz-Target routes to a service and operation
(UnknownOperationException when it names nothing we know) → SigV4 check
(credential scope must name the routed service) → JSON body
(SerializationException when it is not a JSON object) → backend (validation,
then semantics). Every response carries `Content-Type:
application/x-amz-json-1.1` and `x-amzn-RequestId`; errors are
`{"__type": ..., "message": ...}`.
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
from conformance.reference.errors import ApiError
from conformance.reference.sigv4 import SignedRequest, verify

log = logging.getLogger("conformance.reference")

CONTENT_TYPE = "application/x-amz-json-1.1"
# X-Amz-Target prefix -> (backend service, SigV4 signing names accepted)
TARGET_PREFIXES = {
    "TrentService": ("kms", ("kms",)),
    "BaldrApiService": ("cloudhsm", ("cloudhsm",)),
}


class ReferenceApp:
    """WSGI callable; `.backend` is the state (and the test control surface)."""

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
                raise ApiError("MethodNotAllowedException", "Operations are invoked with POST /.", 405)
            service, operation, signing_names = self._route(target)
            self._authenticate(request, signing_names)
            params = self._parse_body(request.get_data())
            if service == "control":
                status, body = 200, run_action(self.backend, operation, params)
            else:
                status, body = self.backend.handle(service, operation, params)
        except ApiError as err:
            status, body = self.backend._status(err), err.body()
        except Exception as exc:  # a bug here must still look like AWS to the client, not an HTML 500
            log.error("%s %s: internal error %s", request_id, target, scrub(repr(exc)))
            status, body = 500, {"__type": "KMSInternalException", "message": "An internal error occurred."}
        log.debug("%s %s -> %s %s", request_id, target, status, scrub(str(body.get("__type", ""))))
        return self._response(status, body, request_id)

    def _route(self, target: str) -> tuple[str, str, tuple[str, ...]]:
        prefix, _, operation = target.partition(".")
        if prefix == CONTROL_PREFIX and self.config.control_api and operation in ACTIONS:
            return "control", operation, ("kms",)
        entry = TARGET_PREFIXES.get(prefix)
        if entry is None or not operation:
            raise ApiError("UnknownOperationException", None,
                           500 if self.backend.has("unknown-operation-500") else 400)
        service, signing_names = entry
        if not self.backend.supports(service, operation):
            raise ApiError("UnknownOperationException", None,
                           500 if self.backend.has("unknown-operation-500") else 400)
        return service, operation, signing_names

    def _authenticate(self, request: Request, signing_names: tuple[str, ...]) -> None:
        if not self.config.verify_signatures or self.backend.has("signature-not-checked"):
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
            check_expiry=not self.backend.has("expired-signature-accepted"),
        )

    @staticmethod
    def _parse_body(raw: bytes) -> Any:
        if not raw.strip():
            return {}  # an empty body is accepted for operations without required input
        try:
            params = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError("SerializationException", "The request body is not valid JSON.") from None  # [INFER] text
        if not isinstance(params, dict):
            raise ApiError("SerializationException", "Start of structure or map found where not expected.")
        return params

    def _response(self, status: int, body: dict, request_id: str) -> Response:
        headers = {"Content-Type": "application/json" if self.backend.has("json-content-type") else CONTENT_TYPE}
        if not self.backend.has("missing-request-id"):
            headers["x-amzn-RequestId"] = request_id
        return Response(json.dumps(body, separators=(",", ":")), status=status, headers=headers)


def make_app(config: ReferenceConfig | None = None) -> ReferenceApp:
    """The reference target as a WSGI app (in-process use, or behind `kms-conformance serve`)."""
    return ReferenceApp(config)
