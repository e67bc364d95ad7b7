"""Seeded deviations: realistic emulator bugs the suite must catch.

Each fault changes only the reference target's behaviour (its code paths or
its private copy of the model), never what the suite expects. `breaks` lists
the requirement ids (specs/requirements.yaml) a run with the fault should
report as failing (or NON_STRICT, for message-only faults).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    breaks: list[str] = field(default_factory=list)
    layer: str = "backend"  # backend | model | http


_FAULTS = [
    # --- connection state rules
    Fault("update-skips-state-check", "UpdateCustomKeyStore never checks the connection state.",
          ["UPD-010", "UPD-011", "UPD-012", "UPD-014", "UPD-036"]),
    Fault("update-name-connected-rejected",
          "Current edition: a name-only update of a CONNECTED store is refused (the pre-2026 rule kept).",
          ["UPD-013"]),
    Fault("update-password-while-connected",
          "Current edition: password and cluster changes are accepted while CONNECTED (name rule applied to all).",
          ["UPD-011", "UPD-012", "UPD-015"]),
    Fault("connect-failed-allowed", "ConnectCustomKeyStore accepts a FAILED store instead of requiring a disconnect.",
          ["CON-004"]),
    Fault("disconnect-idempotent", "DisconnectCustomKeyStore on a DISCONNECTED/DISCONNECTING store answers 200.",
          ["DIS-002", "DIS-003"]),
    Fault("delete-connected-allowed", "DeleteCustomKeyStore deletes a store that is not DISCONNECTED.", ["DEL-002"]),
    Fault("createkey-disconnected-allowed",
          "CreateKey / GenerateRandom use a custom key store that is not CONNECTED.", ["KEY-001", "KEY-003"]),
    Fault("wrong-password-connects", "Connect never checks the stored kmsuser password (no INVALID_CREDENTIALS).",
          ["CON-002", "UPD-008"]),
    Fault("stale-connection-error-code",
          "ConnectionErrorCode is kept after the store left FAILED and shown in any state.", ["DES-010", "DIS-005"]),
    # --- uniqueness, quota, cluster checks
    Fault("create-name-not-unique", "CreateCustomKeyStore accepts a name another store already has.", ["CRE-032"]),
    Fault("update-name-not-unique", "UpdateCustomKeyStore renames a store to a name another store has.", ["UPD-031"]),
    Fault("limit-not-enforced", "An eleventh custom key store is created (no quota).", ["CRE-037"]),
    Fault("cluster-in-use-not-checked",
          "CreateCustomKeyStore accepts a cluster (or a related one) already used by a store.", ["CRE-030", "CRE-031"]),
    Fault("unrelated-cluster-accepted", "UpdateCustomKeyStore moves a store to an unrelated cluster.", ["UPD-033"]),
    Fault("inactive-cluster-accepted", "Create/Update accept a cluster that is not ACTIVE.", ["CRE-034", "UPD-034"]),
    Fault("invalid-config-cluster-accepted",
          "Create/Update accept a cluster without two active HSMs in different AZs.", ["CRE-036", "UPD-035"]),
    Fault("trust-anchor-not-checked", "CreateCustomKeyStore never compares the trust anchor with the cluster's.",
          ["CRE-035"]),
    Fault("delete-ignores-keys", "DeleteCustomKeyStore deletes a store that still holds KMS keys.", ["DEL-003"]),
    # --- effects
    Fault("update-not-atomic",
          "A refused UpdateCustomKeyStore (e.g. unrelated cluster) still applies the new name given with it.",
          ["UPD-006"]),
    Fault("update-not-applied", "UpdateCustomKeyStore answers 200 but changes nothing.",
          ["UPD-002", "UPD-003", "UPD-005"]),
    Fault("password-echoed", "DescribeCustomKeyStores entries include the stored KeyStorePassword.",
          ["UPD-007", "DES-011"]),
    # --- Describe
    Fault("describe-unknown-empty-list",
          "Describe with an unknown id or name answers an empty list instead of CustomKeyStoreNotFoundException.",
          ["DES-004", "DES-005"]),
    Fault("invalid-marker-ignored", "Describe with a Marker it never issued restarts from the first page.", ["DES-008"]),
    # --- validation (perturbs the emulator's private copy of the model, or the message)
    Fault("password-max-off-by-one", "KeyStorePassword accepts one character more than the model allows.",
          ["UPD-023", "CRE-026"], "model"),
    Fault("cluster-id-pattern-ignored", "CloudHsmClusterId pattern not enforced (only its length).",
          ["UPD-025", "CRE-024"], "model"),
    Fault("store-name-min-zero", "An empty custom key store name is accepted.", ["CRE-022", "UPD-022"], "model"),
    Fault("notfound-before-validation",
          "The store id is looked up before the input is validated (NotFound wins over ValidationException).",
          ["VAL-009"]),
    Fault("serialization-as-validation", "Members of the wrong JSON type get ValidationException.", ["PROTO-011"]),
    Fault("wrong-type-coerced",
          "Members of the wrong JSON type are coerced (\"5\" -> 5, 5 -> \"5\") or dropped and the request goes on.",
          ["PROTO-011", "PROTO-005"]),
    Fault("validation-message-pascalcase", "Validation messages name members in PascalCase ('KeyStorePassword').",
          ["VAL-001"]),
    Fault("password-in-validation-message", "Validation messages quote the (sensitive) KeyStorePassword value.",
          ["VAL-004"]),
    # --- wire protocol
    Fault("notfound-404", "Not-found errors use the Smithy 404 status instead of 400.", ["PROTO-005"], "http"),
    Fault("invalid-state-409", "CustomKeyStoreInvalidStateException is sent with status 409.",
          ["PROTO-005", "UPD-036"], "http"),
    Fault("wrong-error-code-invalid-state",
          "Custom key store state errors are KMSInvalidStateException instead of CustomKeyStoreInvalidStateException.",
          ["UPD-036", "CON-003", "CON-004", "DIS-002", "DIS-003", "DEL-002", "KEY-001", "KEY-003"]),
    Fault("unknown-operation-500", "An unknown X-Amz-Target gets a 500 instead of 400.",
          ["PROTO-012", "PROTO-013", "PROTO-014", "PROTO-005"], "http"),
    Fault("missing-request-id", "Responses have no x-amzn-RequestId header.", ["PROTO-009"], "http"),
    Fault("json-content-type", "Responses say Content-Type application/json.", ["PROTO-003"], "http"),
    # --- authentication
    Fault("signature-not-checked", "Requests are served without any SigV4 check.",
          ["AUTH-001", "AUTH-002", "AUTH-003", "AUTH-004", "AUTH-005"], "http"),
    Fault("expired-signature-accepted", "The X-Amz-Date age is never checked.", ["AUTH-005", "PROTO-005"], "http"),
]

FAULTS: dict[str, Fault] = {f.name: f for f in _FAULTS}
