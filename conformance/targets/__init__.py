"""Targets: adapters (reference, moto, endpoint, aws, replay), the config file, probing, state driving.

Public entry points (see docs/ARCHITECTURE.md): `load_config`, `config_from_options`,
`open_target`, `probe_capabilities`, `require_kms_endpoint`, `classify_unimplemented`, `StoreDriver` (+ `DriverError`,
`StateTimeout`, `UnimplementedOperation`), `cleanup_ledger`. A case outcome a target cannot
help (a missing role, a state it cannot show) is raised as the typed class of conformance.errors.
"""

from conformance.targets.adapters import open_target
from conformance.targets.base import Capabilities, Identity, Target
from conformance.targets.capabilities import classify_unimplemented, probe_capabilities, require_kms_endpoint
from conformance.targets.config import TargetConfig, TargetSettings, config_from_options, load_config, parse_config
from conformance.targets.driving import (
    DriverError,
    StateTimeout,
    StoreDriver,
    UnimplementedOperation,
    cleanup_ledger,
    make_run_prefix,
)
from conformance.targets.health import RetryBudget, TargetUnusable
from conformance.targets.ledger import DEFAULT_LEDGER_DIR

__all__ = [
    "Capabilities",
    "DEFAULT_LEDGER_DIR",
    "DriverError",
    "Identity",
    "StateTimeout",
    "StoreDriver",
    "Target",
    "TargetConfig",
    "TargetSettings",
    "UnimplementedOperation",
    "classify_unimplemented",
    "cleanup_ledger",
    "config_from_options",
    "load_config",
    "make_run_prefix",
    "open_target",
    "RetryBudget",
    "TargetUnusable",
    "parse_config",
    "probe_capabilities",
    "require_kms_endpoint",
]
