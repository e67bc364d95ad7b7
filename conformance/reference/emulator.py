"""The emulator as configured: the clean rules, with the configured seeded faults put in front of them."""

from __future__ import annotations

from typing import TypeVar

from conformance.reference.app import ReferenceApp
from conformance.reference.backend import ReferenceBackend
from conformance.reference.config import ReferenceConfig
from conformance.reference.faults import app_overrides, backend_overrides

T = TypeVar("T")


def make_backend(config: ReferenceConfig | None = None) -> ReferenceBackend:
    """The reference target's behaviour without HTTP (its `handle` applies no wire-level fault)."""
    config = config or ReferenceConfig()
    return _with_overrides(ReferenceBackend, backend_overrides(config.faults))(config)


def make_app(config: ReferenceConfig | None = None) -> ReferenceApp:
    """The reference target as a WSGI app (in-process use, or behind `kms-conformance serve`)."""
    config = config or ReferenceConfig()
    app_class = _with_overrides(ReferenceApp, app_overrides(config.faults))
    return app_class(config, make_backend(config))


def _with_overrides(base: type[T], mixins: tuple[type, ...]) -> type[T]:
    """`base` itself, or a subclass whose methods the mixins replace (first mixin outermost)."""
    if not mixins:
        return base
    return type(f"Faulty{base.__name__}", (*mixins, base), {})
