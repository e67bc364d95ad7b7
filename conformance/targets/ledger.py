"""The cleanup ledger: every store the suite creates is written down before it is used.

One append-only JSON-lines file per run (`<ledger_dir>/<run_prefix>.jsonl`),
where a run's ledger_dir is the per-user state folder of its target
(`ledger_dir_for`: the same path from any working directory, so `cleanup`
finds it wherever it is started),
flushed and fsynced per line, so a crash, a kill or Ctrl-C leaves a record
that `kms-conformance cleanup --config FILE` can act on. A name is written
*before* the create call (an "intent"), the id right after it returns, and a
"deleted" line once the store is gone. Entries carry the target's
fingerprint (adapter, endpoint, region, account) so cleanup never touches
another target's stores.

KMS keys a model-wide run makes (`cases/model_resources.py`) are written to the
same file as lines of their own kind (`"kind": "key"`, events `key-created` and
`key-released`): a key line is never read as a store and a store line never as
a key. A key is written right after CreateKey returns its id and released once
it is scheduled for deletion (or found already pending deletion or gone);
`cleanup` schedules the deletion of the keys still outstanding.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

DEFAULT_LEDGER_DIR = Path(".kms-conformance") / "ledger"  # where runs before the state folder kept it (cwd)
STATE_DIR_ENV = "KMS_CONFORMANCE_STATE_DIR"  # overrides the per-user state folder (tests, CI sandboxes)


def state_dir() -> Path:
    """The per-user state folder: $KMS_CONFORMANCE_STATE_DIR, else $XDG_STATE_HOME/kms-conformance,
    else ~/.local/state/kms-conformance (the XDG base directory default)."""
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return base / "kms-conformance"


def target_key(fp: dict[str, Any]) -> str:
    """A folder name for one target: readable (adapter, host, Region) plus a hash of the exact endpoint.

    The account is left out: it is only known once a live target answered, and
    `same_target` still tells accounts apart inside the folder.
    """
    endpoint = str(fp.get("endpoint") or "")
    host = re.sub(r"^[a-z]+://", "", endpoint)
    readable = "-".join(p for p in (fp.get("adapter"), host, fp.get("region")) if p)
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", readable)[:80] or "target"
    exact = json.dumps([fp.get("adapter"), endpoint, fp.get("region")])
    return f"{readable}-{hashlib.sha256(exact.encode()).hexdigest()[:10]}"


def ledger_dir_for(target_fp: dict[str, Any]) -> Path:
    """Where the ledgers of runs against this target live, whatever the working directory."""
    return state_dir() / "ledger" / target_key(target_fp)


@dataclass
class LedgerEntry:
    """What is outstanding for one store: its name, its id once known, where it lives."""

    name: str
    target: dict[str, Any]
    run_prefix: str
    store_id: str | None = None
    deleted: bool = False
    note: str = ""
    ledger_file: str = ""
    events: list[str] = field(default_factory=list)
    # When the store's KMS keys are deleted (epoch seconds): before that the target refuses to delete it.
    keys_until: float | None = None


KEY_KIND = "key"  # the `kind` of a key line (store lines have none, as before keys were recorded)
KEY_CREATED = "key-created"
KEY_RELEASED = "key-released"
KEY_EVENTS = (KEY_CREATED, KEY_RELEASED)


def is_key_record(rec: dict[str, Any]) -> bool:
    """A line about a KMS key (model-wide run), not about a store."""
    return rec.get("kind") == KEY_KIND or rec.get("event") in KEY_EVENTS


@dataclass
class KeyEntry:
    """A KMS key a run made and has not yet scheduled for deletion."""

    key_id: str
    target: dict[str, Any]
    run_prefix: str
    resource: str = ""  # what the run made it for ("key-symmetric", "CreateKey case", ...)
    released: bool = False
    note: str = ""
    ledger_file: str = ""


def target_fingerprint(target) -> dict[str, Any]:
    ident = getattr(target, "identity", None)
    caps = getattr(target, "capabilities", None)
    return {
        "adapter": getattr(ident, "adapter", None),
        "endpoint": getattr(ident, "endpoint", None),
        "region": getattr(ident, "region", None),
        "account": getattr(caps, "account_id", None),
    }


class Ledger:
    """Append-only record of the stores of one run."""

    def __init__(self, ledger_dir: str | os.PathLike, run_prefix: str, target_fp: dict[str, Any]):
        self.dir = Path(ledger_dir)
        self.run_prefix = run_prefix
        self.target_fp = target_fp
        self.path = self.dir / f"{run_prefix}.jsonl"
        self._lock = threading.Lock()

    def _append(self, event: str, **data: Any) -> None:
        record = {"event": event, "time": round(time.time(), 3), "run_prefix": self.run_prefix,
                  "target": self.target_fp, **data}
        line = json.dumps(record, sort_keys=True) + "\n"
        with self._lock:
            self.dir.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())

    def intent(self, name: str) -> None:
        self._append("intent", name=name)

    def created(self, name: str, store_id: str) -> None:
        self._append("created", name=name, store_id=store_id)

    def deleted(self, name: str | None, store_id: str | None, note: str = "") -> None:
        self._append("deleted", name=name, store_id=store_id, note=note)

    def left(self, name: str | None, store_id: str | None, note: str) -> None:
        """Cleanup could not remove it (kept outstanding; the reason helps the user)."""
        self._append("left", name=name, store_id=store_id, note=note)

    def keys_pending(self, name: str | None, store_id: str, key_ids: list[str], until: float) -> None:
        """The store holds KMS keys pending deletion until `until` (epoch seconds): it cannot go before."""
        self._append("keys-pending", name=name, store_id=store_id, key_ids=key_ids, until=round(until, 3))

    def key_created(self, key_id: str, resource: str = "") -> None:
        """A KMS key the run made (written as soon as CreateKey returned its id)."""
        self._append(KEY_CREATED, kind=KEY_KIND, key_id=key_id, resource=resource)

    def key_released(self, key_id: str, note: str = "") -> None:
        """The key is scheduled for deletion (or was found already pending deletion, or gone)."""
        self._append(KEY_RELEASED, kind=KEY_KIND, key_id=key_id, note=note)

    def outstanding(self) -> list[LedgerEntry]:
        return outstanding_entries([self.path])

    def outstanding_keys(self) -> list[KeyEntry]:
        return outstanding_key_entries([self.path])

    def discard_if_settled(self) -> bool:
        """Delete the ledger file when every store and key in it is gone (keeps the folder from growing)."""
        with self._lock:
            if self.path.exists() and not outstanding_entries([self.path]) \
                    and not outstanding_key_entries([self.path]):
                try:
                    self.path.unlink()
                except OSError:
                    return False
                try:
                    self.dir.rmdir()  # a target's folder with no ledger left goes too (only when empty)
                except OSError:
                    pass
                return True
        return False


def ledger_files(ledger_dir: str | os.PathLike) -> list[Path]:
    d = Path(ledger_dir)
    return sorted(d.glob("*.jsonl")) if d.is_dir() else []


def _records(path: Path) -> Iterable[dict[str, Any]]:
    """The ledger's lines as records (a torn last line after a crash, or an unreadable file, is skipped)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            yield rec


def outstanding_entries(paths: Iterable[Path]) -> list[LedgerEntry]:
    """Stores written down and not yet recorded as deleted, oldest first (key lines are not stores)."""
    entries: dict[tuple[str, str], LedgerEntry] = {}
    for path in paths:
        for rec in _records(path):
            if is_key_record(rec):
                continue
            name = rec.get("name")
            key = (str(path), name or rec.get("store_id") or "")
            entry = entries.get(key)
            if entry is None:
                entry = entries[key] = LedgerEntry(name=name or "", target=rec.get("target") or {},
                                                   run_prefix=rec.get("run_prefix", ""), ledger_file=str(path))
            entry.events.append(rec.get("event", ""))
            if rec.get("store_id"):
                entry.store_id = rec["store_id"]
            if rec.get("event") == "deleted":
                entry.deleted = True
            elif rec.get("event") in ("intent", "created"):
                entry.deleted = False
            if rec.get("note"):
                entry.note = rec["note"]
            if isinstance(rec.get("until"), (int, float)):
                entry.keys_until = max(entry.keys_until or 0.0, float(rec["until"]))
    return [e for e in entries.values() if not e.deleted]


def outstanding_key_entries(paths: Iterable[Path]) -> list[KeyEntry]:
    """KMS keys written down and not yet recorded as released, oldest first (store lines are not keys)."""
    entries: dict[tuple[str, str], KeyEntry] = {}
    for path in paths:
        for rec in _records(path):
            key_id = rec.get("key_id")
            if not is_key_record(rec) or not isinstance(key_id, str) or not key_id:
                continue
            entry = entries.get((str(path), key_id))
            if entry is None:
                entry = entries[(str(path), key_id)] = KeyEntry(
                    key_id=key_id, target=rec.get("target") or {}, run_prefix=rec.get("run_prefix", ""),
                    ledger_file=str(path))
            if rec.get("resource"):
                entry.resource = str(rec["resource"])
            if rec.get("event") == KEY_RELEASED:
                entry.released = True
            elif rec.get("event") == KEY_CREATED:
                entry.released = False
            if rec.get("note"):
                entry.note = str(rec["note"])
    return [e for e in entries.values() if not e.released]


def keys_pending_entries(ledger_dir: str | os.PathLike, target_fp: dict[str, Any]) -> list[LedgerEntry]:
    """Outstanding stores of this target, any run, that hold KMS keys pending deletion: one entry per
    store (a sweep may have written it again), with its latest date. Reads files only: no call."""
    by_store: dict[str, LedgerEntry] = {}
    for entry in outstanding_entries(ledger_files(ledger_dir)):
        if not (entry.store_id and entry.keys_until and same_target(entry.target, target_fp)):
            continue
        seen = by_store.get(entry.store_id)
        if seen is None or entry.keys_until > (seen.keys_until or 0.0):
            by_store[entry.store_id] = entry
    return sorted(by_store.values(), key=lambda e: e.keys_until or 0.0)


def until_text(epoch: float) -> str:
    """A ledger date as the user reads it (UTC, to the minute)."""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def same_target(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Ledger entries match a target when adapter, endpoint and region agree (and account, when both know it)."""
    for key in ("adapter", "endpoint", "region"):
        if (a.get(key) or None) != (b.get(key) or None):
            return False
    if a.get("account") and b.get("account") and a["account"] != b["account"]:
        return False
    return True
