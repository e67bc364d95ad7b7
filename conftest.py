"""Project-wide test settings: deterministic Hypothesis, no accidental AWS calls."""

import os
import tempfile

from hypothesis import HealthCheck, settings

# Never let a self-test reach real AWS: any boto3 client without an explicit
# endpoint gets dead credentials and a loopback proxy that refuses.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
# Cleanup ledgers of self-test runs go to a throwaway folder, never the user's ~/.local/state.
os.environ.setdefault("KMS_CONFORMANCE_STATE_DIR", tempfile.mkdtemp(prefix="kmsconf-selftest-state-"))

settings.register_profile(
    "selftest",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "selftest"))
