"""Per-call cost of the suite's Target.call against the raw botocore floor, as ratios.

Run: .venv/bin/python benchmarks/bench_call_overhead.py [--calls N]

For each way of reaching a target, the same request (DescribeCustomKeyStores {} on the
reference, ListKeys on moto, which lacks the custom key store operations) is sent N
times through (a) a bare botocore client, the floor, and (b) the suite's Target.call
(observation building, throttling and unimplemented classification included). Ratios,
not seconds, are what is comparable between machines.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

import boto3
from botocore.config import Config

EXAMPLE_KEY = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
RAW = Config(parameter_validation=False, retries={"max_attempts": 1})


def timed(fn, calls: int, rounds: int = 5) -> float:
    """Median seconds per call over a few rounds (after one warm-up call)."""
    fn()
    per_round = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        per_round.append((time.perf_counter() - started) / calls)
    return statistics.median(per_round)


def raw_client(endpoint_url: str | None):
    return boto3.session.Session().client(
        "kms", region_name="us-east-1", endpoint_url=endpoint_url, config=RAW,
        aws_access_key_id=EXAMPLE_KEY[0], aws_secret_access_key=EXAMPLE_KEY[1])


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):  # benchmarks measure calls, not logging
        pass


def bench_served_reference(calls: int) -> tuple[float, float]:
    from conformance.reference import ReferenceConfig, make_app
    from conformance.targets import config_from_options, open_target

    server = make_server("127.0.0.1", 0, make_app(ReferenceConfig()), handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        client = raw_client(url)
        floor = timed(lambda: client.describe_custom_key_stores(), calls)
        target = open_target(config_from_options(target="endpoint", endpoint_url=url), announce=lambda *_: None)
        ours = timed(lambda: target.call("DescribeCustomKeyStores", {}), calls)
        target.close()
    finally:
        server.shutdown()
    return floor, ours


def bench_moto(calls: int) -> tuple[float, float]:
    from moto import mock_aws

    from conformance.targets import config_from_options, open_target

    with mock_aws():
        client = raw_client(None)
        floor = timed(lambda: client.list_keys(), calls)
    target = open_target(config_from_options(target="moto"), announce=lambda *_: None)
    try:
        ours = timed(lambda: target.call("ListKeys", {}), calls)
    finally:
        target.close()
    return floor, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    print(f"{'path':<28} {'floor ms':>9} {'suite ms':>9} {'ratio':>6}")
    for name, bench in (("reference served (HTTP)", bench_served_reference), ("moto in-process", bench_moto)):
        floor, ours = bench(args.calls)
        print(f"{name:<28} {floor * 1e3:>9.2f} {ours * 1e3:>9.2f} {ours / floor:>6.2f}")


if __name__ == "__main__":
    main()
