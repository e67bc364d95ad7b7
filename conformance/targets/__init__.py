"""Targets: adapters (reference, moto, endpoint, aws, replay), the config file, probing, state driving.

Public entry points (see docs/ARCHITECTURE.md):
`load_config`, `config_from_options`, `open_target`, `probe_capabilities`,
`StoreDriver` (+ `NotTriggerable`, `DriverError`, `UnimplementedOperation`),
`classify_unimplemented`, `cleanup_ledger`.
"""

from conformance.targets.adapters import open_target
from conformance.targets.base import Target
from conformance.errors import MissingRole
from conformance.world import World
from conformance.targets.capabilities import classify_unimplemented, probe_capabilities
from conformance.targets.config import TargetConfig, TargetSettings, config_from_options, load_config, parse_config
from conformance.targets.driving import (
    DriverError,
    NotTriggerable,
    StateTimeout,
    StoreDriver,
    UnimplementedOperation,
    cleanup_ledger,
    make_run_prefix,
)
from conformance.targets.ledger import DEFAULT_LEDGER_DIR

__all__ = [
    "DEFAULT_LEDGER_DIR",
    "DriverError",
    "MissingRole",
    "NotTriggerable",
    "StateTimeout",
    "StoreDriver",
    "Target",
    "TargetConfig",
    "TargetSettings",
    "UnimplementedOperation",
    "World",
    "classify_unimplemented",
    "cleanup_ledger",
    "config_from_options",
    "load_config",
    "make_run_prefix",
    "open_target",
    "parse_config",
    "probe_capabilities",
]
