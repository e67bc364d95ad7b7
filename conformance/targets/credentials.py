"""The AWS credentials a target signs with: the configured ones, else those the standard chain finds."""

from __future__ import annotations

from botocore.credentials import Credentials

from conformance.redact import register_secret
from conformance.targets.config import TargetConfig


def chain_credentials(region: str) -> Credentials | None:
    """The normal AWS credential chain (env, shared files, SSO, container/instance roles)."""
    import botocore.session

    session = botocore.session.Session()
    session.set_config_variable("region", region)
    try:
        creds = session.get_credentials()
    except Exception:  # a broken profile must read as "no credentials", never a traceback
        return None
    if creds is None:
        return None
    frozen = creds.get_frozen_credentials()
    if not frozen.access_key or not frozen.secret_key:
        return None
    register_secret(frozen.secret_key)
    register_secret(frozen.token)
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


def configured_credentials(config: TargetConfig) -> Credentials | None:
    s = config.target
    if s.access_key_id and s.secret_access_key:
        return Credentials(s.access_key_id, s.secret_access_key, s.session_token)
    return None
