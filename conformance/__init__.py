"""kms-conformance: contract conformance suite for the AWS KMS custom key store API.

Data flow: spec -> cases -> target -> observation -> verdict -> results -> reports.
The constants below are defined here once; every stage imports them from here.
"""

__version__ = "0.1.0"

SERVICE_TARGET_PREFIX = "TrentService"

CUSTOM_KEY_STORE_OPERATIONS = (
    "CreateCustomKeyStore",
    "UpdateCustomKeyStore",
    "ConnectCustomKeyStore",
    "DisconnectCustomKeyStore",
    "DescribeCustomKeyStores",
    "DeleteCustomKeyStore",
)

# Model editions the suite knows: `current` (today's model) and `2019-12` (the seed page's).
EDITIONS = ("current", "2019-12")

# ConnectionStateType, and the states a store rests in (no transition under way).
CONNECTION_STATES = ("DISCONNECTED", "CONNECTING", "CONNECTED", "DISCONNECTING", "FAILED")
SETTLED_STATES = ("DISCONNECTED", "CONNECTED", "FAILED")
# Where a store in a transitional state goes by itself, with no request (no other state can follow).
SETTLES_TO = {"CONNECTING": ("CONNECTED", "FAILED"), "DISCONNECTING": ("DISCONNECTED",)}

# Error codes that mean "rejected by input validation or parsing", not by service logic.
VALIDATION_CODES = ("ValidationException", "SerializationException")
