"""UpdateCustomKeyStore: documented errors, effects and the repair workflow.

Each error case violates exactly one documented condition (through the world's
cluster roles) and then checks through DescribeCustomKeyStores that the
rejected update changed nothing. The state-precondition matrix lives in
`update_states.py`.
"""

from __future__ import annotations

from conformance.cases.base import Case, CollectContext
from conformance.cases.scenarios.kit import (
    STORE_ROLES,
    Scenario,
    config_of,
    describe_without_secrets,
    err,
    expect_unchanged,
    ok,
    same_entry,
    scenario,
    second_store,
)

OP = "UpdateCustomKeyStore"
DESCRIBE = ("DescribeCustomKeyStores", "CreateCustomKeyStore", "DeleteCustomKeyStore")
CONNECTING_OPS = DESCRIBE + ("ConnectCustomKeyStore", "DisconnectCustomKeyStore")
WRONG_PASSWORD = "not-the-kmsuser-pw"


def empty_success_body(s: Scenario, label: str, obs) -> None:
    """UPD-001: success is `{}` or an empty body (the seed says both)."""
    raw = (obs.raw_body or "").strip()
    body_ok = obs.ok and raw in ("", "{}") and obs.body in ({}, None)
    s.check(label, body_ok, f"success body {obs.raw_body!r}" if obs.ok else "update did not succeed",
            requirements=["UPD-001"])


def unchanged_rule(obs, refusal: list[str]) -> list[str]:
    """Whom "nothing changed" blames: UPD-006 when the update was refused; when it was wrongly accepted,
    the change is that acceptance itself (the refusal's own requirement), not a broken rollback."""
    return ["UPD-006"] if not obs.ok else list(refusal)


def not_found(s: Scenario) -> None:
    s.call("update an unknown store id", OP,
           {"CustomKeyStoreId": s.unknown("CustomKeyStoreId", OP), "NewCustomKeyStoreName": s.driver.name("ghost")},
           expect=err("CustomKeyStoreNotFoundException"), main=True)


def rename(s: Scenario) -> None:
    sid = s.store()
    before = s.entry(sid, label="describe before")
    new_name = s.driver.name("renamed")
    obs = s.call("rename", OP, {"CustomKeyStoreId": sid, "NewCustomKeyStoreName": new_name}, expect=ok(), main=True)
    empty_success_body(s, "success body is {} or empty", obs)
    after = s.entry(sid, label="describe after")
    s.check("Describe shows the new name", (after or {}).get("CustomKeyStoreName") == new_name,
            f"name {(after or {}).get('CustomKeyStoreName')!r}, wanted {new_name!r}", requirements=["UPD-002"])
    rest_b = {k: v for k, v in (config_of(before) or {}).items() if k != "CustomKeyStoreName"}
    rest_a = {k: v for k, v in (config_of(after) or {}).items() if k != "CustomKeyStoreName"}
    same, detail = same_entry(rest_b, rest_a)
    s.check("nothing but the name changed", same, detail, requirements=["UPD-002"])


def password_not_returned(s: Scenario) -> None:
    sid = s.store()
    before = s.entry(sid, label="describe before")
    password = s.role("kmsuser_password")
    obs = s.call("update the password", OP, {"CustomKeyStoreId": sid, "KeyStorePassword": password},
                 expect=ok(), main=True)
    leaks = describe_without_secrets(obs.body)
    all_obs = s.call("describe every store", "DescribeCustomKeyStores", {})
    leaks += describe_without_secrets(all_obs.body)
    in_text = password in (obs.raw_body or "") or password in (all_obs.raw_body or "")
    s.check("the password is never returned", not leaks and not in_text,
            f"password-like members {leaks}" if leaks else ("password value appears in a response" if in_text else "not returned"))
    after = s.entry(sid, label="describe after")
    same, detail = same_entry(config_of(before), config_of(after))
    s.check("Describe shows the same store (password is not visible)", same, detail)


def password_used_not_pushed(s: Scenario) -> None:
    """UPD-003/UPD-004: the new password is what KMS uses; the cluster's kmsuser keeps its own."""
    sid = s.store()
    s.call("store a wrong kmsuser password", OP, {"CustomKeyStoreId": sid, "KeyStorePassword": WRONG_PASSWORD},
           expect=ok(), main=True)
    s.call("connect", "ConnectCustomKeyStore", {"CustomKeyStoreId": sid}, expect=ok())
    state = s.wait(sid)
    entry = s.entry(sid, label="describe after connect")
    code = (entry or {}).get("ConnectionErrorCode")
    held = state == "FAILED" and code == "INVALID_CREDENTIALS"
    # Held, it shows both; a CONNECTED store cannot tell them apart and is blamed on the stored password not
    # being used (UPD-003), the rule every seeded or real bug seen so far broke.
    s.check("connect with the stored (wrong) password fails with INVALID_CREDENTIALS", held,
            f"state {state}, ConnectionErrorCode {code} (a CONNECTED store means the update changed the "
            f"cluster's password or the new password was not used)",
            requirements=["UPD-003", "UPD-004"] if held else ["UPD-003"])


def related_cluster(s: Scenario) -> None:
    sid = s.store()
    related = s.role("related_cluster_id")
    before = s.entry(sid, label="describe before")
    s.call("move to the related cluster", OP, {"CustomKeyStoreId": sid, "CloudHsmClusterId": related},
           expect=ok(), main=True)
    after = s.entry(sid, label="describe after")
    s.check("Describe shows the related cluster", (after or {}).get("CloudHsmClusterId") == related,
            f"CloudHsmClusterId {(after or {}).get('CloudHsmClusterId')!r}, wanted {related!r}")
    rest_b = {k: v for k, v in (config_of(before) or {}).items() if k != "CloudHsmClusterId"}
    rest_a = {k: v for k, v in (config_of(after) or {}).items() if k != "CloudHsmClusterId"}
    same, detail = same_entry(rest_b, rest_a)
    s.check("nothing but the cluster changed", same, detail)


def repair_on_related_cluster(s: Scenario) -> None:
    """UPD-009 (SHOULD): a store moved to a related cluster connects there."""
    sid = s.store()
    related = s.role("related_cluster_id")
    s.call("move to the related cluster", OP, {"CustomKeyStoreId": sid, "CloudHsmClusterId": related},
           expect=ok(), main=True)
    s.call("connect", "ConnectCustomKeyStore", {"CustomKeyStoreId": sid}, expect=ok())
    state = s.wait(sid)
    s.check("the moved store connects", state == "CONNECTED", f"state {state}", level="SHOULD")
    s.note("the trigger (original cluster deleted) is not arranged: the world cannot delete clusters")


def cluster_error(role: str | None, code: str):
    def body(s: Scenario) -> None:
        sid = s.store()
        cluster = s.role(role) if role else s.unknown("CloudHsmClusterId", OP)
        before = s.entry(sid, label="describe before")
        own = [r for r in s.case.requirements if r != "UPD-006"]
        obs = s.call(f"move to the {role or 'unknown'} cluster", OP,
                     {"CustomKeyStoreId": sid, "CloudHsmClusterId": cluster}, expect=err(code), main=True,
                     requirements=own)
        after = s.entry(sid, label="describe after")
        expect_unchanged(s, "the rejected update changed nothing", before, after, requirements=unchanged_rule(obs, own))

    return body


def atomic_failure(s: Scenario) -> None:
    """A valid rename together with an unrelated cluster: rejected whole, name untouched."""
    sid = s.store()
    before = s.entry(sid, label="describe before")
    obs = s.call("rename and move to an unrelated cluster", OP,
                 {"CustomKeyStoreId": sid, "NewCustomKeyStoreName": s.driver.name("atomic"),
                  "KeyStorePassword": s.role("kmsuser_password"),
                  "CloudHsmClusterId": s.role("unrelated_cluster_id")},
                 expect=err("CloudHsmClusterNotRelatedException"), main=True, requirements=["UPD-033"])
    after = s.entry(sid, label="describe after")
    expect_unchanged(s, "the rejected update changed nothing (not even the name)", before, after,
                     requirements=unchanged_rule(obs, ["UPD-033"]))


def name_in_use(s: Scenario) -> None:
    first = s.store()
    first_name = (s.entry(first, label="describe the first store") or {}).get("CustomKeyStoreName")
    second = second_store(s)
    before = s.entry(second, label="describe the second store before")
    obs = s.call("rename the second store to the first one's name", OP,
                 {"CustomKeyStoreId": second, "NewCustomKeyStoreName": first_name},
                 expect=err("CustomKeyStoreNameInUseException"), main=True, requirements=["UPD-031"])
    after = s.entry(second, label="describe the second store after")
    expect_unchanged(s, "the rejected rename changed nothing", before, after, requirements=unchanged_rule(obs, ["UPD-031"]))


def collect(cc: CollectContext) -> list[Case]:
    cases = [
        scenario(f"{OP}/scenario/not-found", OP, ["UPD-030"],
                 "An update of an unknown store id gives CustomKeyStoreNotFoundException", not_found,
                 needs_roles=(), schedule_group="stateless"),
        scenario(f"{OP}/scenario/rename-applied", OP, ["UPD-001", "UPD-002"],
                 "A rename answers {} and Describe shows the new name, nothing else changed", rename,
                 needs_operations=DESCRIBE, schedule_group="disconnected"),
        scenario(f"{OP}/scenario/password-never-returned", OP, ["UPD-007"],
                 "A password update answers without the password; Describe never shows it", password_not_returned,
                 needs_operations=DESCRIBE, schedule_group="disconnected"),
        scenario(f"{OP}/scenario/password-used-not-pushed", OP, ["UPD-003", "UPD-004"],
                 "The stored password is what the next connect uses; the cluster's kmsuser password is untouched",
                 password_used_not_pushed, needs_operations=CONNECTING_OPS, schedule_group="connect",
                 connect_cycles=1),
        scenario(f"{OP}/scenario/related-cluster-applied", OP, ["UPD-005"],
                 "Moving the store to a related cluster is applied and shown by Describe", related_cluster,
                 needs_roles=STORE_ROLES + ("related_cluster_id",), needs_operations=DESCRIBE,
                 schedule_group="disconnected"),
        scenario(f"{OP}/scenario/related-cluster-repair", OP, ["UPD-009"],
                 "A store moved to a related cluster connects there (cluster repair)", repair_on_related_cluster,
                 needs_roles=STORE_ROLES + ("related_cluster_id",), needs_operations=CONNECTING_OPS,
                 schedule_group="connect", connect_cycles=1),
        scenario(f"{OP}/scenario/cluster-not-found", OP, ["UPD-032", "UPD-006"],
                 "A well-formed unknown cluster id gives CloudHsmClusterNotFoundException and changes nothing",
                 cluster_error(None, "CloudHsmClusterNotFoundException"), needs_operations=DESCRIBE,
                 schedule_group="disconnected"),
        scenario(f"{OP}/scenario/cluster-not-related", OP, ["UPD-033", "UPD-006"],
                 "An unrelated cluster gives CloudHsmClusterNotRelatedException and changes nothing",
                 cluster_error("unrelated_cluster_id", "CloudHsmClusterNotRelatedException"),
                 needs_roles=STORE_ROLES + ("unrelated_cluster_id",), needs_operations=DESCRIBE,
                 schedule_group="disconnected"),
        scenario(f"{OP}/scenario/cluster-not-active", OP, ["UPD-034", "UPD-006"],
                 "A related cluster that is not active gives CloudHsmClusterNotActiveException and changes nothing",
                 cluster_error("inactive_cluster_id", "CloudHsmClusterNotActiveException"),
                 needs_roles=STORE_ROLES + ("inactive_cluster_id",), needs_operations=DESCRIBE,
                 schedule_group="disconnected"),
        scenario(f"{OP}/scenario/cluster-invalid-configuration", OP, ["UPD-035", "UPD-006"],
                 "A related cluster without two active HSMs in two AZs gives "
                 "CloudHsmClusterInvalidConfigurationException and changes nothing",
                 cluster_error("invalid_config_cluster_id", "CloudHsmClusterInvalidConfigurationException"),
                 needs_roles=STORE_ROLES + ("invalid_config_cluster_id",), needs_operations=DESCRIBE,
                 schedule_group="disconnected"),
        scenario(f"{OP}/scenario/rejected-update-is-atomic", OP, ["UPD-006"],
                 "A rename together with an unrelated cluster is rejected whole: the name does not change",
                 atomic_failure, needs_roles=STORE_ROLES + ("unrelated_cluster_id",), needs_operations=DESCRIBE,
                 schedule_group="disconnected"),
        scenario(f"{OP}/scenario/name-in-use", OP, ["UPD-031", "UPD-006"],
                 "Renaming a store to another store's name gives CustomKeyStoreNameInUseException",
                 name_in_use, needs_roles=STORE_ROLES + ("unrelated_cluster_id",), needs_operations=DESCRIBE,
                 schedule_group="two-stores"),
    ]
    return cases
