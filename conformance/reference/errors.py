"""The errors the reference target answers with: one class per AWS error code, with its wire status.

The rules raise these; only the HTTP layer (app.py) decides what goes on the
wire. Real KMS sends 400 for every client error (aws-behaviour-facts.md §1.3),
whatever the Smithy model's httpError says; only KMSInternalException is 500.
"""

from __future__ import annotations

from typing import ClassVar

INVALID_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)


class KmsError(Exception):
    """An AWS error answer: `code` is the wire `__type`; `message` may be absent (AWS sends none for some)."""

    code: ClassVar[str]
    status: ClassVar[int] = 400

    def __init__(self, message: str | None = None):
        self.message = message
        super().__init__(f"{self.code}: {message}" if message else self.code)


def error_document(err: KmsError) -> dict:
    """The AWS JSON 1.1 error body: `{"__type", "message"}` (no message key when there is none)."""
    out = {"__type": err.code}
    if err.message is not None:
        out["message"] = err.message
    return out


# --- request handling, before any operation runs
class UnknownOperationException(KmsError):
    code = "UnknownOperationException"


class MethodNotAllowedException(KmsError):
    code = "MethodNotAllowedException"
    status = 405


class SerializationException(KmsError):
    code = "SerializationException"


class ValidationException(KmsError):
    code = "ValidationException"


class KMSInternalException(KmsError):
    code = "KMSInternalException"
    status = 500


# --- HTTP-level refusals, before the body is read or parsed. AWS's codes for these are not
# recorded (its front end answers them); the names and statuses are ours [INFER], the JSON
# envelope is the point: a client must never have to parse an HTML error page.
class MalformedHttpRequestException(KmsError):
    code = "MalformedHttpRequestException"


class RequestTimeoutException(KmsError):
    code = "RequestTimeoutException"
    status = 408


class RequestEntityTooLargeException(KmsError):
    code = "RequestEntityTooLargeException"
    status = 413


class RequestUriTooLongException(KmsError):
    code = "RequestUriTooLongException"
    status = 414


class RequestHeaderFieldsTooLargeException(KmsError):
    code = "RequestHeaderFieldsTooLargeException"
    status = 431


HTTP_LEVEL_ERRORS: dict[int, type[KmsError]] = {
    e.status: e for e in (MalformedHttpRequestException, RequestTimeoutException, RequestEntityTooLargeException,
                          RequestUriTooLongException, RequestHeaderFieldsTooLargeException)
}


# --- SigV4 (aws-behaviour-facts.md §1.4)
class MissingAuthenticationTokenException(KmsError):
    code = "MissingAuthenticationTokenException"
    status = 403


class IncompleteSignatureException(KmsError):
    code = "IncompleteSignatureException"


class UnrecognizedClientException(KmsError):
    code = "UnrecognizedClientException"


class InvalidSignatureException(KmsError):
    code = "InvalidSignatureException"


# --- custom key stores
class CustomKeyStoreNotFoundException(KmsError):
    code = "CustomKeyStoreNotFoundException"


class CustomKeyStoreInvalidStateException(KmsError):
    code = "CustomKeyStoreInvalidStateException"


class CustomKeyStoreNameInUseException(KmsError):
    code = "CustomKeyStoreNameInUseException"


class CustomKeyStoreHasCMKsException(KmsError):
    code = "CustomKeyStoreHasCMKsException"


class LimitExceededException(KmsError):
    code = "LimitExceededException"


class InvalidMarkerException(KmsError):
    code = "InvalidMarkerException"


class UnsupportedOperationException(KmsError):
    code = "UnsupportedOperationException"


# --- the CloudHSM cluster behind a store
class CloudHsmClusterNotFoundException(KmsError):
    code = "CloudHsmClusterNotFoundException"


class CloudHsmClusterNotRelatedException(KmsError):
    code = "CloudHsmClusterNotRelatedException"


class CloudHsmClusterNotActiveException(KmsError):
    code = "CloudHsmClusterNotActiveException"


class CloudHsmClusterInvalidConfigurationException(KmsError):
    code = "CloudHsmClusterInvalidConfigurationException"


class CloudHsmClusterInUseException(KmsError):
    code = "CloudHsmClusterInUseException"


class IncorrectTrustAnchorException(KmsError):
    code = "IncorrectTrustAnchorException"


# --- external key stores (XKS): the proxy and the VPC endpoint service behind a store
class XksProxyIncorrectAuthenticationCredentialException(KmsError):
    code = "XksProxyIncorrectAuthenticationCredentialException"


class XksProxyInvalidConfigurationException(KmsError):
    code = "XksProxyInvalidConfigurationException"


class XksProxyInvalidResponseException(KmsError):
    code = "XksProxyInvalidResponseException"


class XksProxyUriEndpointInUseException(KmsError):
    code = "XksProxyUriEndpointInUseException"


class XksProxyUriInUseException(KmsError):
    code = "XksProxyUriInUseException"


class XksProxyUriUnreachableException(KmsError):
    code = "XksProxyUriUnreachableException"


class XksProxyVpcEndpointServiceInUseException(KmsError):
    code = "XksProxyVpcEndpointServiceInUseException"


class XksProxyVpcEndpointServiceInvalidConfigurationException(KmsError):
    code = "XksProxyVpcEndpointServiceInvalidConfigurationException"


class XksProxyVpcEndpointServiceNotFoundException(KmsError):
    code = "XksProxyVpcEndpointServiceNotFoundException"


# --- KMS keys in an external key store
class XksKeyNotFoundException(KmsError):
    code = "XksKeyNotFoundException"


class XksKeyInvalidConfigurationException(KmsError):
    code = "XksKeyInvalidConfigurationException"


class XksKeyAlreadyInUseException(KmsError):
    code = "XksKeyAlreadyInUseException"


# --- KMS keys
class NotFoundException(KmsError):
    code = "NotFoundException"


class KMSInvalidStateException(KmsError):
    code = "KMSInvalidStateException"


# --- the test control surface (never part of the emulated AWS API)
class ReferenceControlException(KmsError):
    code = "ReferenceControlException"
