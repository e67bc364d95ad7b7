"""Fixtures for the targets tests (servers live in targethelpers.py so tests can import them too)."""

from targethelpers import (  # noqa: F401 - pytest fixtures
    broken_server,
    moto_server_url,
    no_aws_env,
    reference_app,
    refused_url,
    served_reference,
)
