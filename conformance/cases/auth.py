"""Authentication cases: SigV4 missing, malformed, wrong secret, unknown key, expired.

Each is sent to DescribeCustomKeyStores (read-only) and to UpdateCustomKeyStore
with an unknown store id: authentication must be decided before anything about
the request, so the store's absence must not show through.
"""

from __future__ import annotations

import json

from conformance import SERVICE_TARGET_PREFIX
from conformance.cases.base import Case, CollectContext
from conformance.cases.common import UNKNOWN_STORE_ID, Citations, error, single_request_case
from conformance.cases.requests import wire_request

KIND = "auth"

# Real KMS text for a wrong secret (facts §1.2, a recorded KMS response).
INVALID_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
UNRECOGNIZED_CLIENT_MESSAGE = "The security token included in the request is invalid."


def collect(cc: CollectContext) -> list[Case]:
    cite = Citations(cc.requirements, cc.edition)
    cases: list[Case] = []
    variants = (
        ("unsigned", "none", "no Authorization header at all", cite.generic("AUTH-001"),
         lambda lvl: error("MissingAuthenticationTokenException", 403, level=lvl, alternatives=[error("MissingAuthenticationTokenException", 400, level="SHOULD")])),
        ("malformed-signature", "malformed", "an Authorization header that is not a SigV4 header", cite.generic("AUTH-002"),
         lambda lvl: error("IncompleteSignatureException", 400, level=lvl, alternatives=[error("IncompleteSignatureException", 403, level="SHOULD")])),
        ("wrong-secret", "wrong-secret", "signed with the wrong secret key", cite.generic("AUTH-003"),
         lambda lvl: error("InvalidSignatureException", 400, message=INVALID_SIGNATURE_MESSAGE, level=lvl)),
        ("unknown-access-key", "unknown-key", "signed with an access key id the target does not know", cite.generic("AUTH-004"),
         lambda lvl: error("UnrecognizedClientException", 400, message=UNRECOGNIZED_CLIENT_MESSAGE, level=lvl)),
        ("expired-signature", "expired", "signed with a date far in the past", cite.generic("AUTH-005"),
         lambda lvl: error("InvalidSignatureException", 400, pattern=r"Signature expired: .*", level=lvl)),
    )
    bodies = {
        "DescribeCustomKeyStores": "{}",
        "UpdateCustomKeyStore": json.dumps({"CustomKeyStoreId": UNKNOWN_STORE_ID, "NewCustomKeyStoreName": "kms-conformance-auth-probe"}),
    }
    for op, body in bodies.items():
        if op not in cc.model.operations:
            continue
        for detail, signing, title, ids, make in variants:
            cases.append(
                single_request_case(
                    id=f"{op}/{KIND}/{detail}",
                    operation=op,
                    kind=KIND,
                    requirements=ids + cite.generic("PROTO-005"),
                    title=f"{title}: refused before the request is looked at",
                    request=wire_request(body, amz_target=f"{SERVICE_TARGET_PREFIX}.{op}", signing=signing),
                    expected=make(cite.level(ids)),
                    failing=ids or None,  # served or answered otherwise: the authentication rule, not PROTO-005
                    editions=(cc.edition,),
                    tags=("generated",),
                )
            )
    return cases
