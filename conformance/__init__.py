"""kms-conformance: contract conformance suite for the AWS KMS custom key store API.

Data flow: spec -> cases -> target -> observation -> verdict -> results -> reports.
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

EDITIONS = ("current", "2019-12")
