"""Endpoint targets: CONNECTING / DISCONNECTING are looked for (unless the config says), the report
says how the answer was reached, and the label is the target, not its HTTP framework."""

from __future__ import annotations

import contextlib
import itertools
import threading

import pytest

from conformance.reference import ReferenceConfig, make_app
from conformance.report.formatting import target_label
from conformance.targets import StoreDriver, open_target, probe_capabilities
from conformance.targets.capabilities import (
    TRANSITIONS_CONFIG_KEY,
    TRANSITIONS_TO_PROBE,
    probe_transitions,
    transitions_note,
)
from conformance.targets.config import parse_config

from tests.targets.targethelpers import serve_wsgi


class TickingClock:
    """Virtual time that moves one second at every read: a transition of N seconds lasts about N
    requests, whatever the wall clock does (no sleeping, no timing luck)."""

    def __init__(self) -> None:
        self._ticks = itertools.count(1_700_000_000)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return float(next(self._ticks))


@contextlib.contextmanager
def served(delay_s: float):
    app = make_app(ReferenceConfig(connect_delay_s=delay_s, disconnect_delay_s=delay_s, clock=TickingClock()))
    with serve_wsgi(app) as url:
        yield url


def _open(url: str, **target_keys):
    config = parse_config({"target": {"adapter": "endpoint", "endpoint_url": url, **target_keys},
                           "world": {"timeouts": {"poll_interval_s": 0.001, "connect_s": 30, "disconnect_s": 30}}})
    return open_target(config, announce=lambda line: None)


@contextlib.contextmanager
def probed(url: str, tmp_path, **target_keys):
    target = _open(url, **target_keys)
    probe_capabilities(target)
    driver = StoreDriver(target, ledger_dir=tmp_path / "ledger")
    try:
        yield target, driver, probe_transitions(target, driver)
    finally:
        driver.cleanup()
        target.close()


def _stores(target) -> list:
    return (target.call("DescribeCustomKeyStores", {}).body or {}).get("CustomKeyStores")


def test_a_target_whose_connects_take_time_is_found_observable(tmp_path):
    with served(10.0) as url, probed(url, tmp_path) as (target, driver, source):
        assert target.capabilities.observable_transitions is True
        assert source == "probed: saw CONNECTING and DISCONNECTING"
        assert transitions_note(target.capabilities) == "observable_transitions: true (probed: saw CONNECTING and DISCONNECTING)"
        assert _stores(target) == []  # the probe's store is gone
        assert driver.ledger.outstanding() == []  # and the ledger knows it
        assert driver.take_steps() == []  # no case inherits the probe's calls
        # the cases that need CONNECTING now get there
        store = driver.create_store()
        driver.bring_to_state(store, "CONNECTING")
        assert driver.state(store) == "CONNECTING"


def test_instant_connects_are_not_observed_and_the_reason_names_the_config_key(tmp_path):
    from conformance.errors import NotTriggerable

    with served(0.0) as url, probed(url, tmp_path) as (target, driver, source):
        assert target.capabilities.observable_transitions is False
        assert source.startswith("probed: not observed, the store was CONNECTED") and TRANSITIONS_CONFIG_KEY in source
        assert _stores(target) == []
        store = driver.create_store()
        with pytest.raises(NotTriggerable, match="target.observable_transitions: true"):
            driver.bring_to_state(store, "CONNECTING")


@pytest.mark.parametrize("value", [True, False])
def test_the_config_decides_when_it_says(tmp_path, value):
    with served(10.0) as url, probed(url, tmp_path, observable_transitions=value) as (target, driver, source):
        assert source == "config" and target.capabilities.observable_transitions is value
        assert driver.ledger.outstanding() == [] and not driver.ledger.path.exists()  # nothing was created


def test_a_target_that_cannot_create_keeps_the_default(tmp_path):
    with served(10.0) as url:
        target = _open(url)
        target.capabilities.unimplemented["CreateCustomKeyStore"] = "HTTP 501"
        driver = StoreDriver(target, ledger_dir=tmp_path / "ledger")
        try:
            assert target.capabilities.transitions_source == TRANSITIONS_TO_PROBE
            source = probe_transitions(target, driver)
            assert target.capabilities.observable_transitions is False
            assert source.startswith("default, not probed: the target lacks CreateCustomKeyStore")
            assert TRANSITIONS_CONFIG_KEY in source and not driver.ledger.path.exists()
        finally:
            target.close()


def test_a_refused_create_keeps_the_default_and_says_why(tmp_path):
    with served(10.0) as url:
        target = _open(url)
        target.world.active_cluster_id = "cluster-nosuchcluster2"  # the served world has no such cluster
        driver = StoreDriver(target, ledger_dir=tmp_path / "ledger")
        try:
            source = probe_transitions(target, driver)
            assert target.capabilities.observable_transitions is False
            assert source.startswith("default, probe failed:") and "CloudHsmClusterNotFoundException" in source
        finally:
            driver.cleanup()
            target.close()


def test_the_endpoint_label_is_the_target_and_the_server_header_is_kept_apart(tmp_path):
    with served(0.0) as url, probed(url, tmp_path) as (target, _driver, _source):
        host_port = url.split("//", 1)[1]
        assert target.identity.name == host_port and target.identity.version is None
        assert target.identity.server and target.identity.server.startswith("Werkzeug")
        label = target_label({"target": {"name": target.identity.name, "version": target.identity.version,
                                         "server": target.identity.server}, "edition": "current"})
        assert label == f"{host_port} edition current"
    with served(0.0) as url, probed(url, tmp_path, name="my fake kms") as (target, _driver, _source):
        assert target.identity.name == "my fake kms"


def test_the_in_process_reference_says_its_clock_decides():
    target = open_target(parse_config({}), announce=lambda line: None)
    try:
        assert transitions_note(target.capabilities) == "observable_transitions: true (adapter: virtual clock)"
    finally:
        target.close()
    target = open_target(parse_config({"target": {"connect_delay_s": 0, "disconnect_delay_s": 0}}),
                         announce=lambda line: None)
    try:
        assert transitions_note(target.capabilities) == \
            "observable_transitions: false (config: connect 0s, disconnect 0s)"
    finally:
        target.close()


def test_a_run_reports_how_transitions_were_decided_and_the_server_apart(tmp_path, monkeypatch):
    """results.json, report.md and report.html carry the probe's answer and the Server header; the
    label is host:port (the run's own probe, not this test's, decided it)."""
    import json

    from conformance.cli import main

    monkeypatch.chdir(tmp_path)  # the cleanup ledger lands here
    with served(10.0) as url:
        rc = main(["run", "--endpoint-url", url, "-k", "ConnectCustomKeyStore/scenario/accepted-while-connecting",
                   "--report-dir", str(tmp_path / "out"), "--no-progress"])
    assert rc == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    note = "observable_transitions: true (probed: saw CONNECTING and DISCONNECTING)"
    assert results["transitions"] == note and results["cases"][0]["verdict"] == "PASS"
    assert results["target"]["name"] == url.split("//", 1)[1] and results["target"]["server"].startswith("Werkzeug")
    assert results["target"]["version"] is None
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert note in markdown and "Server header: Werkzeug" in markdown
    html = (tmp_path / "out" / "report.html").read_text()
    assert note in html and "Server: Werkzeug" in html
