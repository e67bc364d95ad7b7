"""`open_target`: from a TargetConfig to a ready Target, one small builder per adapter.

- reference: the executable-spec emulator in-process (WSGI, no socket), with a
  manual clock so CONNECTING / DISCONNECTING are observable at no wall-time cost;
- moto: moto's in-process `mock_aws` (its stub is called directly: nothing can leak to AWS);
- endpoint: any URL (served reference, moto server, LocalStack, your own fake);
- aws: live AWS, only with `allow_live` (see live.py for the guard);
- replay: a recorded run (conformance/targets/replay.py).
"""

from __future__ import annotations

import copy
import logging
import os
import sys
from typing import Iterable
from urllib.parse import urlsplit

from botocore.credentials import Credentials

from conformance import __version__
from conformance.abilities import Abilities
from conformance.errors import ConfigError, TargetUnreachable, UsageError
from conformance.redact import register_secret
from conformance.reference import (
    EXAMPLE_ACCESS_KEY_ID,
    EXAMPLE_SECRET_ACCESS_KEY,
    ReferenceConfig,
    default_world,
    make_app,
    manual_clock,
)
from conformance.targets.base import Capabilities, Identity, Target
from conformance.targets.capabilities import TRANSITIONS_TO_PROBE
from conformance.targets.config import TargetConfig
from conformance.targets.credentials import chain_credentials, configured_credentials
from conformance.targets.live import (
    CLOUDHSM_ENDPOINT_ENV,
    ENDPOINT_ENV_VARS,
    is_aws_host,
    live_guard,
    open_live,
    require_allow_live,
)
from conformance.targets.health import RetryBudget
from conformance.targets.logscrub import install_log_scrubbing
from conformance.targets.reference_abilities import (
    ControlSurface,
    InProcessWorldControl,
    ServedPendingDeletions,
    ServedWorldControl,
)
from conformance.targets.reference_xks import ReferenceProxy
from conformance.targets.replay import ReplayTarget
from conformance.targets.wire import HttpTransport, MotoTransport, WsgiTransport, tcp_reachable
from conformance.targets.wire_target import WireTarget
from conformance.world import Timeouts, World

log = logging.getLogger("conformance.targets")

REFERENCE_URL = "http://reference.in-process"
# Virtual seconds a reference connect / disconnect stays in transition (the driver moves the clock).
REFERENCE_CONNECT_DELAY_S = 30.0
REFERENCE_DISCONNECT_DELAY_S = 10.0
# Timeouts when the config gives none: a live connect takes up to 20 minutes, emulators are quick.
EMULATOR_TIMEOUTS = Timeouts(connect_s=60.0, disconnect_s=60.0, poll_interval_s=0.2, call_s=30.0)
REFERENCE_TIMEOUTS = Timeouts(connect_s=600.0, disconnect_s=600.0, poll_interval_s=5.0, call_s=30.0)

_warned: set[str] = set()


def open_target(
    config: TargetConfig,
    *,
    edition: str = "current",
    allow_live: bool = False,
    faults: Iterable[str] = (),
    call_timeout_s: float | None = None,
    retry: RetryBudget | None = None,
    seed: int = 0,
    announce=None,
) -> Target:
    """Build the target the config names. Raises ConfigError / UsageError (exit 2), TargetUnreachable (3).

    `announce(line)` receives what a user must see before anything happens
    (the live account and Region; the fallback to example credentials);
    default: stderr.
    """
    announce = announce or (lambda line: print(line, file=sys.stderr))
    install_log_scrubbing()
    settings = config.target
    faults = tuple(faults or ()) + tuple(settings.faults or ())
    if faults and settings.adapter != "reference":
        raise UsageError(f"--fault works with the reference target only (this target is {settings.adapter})")
    require_allow_live(config, allow_live)  # by destination, before any DNS lookup or connection
    builder = {
        "reference": _open_reference,
        "moto": _open_moto,
        "endpoint": _open_endpoint,
        "aws": _open_aws,
        "replay": _open_replay,
    }.get(settings.adapter)
    if builder is None:
        raise ConfigError(f"target.adapter: unknown adapter {settings.adapter!r}")
    if call_timeout_s is not None and call_timeout_s <= 0:
        raise UsageError("--call-timeout must be > 0")
    target = builder(config, edition=edition, faults=faults, announce=announce)
    if call_timeout_s is not None:
        target.timeouts.call_s = float(call_timeout_s)
    health = getattr(target, "health", None)
    if health is not None and retry is not None:
        health.configure(retry, seed=seed)
    return target


# ------------------------------------------------------------------------------------------------


def _world(config: TargetConfig, *, default_timeouts: Timeouts, fallback: World | None = None) -> World:
    """The config's world, or the given default world; timeouts from the config when it has them."""
    world = copy.deepcopy(config.world) if config.world_given or fallback is None else fallback
    if config.xks_given and not config.world_given and fallback is not None:
        world.xks = copy.deepcopy(config.world.xks)  # world.xks alone: the default CloudHSM world keeps it
    if not config.timeouts_given:
        world.timeouts = copy.deepcopy(default_timeouts)
    else:
        world.timeouts = copy.deepcopy(config.world.timeouts)
    register_secret(world.kmsuser_password)
    return world


def _open_reference(config: TargetConfig, *, edition: str, faults: tuple[str, ...], announce) -> Target:
    s = config.target
    world = _world(config, default_timeouts=REFERENCE_TIMEOUTS, fallback=default_world())
    clock = manual_clock()
    access_key = s.access_key_id or EXAMPLE_ACCESS_KEY_ID
    secret_key = s.secret_access_key or EXAMPLE_SECRET_ACCESS_KEY
    connect_delay = REFERENCE_CONNECT_DELAY_S if s.connect_delay_s is None else s.connect_delay_s
    disconnect_delay = REFERENCE_DISCONNECT_DELAY_S if s.disconnect_delay_s is None else s.disconnect_delay_s
    # External key stores exist in the current edition only: its own proxy double on loopback.
    proxy = ReferenceProxy(config.world.xks if config.xks_given else None, s.region) if edition != "2019-12" else None
    xks_kw = {}
    if proxy is not None:
        world.xks = proxy.world
        register_secret(world.xks.credential.secret_access_key)
        xks_kw = {"xks_network": proxy.network}
    try:
        ref_config = ReferenceConfig.from_world(
            world, edition=edition, access_key_id=access_key, secret_access_key=secret_key, region=s.region,
            connect_delay_s=connect_delay, disconnect_delay_s=disconnect_delay, faults=faults, clock=clock,
            **xks_kw,
        )
    except ValueError as exc:
        if proxy is not None:
            proxy.stop()
        raise UsageError(str(exc)) from None
    app = make_app(ref_config)
    delays_given = s.connect_delay_s is not None or s.disconnect_delay_s is not None
    capabilities = Capabilities(observable_transitions=connect_delay > 0 and disconnect_delay > 0,
                                transitions_source=(f"config: connect {connect_delay:g}s, disconnect "
                                                    f"{disconnect_delay:g}s" if delays_given else
                                                    "adapter: virtual clock"),
                                speaks_json=True, faults=tuple(faults))
    abilities = Abilities(clock=clock, world_control=InProcessWorldControl(app.backend.world,
                                                                           ref_config.xks_vpc_services, s.region),
                          pending_deletions=app.backend)
    return _ReferenceTarget(
        proxy,
        identity=Identity(name=s.name or "reference", adapter="reference", version=__version__,
                          endpoint="in-process", region=s.region),
        world=world,
        transport=WsgiTransport(app),
        credentials=Credentials(access_key, secret_key),
        region=s.region,
        endpoint_url=REFERENCE_URL,
        capabilities=capabilities,
        abilities=abilities,
    )


class _ReferenceTarget(WireTarget):
    """The in-process reference; close() also stops its XKS proxy double."""

    def __init__(self, proxy: ReferenceProxy | None, **kw):
        super().__init__(**kw)
        self._proxy = proxy

    @property
    def xks_network(self) -> dict[str, str]:
        """Where this target reaches the hosts of its world.xks (a model of it, such as the stateful
        case's, reaches the same proxy double through it)."""
        return dict(self._proxy.network) if self._proxy is not None else {}

    def close(self) -> None:
        super().close()
        if self._proxy is not None:
            self._proxy.stop()
            self._proxy = None


def _open_moto(config: TargetConfig, *, edition: str, faults, announce) -> Target:
    import moto
    from moto import mock_aws

    s = config.target
    # moto has no CloudHSM clusters with HSMs: the role ids only let cases reach it and
    # show which operations it lacks.
    world = _world(config, default_timeouts=EMULATOR_TIMEOUTS, fallback=default_world())
    mock = mock_aws()
    mock.start()
    target = _MotoTarget(
        mock,
        identity=Identity(name=s.name or "moto", adapter="moto", version=moto.__version__,
                          endpoint="in-process", region=s.region),
        world=world,
        transport=MotoTransport(),
        credentials=Credentials(EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY),
        region=s.region,
        endpoint_url=None,  # the AWS URL, answered by moto's stub in-process
        capabilities=Capabilities(speaks_json=True),
    )
    return target


class _MotoTarget(WireTarget):
    def __init__(self, mock, **kw):
        super().__init__(**kw)
        self._mock = mock

    def close(self) -> None:
        super().close()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None


def _endpoint_url(config: TargetConfig, *env_names: str) -> str | None:
    if config.target.endpoint_url:
        return config.target.endpoint_url
    for name in env_names:
        value = os.environ.get(name)
        if value:
            return value.rstrip("/")
    return None


def _open_endpoint(config: TargetConfig, *, edition: str, faults, announce) -> Target:
    s = config.target
    url = _endpoint_url(config, *ENDPOINT_ENV_VARS)  # the same order live.destinations() judged
    if not url:
        raise ConfigError("target.endpoint_url: the endpoint adapter needs a URL (--endpoint-url, "
                          "target.endpoint_url or AWS_ENDPOINT_URL_KMS)")
    cloudhsm_url = os.environ.get(CLOUDHSM_ENDPOINT_ENV, "").rstrip("/") or url
    live = is_aws_host(url) or is_aws_host(cloudhsm_url)  # open_target already required --allow-live
    reason = tcp_reachable(url)
    if reason:
        raise TargetUnreachable(url, reason)
    credentials = _endpoint_credentials(config, url, live=live, announce=announce)
    world = _world(config, default_timeouts=EMULATOR_TIMEOUTS, fallback=default_world())
    target = WireTarget(
        # The label is the config's name or host:port; the Server header probing finds goes to
        # identity.server (an emulator's framework says nothing about which target this is).
        identity=Identity(name=s.name or urlsplit(url).netloc, adapter="endpoint", endpoint=url, region=s.region),
        world=world,
        transport=HttpTransport(),
        credentials=credentials,
        region=s.region,
        endpoint_url=url,
        capabilities=Capabilities(observable_transitions=bool(s.observable_transitions),
                                  transitions_source=TRANSITIONS_TO_PROBE if s.observable_transitions is None
                                  else "config"),
        service_endpoints={"cloudhsmv2": cloudhsm_url},
        guard=live_guard if live else None,  # an AWS host gets the live allowlist whatever the adapter's name
    )
    if s.reference_control is not False and not live:  # an unknown X-Amz-Target is harmless to any other target
        _add_reference_control(target)
    return target


def _endpoint_credentials(config: TargetConfig, url: str, *, live: bool, announce) -> Credentials:
    """The config's credentials; else, for a non-AWS endpoint, the example ones (never the default chain).

    The default chain holds the user's real AWS credentials: a local emulator
    does not need them and must not receive them. Only an AWS host (allowed
    with --allow-live) may use the chain, and never the example credentials.
    """
    configured = configured_credentials(config)
    if configured is not None:
        return configured
    if live:
        credentials = chain_credentials(config.target.region)
        if credentials is None:
            raise ConfigError("target.access_key_id: no AWS credentials configured or found by the standard "
                              "chain for the AWS endpoint; example credentials are never sent to AWS")
        return credentials
    if url not in _warned:
        _warned.add(url)
        announce(f"kms-conformance: no credentials in the config; signing requests to {url} with AWS's "
                 f"documented example credentials ({EXAMPLE_ACCESS_KEY_ID}, the served reference target's "
                 "defaults; the default AWS credential chain is not used for a non-AWS endpoint)")
    return Credentials(EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY)


def _add_reference_control(target: WireTarget) -> None:
    """Abilities over a served reference target's opt-in control surface (`serve --enable-control`)."""
    surface = ControlSurface(target)  # asks the target on first use whether it has the surface
    target.abilities = Abilities(world_control=ServedWorldControl(surface),
                                 pending_deletions=ServedPendingDeletions(surface))


def _open_aws(config: TargetConfig, *, edition: str, faults, announce) -> Target:
    return open_live(config, announce=announce)


def _open_replay(config: TargetConfig, *, edition: str, faults, announce) -> Target:
    return ReplayTarget(config)
