"""The contract every adapter implements (Target), and what a target says about itself (Identity, Capabilities)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from conformance.abilities import Abilities
from conformance.observation import Observation
from conformance.world import Timeouts, World

@dataclass
class Capabilities:
    """What the target can show. Filled by capability probing (targets/capabilities.py)."""

    unimplemented: dict[str, str] = field(default_factory=dict)  # operation -> evidence
    # True when CONNECTING / DISCONNECTING can be observed (a connect is not instant).
    observable_transitions: bool = False
    # How observable_transitions was decided, for the report: "config", "adapter", "probed: saw
    # CONNECTING", "probed: not observed (...)"; "to probe" until capabilities.probe_transitions ran.
    transitions_source: str = "adapter"
    # Wall-clock seconds the transition probe's connect took to settle (None: not probed); the
    # runner turns state phases on for a target whose connects take seconds (runner/schedule.py).
    transition_s: float | None = None
    # The target answered a probe with JSON, so an HTML 500 is a framework's "no handler" page.
    speaks_json: bool = False
    # The AWS account the target answers for (live AWS; None when unknown).
    account_id: str | None = None
    # Seeded faults the target runs with (the reference target only).
    faults: tuple[str, ...] = ()

    def is_implemented(self, operation: str) -> bool:
        return operation not in self.unimplemented


@dataclass
class Identity:
    name: str
    adapter: str
    version: str | None = None
    endpoint: str | None = None
    region: str = "us-east-1"
    server: str | None = None  # the HTTP Server header the target answers with (shown, never its name)


class Target(ABC):
    """A system under test, reached through one adapter.

    `call` goes through a boto3 client built with parameter_validation=False and
    retries off, so the server's own validation is what is tested. `send_raw`
    puts body bytes, headers, X-Amz-Target and the signature under the case's
    control. Neither raises for HTTP or transport failures: both return an
    Observation (transport_error set when no response arrived).
    """

    identity: Identity
    world: World
    capabilities: Capabilities
    abilities: Abilities
    timeouts: Timeouts

    @abstractmethod
    def call(self, operation: str, params: dict[str, Any] | None = None, *, service: str = "kms") -> Observation:
        ...

    @abstractmethod
    def send_raw(
        self,
        body: bytes | str | None,
        *,
        amz_target: str | None,
        content_type: str | None = "application/x-amz-json-1.1",
        headers: dict[str, str] | None = None,
        signing: str = "valid",  # valid | none | wrong-secret | unknown-key | expired | malformed
        method: str = "POST",
        path: str = "/",
    ) -> Observation:
        ...

    def begin_case(self, case_id: str) -> None:
        """Told before each case runs (recording and replay key observations by case)."""

    def close(self) -> None:
        """Release clients, servers, patches. Store cleanup is the driver's job (targets/driving.py)."""
