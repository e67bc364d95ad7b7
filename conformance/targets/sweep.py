"""Find the suite's stores on the target itself, by name, for when the cleanup ledger is gone.

Every store a run creates is named `<run prefix>-...` (`make_run_prefix`:
`kmsconf-YYYYMMDDTHHMMSS-xxxx`), so DescribeCustomKeyStores alone tells which
stores the suite left, even after the ledger folder was wiped or the run was
made on another machine. Only names of that exact shape are touched.
"""

from __future__ import annotations

import os
import re

from conformance.targets.base import Target
from conformance.targets.driving import RUN_PREFIX_ROOT, CleanupOutcome, StoreDriver, describe_observation, make_run_prefix

RUN_PREFIX_RE = re.compile(rf"^{re.escape(RUN_PREFIX_ROOT)}-\d{{8}}T\d{{6}}-[0-9a-f]{{4}}")
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
