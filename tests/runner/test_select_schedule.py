"""-k selection (pytest's grammar over case names) and case ordering by schedule group."""

import pytest

from conformance.cases.base import Case
from conformance.errors import UsageError
from conformance.runner.schedule import GROUP_ORDER, order_cases, schedule_groups
from conformance.runner.select import case_names, select_cases


def mk(cid, group="stateless", reqs=("UPD-021",), cycles=0):
    op, kind, _ = cid.split("/", 2)
    return Case(id=cid, operation=op, kind=kind, requirements=tuple(reqs), title=cid, run=lambda ctx: None,
                schedule_group=group, connect_cycles=cycles)


CASES = [
    mk("UpdateCustomKeyStore/structural/KeyStorePassword/length-min", reqs=("UPD-023", "VAL-008")),
    mk("UpdateCustomKeyStore/structural/CustomKeyStoreId/type-number", reqs=("PROTO-011",)),
    mk("DescribeCustomKeyStores/protocol/target-missing", reqs=("PROTO-013",)),
    mk("DescribeCustomKeyStores/auth/unsigned", reqs=("AUTH-001",)),
    mk("UpdateCustomKeyStore/scenario/state-connected-name", group="state-connected", reqs=("UPD-013",), cycles=1),
]


def ids(expr):
    return [c.id for c in select_cases(CASES, expr)]


def test_keyword_matches_id_parts_kind_operation_and_requirements():
    assert ids(None) == [c.id for c in CASES]
    assert ids("structural") == [CASES[0].id, CASES[1].id]
    assert ids("UpdateCustomKeyStore and not structural") == [CASES[4].id]
    assert ids("UPD-023") == [CASES[0].id]
    assert ids("PROTO-011 or auth") == [CASES[1].id, CASES[3].id]
    assert ids("DescribeCustomKeyStores/protocol/target-missing") == [CASES[2].id]
    assert ids("keystorepassword") == [CASES[0].id]  # case-insensitive substring, like pytest
    assert ids("nothing-matches-this") == []


def test_bad_keyword_is_a_usage_error():
    with pytest.raises(UsageError, match="-k"):
        select_cases(CASES, "and or")


def test_case_names_include_requirements():
    assert "UPD-023" in case_names(CASES[0]) and "structural" in case_names(CASES[0])


def test_groups_run_together_lineage_free_first_connecting_last():
    cases = [
        mk("UpdateCustomKeyStore/scenario/a", group="connect"),
        mk("UpdateCustomKeyStore/scenario/b", group="disconnected"),
        mk("UpdateCustomKeyStore/scenario/c", group="connect"),
        mk("CreateCustomKeyStore/scenario/d", group="lineage-free"),
        mk("UpdateCustomKeyStore/structural/e"),
        mk("UpdateCustomKeyStore/scenario/f", group="disconnected"),
        mk("UpdateCustomKeyStore/scenario/g", group="some-new-group"),
    ]
    ordered = [c.id.rsplit("/", 1)[1] for c in order_cases(cases)]
    assert ordered == ["d", "e", "b", "f", "a", "c", "g"]
    groups = [g for g, _ in schedule_groups(cases)]
    assert groups == ["lineage-free", "stateless", "disconnected", "connect", "some-new-group"]
    assert len(groups) == len(set(groups))  # each group is one contiguous block
    assert GROUP_ORDER.index("lineage-free") < GROUP_ORDER.index("disconnected") < GROUP_ORDER.index("connect")



def test_keyword_precedence_and_parentheses_follow_pytest():
    # not binds tighter than and, and tighter than or
    assert ids("auth or structural and PROTO-011") == [CASES[1].id, CASES[3].id]
    assert ids("(auth or structural) and PROTO-011") == [CASES[1].id]
    assert ids("not structural and not scenario") == [CASES[2].id, CASES[3].id]
    assert ids("not (structural or scenario or auth)") == [CASES[2].id]
    assert ids("not not auth") == [CASES[3].id]
    assert ids("   ") == []  # as in pytest: a blank expression matches nothing


@pytest.mark.parametrize("expr", ["and or", "(auth", "auth)", "auth structural", "not", "auth or", "a = b", "()"])
def test_malformed_keywords_are_usage_errors(expr):
    with pytest.raises(UsageError, match="-k: invalid expression"):
        select_cases(CASES, expr)



def test_cases_that_may_leave_a_key_run_after_everything_else():
    """A key left in a store holds the store's cluster lineage for days: only what runs after it can suffer."""
    from conformance.cases.scenarios.kit import MAY_LEAVE_KEY

    key = mk("CreateKey/scenario/refused-while-disconnected", group="disconnected")
    key.tags = (MAY_LEAVE_KEY,)
    late = mk("UpdateCustomKeyStore/scenario/state-failed-name", group="state-failed", cycles=1)
    ordered = [c.id for c in order_cases([key, *CASES, late])]
    assert ordered[-1] == key.id  # although its group runs early
    assert ordered.index(late.id) < ordered.index(key.id)
    assert [c for c in ordered if c != key.id] == [c.id for c in order_cases([*CASES, late])]
