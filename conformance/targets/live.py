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
import functools
import os
from urllib.parse import urlsplit

from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.errors import ConfigError, ConformanceError, TargetUnreachable, UsageError
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


# Host suffixes of AWS service endpoints when botocore's partition data cannot be read (it normally can).
_KNOWN_AWS_SUFFIXES = ("amazonaws.com", "amazonaws.com.cn", "api.aws", "api.amazonwebservices.com.cn")
# Where the endpoint adapter takes its URLs from when the config gives none (in this order), and CloudHSM's.
ENDPOINT_ENV_VARS = ("AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL")
CLOUDHSM_ENDPOINT_ENV = "AWS_ENDPOINT_URL_CLOUDHSMV2"


@functools.lru_cache(maxsize=1)
def aws_dns_suffixes() -> frozenset[str]:
    """Every partition's DNS suffixes (plain and dual-stack), from botocore's own partition data.

    Taken from botocore so a new partition is covered the day botocore knows it.
    """
    suffixes = set(_KNOWN_AWS_SUFFIXES)
    try:
        import botocore.loaders

        data = botocore.loaders.create_loader().load_data("partitions")
        for partition in data.get("partitions") or ():
            outputs = partition.get("outputs") or {}
            for key in ("dnsSuffix", "dualStackDnsSuffix"):
                if outputs.get(key):
                    suffixes.add(str(outputs[key]).lower())
    except Exception:  # noqa: BLE001 - the fixed list above still covers the commercial partitions
        pass
    return frozenset(suffixes)


def normalised_host(url: str) -> str:
    """The host a URL would reach, as DNS sees it: lower case, IDNA-mapped, without trailing dots."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    try:
        host = host.encode("idna").decode("ascii")  # full-width dots and letters map to ASCII, as a resolver does
    except UnicodeError:
        pass
    return host.lower().rstrip(".")


def is_aws_host(url: str) -> bool:
    """True when the URL's host is an AWS service domain (any partition, FIPS and dual-stack forms included)."""
    host = normalised_host(url)
    return bool(host) and any(host == s or host.endswith("." + s) for s in aws_dns_suffixes())


def destinations(config: TargetConfig) -> list[str]:
    """Every URL an endpoint target built from this config would call: its KMS URL and its CloudHSM URL."""
    kms = config.target.endpoint_url or next((os.environ[n] for n in ENDPOINT_ENV_VARS if os.environ.get(n)), None)
    return [url for url in (kms, os.environ.get(CLOUDHSM_ENDPOINT_ENV)) if url]


def is_live(config: TargetConfig) -> bool:
    """True when a target built from this config would call real AWS: the aws adapter, or an AWS host.

    Judged by where the calls would go, not by the adapter's name: an `endpoint`
    target whose URL is an AWS service host is live AWS too. The other adapters
    stay in the process (reference, moto) or replay a recording.
    """
    if config.target.adapter == "aws":
        return True
    return config.target.adapter == "endpoint" and any(is_aws_host(url) for url in destinations(config))


def require_allow_live(config: TargetConfig, allow_live: bool) -> None:
    """Refuse (UsageError, exit 2) a live AWS target unless the user said --allow-live.

    Pure string work on the URLs: it runs before any DNS lookup or connection.
    """
    if allow_live or not is_live(config):
        return
    if config.target.adapter == "aws":
        raise UsageError("target adapter aws is live AWS (CloudHSM costs money, a connect takes up to 20 "
                         "minutes): refusing to run without --allow-live")
    host = next(normalised_host(url) for url in destinations(config) if is_aws_host(url))
    raise UsageError(f"endpoint {host} is live AWS (creates and deletes custom key stores in a real account): "
                     "refusing to run without --allow-live")


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
