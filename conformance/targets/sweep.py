"""Find the suite's stores on the target itself, by name, for when the cleanup ledger is gone.

Every store a run creates is named `<run prefix>-...` (`make_run_prefix`:
`kmsconf-YYYYMMDDTHHMMSS-xxxx`), so DescribeCustomKeyStores alone tells which
stores the suite left, even after the ledger folder was wiped or the run was
made on another machine. Only names of that exact shape are touched.

Also the KMS keys a model-wide run made and did not get to schedule for deletion
(a crash, a kill): `cleanup_keys` schedules the deletion of every key the ledger
still holds for the target (7 days, the shortest window KMS allows).
"""

from __future__ import annotations

import os
import re

from conformance.redact import scrub
from conformance.targets.base import Target
from pathlib import Path

from conformance.targets.driving import RUN_PREFIX_ROOT, CleanupOutcome, StoreDriver, describe_observation, make_run_prefix
from conformance.targets.ledger import Ledger, ledger_files, outstanding_key_entries, same_target, target_fingerprint

RUN_PREFIX_RE = re.compile(rf"^{re.escape(RUN_PREFIX_ROOT)}-\d{{8}}T\d{{6}}-[0-9a-f]{{4}}")
KEY_PENDING_WINDOW_DAYS = 7  # the shortest deletion window KMS allows
PENDING_DELETION_STATES = ("PendingDeletion", "PendingReplicaDeletion")
PAGE_LIMIT = 1000  # DescribeCustomKeyStores' largest page
MAX_PAGES = 100  # a bound, so a target that always says Truncated cannot keep us here


class SweepError(Exception):
    """The target would not list its stores."""


def run_prefix_of(name: str) -> str | None:
    """The run prefix a store name carries, or None when the suite did not name it."""
    m = RUN_PREFIX_RE.match(name or "")
    return m.group(0) if m and (len(name) == m.end() or name[m.end()] == "-") else None


def suite_stores(target: Target, run_prefix: str | None = None) -> list[dict]:
    """Describe entries of the stores the suite named (one run's only, when `run_prefix` is given)."""
    found: list[dict] = []
    marker = None
    for _ in range(MAX_PAGES):
        params = {"Limit": PAGE_LIMIT, **({"Marker": marker} if marker else {})}
        obs = target.call("DescribeCustomKeyStores", params)
        if not obs.ok or not isinstance(obs.body, dict):
            raise SweepError(f"DescribeCustomKeyStores: {describe_observation(obs)}")
        for entry in obs.body.get("CustomKeyStores") or []:
            if not isinstance(entry, dict):
                continue
            prefix = run_prefix_of(str(entry.get("CustomKeyStoreName") or ""))
            if prefix and (run_prefix is None or prefix == run_prefix) and entry.get("CustomKeyStoreId"):
                found.append(entry)
        marker = obs.body.get("NextMarker")
        if not obs.body.get("Truncated") or not marker:
            break
    return found


def sweep_stores(target: Target, ledger_dir: str | os.PathLike, entries: list[dict]) -> CleanupOutcome:
    """Delete the given stores (disconnect, retire keys, delete), writing each to a ledger as it goes.

    A store that stays is written down as left, so the next `cleanup` finds it in the ledger.
    """
    driver = StoreDriver(target, ledger_dir, run_prefix=make_run_prefix())
    outcome = CleanupOutcome()
    for entry in entries:
        store_id, name = entry["CustomKeyStoreId"], entry.get("CustomKeyStoreName") or ""
        label = f"{name} ({store_id})"
        driver.ledger.created(name, store_id)  # written before it is touched, as for any store
        try:
            driver.delete_store(store_id)
            outcome.removed.append(label)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - one store's trouble must not stop the others
            outcome.left.append(f"{label}: {exc}")
    driver.ledger.discard_if_settled()
    return outcome


def schedule_key_deletion(target: Target, key_id: str) -> tuple[str, str]:
    """Schedule a key's deletion (7 days). Returns (what happened, a few words):
    "scheduled"; "dropped" when it is already pending deletion or gone (nothing left to do);
    "left" when the target refused for another reason (it stays in the ledger)."""
    obs = target.call("ScheduleKeyDeletion", {"KeyId": key_id, "PendingWindowInDays": KEY_PENDING_WINDOW_DAYS})
    if obs.ok:
        return "scheduled", f"scheduled for deletion in {KEY_PENDING_WINDOW_DAYS} days"
    if obs.error_code == "NotFoundException":
        return "dropped", "gone (NotFoundException)"
    if obs.error_code == "KMSInvalidStateException":  # pending deletion already, or some other state: ask
        already = key_already_settled(target, key_id)
        if already:
            return "dropped", already
    return "left", f"ScheduleKeyDeletion: {describe_observation(obs)}"


def key_already_settled(target: Target, key_id: str) -> str | None:
    """"already pending deletion" or "gone (NotFoundException)" by DescribeKey; None otherwise."""
    described = target.call("DescribeKey", {"KeyId": key_id})
    if described.error_code == "NotFoundException":
        return "gone (NotFoundException)"
    state = ((described.body or {}).get("KeyMetadata") or {}).get("KeyState") \
        if described.ok and isinstance(described.body, dict) else None
    return "already pending deletion" if state in PENDING_DELETION_STATES else None


def cleanup_keys(target: Target, ledger_dir: str | os.PathLike) -> CleanupOutcome:
    """Schedule the deletion of every KMS key this target's ledgers still hold (any run).

    `removed` lines say what was done to each key ("key ID: scheduled for deletion in 7 days",
    "key ID: already pending deletion"); `left` lines the keys that stay in the ledger and why.
    A ledger with nothing outstanding afterwards is deleted.
    """
    fp = target_fingerprint(target)
    outcome = CleanupOutcome()
    touched: dict[str, Ledger] = {}
    for entry in outstanding_key_entries(ledger_files(ledger_dir)):
        if not same_target(entry.target, fp):
            continue
        path = Path(entry.ledger_file)
        ledger = touched.setdefault(str(path), Ledger(path.parent, path.stem, entry.target))
        label = f"key {entry.key_id}" + (f" ({entry.resource})" if entry.resource else "")
        try:  # asked first: some targets (moto) would schedule a pending key again, moving its date
            already = key_already_settled(target, entry.key_id)
            what, words = ("dropped", already) if already else schedule_key_deletion(target, entry.key_id)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - one key's trouble must not stop the others
            what, words = "left", scrub(f"{type(exc).__name__}: {exc}")
        if what == "left":
            outcome.left.append(f"{label}: {words}")
            continue
        ledger.key_released(entry.key_id, note=words)
        outcome.removed.append(f"{label}: {words}")
    for ledger in touched.values():
        ledger.discard_if_settled()
    return outcome
