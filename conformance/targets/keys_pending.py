"""Stores an earlier run left holding KMS keys pending deletion: known at the start of a run.

A key pending deletion keeps its store, and with it the store's cluster lineage, in use for the
7-30 day waiting period (the ledger's `keys-pending` line carries the date). A later run against
the same target would meet CloudHsmClusterInUseException in the set-up of every case on that
lineage (ERROR). Instead the run reads the ledger first and Describes each such store: one still
there holds its lineage, so those cases are NOT_TRIGGERABLE naming it (the driver's quarantine,
see `StoreDriver.require_lineage`); one gone is dropped from the ledger; and where the target can
end the waiting period (a control surface) or the date has passed, the run deletes the store.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from typing import Any

from conformance.redact import scrub
from conformance.targets.driving import QUARANTINE_RETRIES, Quarantined, StoreDriver, remove_entries
from conformance.targets.ledger import (
    Ledger,
    LedgerEntry,
    keys_pending_entries,
    ledger_files,
    outstanding_entries,
    same_target,
    until_text,
)
from conformance.targets.live import ENDPOINT_ENV_VARS

CLEANUP_AFTER = "`kms-conformance cleanup` deletes it after that date"


def _why(entry: LedgerEntry) -> str:
    return (f"its KMS keys are pending deletion until {until_text(entry.keys_until or 0.0)} "
            f"(left by run {entry.run_prefix or '?'}); {CLEANUP_AFTER}")


def _can_end_waiting(driver: StoreDriver) -> bool:
    """Whether the target ends key deletions' waiting period on demand (a clock, or a control surface)."""
    abilities = driver.target.abilities
    if abilities.clock is not None:
        return True
    if abilities.pending_deletions is None:
        return False
    try:
        abilities.pending_deletions.complete_pending_deletions()  # only what passing time would do
    except KeyboardInterrupt:
        raise
    except Exception:  # noqa: BLE001 - NotTriggerable (no control surface), or any trouble: it cannot
        return False
    return True


def hold_pending_stores(driver: StoreDriver) -> list[str]:
    """Settle the ledger's keys-pending stores of this target before any case runs; one note per store.

    Never raises (Ctrl-C aside): a store that cannot be checked is left to the cases, as before.
    """
    if getattr(driver.target.identity, "adapter", None) == "replay":
        return _held_as_recorded(driver)
    notes: list[str] = []
    before = set(driver.quarantine)
    entries = [e for e in keys_pending_entries(driver.ledger.dir, driver.ledger.target_fp)
               if e.run_prefix != driver.run_prefix]
    can_end: bool | None = None  # asked once, when a store is still there
    for entry in entries:
        store_id = entry.store_id or ""
        label = f"store {entry.name or '?'} ({store_id})"
        try:
            described = driver.describe(store_id, record=False)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - unknown: the cases meet it as they would have
            notes.append(scrub(f"{label} from an earlier run could not be checked: {exc}")[:300])
            continue
        if described is None:
            _drop(driver, store_id)
            continue
        cluster = described.get("CloudHsmClusterId")
        if can_end is None:
            can_end = _can_end_waiting(driver)
        if can_end or (entry.keys_until or 0.0) <= time.time():
            removed = remove_entries(driver, [entry]).removed
            driver.keys_until.pop(store_id, None)  # an earlier run's store: no case of this run puts keys in it
            if removed:
                _drop(driver, store_id)  # the same store written in other runs' ledgers too (a sweep)
                driver.take_steps()  # these calls belong to no case
                notes.append(f"{label} on cluster {cluster}, left by run {entry.run_prefix} holding a KMS key "
                             "pending deletion, was deleted at the start of this run")
                continue
        driver.take_steps()
        driver.quarantine[store_id] = Quarantined(store_id, entry.name or None, cluster, _why(entry),
                                                  retries=QUARANTINE_RETRIES)  # it cannot go before the date
        notes.append(f"{label} holds cluster {cluster} (and its lineage) until {until_text(entry.keys_until or 0.0)}: "
                     f"its KMS keys are pending deletion (left by run {entry.run_prefix}); cases that need that "
                     f"lineage are NOT_TRIGGERABLE; {CLEANUP_AFTER}")
    if hasattr(type(driver.target), "note_held"):  # a recording: its replay must hold the same stores
        held = [asdict(q) for sid, q in driver.quarantine.items() if sid not in before]
        driver.target.note_held(notes, held)
    return notes


def _held_as_recorded(driver: StoreDriver) -> list[str]:
    """A replay holds what its recording held at the start (never what this machine's ledger says)."""
    held = getattr(driver.target, "held_at_start", None) or {}
    for store in held.get("stores") or []:
        q = Quarantined(**{k: store.get(k) for k in ("store_id", "name", "cluster_id", "why")},
                        retries=int(store.get("retries", QUARANTINE_RETRIES)))
        driver.quarantine[q.store_id] = q
    return [str(n) for n in held.get("notes") or []]


def _drop(driver: StoreDriver, store_id: str) -> None:
    """The store is gone: every outstanding ledger line of it (any run's file) is settled."""
    for entry in outstanding_entries(ledger_files(driver.ledger.dir)):
        if entry.store_id == store_id and same_target(entry.target, driver.ledger.target_fp):
            ledger = Ledger(driver.ledger.dir, entry.run_prefix, entry.target)
            ledger.deleted(entry.name or None, store_id, note="gone (seen at the start of a later run)")
            ledger.discard_if_settled()


def config_fingerprint(config: Any) -> dict[str, Any]:
    """The ledger fingerprint a target opened from `config` would have (account unknown): for `plan`."""
    s = config.target
    endpoint = s.endpoint_url
    if s.adapter in ("reference", "moto"):
        endpoint = "in-process"
    elif s.adapter == "endpoint" and not endpoint:
        endpoint = next((os.environ[n].rstrip("/") for n in ENDPOINT_ENV_VARS if os.environ.get(n)), None)
    return {"adapter": s.adapter, "endpoint": endpoint, "region": s.region, "account": None}


def planned_holds(config: Any) -> list[str]:
    """Plan lines for stores the ledger says hold a lineage on this target (reads files only, no call)."""
    from conformance.targets.ledger import ledger_dir_for

    fp = config_fingerprint(config)
    return [f"store {e.name or '?'} ({e.store_id}) from run {e.run_prefix} holds KMS keys pending deletion until "
            f"{until_text(e.keys_until or 0.0)} (per the cleanup ledger): while it exists, the cases that need its "
            f"cluster lineage are NOT_TRIGGERABLE, unless the target can end the waiting period (the run then "
            f"deletes it); {CLEANUP_AFTER}"
            for e in keys_pending_entries(ledger_dir_for(fp), fp)]
