"""The one Target implementation every live adapter shares (reference, moto, endpoint, aws).

An adapter only chooses a transport, an endpoint, credentials and a world.
`call` goes through a boto3 client (parameter_validation=False, retries off)
whose `before-send` hook hands the signed request to the transport, so the
bytes the target returned are what the Observation is built from, exactly as
received (garbage and truncated bodies included). `send_raw` signs with
botocore's SigV4 and uses the same transport. Throttling, 5xx, resets and
cut-off replies are retried by the run's health policy (targets/health.py);
the number of tries is kept on the Observation.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.credentials import Credentials
from botocore import xform_name

from conformance.observation import Observation
from conformance.redact import scrub
from conformance.abilities import Abilities
from conformance.targets.base import Capabilities, Identity, Target
from conformance.world import Timeouts, World
from conformance.targets.capabilities import classify_unimplemented, operation_of_target_header
from conformance.targets.health import (
    TRUNCATED_NOTE,
    CircuitBreaker,
    HealthMonitor,
    RetryBudget,
    transient_reason,
)
from conformance.targets.wire import (
    RawResponse,
    RawRequest,
    Transport,
    TransportFailure,
    Unimplemented,
    build_raw_request,
    to_aws_response,
)

# Services a target may be asked about, and the botocore client behind each.
CLIENT_SERVICES = {"kms": "kms", "cloudhsmv2": "cloudhsmv2", "cloudhsm": "cloudhsmv2", "sts": "sts"}


class WireTarget(Target):
    """A target reached by signed AWS JSON 1.1 requests over some transport."""

    def __init__(
        self,
        *,
        identity: Identity,
        world: World,
        transport: Transport,
        credentials: Credentials,
        region: str,
        endpoint_url: str | None,
        timeouts: Timeouts | None = None,
        capabilities: Capabilities | None = None,
        abilities: Abilities | None = None,
        service_endpoints: dict[str, str | None] | None = None,
        guard: Callable[[str, str], None] | None = None,
        retry: RetryBudget | None = None,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        breaker_threshold: int = 5,
        breaker_retry_s: float = 30.0,
    ):
        self.identity = identity
        self.world = world
        self.timeouts = timeouts or world.timeouts
        self.capabilities = capabilities or Capabilities()
        self.abilities = abilities or Abilities()
        self.region = region
        self.endpoint_url = endpoint_url
        # Retries, the circuit breaker for a hung target, and the early-stop diagnosis: one policy.
        self.health = HealthMonitor(retry, seed=seed, sleep=sleep,
                                    breaker=CircuitBreaker(breaker_threshold, breaker_retry_s))
        self._transport = transport
        self._credentials = credentials
        self._service_endpoints = service_endpoints or {}
        self._guard = guard
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._session = boto3.session.Session(
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
            aws_session_token=credentials.token,
            region_name=region,
        )
        self.case_id: str | None = None
        # KMS keys made in custom key stores through this target (key id -> store id), so cleanup
        # can schedule their deletion without listing every key in the account.
        self.created_keys: dict[str, str] = {}

    # ------------------------------------------------------------------ clients
    def client(self, service: str = "kms"):
        """The boto3 client for a service (created once: client creation is not cheap)."""
        name = CLIENT_SERVICES.get(service)
        if name is None:
            raise ValueError(f"unknown service {service!r}; expected one of {', '.join(CLIENT_SERVICES)}")
        with self._lock:
            client = self._clients.get(name)
            if client is None:
                client = self._make_client(name)
                self._clients[name] = client
        return client

    def _make_client(self, name: str):
        endpoint = self._service_endpoints.get(name, self.endpoint_url)
        config = Config(
            parameter_validation=False,
            retries={"total_max_attempts": 1, "mode": "standard"},  # one attempt: we retry throttling ourselves
            connect_timeout=self.timeouts.call_s,
            read_timeout=self.timeouts.call_s,
            user_agent_extra="kms-conformance",
        )
        client = self._session.client(name, endpoint_url=endpoint, config=config)
        stub = _moto_stubber()
        if stub is not None:
            # moto hooks every client; ours must only ever talk through our transport.
            client.meta.events.unregister("before-send", stub)
        client.meta.events.register("before-send", self._send_hook, unique_id="kms-conformance-send")
        return client

    def _send_hook(self, request, **_kwargs):
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = {k: (v.decode("latin-1") if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()}
        service = "cloudhsm" if headers.get("X-Amz-Target", "").startswith("BaldrApiService") else "kms"
        raw_request = RawRequest(request.method, request.url, headers, body or b"", service=service)
        raw = self._transport.send(raw_request, self.timeouts.call_s)
        self._local.raw = raw
        return to_aws_response(request.url, raw)

    # ------------------------------------------------------------------ Target API
    def call(self, operation: str, params: dict[str, Any] | None = None, *, service: str = "kms") -> Observation:
        params = dict(params or {})
        if self._guard:
            self._guard(service, operation)
        client = self.client(service)
        method_name = xform_name(operation)
        if not client.meta.service_model.operation_names or operation not in client.meta.service_model.operation_names:
            raise ValueError(f"{service} has no operation {operation!r}")
        op_model = client.meta.service_model.operation_model(operation)
        known = set(op_model.input_shape.members) if op_model.input_shape is not None else set()
        unknown = sorted(set(params) - known)
        if unknown:  # botocore's serializer would crash on them; the wire path can send anything
            raise ValueError(f"{operation} has no member(s) {', '.join(unknown)}: send unknown members with send_raw")
        method = getattr(client, method_name)
        obs = self._with_retries(lambda: self._call_once(method, operation, params, service), operation)
        if operation == "CreateKey" and obs.ok and isinstance(obs.body, dict):
            meta = obs.body.get("KeyMetadata") or {}
            if meta.get("CustomKeyStoreId") and meta.get("KeyId"):
                self.created_keys[meta["KeyId"]] = meta["CustomKeyStoreId"]
        return obs

    def _call_once(self, method, operation: str, params: dict, service: str) -> Observation:
        self._local.raw = None
        started = time.monotonic()
        try:
            method(**params)
        except TransportFailure as exc:
            return self._transport_observation(operation, exc, started)
        except Unimplemented as exc:
            obs = Observation(operation=operation, error_code="NotImplementedError", message=scrub(str(exc)),
                              raw_body=scrub(str(exc)), latency_s=time.monotonic() - started)
            obs.unimplemented = bool(classify_unimplemented(obs, operation=operation, exception=exc))
            self._local.transient = None
            return obs
        except Exception:  # noqa: BLE001 - botocore could not parse or raised for the status
            if self._local.raw is None:
                raise  # nothing was sent: a harness problem (bad params), not the target's answer
        raw = self._local.raw
        if raw is None:  # pragma: no cover - every successful call went through the hook
            raise RuntimeError(f"{operation}: no response was captured")
        return self._observation(operation if service == "kms" else f"{service}:{operation}", raw,
                                 classify_as=operation if service == "kms" else None)

    def send_raw(
        self,
        body: bytes | str | None,
        *,
        amz_target: str | None,
        content_type: str | None = "application/x-amz-json-1.1",
        headers: dict[str, str] | None = None,
        signing: str = "valid",
        method: str = "POST",
        path: str = "/",
    ) -> Observation:
        operation = operation_of_target_header(amz_target)
        if self._guard and amz_target:
            prefix, _, op = amz_target.partition(".")
            self._guard("cloudhsmv2" if prefix == "BaldrApiService" else "kms", op)
        endpoint = self._raw_endpoint()

        def once() -> Observation:
            request = build_raw_request(
                endpoint_url=endpoint, body=body, amz_target=amz_target, content_type=content_type,
                headers=headers, signing=signing, method=method, path=path,
                credentials=self._credentials, region=self.region,
            )
            started = time.monotonic()
            try:
                raw = self._transport.send(request, self.timeouts.call_s)
            except TransportFailure as exc:
                return self._transport_observation(operation, exc, started)
            except Unimplemented as exc:
                obs = Observation(operation=operation, error_code="NotImplementedError", message=str(exc),
                                  raw_body=str(exc), latency_s=time.monotonic() - started)
                obs.unimplemented = bool(classify_unimplemented(obs, operation=operation, exception=exc))
                self._local.transient = None
                return obs
            return self._observation(operation, raw, classify_as=operation)

        return self._with_retries(once, operation)

    def _raw_endpoint(self) -> str:
        if self.endpoint_url:
            return self.endpoint_url
        return self.client("kms").meta.endpoint_url

    def begin_case(self, case_id: str) -> None:
        self.case_id = case_id

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            try:
                client.close()
            except Exception:  # pragma: no cover - closing must never fail a run
                pass
        self._transport.close()

    # ------------------------------------------------------------------ helpers
    def _observation(self, operation: str | None, raw: RawResponse, *, classify_as: str | None) -> Observation:
        obs = Observation.from_http(operation=operation, status=raw.status, headers=raw.headers, raw=raw.body,
                                    latency_s=raw.latency_s)
        if raw.truncated:
            obs.body = None if not _complete_json(raw.body) else obs.body
            obs.raw_body = obs.raw_body + "\n" + TRUNCATED_NOTE
        evidence = classify_unimplemented(obs, operation=classify_as,
                                          speaks_json=self.capabilities.speaks_json)
        obs.unimplemented = bool(evidence)
        self._local.transient = transient_reason(obs, truncated=raw.truncated and not raw.capped)
        return obs

    def _transport_observation(self, operation: str | None, exc: TransportFailure, started: float) -> Observation:
        obs = Observation(operation=operation, transport_error=str(exc), latency_s=time.monotonic() - started)
        if exc.partial is not None:
            obs.status = exc.partial.status
            obs.headers = dict(exc.partial.headers)
            obs.raw_body = exc.partial.body.decode("utf-8", errors="replace")[:4000]
        self._local.transient = transient_reason(obs, transport_kind=exc.kind)
        return obs

    def _with_retries(self, once: Callable[[], Observation], operation: str | None = None) -> Observation:
        """`once()` under the health policy: transient answers retried, the last one marked."""

        def attempt() -> tuple[Observation, str | None]:
            self._local.transient = None
            obs = once()
            return obs, self._local.transient

        return self.health.run(attempt, operation)

    @property
    def reached_over_http(self) -> bool:
        """A network endpoint (whose identity as KMS must be checked), not an in-process target."""
        return getattr(self._transport, "description", "") == "http"


def _complete_json(data: bytes) -> bool:
    import json

    try:
        json.loads(data)
        return True
    except ValueError:
        return False


def _moto_stubber():
    module = sys.modules.get("moto.core.models")
    return getattr(module, "botocore_stubber", None) if module else None
