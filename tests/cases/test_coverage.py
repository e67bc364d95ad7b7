"""Every requirement in the catalogue is checked by at least one case; cases cite only real ids."""

from conformance.cases import collect_cases
from conformance.spec.requirements import load_requirements


def all_cases():
    out = []
    for edition in ("current", "2019-12"):
        out += [(edition, c) for c in collect_cases(edition)]
    return out


def test_every_requirement_is_cited_and_every_citation_exists():
    requirements = {r.id for r in load_requirements()}
    cases = all_cases()
    cited = set()
    unknown = []
    for edition, case in cases:
        assert case.requirements, f"{case.id} ({edition}) cites no requirement"
        cited.update(case.requirements)
        unknown += [(case.id, r) for r in case.requirements if r not in requirements]
    assert not unknown, f"cases cite ids the catalogue lacks: {unknown[:10]}"
    uncited = sorted(requirements - cited)
    assert not uncited, f"requirements no case checks: {uncited}"


def test_case_ids_are_unique_and_well_formed_per_edition():
    for edition in ("current", "2019-12"):
        ids = [c.id for c in collect_cases(edition)]
        assert len(ids) == len(set(ids))
        for cid in ids:
            op, kind, rest = cid.split("/", 2)
            assert op and kind and rest, cid
