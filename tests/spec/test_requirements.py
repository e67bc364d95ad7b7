"""Integrity of the requirement catalogue (specs/requirements.yaml) and its sources."""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from conformance import EDITIONS
from conformance.cli import main
from conformance.spec import CUSTOM_KEY_STORE_OPERATIONS, edition_model, load_model
from conformance.spec.data import REQUIREMENTS_FILE, SOURCES_FILE, spec_file
from conformance.spec.requirements import (
    ID_RE,
    CatalogueError,
    by_id,
    copied_windows,
    counts,
    load_requirements,
    load_sources,
    requirement_ids,
    window_fingerprints,
)
from conformance.world import ALL_ROLES, XKS_ROLES

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("KMS_CONFORMANCE_SHARED", REPO_ROOT.parent / "shared"))
SEED = SHARED / "seed" / "UpdateCustomKeyStore-api-reference.txt"
SEED_FINGERPRINTS = Path(__file__).with_name("seed_update_windows.txt")
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"shared source material not present at {SHARED} (clean clone)"
)

REQS = load_requirements()
CONSTRAINT_KINDS = ("required", "length", "range", "pattern", "enum")


def _refs(r):
    return [r.source, *r.see_also]


# ----------------------------------------------------------------------------- ids and fields
def test_ids_unique_well_formed_and_grouped_by_prefix():
    ids = [r.id for r in REQS]
    assert len(ids) == len(set(ids))
    assert all(ID_RE.match(i) for i in ids)
    # within one prefix the file lists ids in increasing order (reviewers find them by number)
    last: dict[str, int] = {}
    for i in ids:
        prefix, num = i.split("-")
        assert int(num) > last.get(prefix, 0), f"{i} out of order"
        last[prefix] = int(num)


def test_levels_editions_store_types_and_states_are_valid():
    for r in REQS:
        assert r.level in ("MUST", "SHOULD"), r.id
        assert r.editions and set(r.editions) <= set(EDITIONS), r.id
        assert r.preconditions.store_type in ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE", "any", "none"), r.id
        assert r.title and len(r.title) < 160, r.id


def test_inferred_rules_are_should_unless_explicitly_held_as_must():
    # "[INFER]" marks our own inference; those are SHOULD except where the note says we hold it as MUST
    for r in REQS:
        held = "hold it as MUST" in (r.notes or "")
        if r.notes and r.notes.startswith("[INFER]") and r.level == "MUST" and not held:
            pytest.fail(f"{r.id} is an inference but MUST")


def test_fixtures_are_known_world_roles():
    for r in REQS:
        unknown = set(r.preconditions.fixtures) - set(ALL_ROLES) - set(XKS_ROLES)
        assert not unknown, f"{r.id}: unknown world roles {unknown}"


def test_every_requirement_states_an_outcome():
    for r in REQS:
        e = r.expected
        assert {"status", "error_code", "effect", "any_of", "header", "body"} & set(e), r.id
        if r.model_error:
            assert e.get("error_code") == r.model_error, r.id
        if e.get("error_code") and e.get("status") is not None:
            # AWS sends 400 for every client error and 500 for its internal fault (PROTO-005/006)
            want = 500 if e["error_code"] == "KMSInternalException" else (403, 400)
            assert e["status"] in (want if isinstance(want, tuple) else (want,)), r.id


def test_not_triggerable_only_with_a_reason_and_always_for_internal_errors():
    for r in REQS:
        if r.expected.get("error_code") == "KMSInternalException":
            assert r.not_triggerable and len(r.not_triggerable) > 20, r.id
        if r.not_triggerable is not None:
            assert r.not_triggerable.strip(), r.id
            assert r.expected.get("error_code") == "KMSInternalException", f"{r.id}: only internal faults are untriggerable"


def test_xks_store_requirements_are_current_edition_only_and_none_is_deferred():
    xks = [r for r in REQS if r.preconditions.store_type == "EXTERNAL_KEY_STORE"]
    assert xks, "the XKS-only errors need requirements"
    for r in xks:
        assert r.editions == ("current",), r.id
    assert not [r.id for r in REQS if r.deferred], "a catalogue entry waits for later work"


# ----------------------------------------------------------------------------- coverage of the model
@pytest.mark.parametrize("edition", EDITIONS)
def test_every_modelled_error_of_the_six_operations_has_a_requirement(edition):
    model = edition_model(edition)
    reqs = load_requirements(edition=edition)
    missing = []
    for op in CUSTOM_KEY_STORE_OPERATIONS:
        for err in model.operations[op].errors:
            if not any(r.operation == op and r.model_error == err for r in reqs):
                missing.append(f"{op}:{err}")
    assert not missing, f"no requirement for {missing}"


def test_every_modelled_error_of_the_current_botocore_model_has_a_requirement():
    model = load_model("botocore")  # the unmodified installed model, not an edition overlay
    for op in CUSTOM_KEY_STORE_OPERATIONS:
        for err in model.operations[op].errors:
            assert any(
                r.operation == op and r.model_error == err and r.applies_to("current") for r in REQS
            ), f"{op}:{err}"


def test_model_errors_exist_for_the_operation_in_each_edition():
    for r in REQS:
        if not r.model_error:
            continue
        for edition in r.editions:
            model = edition_model(edition)
            assert r.model_error in model.operations[r.operation].errors, f"{r.id} ({edition})"


def _member_shape(model, operation, path):
    shape = model.shape(model.operations[operation].input)
    member = None
    for part in path.split("."):
        member = shape.member(part)
        assert member is not None, f"{operation}.{path}"
        parent, shape = shape, model.shape(member.shape)
    return parent, member, shape


def _constraints(model, operation):
    """Every (member path, constraint kind) the edition's model states for the operation's input."""
    out = set()

    def walk(shape, prefix):
        for m in shape.members:
            path = prefix + m.name
            s = model.shape(m.shape)
            if m.required:
                out.add((path, "required"))
            if s.min_length is not None or s.max_length is not None:
                out.add((path, "length"))
            if s.min_value is not None or s.max_value is not None:
                out.add((path, "range"))
            if s.pattern:
                out.add((path, "pattern"))
            if s.enum:
                out.add((path, "enum"))
            if s.type == "structure":
                walk(s, path + ".")

    walk(model.shape(model.operations[operation].input), "")
    return out


def _validation_reqs(edition):
    for r in load_requirements(edition=edition):
        kind, member = r.expected.get("constraint"), r.expected.get("member")
        if kind and member:
            yield r, kind, member


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_member_constraint_has_exactly_one_requirement(edition):
    model = edition_model(edition)
    covered: dict[tuple, str] = {}
    for r, kind, member in _validation_reqs(edition):
        key = (r.operation, member, kind)
        assert key not in covered, f"{r.id} duplicates {covered[key]}"
        covered[key] = r.id
    wanted = {(op, m, k) for op in CUSTOM_KEY_STORE_OPERATIONS for (m, k) in _constraints(model, op)}
    assert not wanted - set(covered), f"constraints without a requirement: {sorted(wanted - set(covered))}"
    assert not set(covered) - wanted, f"requirements for constraints the model lacks: {sorted(set(covered) - wanted)}"


@pytest.mark.parametrize("edition", EDITIONS)
def test_validation_bounds_agree_with_the_edition_model(edition):
    model = edition_model(edition)
    checked = 0
    for r, kind, member in _validation_reqs(edition):
        bounds = r.bounds(edition)
        if kind not in ("length", "range"):
            continue
        assert bounds is not None, r.id
        _, _, shape = _member_shape(model, r.operation, member)
        lo, hi = (shape.min_length, shape.max_length) if kind == "length" else (shape.min_value, shape.max_value)
        assert (bounds["min"], bounds["max"]) == (lo, hi), f"{r.id} ({edition}): {bounds} vs model {lo}..{hi}"
        checked += 1
    assert checked >= 10


def test_keystorepassword_bounds_differ_by_edition():
    upd = by_id()["UPD-023"]
    assert upd.bounds("current") == {"min": 7, "max": 32}
    assert upd.bounds("2019-12") == {"min": 1, "max": None}


def test_update_state_rules_per_edition():
    seed_era = {r.id for r in load_requirements(edition="2019-12") if r.operation == "UpdateCustomKeyStore"}
    current = {r.id for r in load_requirements(edition="current") if r.operation == "UpdateCustomKeyStore"}
    name_while_connected = by_id()["UPD-013"]
    assert name_while_connected.expected["status"] == 200 and "CONNECTED" in name_while_connected.preconditions.connection_state
    assert "UPD-013" in current and "UPD-013" not in seed_era
    assert "UPD-010" in seed_era and "UPD-010" not in current
    assert {"UPD-011", "UPD-012"} <= seed_era & current


# ----------------------------------------------------------------------------- sources
def test_every_citation_resolves_through_sources_yaml():
    sources = load_sources()
    cited = set()
    for r in REQS:
        for ref in _refs(r):
            assert ref.document in sources, f"{r.id}: unknown document {ref.document}"
            assert ref.section in sources[ref.document]["sections"], f"{r.id}: {ref} not listed in sources.yaml"
            cited.add((ref.document, ref.section))
    listed = {(d, s) for d, e in sources.items() for s in e["sections"]}
    assert not listed - cited, f"sources.yaml lists sections nobody cites: {sorted(listed - cited)}"


def test_sources_have_public_urls_where_they_exist():
    for doc, entry in load_sources().items():
        url = entry["url"]
        assert url is None or re.match(r"^https://[\w.-]+\.(com|io|org)/", url), doc
        if doc.startswith(("devguide-", "seed-", "aws-")):
            assert url and url.startswith("https://docs.aws.amazon.com/"), doc


@functools.lru_cache(maxsize=1)
def _botocore_kms_raw() -> dict:
    import botocore.loaders

    return botocore.loaders.create_loader().load_service_model("kms", "service-2")


def _botocore_section_exists(section: str) -> bool:
    raw = _botocore_kms_raw()
    parts = [p.strip() for p in section.split(" / ")]
    if parts[0] == "metadata":
        return len(parts) == 2 and parts[1] in raw["metadata"]
    shape = raw["shapes"].get(parts[0])
    if shape is None:
        return len(parts) == 1 and parts[0] in raw["operations"]
    return all(p in shape.get("members", {}) for p in parts[1:])


def test_botocore_sections_exist_in_the_installed_model():
    sources = load_sources()
    for section in sources["botocore-kms"]["sections"]:
        assert _botocore_section_exists(section), section


@needs_shared
def test_cited_sections_appear_in_the_local_documents():
    for doc, entry in load_sources().items():
        local = entry.get("local")
        if not local or isinstance(local, dict):
            continue  # no local copy (public URL only) or botocore (checked above)
        text = (SHARED / local).read_text(encoding="utf-8")
        for section in entry["sections"]:
            pos = 0
            for part in section.split(" / "):
                found = text.find(part.strip(), pos)
                assert found >= 0, f"{doc}: '{part}' of '{section}' not found in {local}"
                pos = found


# ----------------------------------------------------------------------------- no copying
def _catalogue_text() -> str:
    return spec_file(REQUIREMENTS_FILE).read_text(encoding="utf-8") + spec_file(SOURCES_FILE).read_text(encoding="utf-8")


def _committed_fingerprints() -> set[str]:
    lines = SEED_FINGERPRINTS.read_text(encoding="utf-8").splitlines()
    return {ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")}


def test_no_twelve_word_run_of_the_seed_page_is_copied():
    hits = copied_windows(_catalogue_text(), _committed_fingerprints())
    assert not hits, f"copied from the seed page: {hits[:3]}"


def test_copy_check_catches_a_copied_run_and_ignores_paraphrase():
    original = "the quick brown fox jumps over the lazy dog while seven tired cats watch it from the old fence"
    fingerprints = window_fingerprints(original)
    copied = "Notes: The QUICK brown fox jumps over the lazy dog, while seven tired cats watch -- twice."
    hits = copied_windows(copied, fingerprints)
    assert hits[0] == "the quick brown fox jumps over the lazy dog while seven tired" and len(hits) == 3
    paraphrase = "a fast fox leaps across a sleepy dog as several weary cats look on from a fence"
    assert copied_windows(paraphrase, fingerprints) == []
    assert len(_committed_fingerprints()) > 1000  # the committed list really covers the seed page


@needs_shared
def test_copy_check_finds_any_sentence_of_the_seed_page():
    words = SEED.read_text(encoding="utf-8").split()
    for start in (200, 600, 1000):
        assert copied_windows(" ".join(words[start : start + 14]), _committed_fingerprints())


@needs_shared
def test_committed_fingerprints_match_the_seed_page():
    assert window_fingerprints(SEED.read_text(encoding="utf-8")) == _committed_fingerprints()


@needs_shared
def test_seed_errors_all_have_2019_12_requirements():
    text = SEED.read_text(encoding="utf-8")
    errors_section = text[text.index("\nErrors\n") :]
    seed_errors = set(re.findall(r"^([A-Z][A-Za-z]+Exception)$", errors_section, re.M))
    assert len(seed_errors) == 8
    reqs = load_requirements(edition="2019-12")
    for err in seed_errors:
        assert any(r.operation == "UpdateCustomKeyStore" and r.model_error == err for r in reqs), err


# ----------------------------------------------------------------------------- loader errors
def _write(tmp_path, entries) -> Path:
    path = tmp_path / "reqs.yaml"
    path.write_text(yaml.safe_dump({"requirements": entries}), encoding="utf-8")
    return path


GOOD = {
    "id": "UPD-999",
    "title": "t",
    "operation": "UpdateCustomKeyStore",
    "source": {"document": "seed-update", "section": "Errors"},
    "expected": {"status": 400, "error_code": "X"},
}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"levle": "MUST"}, "unknown field"),
        ({"level": "MAY"}, "level must be"),
        ({"id": "UPD-1"}, "id must look like"),
        ({"editions": ["2020"]}, "editions must be"),
        ({"operation": "CreateCustomKeyStore"}, "does not fit prefix"),
        ({"preconditions": {"store_type": "HSM"}}, "store_type"),
        ({"preconditions": {"connection_state": ["ON"]}}, "connection_state"),
        ({"source": {"document": "seed-update"}}, "source must be"),
        ({"expected": {"status": "400"}}, "HTTP status"),
        ({"title": ""}, "missing title"),
    ],
)
def test_loader_rejects_malformed_entries(tmp_path, change, message):
    with pytest.raises(CatalogueError, match=message):
        load_requirements(_write(tmp_path, [{**GOOD, **change}]))


def test_loader_rejects_duplicates_and_bad_yaml(tmp_path):
    with pytest.raises(CatalogueError, match="duplicate requirement id UPD-999"):
        load_requirements(_write(tmp_path, [GOOD, GOOD]))
    bad = tmp_path / "bad.yaml"
    bad.write_text("requirements: [\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not valid YAML"):
        load_requirements(bad)
    with pytest.raises(CatalogueError, match="catalogue file not found: .*missing.yaml"):
        load_requirements(tmp_path / "missing.yaml")
    with pytest.raises(CatalogueError, match="unknown edition"):
        load_requirements(edition="2030")


def test_loader_applies_documented_defaults(tmp_path):
    (r,) = load_requirements(_write(tmp_path, [GOOD]))
    assert r.level == "MUST" and r.editions == ("current", "2019-12")
    assert r.preconditions.store_type == "any" and r.preconditions.connection_state is None
    assert r.preconditions.fixtures == () and r.model_error is None


# ----------------------------------------------------------------------------- API and CLI
def test_counts_add_up_and_cover_every_operation():
    table = counts()
    assert sum(c["total"] for c in table.values()) == len(REQS)
    assert set(CUSTOM_KEY_STORE_OPERATIONS) <= set(table)
    assert all(c["MUST"] + c["SHOULD"] == c["total"] for c in table.values())
    assert counts(edition="2019-12")["UpdateCustomKeyStore"]["total"] < table["UpdateCustomKeyStore"]["total"]


def test_requirement_ids_per_edition():
    assert requirement_ids() == {r.id for r in REQS}
    assert requirement_ids("2019-12") == {r.id for r in REQS if "2019-12" in r.editions}
    assert "UPD-013" in requirement_ids("current") and "UPD-013" not in requirement_ids("2019-12")
    with pytest.raises(CatalogueError, match="unknown edition"):
        requirement_ids("2020-01")


def test_cli_json_filters_by_operation_and_edition(capsys):
    assert main(["spec", "requirements", "--operation", "UpdateCustomKeyStore", "--edition", "2019-12", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data and {d["operation"] for d in data} == {"UpdateCustomKeyStore"}
    assert all("2019-12" in d["editions"] for d in data)
    assert "UPD-010" in {d["id"] for d in data} and "UPD-013" not in {d["id"] for d in data}


def test_cli_yaml_round_trips(capsys):
    assert main(["spec", "requirements", "--format", "yaml", "--operation", "DeleteCustomKeyStore"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)["requirements"]
    assert [d["id"] for d in data] == [r.id for r in REQS if r.operation == "DeleteCustomKeyStore"]


def test_cli_table_lists_ids_and_counts(capsys):
    assert main(["spec", "requirements", "--operation", "ConnectCustomKeyStore"]) == 0
    out = capsys.readouterr().out
    assert "CON-001" in out and "CON-020" in out and "UPD-001" not in out
    assert "MUST" in out and "SHOULD" in out


def test_cli_without_filters_lists_the_whole_catalogue(capsys):
    assert main(["spec", "requirements", "--format", "json"]) == 0
    assert [d["id"] for d in json.loads(capsys.readouterr().out)] == [r.id for r in REQS]


def test_cli_rejects_unknown_operation_edition_and_format(capsys):
    assert main(["spec", "requirements", "--operation", "UpdateKeyStore"]) == 2
    assert "no requirements for operation 'UpdateKeyStore'" in capsys.readouterr().err
    for bad in (["--format", "xml"], ["--edition", "2020-01"], ["--operation", "X", "--cases", "UPD-013"]):
        with pytest.raises(SystemExit) as exit_:
            main(["spec", "requirements", *bad])
        assert exit_.value.code == 2


# ----------------------------------------------------------------------------- --cases
def test_cases_lists_the_case_ids_citing_a_requirement(capsys):
    from conformance.cases import collect_cases

    expected = {e: [c.id for c in collect_cases(e) if "UPD-013" in c.requirements] for e in EDITIONS}
    assert expected["current"] and not expected["2019-12"]  # UPD-013 is a current-edition requirement
    assert main(["spec", "requirements", "--cases", "UPD-013", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["requirement"] == "UPD-013"
    assert data["cases"] == [{"id": i, "editions": ["current"]} for i in expected["current"]]

    assert main(["spec", "requirements", "--cases", "UPD-013"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("UPD-013 (UpdateCustomKeyStore, MUST): ")
    assert all(f"  {i}  [current]" in out.splitlines() for i in expected["current"])


def test_cases_marks_the_editions_a_case_runs_in(capsys):
    assert main(["spec", "requirements", "--cases", "CRE-001", "--format", "yaml"]) == 0
    cases = yaml.safe_load(capsys.readouterr().out)["cases"]
    assert cases and any(c["editions"] == list(EDITIONS) for c in cases)
    assert main(["spec", "requirements", "--cases", "UPD-013", "--edition", "2019-12"]) == 0
    assert "0 case(s) cite it in edition 2019-12" in capsys.readouterr().out


def test_cases_refuses_an_unknown_requirement_id(capsys):
    assert main(["spec", "requirements", "--cases", "UPD-999"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kms-conformance: unknown requirement id 'UPD-999'") and err.count("\n") == 1
