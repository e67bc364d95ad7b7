"""`adapter: replay` opens H5b's ReplayTarget through open_target; a driver flow replays identically."""

from __future__ import annotations

import pytest
import yaml

from conformance.errors import ConfigError
from conformance.targets.cassette import RecordingTarget
from conformance.targets import StoreDriver, config_from_options, load_config, open_target


def flow(target, ledger_dir, prefix):
    """A short driver scenario; returns what a case would judge."""
    driver = StoreDriver(target, ledger_dir, prefix)
    target.begin_case("Targets/replay/flow")
    store = driver.create_store()
    driver.bring_to_state(store, "CONNECTED")
    seen = [target.call("DescribeCustomKeyStores", {"CustomKeyStoreId": store})]
    seen.append(target.send_raw("{}", amz_target="TrentService.NoSuchOperation"))
    driver.delete_store(store)
    return [(o.status, o.error_code, (o.body or {}).get("CustomKeyStores", [{}])[0].get("ConnectionState")
             if isinstance(o.body, dict) else None) for o in seen]


def test_record_then_replay_through_open_target(tmp_path):
    prefix = "kmsconf-20260101T000000-abcd"
    live = open_target(config_from_options())
    recorder = RecordingTarget(live, tmp_path / "cassette", run_tokens=[prefix])
    try:
        recorded = flow(recorder, tmp_path / "ledger1", prefix)
    finally:
        recorder.close()
    config = tmp_path / "replay.yaml"
    config.write_text(yaml.safe_dump({"target": {"adapter": "replay", "cassette": "cassette"}}))
    replay = open_target(load_config(config))
    try:
        assert replay.identity.adapter == "replay"
        assert flow(replay, tmp_path / "ledger2", prefix) == recorded
        assert recorded[0][2] == "CONNECTED"
        assert replay.misses == []
    finally:
        replay.close()


def test_replay_without_cassette_is_a_config_error(tmp_path):
    config = config_from_options(target="replay")  # no file: the cassette is looked for when opening
    with pytest.raises(ConfigError, match="target.cassette"):
        open_target(config)
