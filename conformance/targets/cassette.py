"""Record every request and observation of a run as a cassette that `replay` can serve.

A cassette is a folder:

- `meta.json`: the recorded target's identity, world (roles), capabilities and
  the names of the abilities it offered, so a replay reproduces what cases see
  without the original target;
- `interactions.jsonl`: one line per request or ability call, appended and
  flushed as it happens (a crashed run keeps what it recorded). Each line holds
  the case id, the request's sequence number inside the case, the request and
  the observation (for an ability: its result, or why it was not triggerable).

Nothing secret is written (see SecretMask), and what changes from run to run is
normalised (see Normaliser): store, key and request ids become placeholders
numbered by first appearance inside their case, names carrying the run prefix
become `<run>-<label>#N`, account ids in ARNs become AWS's example account, and
timestamps become AWS's example moment in the same format. Numbering restarts
with every case, so a case's lines do not depend on which other cases ran.

Replay (conformance/targets/replay.py) normalises each request the same way and
compares it with the recorded one; normalising is stable on its own output, and
the placeholders a replay serves are mapped back to the values the replayed case
itself sent (its store names, its made-up ids), so the case sees answers about
its own requests.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from conformance.abilities import Abilities, ClusterSnapshot, PendingDeletions, VirtualClock, WorldControl
from conformance.errors import ConfigError, NotTriggerable
from conformance.observation import Observation
from conformance.redact import (
    REDACTED,
    Redactor,
    map_strings,
    register_secret,
    scrub_secret_fragments,
    scrub_signatures,
    secret_values,
)
from conformance.targets.base import Capabilities, Identity, Target
from conformance.targets.driving import RUN_PREFIX_ROOT
from conformance.world import Timeouts, World, XksWorld

CASSETTE_FORMAT = 1
META_FILE = "meta.json"
INTERACTIONS_FILE = "interactions.jsonl"
# meta.json: whether the recorded target tracked the keys CreateKey made (`created_keys`, see driving._retire_keys).
CREATED_KEYS_META = "tracks_created_keys"
# meta.json: the stores the recorded run held at its start (its ledger's keys pending deletion), and its notes.
HELD_META = "held_at_start"
# Requests made outside any case (capability probing, end-of-run cleanup).
RUN_SCOPE = "__run__"
# An interaction whose request the adapter refused with ValueError: replay raises it again.
RAISED = "raised"
# An interaction that used one of the target's abilities (conformance.abilities): replay gives its outcome back.
ABILITY = "ability"
# Each ability on `Target.abilities`, with the protocol whose methods are recorded and replayed.
ABILITY_PROTOCOLS: dict[str, type] = {
    "clock": VirtualClock,
    "world_control": WorldControl,
    "pending_deletions": PendingDeletions,
}
# Results that are not plain JSON, rebuilt on replay from their recorded form.
_ABILITY_RESULTS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("world_control", "snapshot"): lambda d: ClusterSnapshot(d["state"], tuple(tuple(h) for h in d["hsms"])),
}

TIMESTAMP = "<timestamp>"
REQUEST_ID = "<request-id>"
DOC_ACCOUNT_ID = "111122223333"  # AWS's documentation account id
DOC_EPOCH = 1499288695.918  # the CreationDate of AWS's DescribeCustomKeyStores example


# ---------------------------------------------------------------------------- normalising

_ID_KINDS: list[tuple[str, re.Pattern[str], Callable[[int], str]]] = [
    ("cks", re.compile(r"\bcks-[0-9a-f]{17}\b"), lambda n: f"cks-{n:017x}"),
    ("mrk", re.compile(r"\bmrk-[0-9a-f]{32}\b"), lambda n: f"mrk-{n:032x}"),
    (
        "uuid",
        re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
        lambda n: f"00000000-0000-4000-8000-{n:012x}",
    ),
]
# The run's store-name prefix (`<root>-<UTC stamp>-<hex>`, targets/driving.py make_run_prefix): it
# differs between a recording and its replay, so it is normalised wherever it appears.
RUN_PREFIX_RE = re.compile(r"\b" + re.escape(RUN_PREFIX_ROOT) + r"-[0-9TZ]{14,17}-[0-9a-f]{4,}\b")
RUN_PLACEHOLDER = "<run>"
_ARN_ACCOUNT_RE = re.compile(r"(arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:)(\d{12})(:)")
# Timestamps become AWS's example moment (DOC_EPOCH) in the same format, so text that holds
# them keeps its shape (a case or `compare` may parse or pattern-match it).
_TIMESTAMP_RES = [
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "2017-07-05T21:04:55Z"),
    (re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\b"),
     "Wed, 05 Jul 2017 21:04:55 GMT"),
]
# Not rewritten: the compact X-Amz-Date form inside answers (a signature-expiry message quotes the
# request's own signing time, which no placeholder could give back in a replay).
HTTP_DATE = "Wed, 05 Jul 2017 21:04:55 GMT"
_TIMESTAMP_KEY_RE = re.compile(r"(Date|Time|Timestamp)$")
# A timestamp member's number inside JSON text (raw bodies).
_JSON_TIME_NUMBER_RE = re.compile(r'("[A-Za-z]*(?:Date|Time|Timestamp)"\s*:\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)')
_REQUEST_ID_HEADERS = {"x-amzn-requestid", "x-amz-request-id", "x-amz-id-2", "x-amzn-trace-id"}
_VOLATILE_HEADERS = {"date", "x-amz-date", "content-length"}


class Normaliser:
    """Rewrites run-varying values to stable placeholders, consistently within one case.

    Server-made ids (store, key and request ids) become numbered placeholders by
    first appearance. Names the run made (`<run prefix>-<label>-<counter>`, and
    any literal `run_tokens`) become `<run>-<label>#N`, so the run prefix and the
    run-wide name counter do not matter. `keep` holds values that must survive
    untouched (the world's fixture ids: the same in the recording and the replay).

    `restore` maps placeholders back to the values this normaliser saw: a replay
    uses it to hand a case back its own names and ids inside served answers.
    """

    def __init__(self, keep: Iterable[str] = (), run_tokens: Iterable[str] = (),
                 mint: Callable[[str], str] | None = None):
        self.keep = {k for k in keep if k}
        # Replay only: a fresh placeholder in a served answer stands for an id the target made;
        # `mint(kind)` gives it a run-unique value (per-case placeholders repeat across cases,
        # and a case or the driver may key state by id across cases).
        self._mint = mint
        tokens = sorted({t for t in run_tokens if t}, key=len, reverse=True)
        alternatives = [re.escape(t) for t in tokens] + [RUN_PREFIX_RE.pattern, re.escape(RUN_PLACEHOLDER)]
        self._run_re = re.compile(r"(?:" + "|".join(alternatives) + r")((?:-[A-Za-z0-9_]+)*)(?:#\d+)?")
        self.reset()

    def reset(self) -> None:
        self._maps: dict[str, dict[str, str]] = {kind: {} for kind, _, _ in _ID_KINDS}
        self._counts: dict[str, int] = {}
        self._run_names: dict[str, str] = {}
        self._reverse: dict[str, str] = {}

    def _run_name(self, m: re.Match[str]) -> str:
        raw = m.group(0)
        if raw in self._reverse:  # a placeholder this normaliser issued (served back by a replay)
            return raw
        if raw not in self._run_names:
            label = re.sub(r"-\d+$", "", m.group(1))
            placeholder = f"{RUN_PLACEHOLDER}{label}#{len(self._run_names) + 1}"
            self._run_names[raw] = placeholder
            self._reverse.setdefault(placeholder, raw)
        return self._run_names[raw]

    def text(self, s: str) -> str:
        s = self._run_re.sub(self._run_name, s)
        for kind, rx, make in _ID_KINDS:
            mapping = self._maps[kind]

            def sub(m: re.Match[str], mapping=mapping, make=make) -> str:
                raw = m.group(0)
                if raw in self.keep or raw in self._reverse:
                    return raw
                key = raw.lower()
                if key not in mapping:
                    self._counts[kind] = self._counts.get(kind, 0) + 1
                    placeholder = make(self._counts[kind])
                    mapping[key] = placeholder
                    if self._mint is not None and raw == placeholder:
                        minted = self._mint(kind)
                        mapping[minted.lower()] = placeholder
                        self._reverse[placeholder] = minted
                    else:
                        self._reverse.setdefault(placeholder, raw)
                return mapping[key]

            s = rx.sub(sub, s)
        s = _ARN_ACCOUNT_RE.sub(lambda m: m.group(1) + DOC_ACCOUNT_ID + m.group(3), s)
        for rx, fixed in _TIMESTAMP_RES:
            s = rx.sub(fixed, s)
        return _JSON_TIME_NUMBER_RE.sub(lambda m: m.group(1) + (repr(DOC_EPOCH) if "." in m.group(2) or "e" in m.group(2).lower() else str(int(DOC_EPOCH))), s)

    def restore(self, obj: Any) -> Any:
        """Placeholders this normaliser issued, put back to the values they stood for."""
        if not self._reverse:
            return obj
        back = lambda m: self._reverse.get(m.group(0), m.group(0))  # noqa: E731

        def text(s: str) -> str:
            s = self._run_re.sub(back, s)
            for _, rx, _ in _ID_KINDS:
                s = rx.sub(back, s)
            return s

        return map_strings(obj, text)

    def value(self, obj: Any, key: str | None = None) -> Any:
        """Normalise a JSON-like value; `key` is the member name it sits under."""
        if isinstance(obj, dict):
            return {k: self.value(v, k) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.value(v, key) for v in obj]
        if key and _TIMESTAMP_KEY_RE.search(key) and not isinstance(obj, bool):
            if isinstance(obj, (int, float)):  # keep the JSON type: cases check it is a number
                return DOC_EPOCH if isinstance(obj, float) else int(DOC_EPOCH)
            if isinstance(obj, str):
                try:
                    float(obj)
                    return repr(DOC_EPOCH)  # epoch seconds sent as a string
                except ValueError:
                    text = self.text(obj)
                    return text if text != obj else TIMESTAMP
        if isinstance(obj, str):
            return self.text(obj)
        return obj

    def headers(self, headers: dict[str, Any] | None) -> dict[str, Any]:
        out = {}
        for k, v in (headers or {}).items():
            lk = k.lower()
            if lk in _REQUEST_ID_HEADERS:
                out[k] = REQUEST_ID
            elif lk in _VOLATILE_HEADERS:
                out[k] = {"date": HTTP_DATE, "x-amz-date": "20170705T210455Z"}.get(lk, "<length>")
            else:
                out[k] = self.text(v) if isinstance(v, str) else v
        return out


_SECRET_PLACEHOLDER_RE = re.compile(r"<secret-(\d+)>")


class SecretMask:
    """Keeps secrets out of a cassette without changing what a replay serves.

    Not the run-wide registry (`redact.scrub`): a case's secrets belong to that
    case, and the same request must be masked the same way whenever it is
    recorded or replayed. Per interaction, by the rule of conformance.redact
    (a short or filler value only where a whole string equals it):
    - members under secret keys become ***REDACTED***;
    - each secret value the request itself carries becomes `<secret-N>`; replay
      puts the replayed request's N-th secret back, so an answer that happened
      to contain it is served exactly as it was;
    - the target's own secrets (kmsuser password, AWS secret key) become
      ***REDACTED***; SigV4 signatures and secret-bearing JSON or CLI fragments
      in text are blanked.
    """

    def __init__(self, fixed: Iterable[str | None] = ()):
        self.fixed = sorted({v for v in fixed if isinstance(v, str) and v})

    @staticmethod
    def request_secrets(request: Any) -> list[str]:
        """Secret values a request carries, in order of appearance (the numbering of `<secret-N>`)."""
        return secret_values(request)

    def mask(self, obj: Any, secrets: list[str] = ()) -> Any:
        table = {value: f"<secret-{i}>" for i, value in enumerate(secrets, 1)}
        for value in self.fixed:
            table.setdefault(value, REDACTED)
        values = Redactor(table, table.__getitem__)

        def text(value: str) -> str:
            return scrub_secret_fragments(scrub_signatures(values.text(value)))

        return map_strings(_jsonable(obj), text, mask_secret_keys=True)

    @staticmethod
    def restore(obj: Any, secrets: list[str]) -> Any:
        """Put a replayed request's secrets back where the recording had `<secret-N>`."""

        def sub(m: re.Match[str]) -> str:
            i = int(m.group(1)) - 1
            return secrets[i] if 0 <= i < len(secrets) else m.group(0)

        return map_strings(obj, lambda value: _SECRET_PLACEHOLDER_RE.sub(sub, value))


def _jsonable(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (bytes, bytearray)):
        return decode_body(obj)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def describe_call(operation: str, params: dict[str, Any] | None, service: str) -> dict[str, Any]:
    """The recorded form of a `Target.call` request."""
    return {"api": "call", "service": service, "operation": operation, "params": params or {}}


def decode_body(body: bytes | bytearray) -> str:
    """Bytes as text without loss: bytes that are not UTF-8 become lone surrogates (surrogateescape).

    The cassette is written with ASCII escapes, so such a body, like a str body
    with unpaired surrogates, is stored and compared exactly; two different
    malformed bodies never look alike (errors="replace" made them all U+FFFD).
    """
    return bytes(body).decode("utf-8", errors="surrogateescape")


def describe_raw(body: Any, **kwargs: Any) -> dict[str, Any]:
    """The recorded form of a `Target.send_raw` request (body as text, see decode_body)."""
    if isinstance(body, (bytes, bytearray)):
        body = decode_body(body)
    return {"api": "raw", "body": body, **kwargs}


def normalise_request(request: dict[str, Any], normaliser: Normaliser, mask: SecretMask | None = None) -> dict[str, Any]:
    """A request as recorded: secrets masked, run-varying values normalised."""
    mask = mask or SecretMask()
    cleaned = mask.mask(request, mask.request_secrets(request))
    out = {}
    for k, v in cleaned.items():
        if k == "headers":
            out[k] = normaliser.headers(v)
        else:
            out[k] = normaliser.value(v, k if k != "body" else None)
    return out


def normalise_observation(observation: Observation | dict[str, Any], normaliser: Normaliser,
                          mask: SecretMask | None = None, secrets: list[str] = ()) -> dict[str, Any]:
    """An observation as recorded: secrets masked (`secrets`: the request's), ids and timestamps normalised."""
    data = observation.to_dict() if isinstance(observation, Observation) else dict(observation)
    data = (mask or SecretMask()).mask(data, list(secrets))
    data["headers"] = normaliser.headers(data.get("headers"))
    for k in ("body", "message", "raw_body", "transport_error", "error_code"):
        if data.get(k) is not None:
            data[k] = normaliser.value(data[k])
    if isinstance(data.get("latency_s"), (int, float)):
        data["latency_s"] = round(float(data["latency_s"]), 4)
    return data


# ---------------------------------------------------------------------------- meta


def _world_to_dict(world: World | None, mask: SecretMask) -> dict[str, Any]:
    if world is None:
        return {}
    data = asdict(world)
    if data.get("kmsuser_password"):
        # A replayed case must still find the role; the value itself is never kept.
        data["kmsuser_password"] = REDACTED
    return mask.mask(data)


def world_from_dict(data: dict[str, Any]) -> World:
    data = dict(data or {})
    timeouts = Timeouts(**{k: v for k, v in (data.pop("timeouts", None) or {}).items() if k in Timeouts.__dataclass_fields__})
    xks = XksWorld.from_dict(data.pop("xks", None))
    known = {f.name for f in fields(World)} - {"timeouts", "xks"}
    return World(timeouts=timeouts, xks=xks, **{k: v for k, v in data.items() if k in known})


def _capabilities_to_dict(caps: Capabilities | None, mask: SecretMask) -> dict[str, Any]:
    return mask.mask(asdict(caps)) if caps is not None else {}


def capabilities_from_dict(data: dict[str, Any]) -> Capabilities:
    known = {f.name for f in fields(Capabilities)}
    caps = Capabilities(**{k: v for k, v in (data or {}).items() if k in known})
    caps.faults = tuple(caps.faults)
    return caps


def ability_names(abilities: Abilities | None) -> list[str]:
    """The abilities a target offers (recorded in meta, so a replay offers the same ones)."""
    return [name for name in ABILITY_PROTOCOLS if getattr(abilities, name, None) is not None]


def ability_proxy(name: str, call: Callable[[str, str, tuple, dict], Any]) -> Any:
    """An object with the methods of ability `name`'s protocol, each handed to call(name, method, args, kwargs).

    Recording and replay offer abilities through it: the one records what the
    target's own ability did, the other gives the recorded outcome back.
    """
    protocol = ABILITY_PROTOCOLS[name]
    methods = [m for m, value in vars(protocol).items() if not m.startswith("_") and callable(value)]
    namespace = {m: (lambda self, *args, _m=m, **kwargs: call(name, _m, args, kwargs)) for m in methods}
    return type(f"Cassette{protocol.__name__}", (), namespace)()


def describe_ability(name: str, method: str, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The recorded form of a call of an ability's method."""
    return {"api": ABILITY, "ability": name, "method": method, "args": _jsonable(list(args)),
            "kwargs": _jsonable(kwargs)}


def ability_result(name: str, method: str, recorded: Any) -> Any:
    """A recorded ability result as the protocol returns it."""
    rebuild = _ABILITY_RESULTS.get((name, method))
    return rebuild(recorded) if rebuild is not None and recorded is not None else recorded


def _identity_to_dict(identity: Identity | None, mask: SecretMask) -> dict[str, Any]:
    return mask.mask(asdict(identity)) if identity is not None else {}


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------- recording


@functools.cache
def target_secrets(target: Any) -> list[str]:
    """The target's own secrets: the world's kmsuser password and the credentials it signs with."""
    values = [getattr(getattr(target, "world", None), "kmsuser_password", None)]
    creds = getattr(target, "_credentials", None)  # WireTarget keeps its botocore Credentials here
    values += [getattr(creds, "secret_key", None), getattr(creds, "token", None)]
    values += [os.environ.get("AWS_SECRET_ACCESS_KEY"), os.environ.get("AWS_SESSION_TOKEN")]
    return [v for v in values if isinstance(v, str) and v]


class RecordingTarget(Target):
    """Wraps any target: forwards everything and records each request/observation to a cassette.

    The runner wraps the opened target with it for `--record DIR`. The target's
    abilities (a clock, world control, completing key deletions) are handed out
    wrapped too, so their calls and outcomes are recorded and replay can serve them.
    """

    def __init__(self, inner: Target, cassette_dir: str | os.PathLike, *, run_tokens: Iterable[str] = ()):
        self._inner = inner
        self.cassette_dir = Path(cassette_dir)
        self.cassette_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._case = RUN_SCOPE
        self._seq: dict[str, int] = {}
        self._run_tokens = list(run_tokens)
        world = getattr(inner, "world", None)
        if world is not None and world.kmsuser_password:
            register_secret(world.kmsuser_password)
        self._mask = SecretMask(target_secrets(inner))
        self._normaliser = Normaliser(keep=self._world_values(), run_tokens=self._run_tokens)
        self._file = open(self.cassette_dir / INTERACTIONS_FILE, "w", encoding="utf-8")
        self._abilities: tuple[Abilities, Abilities] | None = None  # (the inner target's, the recording ones)
        self._last_meta: str | None = None
        # What the run found at its start in this machine's cleanup ledger (keys_pending.hold_pending_stores):
        # a replay holds the same stores, whatever the replaying machine's ledger says.
        self.held: dict[str, Any] = {}
        self.write_meta()

    def note_held(self, notes: list[str], stores: list[dict[str, Any]]) -> None:
        """Keep the stores held (quarantined) at the run's start, and its notes, in meta.json."""
        with self._lock:
            self.held = {"notes": list(notes), "stores": list(stores)} if notes or stores else {}
            self.write_meta()

    # -- forwarded attributes (settable, so probing can fill the inner target's capabilities)

    @property
    def identity(self) -> Identity:  # type: ignore[override]
        return self._inner.identity

    @identity.setter
    def identity(self, value: Identity) -> None:
        self._inner.identity = value

    @property
    def world(self) -> World:  # type: ignore[override]
        return self._inner.world

    @world.setter
    def world(self, value: World) -> None:
        self._inner.world = value

    @property
    def timeouts(self) -> Timeouts:  # type: ignore[override]
        return getattr(self._inner, "timeouts", None) or self._inner.world.timeouts

    @timeouts.setter
    def timeouts(self, value: Timeouts) -> None:
        self._inner.timeouts = value

    @property
    def capabilities(self) -> Capabilities:  # type: ignore[override]
        return self._inner.capabilities

    @capabilities.setter
    def capabilities(self, value: Capabilities) -> None:
        self._inner.capabilities = value
        self.write_meta()

    @property
    def abilities(self) -> Abilities:  # type: ignore[override]
        inner = self._inner.abilities
        if self._abilities is None or self._abilities[0] is not inner:
            recording = Abilities(**{name: ability_proxy(name, self._call_ability) for name in ability_names(inner)})
            self._abilities = (inner, recording)
        return self._abilities[1]

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes this class lacks: adapter-specific helpers.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._inner, name)

    @property
    def inner(self) -> Target:
        return self._inner

    # -- the Target API

    def begin_case(self, case_id: str) -> None:
        with self._lock:
            self._case = case_id or RUN_SCOPE
            self._seq[self._case] = 0
            self._normaliser = Normaliser(keep=self._world_values(), run_tokens=self._run_tokens)
            self.write_meta()
        self._inner.begin_case(case_id)

    def call(self, operation: str, params: dict[str, Any] | None = None, *, service: str = "kms") -> Observation:
        request = describe_call(operation, params, service)
        try:
            observation = self._inner.call(operation, params, service=service)
        except ValueError as exc:  # the adapter refused the request (e.g. a member boto3 cannot send)
            self._record(request, {RAISED: type(exc).__name__, "message": str(exc)}, kind=RAISED)
            raise
        self._record(request, observation)
        return observation

    def send_raw(self, body, *, amz_target, content_type="application/x-amz-json-1.1", headers=None,
                 signing="valid", method="POST", path="/") -> Observation:
        request = describe_raw(
            body, amz_target=amz_target, content_type=content_type, headers=headers or {},
            signing=signing, method=method, path=path,
        )
        try:
            observation = self._inner.send_raw(
                body, amz_target=amz_target, content_type=content_type, headers=headers,
                signing=signing, method=method, path=path,
            )
        except ValueError as exc:
            self._record(request, {RAISED: type(exc).__name__, "message": str(exc)}, kind=RAISED)
            raise
        self._record(request, observation)
        return observation

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            with self._lock:
                if not self._file.closed:
                    self.write_meta()
                    self._file.close()

    # -- recording

    def _record(self, request: dict[str, Any], observation: Observation | dict[str, Any], kind: str | None = None) -> None:
        with self._lock:
            if self._file.closed:
                return
            case = self._case
            seq = self._seq.get(case, 0)
            self._seq[case] = seq + 1
            secrets = self._mask.request_secrets(request)
            line = {
                "case": case,
                "seq": seq,
                "request": normalise_request(request, self._normaliser, self._mask),
                "observation": normalise_observation(observation, self._normaliser, self._mask, secrets)
                if kind is None else self._normaliser.value(self._mask.mask(observation, secrets)),
            }
            if kind:
                line["kind"] = kind
            # ASCII escapes: a body or answer with unpaired surrogates is kept exactly (UTF-8 cannot encode them).
            self._file.write(json.dumps(line, sort_keys=True) + "\n")
            self._file.flush()

    def _call_ability(self, name: str, method: str, args: tuple, kwargs: dict) -> Any:
        request = describe_ability(name, method, args, kwargs)
        try:
            result = getattr(getattr(self._inner.abilities, name), method)(*args, **kwargs)
        except NotTriggerable as exc:  # e.g. a served target turned out to have no control surface
            self._record(request, {"not_triggerable": str(exc)}, kind=ABILITY)
            raise
        self._record(request, {"result": _jsonable(result)}, kind=ABILITY)
        return result

    def _world_values(self) -> list[str]:
        world = getattr(self._inner, "world", None)
        if world is None:
            return []
        return [v for k, v in asdict(world).items() if isinstance(v, str) and k != "kmsuser_password"]

    def write_meta(self) -> None:
        """(Re)write meta.json when identity, world or capabilities changed."""
        meta = {
            "format": CASSETTE_FORMAT,
            "identity": _identity_to_dict(getattr(self._inner, "identity", None), self._mask),
            "world": _world_to_dict(getattr(self._inner, "world", None), self._mask),
            "capabilities": _capabilities_to_dict(getattr(self._inner, "capabilities", None), self._mask),
            "abilities": ability_names(getattr(self._inner, "abilities", None)),
            # Whether the target kept the keys CreateKey made (the driver's cleanup schedules their deletion
            # instead of scanning ListKeys): a replay keeps them too, so its cleanup sends the same requests.
            CREATED_KEYS_META: getattr(self._inner, "created_keys", None) is not None,
            # Hypothesis-driven cases replay only under the same string hashing (see import_suite_modules).
            "python_hash_seed": os.environ.get("PYTHONHASHSEED"),
            **({HELD_META: self._mask.mask(self.held)} if getattr(self, "held", None) else {}),
        }
        text = json.dumps(meta, indent=1, sort_keys=True) + "\n"
        if text != self._last_meta:
            _atomic_write(self.cassette_dir / META_FILE, text)
            self._last_meta = text


# ---------------------------------------------------------------------------- loading


@dataclass
class Cassette:
    """A loaded cassette: meta plus interactions keyed by (case id, sequence)."""

    path: Path
    meta: dict[str, Any]
    interactions: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    @property
    def cases(self) -> list[str]:
        return sorted({case for case, _ in self.interactions})

    def get(self, case: str, seq: int) -> dict[str, Any] | None:
        return self.interactions.get((case, seq))


def load_cassette(path: str | os.PathLike) -> Cassette:
    """Read a cassette folder; a missing or unreadable one is a one-line ConfigError (exit 2)."""
    root = Path(path)
    meta_path = root / META_FILE
    if not meta_path.is_file():
        raise ConfigError(f"target.cassette: {root} is not a cassette (no {META_FILE}; record one with --record DIR)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"target.cassette: cannot read {meta_path} ({exc.__class__.__name__})") from None
    if not isinstance(meta, dict) or meta.get("format") != CASSETTE_FORMAT:
        raise ConfigError(f"target.cassette: {meta_path} has an unknown cassette format")
    cassette = Cassette(root, meta)
    lines_path = root / INTERACTIONS_FILE
    if lines_path.is_file():
        with open(lines_path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    item = json.loads(line)
                    key = (str(item["case"]), int(item["seq"]))
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a crash: keep everything before it
                cassette.interactions[key] = item
    return cassette


def first_difference(recorded: Any, actual: Any, path: str = "$") -> str | None:
    """Where two normalised requests first differ, as `$.a.b: recorded X, got Y` (None if equal)."""
    if isinstance(recorded, dict) and isinstance(actual, dict):
        for k in sorted(set(recorded) | set(actual)):
            if k not in actual:
                return f"{path}.{k}: recorded {_short(recorded[k])}, got nothing"
            if k not in recorded:
                return f"{path}.{k}: not recorded, got {_short(actual[k])}"
            diff = first_difference(recorded[k], actual[k], f"{path}.{k}")
            if diff:
                return diff
        return None
    if isinstance(recorded, list) and isinstance(actual, list):
        for i, (a, b) in enumerate(zip(recorded, actual)):
            diff = first_difference(a, b, f"{path}[{i}]")
            if diff:
                return diff
        if len(recorded) != len(actual):
            return f"{path}: recorded {len(recorded)} items, got {len(actual)}"
        return None
    if recorded != actual:
        return f"{path}: recorded {_short(recorded)}, got {_short(actual)}"
    return None


def _short(value: Any, limit: int = 80) -> str:
    # Printable as UTF-8 even with unpaired surrogates (they show as \\udXXX).
    text = json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 3] + "..."
