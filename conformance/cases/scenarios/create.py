"""CreateCustomKeyStore: the new store, and each documented error through the world's roles.

Cluster-in-use is decided per lineage (a related cluster shares the backup
history), so NotActive / InvalidConfiguration cases (whose clusters share the
active lineage) run while no store holds that lineage: they own no store and
sit in the "lineage-free" schedule group; every other case deletes its stores
before it ends.
"""

from __future__ import annotations

import re

from conformance.cases.base import Case, CollectContext
from conformance.cases.scenarios.kit import (
    FOREIGN_CERTIFICATE,
    STORE_ROLES,
    Scenario,
    create_params,
    create_raw,
    describe_without_secrets,
    err,
    ok,
    scenario,
    second_lineage_anchor,
    world_control,
)
from conformance.errors import SetupFailed

OP = "CreateCustomKeyStore"
OPS = ("DescribeCustomKeyStores", "DeleteCustomKeyStore")
STORE_ID_RE = re.compile(r"cks-[0-9a-f]{17}")


def success(s: Scenario) -> None:
    params = create_params(s, _suffix="created")
    obs = create_raw(s, "create a CloudHSM store", params, expect=ok(), main=True, requirements=["CRE-001"])
    store_id = (obs.body or {}).get("CustomKeyStoreId") if obs.ok else None
    if not store_id:
        s.check("the answer carries CustomKeyStoreId", False, f"body {obs.raw_body!r}", requirements=["CRE-001"])
        return
    s.check("the id looks like cks- and 17 lowercase hex digits", bool(STORE_ID_RE.fullmatch(store_id)),
            f"id {store_id!r}", level="SHOULD", requirements=["CRE-002"])
    entry = s.entry(store_id, label="describe the new store") or {}
    want = {
        "CustomKeyStoreName": params["CustomKeyStoreName"],
        "CloudHsmClusterId": params["CloudHsmClusterId"],
        "TrustAnchorCertificate": params["TrustAnchorCertificate"],
        "ConnectionState": "DISCONNECTED",
    }
    wrong = {k: entry.get(k) for k, v in want.items() if entry.get(k) != v}
    s.check("Describe shows a DISCONNECTED store with what was given", not wrong,
            f"differs: {sorted(wrong)}" if wrong else "as given", requirements=["CRE-003"])
    if s.edition == "current":
        s.check("without CustomKeyStoreType the store is AWS_CLOUDHSM",
                entry.get("CustomKeyStoreType") == "AWS_CLOUDHSM", f"CustomKeyStoreType {entry.get('CustomKeyStoreType')!r}",
                requirements=["CRE-004"])
    s.check("no ConnectionErrorCode on a new store", "ConnectionErrorCode" not in entry,
            f"ConnectionErrorCode {entry.get('ConnectionErrorCode')!r}", requirements=["DES-010"])
    leaks = describe_without_secrets(entry)
    s.check("the password is not returned", not leaks, f"found {leaks}" if leaks else "not returned",
            requirements=["DES-011"])


def missing_cloudhsm_members(s: Scenario) -> None:
    """CRE-005 (SHOULD): service logic, not the model, needs cluster + anchor + password."""
    params = {"CustomKeyStoreName": s.driver.name("bare")}
    create_raw(s, "create a store with only a name", params, expect=err("ValidationException", level="SHOULD"),
               main=True)


def in_use(role: str):
    def body(s: Scenario) -> None:
        s.store()
        params = create_params(s, CloudHsmClusterId=s.role(role), _suffix="inuse")
        create_raw(s, f"create a second store on the {role.replace('_id', '').replace('_', ' ')}", params,
                   expect=err("CloudHsmClusterInUseException"), main=True)

    return body


def name_in_use(s: Scenario) -> None:
    first = s.store()
    name = (s.entry(first, label="describe the first store") or {}).get("CustomKeyStoreName")
    params = create_params(s, CustomKeyStoreName=name, CloudHsmClusterId=s.role("unrelated_cluster_id"),
                           TrustAnchorCertificate=second_lineage_anchor(s))
    create_raw(s, "create a store on the unrelated cluster with the first store's name", params,
               expect=err("CustomKeyStoreNameInUseException"), main=True)


def cluster_error(role: str | None, code: str, **overrides):
    def body(s: Scenario) -> None:
        params = create_params(s, CloudHsmClusterId=s.role(role) if role else s.unknown("CloudHsmClusterId"),
                               _suffix="err", **overrides)
        create_raw(s, f"create a store on the {role or 'unknown cluster id'}", params, expect=err(code), main=True)

    return body


def cluster_free_after_delete(s: Scenario) -> None:
    """DEL-005: deleting a store frees its cluster for a new store."""
    first = s.store()
    s.call("delete the first store", "DeleteCustomKeyStore", {"CustomKeyStoreId": first}, expect=ok(),
           requirements=["DEL-001"])
    s.forget(first)
    create_raw(s, "create a new store on the same cluster", create_params(s, _suffix="again"), expect=ok(),
               main=True)


def _new_lineages(s: Scenario, count: int) -> list[tuple[str, str]]:
    """Clusters of new lineages, added through the target's world control (removed when the case ends)."""
    control = world_control(s, "needs ten stores at once, each on a cluster of its own backup lineage with a known "
                               "trust anchor; the world names two lineages")
    region = s.target.identity.region or "us-east-1"
    out = []
    for i in range(count):
        cluster_id = f"cluster-quotalineage{'abcdefghijklmnopqrstuvwxyz'[i % 26]}{'abcdefghijklmnop'[i // 26]}"
        anchor = f"-----BEGIN CERTIFICATE-----\nkms-conformance quota lineage {i}\n-----END CERTIFICATE-----\n"
        control.add_cluster(cluster_id, lineage=f"kmsconf-quota-{i}", certificate=anchor,
                            hsms=[(f"{region}a", "ACTIVE"), (f"{region}b", "ACTIVE")])
        out.append((cluster_id, anchor))
        s.rec.on_exit(lambda _id=cluster_id: _remove_cluster(s, control, _id))
    s.note(f"{count} clusters of new lineages added through the target's world control")
    return out


def _remove_cluster(s: Scenario, control, cluster_id: str) -> None:
    """The stores on a cluster go first, then the cluster."""
    s.cleanup()
    control.remove_cluster(cluster_id)


def limit_exceeded(s: Scenario) -> None:
    """CRE-037: the 11th store fails. Needs ten lineages, which only a target's world control can add."""
    existing = s.call("count the account's stores", "DescribeCustomKeyStores", {})
    have = len((existing.body or {}).get("CustomKeyStores") or []) if existing.ok else 0
    needed = max(0, 10 - have)
    lineages = _new_lineages(s, needed + 1)
    for i, (cluster_id, anchor) in enumerate(lineages[:needed]):
        obs = create_raw(s, f"setup: store {have + i + 1} of 10", create_params(
            s, CloudHsmClusterId=cluster_id, TrustAnchorCertificate=anchor, _suffix=f"quota{i}"))
        if not obs.ok:
            raise SetupFailed(f"setup: store {have + i + 1} could not be created ({obs.error_code})")
    cluster_id, anchor = lineages[needed]
    create_raw(s, "create an eleventh store", create_params(
        s, CloudHsmClusterId=cluster_id, TrustAnchorCertificate=anchor, _suffix="eleventh"),
        expect=err("LimitExceededException"), main=True)


def collect(cc: CollectContext) -> list[Case]:
    cases = [
        scenario(f"{OP}/scenario/success", OP, ["CRE-001", "CRE-002", "CRE-003"] + (["CRE-004"] if cc.edition == "current" else []),
                 "A create answers the new id; Describe shows a DISCONNECTED store with what was given",
                 success, needs_operations=OPS, schedule_group="disconnected", editions=(cc.edition,)),
        scenario(f"{OP}/scenario/cluster-in-use", OP, ["CRE-030"],
                 "A second store on a cluster already in use gives CloudHsmClusterInUseException",
                 in_use("active_cluster_id"), needs_operations=OPS, schedule_group="disconnected"),
        scenario(f"{OP}/scenario/related-cluster-in-use", OP, ["CRE-031"],
                 "A store on a cluster related to one in use gives CloudHsmClusterInUseException",
                 in_use("related_cluster_id"), needs_roles=STORE_ROLES + ("related_cluster_id",),
                 needs_operations=OPS, schedule_group="disconnected"),
        scenario(f"{OP}/scenario/name-in-use", OP, ["CRE-032"],
                 "A name another store has gives CustomKeyStoreNameInUseException", name_in_use,
                 needs_roles=STORE_ROLES + ("unrelated_cluster_id",), needs_operations=OPS,
                 schedule_group="two-stores"),
        scenario(f"{OP}/scenario/cluster-not-found", OP, ["CRE-033"],
                 "A well-formed cluster id that does not exist gives CloudHsmClusterNotFoundException",
                 cluster_error(None, "CloudHsmClusterNotFoundException"),
                 needs_roles=("trust_anchor_certificate", "kmsuser_password"), needs_operations=OPS,
                 schedule_group="lineage-free"),
        scenario(f"{OP}/scenario/cluster-not-active", OP, ["CRE-034"],
                 "A cluster that is not active gives CloudHsmClusterNotActiveException (no store holds its lineage)",
                 cluster_error("inactive_cluster_id", "CloudHsmClusterNotActiveException"),
                 needs_roles=("inactive_cluster_id", "trust_anchor_certificate", "kmsuser_password"),
                 needs_operations=OPS, schedule_group="lineage-free"),
        scenario(f"{OP}/scenario/cluster-invalid-configuration", OP, ["CRE-036"],
                 "A cluster without two active HSMs in two AZs gives CloudHsmClusterInvalidConfigurationException",
                 cluster_error("invalid_config_cluster_id", "CloudHsmClusterInvalidConfigurationException"),
                 needs_roles=("invalid_config_cluster_id", "trust_anchor_certificate", "kmsuser_password"),
                 needs_operations=OPS, schedule_group="lineage-free"),
        scenario(f"{OP}/scenario/incorrect-trust-anchor", OP, ["CRE-035"],
                 "A trust anchor that is not the cluster's gives IncorrectTrustAnchorException",
                 cluster_error("active_cluster_id", "IncorrectTrustAnchorException",
                               TrustAnchorCertificate=FOREIGN_CERTIFICATE),
                 needs_roles=("active_cluster_id", "kmsuser_password"), needs_operations=OPS,
                 schedule_group="lineage-free"),
        scenario("DeleteCustomKeyStore/scenario/cluster-free-after-delete", "DeleteCustomKeyStore", ["DEL-005"],
                 "After a store is deleted its cluster takes a new store", cluster_free_after_delete,
                 needs_operations=(OP,) + OPS, schedule_group="disconnected"),
    ]
    if cc.edition == "current":
        cases += [
            scenario(f"{OP}/scenario/cloudhsm-members-needed", OP, ["CRE-005"],
                     "A CloudHSM store without cluster id, trust anchor and password is refused",
                     missing_cloudhsm_members, editions=("current",), needs_roles=(), needs_operations=OPS,
                     schedule_group="stateless"),
            scenario(f"{OP}/scenario/limit-exceeded", OP, ["CRE-037"],
                     "An eleventh store in the account and Region gives LimitExceededException", limit_exceeded,
                     editions=("current",), needs_operations=OPS, schedule_group="limit"),
        ]
    return cases
