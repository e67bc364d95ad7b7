"""SigV4 verification: recompute the signature with botocore's own signer and compare.

Only parsing the Authorization header is ours (botocore signs, it does not
verify); the canonical request, string to sign and key derivation are
botocore's `SigV4Auth`. Expiry is judged on the wall clock, not the
emulator's state clock (a manual clock moved for connect waits must not make
signatures expire). Error codes and statuses follow aws-behaviour-facts.md §1.4.
"""

from __future__ import annotations

import calendar
import hmac
import re
import time
from dataclasses import dataclass
from typing import Mapping

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conformance.reference.errors import (
    INVALID_SIGNATURE_MESSAGE,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

ALGORITHM = "AWS4-HMAC-SHA256"
_AMZ_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")


@dataclass
class SignedRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # as received (any case)
    body: bytes


@dataclass
class AuthResult:
    access_key_id: str
    service: str
    region: str


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return None


def parse_authorization(value: str) -> dict[str, str]:
    """`AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` -> its parameters."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(
            f"Authorization header requires the {ALGORITHM} algorithm, not '{algorithm[:40]}'.")
    params: dict[str, str] = {}
    for part in rest.split(","):
        k, sep, v = part.strip().partition("=")
        if sep:
            params[k.strip()] = v.strip()
    missing = [p for p in ("Credential", "SignedHeaders", "Signature") if not params.get(p)]
    if missing:
        raise IncompleteSignatureException(
            " ".join(f"Authorization header requires '{p}' parameter." for p in missing))
    return params


def verify(request: SignedRequest, *, access_key_id: str, secret_access_key: str, region: str,
           services: tuple[str, ...], now: float | None = None, skew_s: float = 300.0,
           check_expiry: bool = True) -> AuthResult:
    """Raise the error AWS would answer for a bad signature; return who signed on success."""
    auth = _header(request.headers, "authorization")
    if not auth:
        raise MissingAuthenticationTokenException("Request is missing Authentication Token")
    params = parse_authorization(auth)
    scope = params["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term.")
    key_id, date, cred_region, service, _ = scope
    amz_date = _header(request.headers, "x-amz-date")
    if not amz_date:
        raise IncompleteSignatureException(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if not _AMZ_DATE_RE.match(amz_date):
        raise IncompleteSignatureException(f"Date must be in ISO-8601 'basic format'. Got '{amz_date[:40]}'.")
    signed = [h.strip().lower() for h in params["SignedHeaders"].split(";") if h.strip()]
    if "host" not in signed:
        raise IncompleteSignatureException("'Host' must be a 'SignedHeader' in the AWS Authorization.")
    if key_id != access_key_id:
        raise UnrecognizedClientException("The security token included in the request is invalid.")
    if _header(request.headers, "x-amz-security-token"):
        raise UnrecognizedClientException("The security token included in the request is invalid.")
    if cred_region != region:
        raise InvalidSignatureException(f"Credential should be scoped to a valid region, not '{cred_region}'. ")
    if service not in services:
        raise InvalidSignatureException(f"Credential should be scoped to correct service: '{services[0]}'. ")
    if date != amz_date[:8]:
        raise InvalidSignatureException(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{date}' != '{amz_date[:8]}', from '{amz_date}'.")
    if check_expiry:
        _check_time(amz_date, time.time() if now is None else now, skew_s)
    expected = _expected_signature(request, signed, amz_date, key_id, secret_access_key, cred_region, service)
    if not hmac.compare_digest(expected, params["Signature"]):
        raise InvalidSignatureException(INVALID_SIGNATURE_MESSAGE)
    return AuthResult(access_key_id=key_id, service=service, region=cred_region)


def _fmt(ts: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ts))


def _check_time(amz_date: str, now: float, skew_s: float) -> None:
    signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    minutes = int(skew_s // 60)
    if signed_at < now - skew_s:
        raise InvalidSignatureException(f"Signature expired: {amz_date} is now earlier than {_fmt(now - skew_s)} "
                                        f"({_fmt(now)} - {minutes} min.)")
    if signed_at > now + skew_s:
        raise InvalidSignatureException(
            f"Signature not yet current: {amz_date} is still later than {_fmt(now + skew_s)} "
            f"({_fmt(now)} + {minutes} min.)")


def _expected_signature(request: SignedRequest, signed: list[str], amz_date: str, key_id: str, secret: str,
                        region: str, service: str) -> str:
    """The signature botocore's SigV4Auth would produce for exactly the signed headers."""
    headers = {}
    for name in signed:
        value = _header(request.headers, name)
        if value is None:
            value = ""
        headers[name] = value
    url = "http://" + (headers.get("host") or "localhost") + request.path + (f"?{request.query}" if request.query else "")
    aws_request = AWSRequest(method=request.method, url=url, headers=headers, data=request.body)
    aws_request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(key_id, secret), service, region)
    # botocore would add a `host` header from the URL; the received one is already in `headers`.
    canonical = signer.canonical_request(aws_request)
    return signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
