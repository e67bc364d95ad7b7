"""The `world.xks` a proxy double offers: what it prints for a config, what the reference fills in."""

from __future__ import annotations

from conformance.world import XKS_FAULTY_PATH_ROLES, XksCredential, XksWorld
from conformance.xksproxy.config import ProxyConfig
from conformance.xksproxy.keys import DEFAULT_KEYS
from conformance.xksproxy.modes import API_PATH, FAULTY_PATH_MODES, mode_path

# Host names a target reaches the proxy double by (RFC 6761 `.test`: never resolvable on the
# internet). Only the reference target knows them: it maps them to the loopback port.
PROXY_HOST = "xks-proxy.kms-conformance.test"
SECOND_PROXY_HOST = "xks-proxy-2.kms-conformance.test"
CREDENTIAL_ENV = ("XKS_ACCESS_KEY_ID", "XKS_SECRET_ACCESS_KEY")


def proxy_world(config: ProxyConfig, *, uri_endpoint: str = f"https://{PROXY_HOST}",
                second_uri_endpoint: str | None = f"https://{SECOND_PROXY_HOST}") -> XksWorld:
    """The public-endpoint roles this proxy double fills: endpoint, paths, credential, keys."""
    key_ids = {role: key_id for role, (key_id, _) in DEFAULT_KEYS.items() if key_id in config.keys}
    return XksWorld(
        connectivity="PUBLIC_ENDPOINT",
        uri_endpoint=uri_endpoint,
        uri_path=API_PATH if config.mode == "correct" else mode_path("correct"),
        credential=XksCredential(config.access_key_id, config.secret_access_key),
        second_uri_endpoint=second_uri_endpoint,
        second_uri_path=API_PATH if config.mode == "correct" else mode_path("correct"),
        keys=key_ids,
        faulty_paths={role: mode_path(FAULTY_PATH_MODES[role]) for role in XKS_FAULTY_PATH_ROLES},
    )


def world_block(xks: XksWorld) -> str:
    """`world.xks` as YAML to paste into a target config. The credential only as ${VAR} placeholders."""
    lines = ["world:", "  xks:"]
    for key in ("connectivity", "uri_endpoint", "uri_path"):
        if getattr(xks, key):
            lines.append(f"    {key}: {getattr(xks, key)}")
    lines += ["    credential:",
              f"      access_key_id: ${{{CREDENTIAL_ENV[0]}}}",
              f"      secret_access_key: ${{{CREDENTIAL_ENV[1]}}}"]
    for key in ("vpc_endpoint_service_name", "vpc_endpoint_service_owner", "vpc_uri_endpoint",
                "second_uri_endpoint", "second_uri_path"):
        value = getattr(xks, key)
        if value:
            lines.append(f"    {key}: " + (f'"{value}"' if key.endswith("owner") else value))
    for section in ("keys", "faulty_paths"):
        table = getattr(xks, section)
        if table:
            lines.append(f"    {section}:")
            lines += [f"      {role}: {value}" for role, value in table.items()]
    if xks.vpc_endpoint_services:
        lines.append("    vpc_endpoint_services:")
        for role, service in xks.vpc_endpoint_services.items():
            lines.append(f"      {role}:")
            for key in ("service_name", "uri_endpoint", "owner"):
                value = getattr(service, key)
                if value:
                    lines.append(f"        {key}: " + (f'"{value}"' if key == "owner" else value))
    return "\n".join(lines)
