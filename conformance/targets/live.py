"""The live `aws` adapter and its safety rules.

Live AWS costs money (CloudHSM HSM-hours) and time (a connect can take 20
minutes), so: it only opens with `--allow-live`; it prints the account id
(STS GetCallerIdentity) and Region before any other call; it uses the
credentials configured or found by the normal chain and never falls back to
example ones; and a guard refuses any call outside a short allowlist, so the
suite can never create or delete a CloudHSM cluster or HSM (it only reads
clusters: the world's roles name existing ones).
"""

from __future__ import annotations

import copy

from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.errors import ConfigError, ConformanceError, TargetUnreachable
from conformance.targets.base import Capabilities, Identity
from conformance.world import Timeouts
from conformance.targets.config import TargetConfig
from conformance.targets.credentials import chain_credentials, configured_credentials
from conformance.targets.wire import HttpTransport, TransportFailure, tcp_reachable
from conformance.targets.wire_target import WireTarget

# The only calls a live run may make, per service. Everything else is refused before it is sent.
LIVE_ALLOWLIST = {
    "kms": frozenset(CUSTOM_KEY_STORE_OPERATIONS) | {"CreateKey", "DescribeKey", "ScheduleKeyDeletion",
                                                     "GenerateRandom", "ListKeys"},
    "cloudhsmv2": frozenset({"DescribeClusters", "DescribeBackups", "ListTags"}),
    "sts": frozenset({"GetCallerIdentity"}),
}


class LiveSafetyError(ConformanceError):
    """A call the live guard refuses (e.g. anything that would create or delete CloudHSM resources)."""


def live_guard(service: str, operation: str) -> None:
    """Raise LiveSafetyError unless (service, operation) is on the live allowlist.

    For raw requests the operation comes from X-Amz-Target: names no service
    has (deliberately unknown targets, the protocol cases) cannot change
    anything and pass; a real operation must be on the list.
    """
    from conformance.targets.capabilities import modelled_operations

    service = "cloudhsmv2" if service in ("cloudhsm", "cloudhsmv2") else service
    allowed = LIVE_ALLOWLIST.get(service)
    if allowed is None:
        raise LiveSafetyError(f"live AWS guard: calls to {service} are not allowed")
    if operation in allowed:
        return
    if service == "kms" and operation not in modelled_operations():
        return  # an unknown X-Amz-Target: KMS rejects it, nothing can change
    raise LiveSafetyError(f"live AWS guard: {service}:{operation} is not allowed (the suite never creates or "
                          "deletes CloudHSM clusters or HSMs, and calls only what its cases need)")


class LiveTarget(WireTarget):
    """WireTarget + the live facts (account id) printed before anything else."""

    account_id: str | None = None
    caller_arn: str | None = None


def open_live(config: TargetConfig, *, announce) -> LiveTarget:
    s = config.target
    credentials = configured_credentials(config) or chain_credentials(s.region)
    if credentials is None:
        raise ConfigError("target.access_key_id: no AWS credentials configured or found by the standard chain; "
                          "the aws adapter never falls back to example credentials")
    url = s.endpoint_url  # only set to pose a local endpoint as AWS (tests); else botocore's real endpoints
    if url:
        reason = tcp_reachable(url)
        if reason:
            raise TargetUnreachable(url, reason)
    world = copy.deepcopy(config.world)  # never the defaults of an emulator: the roles are the user's
    if not config.timeouts_given:
        world.timeouts = Timeouts()
    endpoints = {"kms": url, "cloudhsmv2": url, "sts": url} if url else {}
    target = LiveTarget(
        identity=Identity(name=s.name or "aws", adapter="aws", endpoint=url, region=s.region),
        world=world,
        transport=HttpTransport(),
        credentials=credentials,
        region=s.region,
        endpoint_url=url,
        capabilities=Capabilities(observable_transitions=True),  # account_id is set below, once STS said it
        service_endpoints=endpoints,
        guard=live_guard,
    )
    try:
        who = target.client("sts").get_caller_identity()
    except TransportFailure as exc:
        target.close()
        raise TargetUnreachable(url or _sts_url(s.region), str(exc)) from None
    except Exception as exc:
        target.close()
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") or exc.__class__.__name__
        raise ConfigError(f"target.access_key_id: STS GetCallerIdentity refused the credentials ({code})") from None
    target.account_id = str(who.get("Account"))
    target.caller_arn = who.get("Arn")
    target.identity.name = s.name or f"aws {target.account_id} {s.region}"
    target.identity.version = "live"
    target.capabilities.account_id = target.account_id
    announce(f"kms-conformance: LIVE AWS account {target.account_id}, region {s.region} "
             f"(as {target.caller_arn}){' via ' + url if url else ''}")
    return target


def _sts_url(region: str) -> str:
    return f"https://sts.{region}.amazonaws.com"
