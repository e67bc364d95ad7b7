"""The reference target's external key store world: its own proxy double and simulated VPC services.

The in-process reference starts a proxy double on a free loopback port and maps every host name
of its world.xks (proxy endpoints, private DNS names) to it; `serve --xks-proxy-http PORT` does the
same with a proxy the user started. Composed here because only the targets layer sees both the
reference and the proxy double.
"""

from __future__ import annotations

import copy

from conformance.reference.xks import default_vpc_world, world_hosts
from conformance.world import XksWorld
from conformance.xksproxy import DEFAULT_KEYS, ExternalKey, ProxyConfig, XksProxyApp, proxy_world, running_proxy


def default_reference_xks(region: str) -> XksWorld:
    """world.xks of a reference target that has none configured: the proxy double's roles and VPC services."""
    return default_vpc_world(proxy_world(ProxyConfig()), region)


def proxy_config_for(xks: XksWorld, **kw) -> ProxyConfig:
    """A proxy double that serves what `xks` names: its credential and its keys by role."""
    if xks.credential.access_key_id and xks.credential.secret_access_key:
        kw.update(access_key_id=xks.credential.access_key_id, secret_access_key=xks.credential.secret_access_key)
    if xks.keys:
        behaviour = {role: key for role, (_, key) in DEFAULT_KEYS.items()}
        kw["keys"] = {key_id: behaviour.get(role, ExternalKey()) for role, key_id in xks.keys.items()}
    return ProxyConfig(**kw)


def loopback_network(xks: XksWorld, port: int) -> dict[str, str]:
    """Every host the world names, reached over plain HTTP at 127.0.0.1:port."""
    return {host: f"http://127.0.0.1:{port}" for host in world_hosts(xks)}


class ReferenceProxy:
    """The proxy double an in-process reference target owns: started with it, stopped by its close()."""

    def __init__(self, xks: XksWorld | None, region: str, *, hang_s: float = 5.0):
        self.world = copy.deepcopy(xks) if xks is not None and xks.given else default_reference_xks(region)
        if not self.world.vpc_endpoint_service_name and not self.world.vpc_endpoint_services:
            self.world = default_vpc_world(self.world, region)
        self.app = XksProxyApp(proxy_config_for(self.world, hang_s=hang_s))
        self._server = running_proxy(self.app)
        self._server.start()
        self.network = loopback_network(self.world, self._server.port)

    def stop(self) -> None:
        self._server.stop()
