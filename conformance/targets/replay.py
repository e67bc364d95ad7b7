"""The `replay` adapter: serves a cassette recorded with `--record DIR` instead of a live target.

A run recorded once (against AWS, or any target) can then gate a change in CI
without credentials or the original target. Observations are served by (case
id, sequence number inside the case); each request is normalised the way the
recorder normalised it and must equal the recorded one. A missing entry or a
request that differs is answered with an Observation whose transport_error
starts `replay: no recorded response for` (the case becomes ERROR): never a crash.
The abilities the recorded target offered (a clock, world control, completing
key deletions) are offered too and give back their recorded outcomes; a use the
cassette lacks raises ReplayMiss (ERROR as well).

Target config:

    target:
      adapter: replay
      cassette: path/to/cassette     # relative paths are resolved against the config file
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

from conformance.abilities import Abilities
from conformance.errors import ConfigError, NotTriggerable
from conformance.observation import Observation
from conformance.targets.base import Identity, Target
from conformance.targets.cassette import (
    ABILITY_PROTOCOLS,
    CREATED_KEYS_META,
    HELD_META,
    RAISED,
    RUN_SCOPE,
    Cassette,
    Normaliser,
    SecretMask,
    ability_proxy,
    ability_result,
    capabilities_from_dict,
    describe_ability,
    describe_call,
    describe_raw,
    first_difference,
    load_cassette,
    normalise_observation,
    normalise_request,
    world_from_dict,
)
from conformance.world import Timeouts, World

MISSING = "replay: no recorded response for"
_HYPOTHESIS_KINDS = re.compile(r"/(property|stateful|schemathesis)/")
# Shapes of the ids a replay hands out: run-unique, and distinct from the cassette's per-case
# placeholders (cks-00000000000000001, ...).
MINTED = {
    "cks": lambda n: f"cks-f{n:016x}",
    "mrk": lambda n: f"mrk-f{n:031x}",
    "uuid": lambda n: f"ffffffff-0000-4000-8000-{n:012x}",
}


class ReplayTarget(Target):
    """A target whose every answer comes from a cassette."""

    def __init__(self, settings: Any):
        # Hypothesis-driven cases draw the recording's examples only with every suite module loaded
        # (conformance/runner/determinism.py): the runner loads them before it opens any target.
        self.cassette: Cassette = load_cassette(cassette_path(settings))
        meta = self.cassette.meta
        recorded = meta.get("identity") or {}
        self.identity = Identity(
            name=f"{recorded.get('name') or 'unknown'} (replay)",
            adapter="replay",
            version=recorded.get("version"),
            endpoint=f"cassette:{self.cassette.path}",
            region=recorded.get("region") or "us-east-1",
        )
        self.recorded_identity = recorded
        self.world: World = world_from_dict(meta.get("world") or {})
        self.timeouts: Timeouts = self.world.timeouts
        self.capabilities = capabilities_from_dict(meta.get("capabilities") or {})
        # The abilities the recorded target offered, serving the outcomes recorded for them.
        self.abilities = Abilities(**{name: ability_proxy(name, self._replay_ability)
                                      for name in meta.get("abilities") or [] if name in ABILITY_PROTOCOLS})
        self._lock = threading.RLock()
        self._case = RUN_SCOPE
        self._seq: dict[str, int] = {}
        self._minted: dict[str, int] = {}
        self._normaliser = self._new_normaliser()
        self._mask = SecretMask()
        self.misses: list[str] = []  # every request the cassette could not answer (for reports/tests)
        # Keys CreateKey made, by store, where the recorded target kept them (as WireTarget does): the
        # driver's cleanup reads them (driving._retire_keys), so a replay must offer what the recording had.
        self.created_keys: dict[str, str] | None = {} if meta.get(CREATED_KEYS_META) else None
        # The stores the recorded run held at its start, from its machine's ledger (keys_pending.py).
        self.held_at_start: dict[str, Any] = dict(meta.get(HELD_META) or {})
        recorded_seed, seed = meta.get("python_hash_seed"), os.environ.get("PYTHONHASHSEED")
        self._seed_hint = "" if recorded_seed not in (None, "random") and recorded_seed == seed else (
            f" (Hypothesis-driven cases replay only under the recording's PYTHONHASHSEED: recorded with "
            f"{recorded_seed or 'a random one'}, replayed with {seed or 'a random one'}; record and replay "
            f"with e.g. PYTHONHASHSEED=0)")

    def _new_normaliser(self) -> Normaliser:
        keep = [v for k, v in vars(self.world).items() if isinstance(v, str) and k != "kmsuser_password"]
        return Normaliser(keep=keep, mint=self._mint)

    def _mint(self, kind: str) -> str:
        """A run-unique id for a target-made id the cassette numbers per case."""
        self._minted[kind] = n = self._minted.get(kind, 0) + 1
        return MINTED[kind](n)

    def begin_case(self, case_id: str) -> None:
        with self._lock:
            self._case = case_id or RUN_SCOPE
            self._seq[self._case] = 0
            self._normaliser = self._new_normaliser()

    def call(self, operation: str, params: dict[str, Any] | None = None, *, service: str = "kms") -> Observation:
        obs = self._serve(describe_call(operation, params, service), operation)
        if self.created_keys is not None and operation == "CreateKey" and obs.ok and isinstance(obs.body, dict):
            meta = obs.body.get("KeyMetadata") or {}
            if isinstance(meta, dict) and meta.get("CustomKeyStoreId") and meta.get("KeyId"):
                self.created_keys[meta["KeyId"]] = meta["CustomKeyStoreId"]
        return obs

    def send_raw(self, body, *, amz_target, content_type="application/x-amz-json-1.1", headers=None,
                 signing="valid", method="POST", path="/") -> Observation:
        request = describe_raw(
            body, amz_target=amz_target, content_type=content_type, headers=headers or {},
            signing=signing, method=method, path=path,
        )
        operation = amz_target.split(".", 1)[1] if isinstance(amz_target, str) and "." in amz_target else None
        return self._serve(request, operation)

    def close(self) -> None:
        """Nothing to release: the cassette is read once."""

    # -- serving

    def _next(self, request: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        """The recorded entry for this request, or None and why not (under the lock)."""
        case = self._case
        seq = self._seq.get(case, 0)
        self._seq[case] = seq + 1
        actual = normalise_request(request, self._normaliser, self._mask)
        where = f"case {case} request #{seq}"
        entry = self.cassette.get(case, seq)
        if entry is None:
            return None, f"{MISSING} {where} ({_label(request)}): the cassette has none"
        diff = first_difference(entry.get("request"), actual)
        if diff:
            hint = self._seed_hint if _HYPOTHESIS_KINDS.search(case) else ""
            return None, f"{MISSING} {where} ({_label(request)}): request differs from the recording at {diff}{hint}"
        return entry, ""

    def _serve(self, request: dict[str, Any], operation: str | None) -> Observation:
        with self._lock:
            entry, why = self._next(request)
            if entry is None:
                self.misses.append(why)
                return Observation(operation=operation, transport_error=why)
            stored = entry.get("observation") or {}
            if entry.get("kind") == RAISED:
                raise ValueError(stored.get("message") or "the recorded target refused this request")
            # Keep the placeholder numbering in step with the recorder's.
            normalise_observation(stored, self._normaliser)
            served = SecretMask.restore(self._normaliser.restore(stored), self._mask.request_secrets(request))
            return Observation.from_dict(served)

    def _replay_ability(self, name: str, method: str, args: tuple, kwargs: dict) -> Any:
        request = describe_ability(name, method, args, kwargs)
        with self._lock:
            entry, why = self._next(request)
            if entry is None:
                self.misses.append(why)
                raise ReplayMiss(why)
            outcome = entry.get("observation") or {}
            self._normaliser.value(outcome)  # keep the placeholder numbering in step with the recorder's
            outcome = SecretMask.restore(self._normaliser.restore(outcome), self._mask.request_secrets(request))
        if "not_triggerable" in outcome:
            raise NotTriggerable(outcome["not_triggerable"])
        return ability_result(name, method, outcome.get("result"))


class ReplayMiss(RuntimeError):
    """An ability was used in a way the cassette did not record (the case becomes ERROR)."""


def _label(request: dict[str, Any]) -> str:
    if request.get("api") == "call":
        return f"{request.get('service')}:{request.get('operation')}"
    if request.get("api") == "raw":
        return f"raw {request.get('amz_target')}"
    return f"ability {request.get('ability')}.{request.get('method')}"


def cassette_path(settings: Any) -> Path:
    """Find `target.cassette` in a TargetConfig, TargetSettings, config dict or plain path.

    A relative path is taken relative to the config file's folder (falling back
    to the working directory when only that one exists).
    """
    if isinstance(settings, (str, os.PathLike)):
        return Path(settings)
    value = base = None
    if isinstance(settings, dict):
        target = settings.get("target") if isinstance(settings.get("target"), dict) else settings
        value = target.get("cassette")
        base = settings.get("_config_dir") or settings.get("config_dir")
    else:
        value = getattr(settings, "cassette", None) or getattr(getattr(settings, "target", None), "cassette", None)
        source = getattr(settings, "source", None) or getattr(settings, "path", None)
        if source and not str(source).startswith("<"):
            base = Path(source).parent
    if not value:
        raise ConfigError("target.cassette: the replay adapter needs `cassette: DIR` under `target:`")
    path = Path(os.path.expanduser(str(value)))
    if not path.is_absolute() and base:
        beside_config = Path(base) / path
        if beside_config.exists() or not path.exists():
            path = beside_config
    return path
