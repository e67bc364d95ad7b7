"""The requirement catalogue (specs/requirements.yaml, shipped as spec data): load, check, query.

Each requirement is one obligation of the contract with a stable id that cases
cite and reports link to. The YAML is the reviewable source of truth; this module
only reads it, fills the documented defaults and refuses a malformed catalogue
with one clear message (a typo in a field name must not silently drop a rule).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from conformance import CONNECTION_STATES, EDITIONS
from conformance.errors import UsageError
from conformance.spec.data import REQUIREMENTS_FILE, SOURCES_FILE, spec_file
from conformance.yamlfile import read_yaml

LEVELS = ("MUST", "SHOULD")
STORE_TYPES = ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE", "any", "none")
PREFIXES = {
    "PROTO": "wire protocol (AWS JSON 1.1)",
    "AUTH": "SigV4 authentication",
    "VAL": "generic input validation",
    "CRE": "CreateCustomKeyStore",
    "UPD": "UpdateCustomKeyStore",
    "CON": "ConnectCustomKeyStore",
    "DIS": "DisconnectCustomKeyStore",
    "DES": "DescribeCustomKeyStores",
    "DEL": "DeleteCustomKeyStore",
    "KEY": "CreateKey / GenerateRandom / ScheduleKeyDeletion",
}
# Operation a prefix's requirements must name ("*" = protocol-wide, several allowed for KEY).
PREFIX_OPERATIONS = {
    "CRE": ("CreateCustomKeyStore",),
    "UPD": ("UpdateCustomKeyStore",),
    "CON": ("ConnectCustomKeyStore",),
    "DIS": ("DisconnectCustomKeyStore",),
    "DES": ("DescribeCustomKeyStores",),
    "DEL": ("DeleteCustomKeyStore",),
    "KEY": ("CreateKey", "GenerateRandom", "ScheduleKeyDeletion"),
}
ID_RE = re.compile(r"^(%s)-\d{3}$" % "|".join(PREFIXES))

_REQUIRED_FIELDS = ("id", "title", "operation", "source", "expected")
_OPTIONAL_FIELDS = (
    "level", "editions", "preconditions", "model_error", "not_triggerable", "notes", "see_also", "deferred",
)
_PRECONDITION_FIELDS = ("store_type", "connection_state", "fixtures")


class CatalogueError(UsageError):
    """The catalogue or the sources file is malformed; the message names the entry and field."""


@dataclass(frozen=True)
class SourceRef:
    document: str  # short id from specs/sources.yaml
    section: str  # "A" or "A / B" (B inside A)

    def __str__(self) -> str:
        return f"{self.document} § {self.section}"


@dataclass(frozen=True)
class Preconditions:
    store_type: str = "any"
    connection_state: tuple[str, ...] | None = None  # None: state does not matter
    fixtures: tuple[str, ...] = ()  # world roles (conformance.targets.base.ALL_ROLES)


@dataclass(frozen=True, eq=True)
class Requirement:
    id: str
    title: str
    operation: str  # operation name, or "*" for protocol-wide
    level: str
    editions: tuple[str, ...]
    source: SourceRef
    preconditions: Preconditions
    expected: dict[str, Any] = field(hash=False, compare=True)
    model_error: str | None = None
    not_triggerable: str | None = None
    notes: str | None = None
    see_also: tuple[SourceRef, ...] = ()
    deferred: str | None = None  # belongs to a later issue (e.g. XKS stores)
    generated: str | None = None  # "model": made from the model at load time (spec/model_wide.py), not the YAML

    @property
    def prefix(self) -> str:
        return self.id.split("-", 1)[0]

    def applies_to(self, edition: str) -> bool:
        return edition in self.editions

    def bounds(self, edition: str = "current") -> dict[str, Any] | None:
        """The {min, max} a validation requirement checks in `edition` (None if it has none)."""
        by_edition = self.expected.get("bounds_by_edition")
        if by_edition:
            return by_edition.get(edition)
        return self.expected.get("bounds")

    def to_dict(self) -> dict[str, Any]:
        """Plain data, in the YAML's field names (for JSON/YAML output and reports)."""
        data = asdict(self)
        data["editions"] = list(self.editions)
        data["see_also"] = [asdict(s) for s in self.see_also]
        pre = data["preconditions"]
        pre["fixtures"] = list(self.preconditions.fixtures)
        if self.preconditions.connection_state is not None:
            pre["connection_state"] = list(self.preconditions.connection_state)
        return {k: v for k, v in data.items() if v not in (None, (), [])}


# ------------------------------------------------------------------------------------- loading
def load_requirements(path: str | Path | None = None, edition: str | None = None) -> list[Requirement]:
    """The catalogue in file order; only the requirements of `edition` when it is given."""
    if edition is not None and edition not in EDITIONS:
        raise CatalogueError(f"unknown edition {edition!r} (known: {', '.join(EDITIONS)})")
    catalogue = _load_cached(str(Path(path).resolve() if path else spec_file(REQUIREMENTS_FILE)))
    if edition is None:
        return list(catalogue)
    return [r for r in catalogue if r.applies_to(edition)]


@functools.lru_cache(maxsize=len(EDITIONS) + 1)
def requirement_ids(edition: str | None = None) -> frozenset[str]:
    """Ids of the shipped catalogue (of `edition` when given): what a case may cite. Cached."""
    return frozenset(r.id for r in load_requirements(edition=edition))


def by_id(requirements: Iterable[Requirement] | None = None) -> dict[str, Requirement]:
    """Requirements keyed by id (the default catalogue when none are given)."""
    return {r.id: r for r in (load_requirements() if requirements is None else requirements)}


def counts(requirements: Iterable[Requirement] | None = None, edition: str | None = None) -> dict[str, dict[str, int]]:
    """{operation: {"MUST": n, "SHOULD": m, "total": n+m}}, in catalogue order of first appearance."""
    reqs = load_requirements(edition=edition) if requirements is None else list(requirements)
    table: dict[str, Counter] = {}
    for r in reqs:
        table.setdefault(r.operation, Counter())[r.level] += 1
    return {op: {"MUST": c["MUST"], "SHOULD": c["SHOULD"], "total": c["MUST"] + c["SHOULD"]} for op, c in table.items()}


def load_sources(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """specs/sources.yaml: {document id: {title, url, local?, sections: [...]}}."""
    file = Path(path) if path else spec_file(SOURCES_FILE)
    data = _read_yaml(file)
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, dict):
        raise CatalogueError(f"{file}: expected a top-level 'sources:' mapping")
    for doc, entry in sources.items():
        if not isinstance(entry, dict) or not entry.get("title") or not isinstance(entry.get("sections"), list):
            raise CatalogueError(f"{file}: source {doc!r} needs a title and a list of sections")
        if "url" not in entry:
            raise CatalogueError(f"{file}: source {doc!r} needs a url (null when none is public)")
        entry["sections"] = [str(s) for s in entry["sections"]]  # a bare date must not turn into a date
    return sources


@functools.lru_cache(maxsize=8)
def _load_cached(path: str) -> tuple[Requirement, ...]:
    file = Path(path)
    data = _read_yaml(file)
    entries = data.get("requirements") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise CatalogueError(f"{file}: expected a non-empty top-level 'requirements:' list")
    reqs = tuple(_parse_entry(file, i, e) for i, e in enumerate(entries))
    seen: set[str] = set()
    for r in reqs:
        if r.id in seen:
            raise CatalogueError(f"{file}: duplicate requirement id {r.id}")
        seen.add(r.id)
    return reqs


def _read_yaml(file: Path) -> Any:
    return read_yaml(file, "catalogue file", CatalogueError)


def _parse_entry(file: Path, index: int, entry: Any) -> Requirement:
    where = f"{file}: requirement #{index + 1}"
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: expected a mapping")
    rid = entry.get("id")
    if rid:
        where = f"{file}: {rid}"
    unknown = set(entry) - set(_REQUIRED_FIELDS) - set(_OPTIONAL_FIELDS)
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for name in _REQUIRED_FIELDS:
        if entry.get(name) in (None, "", {}):
            raise CatalogueError(f"{where}: missing {name}")
    if not isinstance(rid, str) or not ID_RE.match(rid):
        raise CatalogueError(f"{where}: id must look like PREFIX-NNN with PREFIX in {', '.join(PREFIXES)}")
    prefix = rid.split("-", 1)[0]
    operation = entry["operation"]
    allowed_ops = PREFIX_OPERATIONS.get(prefix)
    if allowed_ops and operation not in allowed_ops:
        raise CatalogueError(f"{where}: operation {operation!r} does not fit prefix {prefix}")
    level = entry.get("level", "MUST")
    if level not in LEVELS:
        raise CatalogueError(f"{where}: level must be MUST or SHOULD, not {level!r}")
    editions = tuple(str(e) for e in entry.get("editions", EDITIONS))
    if not editions or any(e not in EDITIONS for e in editions):
        raise CatalogueError(f"{where}: editions must be a non-empty subset of {list(EDITIONS)}")
    expected = entry["expected"]
    if not isinstance(expected, dict):
        raise CatalogueError(f"{where}: expected must be a mapping")
    status = expected.get("status")
    if status is not None and not (isinstance(status, int) and 100 <= status <= 599):
        raise CatalogueError(f"{where}: expected.status must be an HTTP status code")
    return Requirement(
        id=rid,
        title=str(entry["title"]),
        operation=str(operation),
        level=level,
        editions=editions,
        source=_parse_source(where, "source", entry["source"]),
        preconditions=_parse_preconditions(where, entry.get("preconditions") or {}),
        expected=expected,
        model_error=entry.get("model_error"),
        not_triggerable=entry.get("not_triggerable"),
        notes=_clean_text(entry.get("notes")),
        see_also=tuple(_parse_source(where, "see_also", s) for s in entry.get("see_also") or ()),
        deferred=entry.get("deferred"),
    )


def _parse_source(where: str, name: str, value: Any) -> SourceRef:
    if not isinstance(value, dict) or set(value) != {"document", "section"}:
        raise CatalogueError(f"{where}: {name} must be {{document, section}}")
    return SourceRef(str(value["document"]), str(value["section"]))


def _parse_preconditions(where: str, value: Any) -> Preconditions:
    if not isinstance(value, dict):
        raise CatalogueError(f"{where}: preconditions must be a mapping")
    unknown = set(value) - set(_PRECONDITION_FIELDS)
    if unknown:
        raise CatalogueError(f"{where}: unknown precondition(s) {', '.join(sorted(unknown))}")
    store_type = value.get("store_type", "any")
    if store_type not in STORE_TYPES:
        raise CatalogueError(f"{where}: store_type must be one of {', '.join(STORE_TYPES)}")
    states = value.get("connection_state")
    if states is not None:
        if not isinstance(states, list) or not states or any(s not in CONNECTION_STATES for s in states):
            raise CatalogueError(f"{where}: connection_state must be null or a list of {', '.join(CONNECTION_STATES)}")
        states = tuple(states)
    fixtures = value.get("fixtures") or []
    if not isinstance(fixtures, list):
        raise CatalogueError(f"{where}: fixtures must be a list of world roles")
    return Preconditions(store_type=store_type, connection_state=states, fixtures=tuple(fixtures))


def _clean_text(value: Any) -> str | None:
    return " ".join(str(value).split()) if value else None


# ------------------------------------------------------------------------------------- combinations
COMBINATION_RULES = ("at-most-one", "all-or-none")
ANSWERS = ("documented", "inferred")
_COMBINATION_FIELDS = ("id", "operation", "members", "rule", "source", "answer", "requirement", "editions", "notes")


@dataclass(frozen=True)
class Combination:
    """A documented rule between members of one request that the model cannot state.

    `at-most-one`: no two of `members` together (DescribeCustomKeyStores: an id or a name, not
    both); `all-or-none`: every member or none. `answer` says whether the docs say what a request
    breaking the rule gets ("documented") or the case's expectation is ours ("inferred").
    """

    id: str
    operation: str
    members: tuple[str, ...]  # member paths ("A.B" inside structure A)
    rule: str
    source: SourceRef
    answer: str
    requirement: str  # the catalogue id the combination's case cites
    editions: tuple[str, ...] = EDITIONS
    notes: str | None = None

    @property
    def case_id(self) -> str:
        return f"{self.operation}/combination/{self.id}"

    def broken_by(self, params: dict[str, Any]) -> bool:
        """Whether `params` breaks the rule."""
        given = [m for m in self.members if _path_given(params, m)]
        if self.rule == "at-most-one":
            return len(given) > 1
        return 0 < len(given) < len(self.members)

    def respected(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` made to keep the rule by leaving members out (a copy; deterministic): the first
        given member stays (at-most-one); the partly given members go (all-or-none)."""
        if not isinstance(params, dict) or not self.broken_by(params):
            return params
        given = [m for m in self.members if _path_given(params, m)]
        drop = given[1:] if self.rule == "at-most-one" else given
        out = copy.deepcopy(params)
        for path in drop:
            *parents, last = path.split(".")
            cur = out
            for p in parents:
                cur = cur[p]
            cur.pop(last, None)
        return out


def _path_given(params: Any, path: str) -> bool:
    cur = params
    for part in path.split("."):
        if not isinstance(cur, dict) or cur.get(part) is None:
            return False
        cur = cur[part]
    return True


def load_combinations(path: str | Path | None = None, edition: str | None = None,
                      operation: str | None = None) -> list[Combination]:
    """The catalogue's combination rules (of `edition` / `operation` when given), in file order."""
    found = _load_combinations_cached(str(Path(path).resolve() if path else spec_file(REQUIREMENTS_FILE)))
    return [c for c in found if (edition is None or edition in c.editions)
            and (operation is None or c.operation == operation)]


def respect_combinations(operation: str, params: Any, edition: str | None = None) -> Any:
    """`params` made to keep every combination rule of `operation` (what a valid-input generator sends)."""
    for combination in load_combinations(edition=edition, operation=operation):
        params = combination.respected(params)
    return params


@functools.lru_cache(maxsize=8)
def _load_combinations_cached(path: str) -> tuple[Combination, ...]:
    file = Path(path)
    data = _read_yaml(file)
    entries = (data.get("combinations") if isinstance(data, dict) else None) or []
    if not isinstance(entries, list):
        raise CatalogueError(f"{file}: 'combinations:' must be a list")
    ids = {r.id: r for r in _load_cached(path)}
    out: list[Combination] = []
    for i, entry in enumerate(entries):
        where = f"{file}: combination #{i + 1}"
        if not isinstance(entry, dict):
            raise CatalogueError(f"{where}: expected a mapping")
        if entry.get("id"):
            where = f"{file}: combination {entry['id']}"
        unknown = set(entry) - set(_COMBINATION_FIELDS)
        if unknown:
            raise CatalogueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        missing = [f for f in _COMBINATION_FIELDS[:7] if entry.get(f) in (None, "", [], {})]
        if missing:
            raise CatalogueError(f"{where}: missing {', '.join(missing)}")
        members = entry["members"]
        if not isinstance(members, list) or len(members) < 2 or len(set(members)) != len(members):
            raise CatalogueError(f"{where}: members must list at least two different member paths")
        if entry["rule"] not in COMBINATION_RULES:
            raise CatalogueError(f"{where}: rule must be one of {', '.join(COMBINATION_RULES)}")
        if entry["answer"] not in ANSWERS:
            raise CatalogueError(f"{where}: answer must be one of {', '.join(ANSWERS)}")
        req = ids.get(entry["requirement"])
        if req is None:
            raise CatalogueError(f"{where}: requirement {entry['requirement']} is not in the catalogue")
        if req.operation != entry["operation"]:
            raise CatalogueError(f"{where}: requirement {req.id} is about {req.operation}, not {entry['operation']}")
        if entry["answer"] == "inferred" and req.level != "SHOULD":
            raise CatalogueError(f"{where}: an inferred answer is a SHOULD, but {req.id} is {req.level}")
        editions = tuple(str(e) for e in entry.get("editions") or req.editions)
        if any(e not in EDITIONS for e in editions):
            raise CatalogueError(f"{where}: editions must be a subset of {list(EDITIONS)}")
        out.append(Combination(id=str(entry["id"]), operation=str(entry["operation"]),
                               members=tuple(str(m) for m in members), rule=entry["rule"],
                               source=_parse_source(where, "source", entry["source"]), answer=entry["answer"],
                               requirement=req.id, editions=editions, notes=_clean_text(entry.get("notes"))))
    seen = Counter(c.case_id for c in out)
    dupes = [k for k, n in seen.items() if n > 1]
    if dupes:
        raise CatalogueError(f"{file}: duplicate combination {', '.join(dupes)}")
    return tuple(out)


# ------------------------------------------------------------------------------------- copy check
COPY_WINDOW = 12  # words: a shared run this long means a sentence was copied, not paraphrased


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _fingerprint(window: str) -> str:
    return hashlib.blake2b(window.encode(), digest_size=8).hexdigest()


def window_fingerprints(text: str, n: int = COPY_WINDOW) -> set[str]:
    """Hashes of every run of `n` consecutive words (case and punctuation ignored).

    Committing these for a document lets a clean clone check for copied sentences
    without holding the document's text.
    """
    words = _words(text)
    return {_fingerprint(" ".join(words[i : i + n])) for i in range(len(words) - n + 1)}


def copied_windows(text: str, fingerprints: set[str], n: int = COPY_WINDOW) -> list[str]:
    """The `n`-word runs of `text` whose fingerprint is in `fingerprints` (empty: nothing copied)."""
    words = _words(text)
    windows = (" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return [w for w in windows if _fingerprint(w) in fingerprints]
