"""Targets: adapters (reference, moto, endpoint, aws, replay), the config file, probing, state driving.

Public entry points (see docs/ARCHITECTURE.md): `load_config`, `config_from_options`,
`open_target`, `probe_capabilities`, `require_kms_endpoint`, `classify_unimplemented`, `StoreDriver` (+ `DriverError`,
`StateTimeout`, `UnimplementedOperation`), `cleanup_ledger`. A case outcome a target cannot
help (a missing role, a state it cannot show) is raised as the typed class of conformance.errors.
"""

# Exports load on first use (PEP 562, as conformance.runner does): importing one light submodule
# (health's defaults, for the option table) must not load every adapter, the reference and boto3.
def __getattr__(name: str):  # noqa: C901 - one plain import per export group, no import by name
    if name == "open_target":
        from conformance.targets.adapters import open_target as value
    elif name in ("Capabilities", "Identity", "Target"):
        from conformance.targets import base as module

        value = getattr(module, name)
    elif name in ("classify_unimplemented", "probe_capabilities", "require_kms_endpoint"):
        from conformance.targets import capabilities as module

        value = getattr(module, name)
    elif name in ("TargetConfig", "TargetSettings", "config_from_options", "load_config", "parse_config"):
        from conformance.targets import config as module

        value = getattr(module, name)
    elif name in ("DriverError", "StateTimeout", "StoreDriver", "UnimplementedOperation", "cleanup_ledger",
                  "make_run_prefix"):
        from conformance.targets import driving as module

        value = getattr(module, name)
    elif name in ("RetryBudget", "TargetUnusable"):
        from conformance.targets import health as module

        value = getattr(module, name)
    elif name == "DEFAULT_LEDGER_DIR":
        from conformance.targets.ledger import DEFAULT_LEDGER_DIR as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


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
