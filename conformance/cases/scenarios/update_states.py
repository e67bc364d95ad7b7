"""UpdateCustomKeyStore state preconditions: every ConnectionState x each updatable member.

The rules differ by edition (aws-behaviour-facts §3.4):
- 2019-12: any update needs DISCONNECTED;
- current: the name may change while CONNECTED or DISCONNECTED; the password and
  the cluster need DISCONNECTED; CONNECTING, DISCONNECTING and FAILED refuse a
  rename too ([INFER], a SHOULD).
A refused update must change nothing; an accepted one must show in Describe.
"""

from __future__ import annotations

from conformance import CONNECTION_STATES
from conformance.cases.base import Case, CollectContext
from conformance.cases.scenarios.kit import (
    STORE_ROLES,
    Scenario,
    config_of,
    err,
    expect_unchanged,
    ok,
    request_in_state,
    scenario,
)

OP = "UpdateCustomKeyStore"
MEMBERS = ("name", "password", "cluster")
OPS = ("DescribeCustomKeyStores", "CreateCustomKeyStore", "DeleteCustomKeyStore",
       "ConnectCustomKeyStore", "DisconnectCustomKeyStore")


def allowed(edition: str, state: str, member: str) -> bool:
    if state == "DISCONNECTED":
        return True
    return edition == "current" and member == "name" and state == "CONNECTED"


def requirements(edition: str, state: str, member: str) -> list[str]:
    if state == "DISCONNECTED":
        return {"name": ["UPD-001", "UPD-002"], "password": ["UPD-001"], "cluster": ["UPD-001", "UPD-005"]}[member]
    if allowed(edition, state, member):
        return ["UPD-013"]
    ids = ["UPD-036", "UPD-006"]
    if edition == "2019-12":
        ids.append("UPD-010")
    ids.append({"name": "UPD-014", "password": "UPD-011", "cluster": "UPD-012"}[member])
    if edition == "2019-12" and member == "name":
        ids.remove("UPD-014")  # UPD-014 is the current edition's rule
    return ids


def _params(s: Scenario, sid: str, member: str) -> dict:
    if member == "name":
        return {"CustomKeyStoreId": sid, "NewCustomKeyStoreName": s.driver.name("state-rename")}
    if member == "password":
        return {"CustomKeyStoreId": sid, "KeyStorePassword": s.role("kmsuser_password")}
    return {"CustomKeyStoreId": sid, "CloudHsmClusterId": s.role("related_cluster_id")}


def refusal_requirements(edition: str, state: str, member: str) -> list[str]:
    """What the refusal itself is checked against (everything the case cites but the "nothing changed" rule)."""
    return [r for r in requirements(edition, state, member) if r != "UPD-006"]


def judge_refusal(s: Scenario, label: str, params: dict, refusal: list[str], *, level: str = "MUST"):
    """Send the update that must be refused and judge it: accepted, it breaks the state rules in `refusal`;
    refused with another client error, only the rule that names the error code (UPD-036)."""
    obs = s.call(label, OP, params, main=True)
    refused_otherwise = (obs.status is not None and 400 <= obs.status < 500
                         and obs.error_code != "CustomKeyStoreInvalidStateException")
    s.rec.judge(err("CustomKeyStoreInvalidStateException", level=level), obs, request={"params": params},
                requirements=["UPD-036"] if refused_otherwise else refusal)
    return obs


def unchanged_rule(obs, refusal: list[str]) -> list[str]:
    """UPD-006 when the update was refused; a wrongly accepted update's change is blamed on the refusal rule."""
    return ["UPD-006"] if not obs.ok else list(refusal)


def body_for(state: str, member: str):
    def body(s: Scenario) -> None:
        sid = s.store()
        accepted = allowed(s.edition, state, member)
        level = "SHOULD" if (s.edition == "current" and member == "name") else "MUST"
        expect = ok() if accepted else err("CustomKeyStoreInvalidStateException", level=level)
        refusal = refusal_requirements(s.edition, state, member)

        def cites(obs):
            """An accepted update cites the case's rules; a refusal its state rules, or only the
            error-code rule (UPD-036) when it was refused under another client error."""
            if accepted:
                return None
            refused_otherwise = (obs.status is not None and 400 <= obs.status < 500
                                 and obs.error_code != "CustomKeyStoreInvalidStateException")
            return ["UPD-036"] if refused_otherwise else refusal

        # States in which the same answer is right: an answer from any of them may be judged.
        same_in = [other for other in CONNECTION_STATES if allowed(s.edition, other, member) == accepted]
        held = request_in_state(s, sid, state, f"update the {member} while {state}", OP,
                                lambda sid: _params(s, sid, member), expect=expect, same_in=same_in,
                                describe_before=True, requirements=cites)
        before, after, params, obs = held.before, held.after, held.params, held.obs
        if accepted:
            # Applied and shown is the effect rule; an update that was refused is blamed on the refusal alone.
            effect = None if not obs.ok else ["UPD-002"] if member == "name" else ["UPD-005"]
            if member == "name":
                s.check("Describe shows the new name", (after or {}).get("CustomKeyStoreName") == params["NewCustomKeyStoreName"],
                        f"name {(after or {}).get('CustomKeyStoreName')!r}",
                        requirements=effect)
            elif member == "cluster":
                s.check("Describe shows the new cluster", (after or {}).get("CloudHsmClusterId") == params["CloudHsmClusterId"],
                        f"cluster {(after or {}).get('CloudHsmClusterId')!r}",
                        requirements=effect)
            else:
                s.check("Describe shows the same configuration", config_of(after) == config_of(before),
                        "configuration changed" if config_of(after) != config_of(before) else "unchanged")
        else:
            expect_unchanged(s, "the refused update changed nothing", before, after,
                             requirements=unchanged_rule(obs, refusal))

    return body


def mixed_connected(s: Scenario) -> None:
    """UPD-015: in CONNECTED, a rename plus a password change is refused whole."""
    sid = s.store(state="CONNECTED")
    before = s.entry(sid, label="describe before")
    obs = judge_refusal(s, "rename and change the password while CONNECTED",
                        {"CustomKeyStoreId": sid, "NewCustomKeyStoreName": s.driver.name("mixed"),
                         "KeyStorePassword": s.role("kmsuser_password")}, ["UPD-015"])
    after = s.entry(sid, label="describe after")
    expect_unchanged(s, "the refused update changed nothing (not even the name)", before, after,
                     requirements=unchanged_rule(obs, ["UPD-015"]))


def collect(cc: CollectContext) -> list[Case]:
    cases: list[Case] = []
    for state in CONNECTION_STATES:
        for member in MEMBERS:
            verdict_word = "accepted" if allowed(cc.edition, state, member) else "refused"
            roles = STORE_ROLES + (("related_cluster_id",) if member == "cluster" else ())
            cycles = 0 if state == "DISCONNECTED" else 1
            cases.append(
                scenario(
                    f"{OP}/scenario/state-{state.lower()}-{member}",
                    OP,
                    requirements(cc.edition, state, member),
                    f"Updating the {member} of a {state} store is {verdict_word} ({cc.edition} edition)",
                    body_for(state, member),
                    editions=(cc.edition,),
                    needs_roles=roles,
                    needs_operations=OPS,
                    schedule_group="disconnected" if state == "DISCONNECTED" else f"state-{state.lower()}",
                    connect_cycles=cycles,
                )
            )
    if cc.edition == "current":
        cases.append(
            scenario(f"{OP}/scenario/connected-mixed-members-refused", OP, ["UPD-015", "UPD-006"],
                     "While CONNECTED, a rename plus a password change is refused whole", mixed_connected,
                     editions=("current",), needs_operations=OPS, schedule_group="state-connected",
                     connect_cycles=1)
        )
    return cases
