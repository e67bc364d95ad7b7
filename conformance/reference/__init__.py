"""The reference target: an executable-spec emulator of the KMS custom key store API.

In-process: `make_app(ReferenceConfig(...))` is a WSGI app (AWS JSON 1.1 +
SigV4); `make_backend(config).handle(service, operation, params)` is the same
behaviour without HTTP. Both apply the config's seeded faults (faults.py);
`ReferenceBackend` / `ReferenceApp` are the clean rules. Served:
`kms-conformance serve`.
"""

from conformance.reference.app import ReferenceApp
from conformance.reference.backend import ReferenceBackend
from conformance.reference.clock import ManualClock, manual_clock
from conformance.reference.config import (
    EXAMPLE_ACCESS_KEY_ID,
    EXAMPLE_SECRET_ACCESS_KEY,
    ReferenceConfig,
    default_world,
)
from conformance.reference.emulator import make_app, make_backend
from conformance.reference.errors import KmsError
from conformance.reference.faults import FAULTS, Fault
from conformance.reference.world import Cluster, ClusterWorld, Hsm, build_world, default_cluster_world

__all__ = [
    "Cluster",
    "ClusterWorld",
    "EXAMPLE_ACCESS_KEY_ID",
    "EXAMPLE_SECRET_ACCESS_KEY",
    "FAULTS",
    "Fault",
    "Hsm",
    "KmsError",
    "ManualClock",
    "ReferenceApp",
    "ReferenceBackend",
    "ReferenceConfig",
    "build_world",
    "default_cluster_world",
    "default_world",
    "make_app",
    "make_backend",
    "manual_clock",
]
