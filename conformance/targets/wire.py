"""Getting bytes to a target and back: transports, SigV4 signing variants, raw requests.

Every adapter sends through one `Transport` (a socket-less WSGI call, HTTP on
loopback or to AWS, or moto's in-process stub), used both by the boto3 client
(a `before-send` hook) and by the raw sender, so both paths see the same
bytes, the same per-call timeout and the same failure handling.
"""

from __future__ import annotations

import datetime
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol
from urllib.parse import urlsplit

import urllib3
from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials

from conformance.observation import IN_PROCESS_CRASH_HEADER
from conformance.redact import scrub

# AWS's documented example identities: used to build a key the target does not know.
UNKNOWN_ACCESS_KEY_ID = "AKIAI44QH8DHBEXAMPLE"
UNKNOWN_SECRET_ACCESS_KEY = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
SIGNING_MODES = ("valid", "none", "wrong-secret", "unknown-key", "expired", "malformed")
MAX_BODY_KEPT = 1 << 20  # a misbehaving server must not exhaust memory


class TransportFailure(Exception):
    """No HTTP response arrived (refused, reset, timeout). The message is safe to show."""

    def __init__(self, message: str, *, kind: str = "error", partial: "RawResponse | None" = None):
        self.kind = kind  # refused | timeout | reset | error
        self.partial = partial
        super().__init__(scrub(message))


class Unimplemented(NotImplementedError):
    """The target raised instead of answering (moto in-process NotImplementedError)."""


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    latency_s: float = 0.0
    truncated: bool = False  # the connection closed before Content-Length bytes arrived
    capped: bool = False  # we stopped reading at MAX_BODY_KEPT: the target's answer, not a network fault


@dataclass
class RawRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    service: str = "kms"
    meta: dict = field(default_factory=dict)


class Transport(Protocol):
    description: str

    def send(self, request: RawRequest, timeout_s: float) -> RawResponse: ...

    def close(self) -> None: ...


class _BytesRaw:
    """What botocore's AWSResponse wants as `raw`: something with stream()."""

    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_kw):
        yield self._data


def to_aws_response(url: str, raw: RawResponse) -> AWSResponse:
    return AWSResponse(url, raw.status, raw.headers, _BytesRaw(raw.body))


# --------------------------------------------------------------------------------------------
# Transports
# --------------------------------------------------------------------------------------------


class HttpTransport:
    """HTTP(S) with urllib3: per-call timeout, no retries, partial bodies kept."""

    def __init__(self, *, connect_timeout_s: float = 5.0):
        self.description = "http"
        self._pool = urllib3.PoolManager(retries=False, maxsize=4)
        self._connect_timeout_s = connect_timeout_s

    def send(self, request: RawRequest, timeout_s: float) -> RawResponse:
        started = time.monotonic()
        timeout = urllib3.Timeout(connect=min(self._connect_timeout_s, timeout_s), read=timeout_s)
        try:
            resp = self._pool.urlopen(
                request.method, request.url, body=request.body or None, headers=request.headers,
                timeout=timeout, retries=False, redirect=False, preload_content=False,
                enforce_content_length=False,  # we compare lengths ourselves and keep a short body
            )
        except urllib3.exceptions.ReadTimeoutError:
            raise TransportFailure(f"no response within {timeout_s:g} s (read timeout)", kind="timeout") from None
        except urllib3.exceptions.ConnectTimeoutError:
            raise TransportFailure(f"connect timed out after {timeout.connect_timeout:g} s", kind="timeout") from None
        except urllib3.exceptions.NewConnectionError as exc:
            kind = "refused" if "refused" in str(exc).lower() else "error"
            raise TransportFailure(f"cannot connect: {_reason(exc)}", kind=kind) from None
        except urllib3.exceptions.ProtocolError as exc:
            raise TransportFailure(f"connection broken before a response: {_reason(exc)}", kind="reset") from None
        except urllib3.exceptions.HTTPError as exc:
            raise TransportFailure(f"HTTP error: {_reason(exc)}") from None
        headers = {k.lower(): v for k, v in resp.headers.items()}
        chunks: list[bytes] = []
        size = 0
        truncated = capped = False
        try:
            # Read raw chunks ourselves: on a short body we keep what arrived.
            while True:
                chunk = resp.read(65536, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_KEPT:
                    truncated = capped = True
                    break
        except urllib3.exceptions.ReadTimeoutError:
            partial = RawResponse(resp.status, headers, b"".join(chunks), time.monotonic() - started, True)
            raise TransportFailure(f"response body stalled for {timeout_s:g} s", kind="timeout",
                                   partial=partial) from None
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.HTTPError, OSError):
            truncated = True
        finally:
            resp.release_conn()
        body = b"".join(chunks)
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > len(body):
            truncated = True
        return RawResponse(resp.status, headers, body, time.monotonic() - started, truncated, capped)

    def close(self) -> None:
        self._pool.clear()


class WsgiTransport:
    """Calls a WSGI app directly (no socket): the in-process reference target."""

    def __init__(self, app: Callable):
        from werkzeug.test import Client

        self.description = "wsgi"
        self._client = Client(app)

    def send(self, request: RawRequest, timeout_s: float) -> RawResponse:
        started = time.monotonic()
        parts = urlsplit(request.url)
        base_url = f"{parts.scheme}://{parts.netloc}"
        path = parts.path or "/"
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("content-length", "host")}
        try:
            resp = self._client.open(
                path=path + (f"?{parts.query}" if parts.query else ""),
                base_url=base_url,
                method=request.method,
                headers=headers,
                data=request.body or b"",
            )
            body = resp.get_data()
        except Exception as exc:  # noqa: BLE001 - what a server would do: a 500, not a crash of the run
            text = f"in-process target raised {type(exc).__name__}: {exc}".encode("utf-8", "replace")
            return RawResponse(500, {"content-type": "text/plain"}, text, time.monotonic() - started)
        return RawResponse(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, body,
                           time.monotonic() - started)

    def close(self) -> None:
        pass


class MotoTransport:
    """moto's in-process stub, called directly so a request can never leave the process."""

    def __init__(self):
        from moto.core.models import botocore_stubber

        self.description = "moto"
        self._stub = botocore_stubber

    def send(self, request: RawRequest, timeout_s: float) -> RawResponse:
        started = time.monotonic()
        aws = AWSRequest(method=request.method, url=request.url, headers=request.headers, data=request.body)
        prepared = aws.prepare()
        try:
            resp = self._stub(f"before-send.{request.service}", request=prepared)
        except NotImplementedError as exc:
            raise Unimplemented(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - moto's handler crashed on this request: the target's answer
            # A 500 like moto server's, with the exception as a JSON error so it is judged (a crash on one
            # request is a deterministic finding, not the infrastructure trouble a bare 500 may be).
            body = json.dumps({"__type": "InternalFailure",
                               "message": f"moto raised {type(exc).__name__}: {exc}"[:500]}).encode("utf-8", "replace")
            headers = {"content-type": "application/x-amz-json-1.1", IN_PROCESS_CRASH_HEADER: type(exc).__name__}
            return RawResponse(500, headers, body, time.monotonic() - started)
        if resp is None:
            raise TransportFailure("moto's mock is not active for this URL; refusing to send it anywhere")
        return RawResponse(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content or b"",
                           time.monotonic() - started)

    def close(self) -> None:
        pass


def _reason(exc: Exception) -> str:
    text = str(getattr(exc, "reason", None) or exc)
    for marker in ("Connection refused", "Name or service not known", "Connection reset", "timed out",
                   "Remote end closed connection"):
        if marker.lower() in text.lower():
            return marker
    return text.split(": ", 1)[-1][:200]


def tcp_reachable(url: str, timeout_s: float = 3.0) -> str | None:
    """None when something accepts TCP at the URL's host:port, else a short reason."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout_s):
            return None
    except ConnectionRefusedError:
        return "connection refused"
    except socket.gaierror:
        return "unknown host"
    except (TimeoutError, socket.timeout):
        return f"no TCP answer within {timeout_s:g} s"
    except OSError as exc:
        return exc.strerror or exc.__class__.__name__


# --------------------------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------------------------


class _SigV4At(SigV4Auth):
    """botocore's SigV4 with a chosen signing time (to make an expired signature)."""

    def __init__(self, credentials, service_name, region_name, when: datetime.datetime):
        super().__init__(credentials, service_name, region_name)
        self._when = when

    def add_auth(self, request):
        request.context["timestamp"] = self._when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical_request = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical_request)
        self._inject_signature_to_request(request, self.signature(string_to_sign, request))


def sign(request: AWSRequest, *, credentials: Credentials, service: str, region: str, mode: str = "valid") -> None:
    """Sign (or deliberately mis-sign) a botocore AWSRequest in place."""
    if mode not in SIGNING_MODES:
        raise ValueError(f"unknown signing mode {mode!r}; expected one of {', '.join(SIGNING_MODES)}")
    if mode == "none":
        return
    if mode == "malformed":
        SigV4Auth(credentials, service, region).add_auth(request)
        # Keep the algorithm, lose the fields AWS requires: an incomplete signature.
        request.headers.replace_header("Authorization", "AWS4-HMAC-SHA256 Credential=" + credentials.access_key)
        return
    if mode == "wrong-secret":
        credentials = Credentials(credentials.access_key, credentials.secret_key[::-1] + "x", credentials.token)
    elif mode == "unknown-key":
        credentials = Credentials(UNKNOWN_ACCESS_KEY_ID, UNKNOWN_SECRET_ACCESS_KEY)
    if mode == "expired":
        when = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(hours=1)
        _SigV4At(credentials, service, region, when).add_auth(request)
        return
    SigV4Auth(credentials, service, region).add_auth(request)


def build_raw_request(
    *,
    endpoint_url: str,
    body: bytes | str | None,
    amz_target: str | None,
    content_type: str | None,
    headers: dict[str, str] | None,
    signing: str,
    method: str,
    path: str,
    credentials: Credentials,
    region: str,
) -> RawRequest:
    """A request whose body bytes, headers, X-Amz-Target and signature are all the caller's choice."""
    data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    service = "cloudhsm" if (amz_target or "").startswith("BaldrApiService.") else "kms"
    req_headers: dict[str, str] = {}
    if content_type is not None:
        req_headers["Content-Type"] = content_type
    if amz_target is not None:
        req_headers["X-Amz-Target"] = amz_target
    for k, v in (headers or {}).items():  # the caller's headers win, whatever their case
        for existing in [h for h in req_headers if h.lower() == k.lower()]:
            del req_headers[existing]
        if v is not None:
            req_headers[k] = v
    url = endpoint_url.rstrip("/") + (path if path.startswith("/") else "/" + path)
    aws = AWSRequest(method=method, url=url, headers=req_headers, data=data)
    sign(aws, credentials=credentials, service=service, region=region, mode=signing)
    prepared = aws.prepare()
    out_headers = {k: (v.decode("latin-1") if isinstance(v, bytes) else str(v)) for k, v in prepared.headers.items()}
    return RawRequest(method=method, url=prepared.url, headers=out_headers, body=data, service=service)
