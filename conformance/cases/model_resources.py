"""The real resources a model-wide case's valid values name: a key of a given spec and usage, a
ciphertext made by Encrypt. Made through the target the first time a case needs one, shared by
every case of the run, and removed when the run ends (`release`, called by the runner's cleanup).
Every key made (shared, or by a valid CreateKey case) is written to the run's cleanup ledger as
soon as its id is known and marked released once it is scheduled for deletion, so a crashed or
killed run leaves a record `kms-conformance cleanup` acts on (targets/sweep.py `cleanup_keys`).

Why lazily: a run of three operations must not pay for keys it never uses, and a target that
lacks CreateKey then fails only the cases that need a key (UNIMPLEMENTED / ERROR naming the setup
call), not the run.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from conformance.errors import SetupFailed, Unimplemented

KEY_SYMMETRIC = "key-symmetric"
KEY_SIGN = "key-rsa-sign"
KEY_HMAC = "key-hmac"
CIPHERTEXT = "ciphertext"

# CreateKey parameters per key resource (spec and usage the operations using it need).
KEY_SPECS: dict[str, dict[str, str]] = {
    KEY_SYMMETRIC: {"KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"},
    KEY_SIGN: {"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"},
    KEY_HMAC: {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"},
}
PLAINTEXT = b"kms-conformance model-wide plaintext"
PENDING_WINDOW_DAYS = 7  # the shortest deletion window KMS allows


@dataclass
class Resources:
    """One run's resources on one target (ids by resource name; failures kept so they are not retried)."""

    target: Any
    description: str = "kms-conformance model-wide run"
    values: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, Exception] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)  # every key made, for release()
    ledger: Any = None  # the run's cleanup ledger (targets/ledger.py), None when the run has no driver
    unrecorded: list[str] = field(default_factory=list)  # keys the ledger could not take (not writable)

    def track(self, key_id: str, resource: str) -> None:
        """A key made on the target: released at the end, and in the ledger until then."""
        self.keys.append(key_id)
        if self.ledger is not None:
            try:
                self.ledger.key_created(key_id, resource)
            except OSError as exc:  # the run goes on; release() still schedules it, and says so
                self.unrecorded.append(f"{key_id} ({type(exc).__name__}: {exc})")

    def get(self, name: str) -> Any:
        if name in self.failures:
            raise self.failures[name]
        if name not in self.values:
            try:
                self.values[name] = self._make(name)
            except (SetupFailed, Unimplemented) as exc:
                self.failures[name] = exc
                raise
        return self.values[name]

    def _make(self, name: str) -> Any:
        if name in KEY_SPECS:
            params = {**KEY_SPECS[name], "Description": f"{self.description} ({name})"}
            obs = self._call("CreateKey", params, name)
            key_id = ((obs.body or {}).get("KeyMetadata") or {}).get("KeyId")
            if not key_id:
                raise SetupFailed(f"setup of {name}: CreateKey answered 200 without KeyMetadata.KeyId")
            self.track(key_id, name)
            return key_id
        if name == CIPHERTEXT:
            key_id = self.get(KEY_SYMMETRIC)
            obs = self._call("Encrypt", {"KeyId": key_id, "Plaintext": PLAINTEXT}, name)
            blob = (obs.body or {}).get("CiphertextBlob")
            if isinstance(blob, (bytes, bytearray)):
                blob = base64.b64encode(blob).decode("ascii")
            if not blob:
                raise SetupFailed(f"setup of {name}: Encrypt answered 200 without CiphertextBlob")
            return blob  # base64 text, as the wire carries it
        raise KeyError(name)

    def _call(self, operation: str, params: dict, name: str):
        obs = self.target.call(operation, params)
        if obs.unimplemented:
            raise Unimplemented(operation, f"needed to set up {name}")
        if not obs.ok:
            raise SetupFailed(f"setup of {name}: {operation} answered {obs.status} {obs.error_code or ''} "
                              f"{(obs.message or '')[:160]}".rstrip())
        return obs

    def release(self) -> list[str]:
        """Schedule every key made for deletion (the shortest window); lines saying what is left.

        A key scheduled, or found already pending deletion or gone, is marked released in the
        ledger; one the target refused stays there for `kms-conformance cleanup`."""
        from conformance.targets.sweep import schedule_key_deletion

        scheduled, dropped, failed = [], [], []
        for key_id in dict.fromkeys(self.keys):
            what, words = schedule_key_deletion(self.target, key_id)
            if what == "left":
                failed.append(f"{key_id} ({words})")
                continue
            (scheduled if what == "scheduled" else dropped).append(key_id)
            if self.ledger is not None:
                try:
                    self.ledger.key_released(key_id, note=words)
                except OSError:
                    pass  # the key is scheduled; a stale ledger line only makes `cleanup` find it pending
        self.keys.clear()
        self.values.clear()
        notes = []
        if self.unrecorded:
            notes.append("model-wide run: cleanup ledger not writable for " + "; ".join(self.unrecorded)[:300])
            self.unrecorded.clear()
        if scheduled:
            notes.append(f"model-wide run: {len(scheduled)} key(s) it made are scheduled for deletion in "
                         f"{PENDING_WINDOW_DAYS} days")
        if dropped:
            notes.append(f"model-wide run: {len(dropped)} key(s) it made were already pending deletion or gone")
        if failed:
            notes.append(f"model-wide run: {len(failed)} key(s) could not be scheduled for deletion (kept in the "
                         "cleanup ledger for `kms-conformance cleanup`): " + "; ".join(failed)[:300])
        return notes


_BY_TARGET: dict[int, Resources] = {}


def resources_for(ctx: Any) -> Resources:
    """The run's shared resources on `ctx.target` (made on first use)."""
    found = _BY_TARGET.get(id(ctx.target))
    if found is None or found.target is not ctx.target:
        prefix = getattr(ctx.options, "run_prefix", "") or "kms-conformance"
        ledger = getattr(getattr(ctx, "driver", None), "ledger", None)
        found = _BY_TARGET[id(ctx.target)] = Resources(ctx.target, description=f"{prefix} model-wide run",
                                                       ledger=ledger)
    return found


def track_key(ctx: Any, key_id: str) -> None:
    """A key a case made (a valid CreateKey): in the ledger, and released with the shared ones."""
    resources_for(ctx).track(key_id, "CreateKey case")


def release(target: Any) -> list[str]:
    """Remove what the run made on `target` (nothing when it made nothing)."""
    found = _BY_TARGET.pop(id(target), None)
    if found is None or found.target is not target:
        return []
    try:
        return found.release()
    except Exception as exc:  # noqa: BLE001 - cleanup reports, never raises
        return [f"model-wide resources not released: {type(exc).__name__}: {exc}"[:300]]
