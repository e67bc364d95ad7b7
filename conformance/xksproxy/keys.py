"""The external keys a proxy double serves: id -> what GetKeyMetadata says about it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExternalKey:
    key_spec: str = "AES_256"
    key_usage: tuple[str, ...] = ("ENCRYPT", "DECRYPT")
    key_status: str = "ENABLED"

    def metadata(self) -> dict:
        return {"keySpec": self.key_spec, "keyUsage": list(self.key_usage), "keyStatus": self.key_status}

    def can(self, usage: str) -> bool:
        return self.key_spec == "AES_256" and usage in self.key_usage


# The keys every proxy double serves unless its config says otherwise, by world.xks.keys role.
DEFAULT_KEYS: dict[str, tuple[str, ExternalKey]] = {
    "usable": ("xks-key-usable-1", ExternalKey()),
    "second_usable": ("xks-key-usable-2", ExternalKey()),
    "disabled": ("xks-key-disabled", ExternalKey(key_status="DISABLED")),
    "not_aes": ("xks-key-not-aes", ExternalKey(key_spec="RSA_2048")),
    "wrong_usage": ("xks-key-encrypt-only", ExternalKey(key_usage=("ENCRYPT",))),
}

# What each key-level mode makes of every key (None: no such key).
MODE_KEY = {
    "key-not-found": None,
    "key-disabled": ExternalKey(key_status="DISABLED"),
    "key-not-usable": ExternalKey(key_usage=("ENCRYPT",)),
}


def default_key_table() -> dict[str, ExternalKey]:
    return {key_id: key for key_id, key in DEFAULT_KEYS.values()}
