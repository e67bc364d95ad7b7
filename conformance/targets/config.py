"""The target config file (`--config FILE`, YAML): which target to test and the world it offers.

The shape is a contract (issue 4): `target:` says how to reach the target,
`world:` gives fixtures by role (CloudHSM cluster ids, trust anchor, kmsuser
password) and timeouts. We only ever *add* keys. Every problem becomes one
ConfigError naming the offending key (exit code 2); secrets are registered
with `conformance.redact` the moment they are read, before anything can log them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


from conformance.errors import ConfigError
from conformance.redact import register_secret
from conformance.yamlfile import read_yaml
from conformance.world import (
    CERTIFICATE_ROLES,
    CLUSTER_ROLES,
    XKS_CONNECTIVITIES,
    XKS_FAULTY_PATH_ROLES,
    XKS_KEY_ROLES,
    XKS_SCALAR_ROLES,
    XKS_VPC_SERVICE_ROLES,
    Timeouts,
    World,
    XksVpcService,
    XksWorld,
)

ADAPTERS = ("reference", "moto", "endpoint", "aws", "replay")

# Keys of the `target:` section. The first five are the contract; the rest are additions.
TARGET_KEYS = {
    "adapter": "reference | moto | endpoint | aws | replay",
    "endpoint_url": "URL of the target (endpoint; aws only to pose a local endpoint as AWS)",
    "region": "AWS Region to sign for",
    "access_key_id": "access key id (else the default credential chain)",
    "secret_access_key": "secret access key (secret)",
    "session_token": "session token for temporary credentials (secret)",
    "name": "display name of the target in reports",
    "cassette": "replay: directory of a recorded run",
    "observable_transitions": "endpoint: the target shows CONNECTING/DISCONNECTING (non-instant connect); "
                              "unset: probed at the start of a run (a store is created, connected, removed)",
    "connect_delay_s": "reference: seconds a connect stays CONNECTING (virtual clock)",
    "disconnect_delay_s": "reference: seconds a disconnect stays DISCONNECTING (virtual clock)",
    "faults": "reference: seeded faults to enable",
    "reference_control": "endpoint: use the control surface of `kms-conformance serve --enable-control` "
                         "(default: tried where useful, e.g. to let pending key deletions complete in "
                         "cleanup; false: never)",
}
WORLD_KEYS = ("cloudhsm", "xks", "timeouts")
# Keys of the `run:` section: how a run against this target is carried out (the command line wins).
RUN_KEYS = {
    "create_keys": "put KMS keys into stores even on live AWS, where a key pending deletion holds its store "
                   "and cluster lineage 7-30 days (same as --create-keys)",
    "workers": "worker processes of a run (same as --workers)",
    "state_phases": "auto | on | off: share one store per connection state (auto: on for aws and slow targets)",
    "stateful_transitions": "connects + disconnects the stateful run may make (0: none; default 0 on aws)",
    "operations": "model-wide structural cases for these operations (same as --operations: all, names or globs)",
}
STATE_PHASES = ("auto", "on", "off")
CLOUDHSM_KEYS = (CLUSTER_ROLES + CERTIFICATE_ROLES + tuple(f"{r}_file" for r in CERTIFICATE_ROLES)
                 + ("kmsuser_password",))
TIMEOUT_KEYS = tuple(f.name for f in fields(Timeouts))
XKS_KEYS = XKS_SCALAR_ROLES + ("credential", "keys", "faulty_paths", "vpc_endpoint_services")
XKS_CREDENTIAL_KEYS = ("access_key_id", "secret_access_key")
XKS_VPC_SERVICE_KEYS = ("service_name", "uri_endpoint", "owner")
SECRET_TARGET_KEYS = ("secret_access_key", "session_token")

_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


@dataclass
class TargetSettings:
    """The `target:` section."""

    adapter: str = "reference"
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    name: str | None = None
    cassette: str | None = None
    observable_transitions: bool | None = None
    reference_control: bool | None = None  # None: try it (harmless where unknown); False: never
    connect_delay_s: float | None = None
    disconnect_delay_s: float | None = None
    faults: tuple[str, ...] = ()

    def __repr__(self) -> str:  # never print a secret, even in a debugger or a traceback
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        for key in SECRET_TARGET_KEYS:
            if shown[key]:
                shown[key] = "***"
        return "TargetSettings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items() if v not in (None, ())) + ")"


@dataclass
class TargetConfig:
    """A loaded config: how to reach the target, and its world.

    `world_given` is False when the file had no `world.cloudhsm` section: the
    adapter may then supply its own (the reference default world), never the
    live `aws` adapter. `xks_given` says the same of `world.xks` (the in-process
    reference then fills it with its own proxy double).
    """

    target: TargetSettings = field(default_factory=TargetSettings)
    world: World = field(default_factory=World)
    world_given: bool = False
    timeouts_given: bool = False
    source: str | None = None
    create_keys: bool = False  # run.create_keys
    run_workers: int | None = None  # `run.workers`: worker processes of a run (--workers overrides it)
    run: dict[str, Any] = field(default_factory=dict)  # the `run:` section (RUN_KEYS), checked
    xks_given: bool = False
    operations: str | None = None  # run.operations


def load_config(path: str | os.PathLike) -> TargetConfig:
    """Read and check a target config file. Any problem -> ConfigError naming the key."""
    p = Path(path)
    data = read_yaml(p, "config file")
    return parse_config(data if data is not None else {}, source=str(p), base_dir=p.parent)


def parse_config(data: Any, *, source: str = "<config>", base_dir: Path | None = None) -> TargetConfig:
    """Check a config already parsed from YAML (also used by tests and `config_from_options`)."""
    where = source
    _expect_mapping(data, "(top level)", where)
    _reject_unknown(data, ("target", "world", "run"), "", where)
    target_raw = data.get("target") or {}
    world_raw = data.get("world") or {}
    run_raw = data.get("run") or {}
    _expect_mapping(target_raw, "target", where)
    _expect_mapping(world_raw, "world", where)
    _expect_mapping(run_raw, "run", where)
    create_keys = run_raw.get("create_keys", False)
    if not isinstance(create_keys, bool):
        raise ConfigError(f"{where}: run.create_keys: expected true or false, got {create_keys!r}")
    operations = run_raw.get("operations")
    if isinstance(operations, list) and all(isinstance(o, str) for o in operations):
        operations = ",".join(operations)
    if operations is not None and not (isinstance(operations, str) and operations.strip()):
        raise ConfigError(f"{where}: run.operations: expected `all`, a name, a glob or a list of them, got {operations!r}")
    # Register secrets first: a later error about another key must not be able to echo them.
    _register_secrets(target_raw, world_raw)

    settings = _parse_target(target_raw, where)
    world, world_given, timeouts_given = _parse_world(world_raw, where, base_dir)
    return TargetConfig(target=settings, world=world, world_given=world_given,
                        timeouts_given=timeouts_given, source=source, create_keys=create_keys,
                        run_workers=_parse_run_workers(run_raw, where), run=_parse_run(run_raw, where),
                        xks_given=world.xks.given, operations=operations)


def _parse_run_workers(raw: dict, where: str) -> int | None:
    """`run.workers`: worker processes of a run (how a run is carried out, not what it checks)."""
    workers = raw.get("workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"{where}: run.workers: expected a whole number >= 1, got {workers!r}")
    return workers


def config_from_options(
    target: str | None = None,
    config_path: str | os.PathLike | None = None,
    endpoint_url: str | None = None,
) -> TargetConfig:
    """What `run --target/--config/--endpoint-url` mean together.

    `--config` gives the base; `--target` overrides its adapter; `--endpoint-url`
    overrides its URL and, with neither of the others, means the `endpoint` adapter.
    With nothing at all: the in-process reference target.
    """
    config = load_config(config_path) if config_path else TargetConfig()
    if target:
        if target not in ADAPTERS:
            raise ConfigError(f"--target: unknown target {target!r}; expected one of {', '.join(ADAPTERS)}")
        config.target.adapter = target
    elif endpoint_url and not config_path:
        config.target.adapter = "endpoint"
    if endpoint_url:
        config.target.endpoint_url = _check_url(endpoint_url, "--endpoint-url", "command line")
    return config


# ---------------------------------------------------------------------------------------------


def _parse_target(raw: dict, where: str) -> TargetSettings:
    _reject_unknown(raw, tuple(TARGET_KEYS), "target.", where)
    s = TargetSettings()
    adapter = _string(raw, "adapter", "target.", where) or "reference"
    if adapter not in ADAPTERS:
        raise ConfigError(f"{where}: target.adapter: unknown adapter {adapter!r}; expected one of {', '.join(ADAPTERS)}")
    s.adapter = adapter
    url = _string(raw, "endpoint_url", "target.", where)
    s.endpoint_url = _check_url(url, "target.endpoint_url", where) if url else None
    region = _string(raw, "region", "target.", where)
    if region is not None:
        if not _REGION_RE.match(region):
            raise ConfigError(f"{where}: target.region: {region!r} is not a Region name (e.g. us-east-1)")
        s.region = region
    for key in ("access_key_id", "secret_access_key", "session_token", "name", "cassette"):
        setattr(s, key, _string(raw, key, "target.", where))
    if bool(s.access_key_id) != bool(s.secret_access_key):
        missing = "secret_access_key" if s.access_key_id else "access_key_id"
        raise ConfigError(f"{where}: target.{missing}: required together with the other half of the credentials")
    for key in ("observable_transitions", "reference_control"):
        if key in raw:
            value = raw[key]
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: target.{key}: expected true or false")
            setattr(s, key, value)
    for key in ("connect_delay_s", "disconnect_delay_s"):
        if key in raw:
            setattr(s, key, _number(raw[key], f"target.{key}", where, allow_zero=True))
    if "faults" in raw:
        faults = raw["faults"]
        if isinstance(faults, str):
            faults = [faults]
        if not isinstance(faults, list) or not all(isinstance(f, str) for f in faults):
            raise ConfigError(f"{where}: target.faults: expected a list of fault names")
        s.faults = tuple(faults)
    if s.adapter == "replay" and not s.cassette:
        raise ConfigError(f"{where}: target.cassette: required for adapter replay (directory of a recorded run)")
    return s


def _parse_run(raw: dict, where: str) -> dict[str, Any]:
    _reject_unknown(raw, tuple(RUN_KEYS), "run.", where)
    out: dict[str, Any] = {}
    if "state_phases" in raw:
        value = raw["state_phases"]
        value = {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value
        if value not in STATE_PHASES:
            raise ConfigError(f"{where}: run.state_phases: expected one of {', '.join(STATE_PHASES)}")
        out["state_phases"] = value
    if "stateful_transitions" in raw:
        value = raw["stateful_transitions"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where}: run.stateful_transitions: expected a whole number >= 0")
        out["stateful_transitions"] = value
    return out


def _parse_world(raw: dict, where: str, base_dir: Path | None) -> tuple[World, bool, bool]:
    _reject_unknown(raw, WORLD_KEYS, "world.", where)
    cloudhsm = raw.get("cloudhsm") or {}
    timeouts_raw = raw.get("timeouts") or {}
    _expect_mapping(cloudhsm, "world.cloudhsm", where)
    _expect_mapping(timeouts_raw, "world.timeouts", where)
    _reject_unknown(cloudhsm, CLOUDHSM_KEYS, "world.cloudhsm.", where)
    _reject_unknown(timeouts_raw, TIMEOUT_KEYS, "world.timeouts.", where)

    world = World()
    for role in CLUSTER_ROLES + CERTIFICATE_ROLES + ("kmsuser_password",):
        setattr(world, role, _string(cloudhsm, role, "world.cloudhsm.", where))
    for role in CERTIFICATE_ROLES:
        cert_file = _string(cloudhsm, f"{role}_file", "world.cloudhsm.", where)
        if cert_file:
            if getattr(world, role):
                raise ConfigError(f"{where}: world.cloudhsm.{role}_file: give either it or {role}, not both")
            path = Path(cert_file)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            try:
                setattr(world, role, path.read_text(encoding="ascii"))
            except (OSError, UnicodeDecodeError):
                raise ConfigError(f"{where}: world.cloudhsm.{role}_file: cannot read {path}") from None
        value = getattr(world, role)
        if value and "BEGIN CERTIFICATE" not in value:
            raise ConfigError(f"{where}: world.cloudhsm.{role}: not a PEM certificate "
                              "(expected -----BEGIN CERTIFICATE-----)")
    ids = [(r, getattr(world, r)) for r in CLUSTER_ROLES if getattr(world, r)]
    seen: dict[str, str] = {}
    for role, value in ids:
        if value in seen:
            raise ConfigError(f"{where}: world.cloudhsm.{role}: same cluster as {seen[value]}; each role needs "
                              "its own cluster")
        seen[value] = role
    for key, value in timeouts_raw.items():
        setattr(world.timeouts, key, _number(value, f"world.timeouts.{key}", where))
    world.xks = parse_xks(raw.get("xks") or {}, where)
    return world, bool(cloudhsm), bool(timeouts_raw)


def parse_xks(raw: Any, where: str) -> XksWorld:
    """`world.xks`: every key optional; a role left out makes only the cases needing it SKIPPED."""
    p = "world.xks."
    _expect_mapping(raw, "world.xks", where)
    _reject_unknown(raw, XKS_KEYS, p, where)
    xks = XksWorld()
    for key in XKS_SCALAR_ROLES:
        setattr(xks, key, _string(raw, key, p, where))
    if xks.connectivity is not None and xks.connectivity not in XKS_CONNECTIVITIES:
        raise ConfigError(f"{where}: {p}connectivity: {xks.connectivity!r} is not one of {', '.join(XKS_CONNECTIVITIES)}")
    for key in ("uri_endpoint", "second_uri_endpoint", "vpc_uri_endpoint"):
        _check_xks_endpoint(getattr(xks, key), f"{p}{key}", where)
    for key in ("uri_path", "second_uri_path"):
        _check_xks_path(getattr(xks, key), f"{p}{key}", where)
    _check_account(xks.vpc_endpoint_service_owner, f"{p}vpc_endpoint_service_owner", where)
    if xks.vpc_uri_endpoint is None and xks.connectivity == "VPC_ENDPOINT_SERVICE":
        xks.vpc_uri_endpoint = xks.uri_endpoint  # the main endpoint is then the service's private DNS name

    credential = raw.get("credential") or {}
    _expect_mapping(credential, f"{p}credential", where)
    _reject_unknown(credential, XKS_CREDENTIAL_KEYS, f"{p}credential.", where)
    for key in XKS_CREDENTIAL_KEYS:
        setattr(xks.credential, key, _string(credential, key, f"{p}credential.", where))
    if bool(xks.credential.access_key_id) != bool(xks.credential.secret_access_key):
        missing = "secret_access_key" if xks.credential.access_key_id else "access_key_id"
        raise ConfigError(f"{where}: {p}credential.{missing}: required together with the other part of the credential")

    for section, roles in (("keys", XKS_KEY_ROLES), ("faulty_paths", XKS_FAULTY_PATH_ROLES)):
        table = raw.get(section) or {}
        _expect_mapping(table, f"{p}{section}", where)
        _reject_unknown(table, roles, f"{p}{section}.", where)
        values = {role: _string(table, role, f"{p}{section}.", where) for role in roles if role in table}
        if section == "faulty_paths":
            for role, path in values.items():
                _check_xks_path(path, f"{p}{section}.{role}", where)
        setattr(xks, section, {k: v for k, v in values.items() if v})

    services = raw.get("vpc_endpoint_services") or {}
    _expect_mapping(services, f"{p}vpc_endpoint_services", where)
    _reject_unknown(services, XKS_VPC_SERVICE_ROLES, f"{p}vpc_endpoint_services.", where)
    for role, entry in services.items():
        key = f"{p}vpc_endpoint_services.{role}"
        if isinstance(entry, str):  # the service name alone
            entry = {"service_name": entry}
        _expect_mapping(entry, key, where)
        _reject_unknown(entry, XKS_VPC_SERVICE_KEYS, f"{key}.", where)
        service = XksVpcService(**{k: _string(entry, k, f"{key}.", where) for k in XKS_VPC_SERVICE_KEYS})
        _check_xks_endpoint(service.uri_endpoint, f"{key}.uri_endpoint", where)
        _check_account(service.owner, f"{key}.owner", where)
        xks.vpc_endpoint_services[role] = service
    return xks


def _check_xks_endpoint(value: str | None, key: str, where: str) -> None:
    """A proxy URI endpoint as a store names it: scheme and host only (KMS always uses port 443)."""
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ConfigError(f"{where}: {key}: {value!r} is not a proxy URI endpoint (e.g. https://xks.example.com)")


def _check_xks_path(value: str | None, key: str, where: str) -> None:
    if value is not None and not value.startswith("/"):
        raise ConfigError(f"{where}: {key}: {value!r} is not a URI path (e.g. /kms/xks/v1)")


def _check_account(value: str | None, key: str, where: str) -> None:
    if value is not None and not re.fullmatch(r"\d{12}", value):
        raise ConfigError(f"{where}: {key}: {value!r} is not a 12-digit AWS account id (quote it in YAML)")


def _register_secrets(target_raw: dict, world_raw: dict) -> None:
    cloudhsm = world_raw.get("cloudhsm") if isinstance(world_raw.get("cloudhsm"), dict) else {}
    xks = world_raw.get("xks") if isinstance(world_raw.get("xks"), dict) else {}
    credential = xks.get("credential") if isinstance(xks.get("credential"), dict) else {}
    for value in (target_raw.get("secret_access_key"), target_raw.get("session_token"),
                  (cloudhsm or {}).get("kmsuser_password"), credential.get("secret_access_key")):
        if isinstance(value, str):
            resolved = _resolve_env(value)
            register_secret(resolved if resolved is not None else value)


def _resolve_env(value: str) -> str | None:
    m = _ENV_REF.match(value.strip())
    return os.environ.get(m.group(1)) if m else value


def _string(raw: dict, key: str, prefix: str, where: str) -> str | None:
    """A string value; `${NAME}` takes it from the environment (keeps secrets out of files)."""
    if key not in raw or raw[key] is None:
        return None
    value = raw[key]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and (key.endswith("_id") or key.endswith("owner")):
        value = str(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {prefix}{key}: expected a string, got {type(value).__name__}")
    m = _ENV_REF.match(value.strip())
    if m:
        env = os.environ.get(m.group(1))
        if env is None:
            raise ConfigError(f"{where}: {prefix}{key}: environment variable {m.group(1)} is not set")
        value = env
    value = value.strip() if not value.lstrip().startswith("-----BEGIN") else value
    if value == "":
        raise ConfigError(f"{where}: {prefix}{key}: empty value (leave the key out instead)")
    return value


def _number(value: Any, key: str, where: str, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: {key}: expected a number of seconds, got {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{where}: {key}: must be {'>= 0' if allow_zero else '> 0'}, got {value}")
    return float(value)


def _check_url(url: str, key: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {key}: {url!r} is not an http(s) URL")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ConfigError(f"{where}: {key}: {url!r} has an invalid port") from None
    return url.rstrip("/")


def _expect_mapping(value: Any, key: str, where: str) -> None:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key}: expected a mapping, got {type(value).__name__}")


def _reject_unknown(raw: dict, allowed, prefix: str, where: str) -> None:
    for key in raw:
        if key not in allowed:
            hint = ", ".join(allowed)
            raise ConfigError(f"{where}: {prefix}{key}: unknown key (allowed: {hint})")
