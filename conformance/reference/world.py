"""The CloudHSM clusters the reference target checks custom key stores against.

A cluster has what KMS looks at: its state, its HSMs (state + availability
zone), whether its network set-up (subnets, security group) is usable, its
lineage (clusters restored from the same backups share a cluster certificate,
hence a trust anchor: that is what "related" means) and the current kmsuser
password. The mutators are the test control surface: they are plain methods,
never reachable over the AWS API.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

# Two self-signed CA certificates made for this project (no real key material
# behind any AWS account): lineage A is the default active lineage.
LINEAGE_A_CERT = """-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIUa//kDtThHsvcuF0CvLzbBtyDYZMwCgYIKoZIzj0EAwIw
PDE6MDgGA1UEAwwxa21zLWNvbmZvcm1hbmNlIHJlZmVyZW5jZSBjdXN0b21lciBD
QSAobGluZWFnZSBBKTAeFw0yNjAxMDEwMDAwMDBaFw00NjAxMDEwMDAwMDBaMDwx
OjA4BgNVBAMMMWttcy1jb25mb3JtYW5jZSByZWZlcmVuY2UgY3VzdG9tZXIgQ0Eg
KGxpbmVhZ2UgQSkwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATE9MzVZsH8OCyu
dubrVaXsYWDBxBtA6teydP2fOSal4QrI4TIG6zew/6WiBzf0dcRfdhZaw/xUMLOU
VmA2knPeoxMwETAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQC2
8GnA0XaHKiM28q7mM+Z8obiChGYsGfSHjJ3l66zbbwIgIAThwM+kB8okbvR1suIJ
sdjqnWoJN4slTC+Ibj5IWiE=
-----END CERTIFICATE-----
"""

LINEAGE_B_CERT = """-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIURfOgTrl/vVxPz/iM/PGf1PI0y4swCgYIKoZIzj0EAwIw
PDE6MDgGA1UEAwwxa21zLWNvbmZvcm1hbmNlIHJlZmVyZW5jZSBjdXN0b21lciBD
QSAobGluZWFnZSBCKTAeFw0yNjAxMDEwMDAwMDBaFw00NjAxMDEwMDAwMDBaMDwx
OjA4BgNVBAMMMWttcy1jb25mb3JtYW5jZSByZWZlcmVuY2UgY3VzdG9tZXIgQ0Eg
KGxpbmVhZ2UgQikwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAS0R7aiY3pUj3gW
IO6nhNMwb+DWyVxaDeHIeHHMebEPk78ghypWArZJMIkJzh/BilxLRXp3l0Aujxt0
Mphwq6OHoxMwETAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCICiU
cJDsk4c2kI/mzUbtoR0HkOz7Be7wMD0l8/JsYa2dAiEA1zGTkMo8voH52Ibu0Vln
AIBSvCVVaAflaVHQeABOkA0=
-----END CERTIFICATE-----
"""

# Default world: one cluster per role, ids of the real form (cluster- + 11..16 of [2-7a-zA-Z]).
DEFAULT_ROLE_IDS = {
    "active_cluster_id": "cluster-refactivea2b3",
    "related_cluster_id": "cluster-refrelateda2b3",
    "unrelated_cluster_id": "cluster-refunrelateda2b",
    "inactive_cluster_id": "cluster-refinactivea2b3",
    "invalid_config_cluster_id": "cluster-refinvalida2b3",
}
DEFAULT_KMSUSER_PASSWORD = "kmsuser-Passw0rd"


def normalize_pem(pem: str) -> str:
    """Certificates compare by content, not by line wrapping or trailing blanks."""
    return "".join(pem.split())


def fingerprint(pem: str | None) -> str | None:
    """Short SHA-256 fingerprint of a PEM (printed at start-up instead of the whole certificate)."""
    if not pem:
        return None
    return hashlib.sha256(normalize_pem(pem).encode()).hexdigest()[:16]


@dataclass
class Hsm:
    availability_zone: str
    state: str = "ACTIVE"  # CREATE_IN_PROGRESS | ACTIVE | DEGRADED | DELETE_IN_PROGRESS | DELETED
    hsm_id: str = ""


@dataclass
class Cluster:
    cluster_id: str
    lineage: str  # clusters sharing a lineage share a certificate (they are "related")
    certificate: str
    state: str = "ACTIVE"  # CloudHSM ClusterState: ACTIVE, UNINITIALIZED, INITIALIZED, DEGRADED, ...
    hsms: list[Hsm] = field(default_factory=list)
    network_ok: bool = True  # subnets in >= 2 AZs and the cluster security group rules are intact
    kmsuser_password: str = field(default=DEFAULT_KMSUSER_PASSWORD, repr=False)

    def active_hsms(self) -> list[Hsm]:
        return [h for h in self.hsms if h.state == "ACTIVE"]

    def active_azs(self) -> set[str]:
        return {h.availability_zone for h in self.active_hsms()}

    def meets_store_requirements(self) -> bool:
        """Create/Update/CreateKey need two active HSMs in different AZs and a usable network."""
        return self.network_ok and len(self.active_azs()) >= 2


class ClusterWorld:
    """All clusters the target knows, with the mutators tests use to change them.

    The backend shares `lock`, so a mutation never interleaves with a request.
    """

    def __init__(self, clusters: list[Cluster] | None = None, *, trust_anchor_certificate: str = LINEAGE_A_CERT,
                 kmsuser_password: str = DEFAULT_KMSUSER_PASSWORD, roles: dict[str, str] | None = None):
        self.lock = threading.RLock()
        self.clusters: dict[str, Cluster] = {c.cluster_id: c for c in (clusters or [])}
        self.trust_anchor_certificate = trust_anchor_certificate
        self.kmsuser_password = kmsuser_password
        self.roles: dict[str, str] = dict(roles or {})

    # -- queries ---------------------------------------------------------------------------
    def get(self, cluster_id: str | None) -> Cluster | None:
        with self.lock:
            return self.clusters.get(cluster_id or "")

    def related(self, a: str, b: str) -> bool:
        ca, cb = self.get(a), self.get(b)
        return bool(ca and cb and ca.lineage == cb.lineage)

    # -- control surface for tests (never exposed through the AWS API) ------------------------
    def remove_cluster(self, cluster_id: str) -> None:
        with self.lock:
            self.clusters.pop(cluster_id, None)

    def add_cluster(self, cluster: Cluster) -> None:
        with self.lock:
            self.clusters[cluster.cluster_id] = cluster

    def set_cluster_state(self, cluster_id: str, state: str) -> None:
        with self.lock:
            self.clusters[cluster_id].state = state

    def set_hsms(self, cluster_id: str, hsms: list[tuple[str, str]]) -> None:
        """Replace the HSMs: a list of (availability_zone, state)."""
        with self.lock:
            c = self.clusters[cluster_id]
            c.hsms = [Hsm(az, st, f"hsm-{_short(cluster_id + az + str(i))}") for i, (az, st) in enumerate(hsms)]

    def set_network_ok(self, cluster_id: str, ok: bool) -> None:
        with self.lock:
            self.clusters[cluster_id].network_ok = ok

    def set_kmsuser_password(self, password: str, cluster_id: str | None = None) -> None:
        """Change the kmsuser password in one cluster, or in every cluster (what a CU rotation does)."""
        with self.lock:
            targets = [self.clusters[cluster_id]] if cluster_id else list(self.clusters.values())
            for c in targets:
                c.kmsuser_password = password
            if cluster_id is None:
                self.kmsuser_password = password

    # -- cloudhsmv2 DescribeClusters view -------------------------------------------------------
    def describe_clusters(self, filters: dict[str, list[str]] | None = None, region: str = "us-east-1") -> list[dict[str, Any]]:
        filters = filters or {}
        ids = set(filters.get("clusterIds") or [])
        states = set(filters.get("states") or [])
        out = []
        with self.lock:
            for c in self.clusters.values():
                if ids and c.cluster_id not in ids:
                    continue
                if states and c.state not in states:
                    continue
                out.append(_cluster_view(c, region))
        return out


def _short(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode().lower()[:11]


def _cluster_view(c: Cluster, region: str) -> dict[str, Any]:
    azs = sorted({h.availability_zone for h in c.hsms} | {f"{region}a", f"{region}b"})
    return {
        "ClusterId": c.cluster_id,
        "State": c.state,
        "HsmType": "hsm1.medium",
        "SourceBackupId": f"backup-{_short(c.lineage)}",
        "SecurityGroup": f"sg-{hashlib.sha256(c.cluster_id.encode()).hexdigest()[:17]}",
        "VpcId": f"vpc-{hashlib.sha256(c.lineage.encode()).hexdigest()[:17]}",
        "SubnetMapping": {az: f"subnet-{hashlib.sha256((c.cluster_id + az).encode()).hexdigest()[:17]}" for az in azs},
        "Hsms": [
            {
                "AvailabilityZone": h.availability_zone,
                "ClusterId": c.cluster_id,
                "HsmId": h.hsm_id or f"hsm-{_short(c.cluster_id + str(i))}",
                "State": h.state,
            }
            for i, h in enumerate(c.hsms)
        ],
        # The certificate KMS compares the trust anchor with (same for a whole lineage).
        "Certificates": {"ClusterCertificate": c.certificate, "AwsHardwareCertificate": c.certificate},
    }


def build_world(roles: dict[str, str | None], *, trust_anchor_certificate: str | None = None,
                kmsuser_password: str | None = None, region: str = "us-east-1",
                unrelated_trust_anchor_certificate: str | None = None) -> ClusterWorld:
    """A world with one cluster per given role; each role's attributes follow from the role."""
    anchor = trust_anchor_certificate or LINEAGE_A_CERT
    other = unrelated_trust_anchor_certificate or (
        LINEAGE_B_CERT if normalize_pem(anchor) != normalize_pem(LINEAGE_B_CERT) else LINEAGE_A_CERT)
    password = kmsuser_password or DEFAULT_KMSUSER_PASSWORD
    two_azs = [(f"{region}a", "ACTIVE"), (f"{region}b", "ACTIVE")]
    spec = {
        # role: (lineage, certificate, state, hsms)
        "active_cluster_id": ("A", anchor, "ACTIVE", two_azs),
        "related_cluster_id": ("A", anchor, "ACTIVE", two_azs),
        "unrelated_cluster_id": ("B", other, "ACTIVE", two_azs),
        "inactive_cluster_id": ("A", anchor, "INITIALIZED", two_azs),
        "invalid_config_cluster_id": ("A", anchor, "ACTIVE", [(f"{region}a", "ACTIVE")]),
    }
    world = ClusterWorld(trust_anchor_certificate=anchor, kmsuser_password=password,
                         roles={r: v for r, v in roles.items() if v})
    for role, cluster_id in roles.items():
        if not cluster_id or role not in spec:
            continue
        lineage, cert, state, hsms = spec[role]
        world.add_cluster(Cluster(cluster_id=cluster_id, lineage=lineage, certificate=cert, state=state,
                                  kmsuser_password=password))
        world.set_hsms(cluster_id, hsms)
    return world


def default_cluster_world(region: str = "us-east-1") -> ClusterWorld:
    return build_world(dict(DEFAULT_ROLE_IDS), region=region)
