"""RecordingTarget and ReplayTarget against a fake target: ids, secrets, abilities, crashes, mismatches."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from conformance.abilities import Abilities, ClusterSnapshot
from conformance.errors import ConfigError, NotTriggerable
from conformance.observation import Observation
from conformance.redact import REDACTED
from conformance.targets.cassette import (
    ABILITY_PROTOCOLS,
    INTERACTIONS_FILE,
    META_FILE,
    Normaliser,
    RecordingTarget,
    load_cassette,
)
from conformance.targets.base import Capabilities, Identity, Target
from conformance.world import World
from conformance.targets.replay import MISSING, ReplayMiss, ReplayTarget, cassette_path

PASSWORD = "kmsuser-Pa55word!"
REQUEST_PASSWORD = "Upd4ted-Secret-77"
CLUSTER = "cluster-234567abcdefg"


class FakeWorldControl:
    """A cluster world the fake target lets a test change (what the reference target offers)."""

    def __init__(self):
        self.clusters = {CLUSTER: ClusterSnapshot("ACTIVE", (("us-east-1a", "ACTIVE"), ("us-east-1b", "ACTIVE")))}

    def snapshot(self, cluster_id):
        return self.clusters[cluster_id]

    def set_cluster_state(self, cluster_id, state):
        self.clusters[cluster_id] = ClusterSnapshot(state, self.clusters[cluster_id].hsms)

    def set_hsms(self, cluster_id, hsms):
        self.clusters[cluster_id] = ClusterSnapshot(self.clusters[cluster_id].state, tuple(hsms))

    def add_cluster(self, cluster_id, *, lineage, certificate, hsms):
        self.clusters[cluster_id] = ClusterSnapshot("ACTIVE", tuple(hsms))

    def remove_cluster(self, cluster_id):
        del self.clusters[cluster_id]


class FakeKms(Target):
    """A tiny stateful KMS: random store ids, request ids and timestamps on every run."""

    def __init__(self, *, unimplemented: dict[str, str] | None = None):
        self.identity = Identity(name="fake", adapter="fake", version="9.9", endpoint="http://127.0.0.1:1")
        self.world = World(active_cluster_id=CLUSTER, trust_anchor_certificate="-----BEGIN CERTIFICATE-----x",
                           kmsuser_password=PASSWORD)
        self.timeouts = self.world.timeouts
        self.capabilities = Capabilities(unimplemented=dict(unimplemented or {}), speaks_json=True,
                                         faults=("slow-connect",))
        self.world_control = FakeWorldControl()
        self.abilities = Abilities(world_control=self.world_control, pending_deletions=self)
        self.stores: dict[str, dict] = {}
        self.cases: list[str] = []
        self.closed = False

    def complete_pending_deletions(self) -> int:
        return 2

    def _obs(self, operation: str, status: int, body: dict) -> Observation:
        raw = json.dumps(body).encode()
        headers = {"x-amzn-RequestId": str(uuid.uuid4()), "Date": "Sun, 29 Nov 2026 13:00:00 GMT",
                   "Content-Type": "application/x-amz-json-1.1"}
        return Observation.from_http(operation=operation, status=status, headers=headers, raw=raw, latency_s=0.0123)

    def call(self, operation, params=None, *, service="kms"):
        params = params or {}
        if operation == "CreateCustomKeyStore":
            sid = "cks-" + uuid.uuid4().hex[:17]
            self.stores[sid] = {"CustomKeyStoreId": sid, "CustomKeyStoreName": params.get("CustomKeyStoreName"),
                                "CloudHsmClusterId": params.get("CloudHsmClusterId"),
                                "ConnectionState": "DISCONNECTED", "CreationDate": 1.7e9 + len(self.stores)}
            return self._obs(operation, 200, {"CustomKeyStoreId": sid})
        if operation == "DescribeCustomKeyStores":
            sid = params.get("CustomKeyStoreId")
            if sid and sid not in self.stores:
                return self._obs(operation, 400, {"__type": "CustomKeyStoreNotFoundException",
                                                  "message": f"Custom key store {sid} not found"})
            stores = [self.stores[sid]] if sid else list(self.stores.values())
            return self._obs(operation, 200, {"CustomKeyStores": stores, "Truncated": False})
        if operation == "UpdateCustomKeyStore":
            sid = params.get("CustomKeyStoreId")
            if sid not in self.stores:
                return self._obs(operation, 400, {"__type": "CustomKeyStoreNotFoundException", "message": "nope"})
            return self._obs(operation, 200, {})
        return self._obs(operation, 400, {"__type": "UnknownOperationException"})

    def send_raw(self, body, *, amz_target, content_type="application/x-amz-json-1.1", headers=None,
                 signing="valid", method="POST", path="/"):
        return self._obs(amz_target.split(".")[-1], 400,
                         {"__type": "SerializationException", "message": f"bad body {body!r}"})

    def begin_case(self, case_id):
        self.cases.append(case_id)

    def close(self):
        self.closed = True


def scenario(target: Target) -> list[Observation]:
    """What a case does: create, read back, update with a password, change the world, send garbage."""
    out = []
    target.begin_case("UpdateCustomKeyStore/scenario/update-password")
    created = target.call("CreateCustomKeyStore", {
        "CustomKeyStoreName": "conf-store", "CloudHsmClusterId": target.world.get("active_cluster_id"),
        "TrustAnchorCertificate": target.world.get("trust_anchor_certificate"),
        "KeyStorePassword": target.world.get("kmsuser_password")})
    out.append(created)
    sid = created.body["CustomKeyStoreId"]
    out.append(target.call("DescribeCustomKeyStores", {"CustomKeyStoreId": sid}))
    out.append(target.call("UpdateCustomKeyStore", {"CustomKeyStoreId": sid, "KeyStorePassword": REQUEST_PASSWORD}))
    world = target.abilities.need_world_control("the case makes the cluster inactive")
    world.set_cluster_state(target.world.get("active_cluster_id"), "INACTIVE")
    out.append(world.snapshot(target.world.get("active_cluster_id")))
    out.append(target.abilities.need_pending_deletions("the case deletes a key").complete_pending_deletions())
    target.begin_case("UpdateCustomKeyStore/protocol/malformed-json")
    out.append(target.send_raw(b'{"CustomKeyStoreId": ', amz_target="TrentService.UpdateCustomKeyStore",
                               headers={"Authorization": "AWS4-HMAC-SHA256 Signature=" + "ab" * 32}))
    return out


@pytest.fixture
def recorded(tmp_path):
    inner = FakeKms(unimplemented={"ConnectCustomKeyStore": "501 InternalFailure"})
    rec = RecordingTarget(inner, tmp_path / "cassette")
    live = scenario(rec)
    rec.close()
    return tmp_path / "cassette", inner, live


def _files_text(folder: Path) -> str:
    return "".join(p.read_text() for p in folder.rglob("*") if p.is_file())


def test_recording_forwards_and_writes_a_line_per_request(recorded):
    folder, inner, live = recorded
    assert inner.closed
    assert inner.cases == ["UpdateCustomKeyStore/scenario/update-password", "UpdateCustomKeyStore/protocol/malformed-json"]
    lines = [json.loads(l) for l in (folder / INTERACTIONS_FILE).read_text().splitlines()]
    assert [(l["case"].split("/")[1], l["seq"]) for l in lines] == [
        ("scenario", 0), ("scenario", 1), ("scenario", 2), ("scenario", 3), ("scenario", 4), ("scenario", 5),
        ("protocol", 0)]
    assert [l["request"]["method"] for l in lines if l.get("kind") == "ability"] == [
        "set_cluster_state", "snapshot", "complete_pending_deletions"]
    assert inner.world_control.clusters[CLUSTER].state == "INACTIVE"  # the recorder used the target's own ability
    assert live[0].body["CustomKeyStoreId"].startswith("cks-")  # the caller still sees the real answer
    assert live[0].body["CustomKeyStoreId"] != "cks-00000000000000001"


def test_ids_timestamps_and_request_ids_are_normalised(recorded):
    folder, inner, live = recorded
    real_id = live[0].body["CustomKeyStoreId"]
    text = _files_text(folder)
    assert real_id not in text
    lines = [json.loads(l) for l in (folder / INTERACTIONS_FILE).read_text().splitlines()]
    assert lines[0]["observation"]["body"] == {"CustomKeyStoreId": "cks-00000000000000001"}
    assert lines[1]["request"]["params"]["CustomKeyStoreId"] == "cks-00000000000000001"
    store = lines[1]["observation"]["body"]["CustomKeyStores"][0]
    assert store["CreationDate"] == 1499288695.918  # AWS's example epoch: still a JSON number
    assert store["CloudHsmClusterId"] == CLUSTER  # world fixture ids are kept as they are
    assert {l["observation"]["headers"]["x-amzn-requestid"] for l in lines if "kind" not in l} == {"<request-id>"}
    assert lines[0]["observation"]["headers"]["date"] == "Wed, 05 Jul 2017 21:04:55 GMT"  # AWS's example moment


def test_no_secret_reaches_any_cassette_file(recorded):
    folder, _, _ = recorded
    text = _files_text(folder)
    for secret in (PASSWORD, REQUEST_PASSWORD, "ab" * 32):
        assert secret not in text
    assert REDACTED in text
    meta = json.loads((folder / META_FILE).read_text())
    assert meta["world"]["kmsuser_password"] == REDACTED  # role present, value gone


def test_meta_keeps_world_capabilities_and_identity(recorded):
    folder, _, _ = recorded
    meta = json.loads((folder / META_FILE).read_text())
    assert meta["identity"]["name"] == "fake" and meta["identity"]["version"] == "9.9"
    assert meta["world"]["active_cluster_id"] == CLUSTER
    assert meta["capabilities"]["unimplemented"] == {"ConnectCustomKeyStore": "501 InternalFailure"}
    assert meta["capabilities"]["speaks_json"] is True and meta["capabilities"]["faults"] == ["slow-connect"]
    assert meta["abilities"] == ["world_control", "pending_deletions"]


def test_replay_serves_the_recording_with_the_same_verdict_inputs(recorded):
    folder, _, live = recorded
    replay = ReplayTarget({"target": {"adapter": "replay", "cassette": str(folder)}})
    assert replay.identity.adapter == "replay" and replay.identity.version == "9.9"
    assert replay.world.active_cluster_id == CLUSTER
    assert replay.world.kmsuser_password  # the role exists (value redacted)
    assert not replay.capabilities.is_implemented("ConnectCustomKeyStore")
    assert replay.capabilities.speaks_json is True and replay.capabilities.faults == ("slow-connect",)
    assert replay.abilities.clock is None  # only the abilities the recorded target offered
    with pytest.raises(NotTriggerable, match="no clock ability"):
        replay.abilities.need_clock("a case waits")
    served = scenario(replay)
    assert replay.misses == []
    for live_obs, replay_obs in zip(live[:3] + live[5:], served[:3] + served[5:]):
        assert (replay_obs.status, replay_obs.error_code, replay_obs.transport_error) == (
            live_obs.status, live_obs.error_code, None)
    # target-made ids are served as run-unique ids (the cassette numbers them per case) ...
    sid = served[0].body["CustomKeyStoreId"]
    assert sid == "cks-f0000000000000001"
    # ... and consistently: the case sends it back and gets answers about the same store
    assert served[1].body["CustomKeyStores"][0]["CustomKeyStoreId"] == sid
    # ability outcomes come back typed, as the recorded target gave them
    assert served[3] == live[3] == ClusterSnapshot("INACTIVE", (("us-east-1a", "ACTIVE"), ("us-east-1b", "ACTIVE")))
    assert served[4] == live[4] == 2
    assert served[5].error_code == "SerializationException"


def test_replayed_run_recorded_again_gives_the_same_cassette(recorded, tmp_path):
    """Normalising is idempotent: record a replay, and the interactions are byte-identical."""
    folder, _, _ = recorded
    again = RecordingTarget(ReplayTarget(str(folder)), tmp_path / "again")
    scenario(again)
    again.close()
    assert (tmp_path / "again" / INTERACTIONS_FILE).read_text() == (folder / INTERACTIONS_FILE).read_text()


def test_request_mismatch_and_missing_entry_are_errors_not_crashes(recorded):
    folder, _, _ = recorded
    replay = ReplayTarget(str(folder))
    replay.begin_case("UpdateCustomKeyStore/scenario/update-password")
    obs = replay.call("CreateCustomKeyStore", {"CustomKeyStoreName": "another-name"})
    assert obs.status is None and obs.transport_error.startswith(MISSING)
    assert "$.params" in obs.transport_error and "UpdateCustomKeyStore/scenario/update-password" in obs.transport_error
    replay.begin_case("Nope/scenario/never-recorded")
    obs = replay.call("DescribeCustomKeyStores", {})
    assert obs.transport_error.startswith(MISSING) and "the cassette has none" in obs.transport_error
    with pytest.raises(ReplayMiss):
        replay.abilities.world_control.set_cluster_state(CLUSTER, "INACTIVE")
    assert len(replay.misses) == 3
    from conformance.steps import Expected
    from conformance.verdicts import Verdict, judge

    assert judge(Expected(status=200), obs, "code")[0] is Verdict.ERROR


def test_a_crash_keeps_what_was_recorded(tmp_path):
    rec = RecordingTarget(FakeKms(), tmp_path / "c")
    rec.begin_case("A/scenario/one")
    rec.call("DescribeCustomKeyStores", {})
    # no close(): the process "dies" here; a torn last line is ignored on load
    with open(tmp_path / "c" / INTERACTIONS_FILE, "a") as fh:
        fh.write('{"case": "A/scenario/one", "seq": 1, "requ')
    cassette = load_cassette(tmp_path / "c")
    assert list(cassette.interactions) == [("A/scenario/one", 0)]


def test_bad_cassette_settings_are_one_line_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="target.cassette"):
        ReplayTarget({"target": {"adapter": "replay"}})
    with pytest.raises(ConfigError, match="not a cassette"):
        ReplayTarget(str(tmp_path))
    (tmp_path / META_FILE).write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read"):
        ReplayTarget(str(tmp_path))


def test_relative_cassette_path_is_resolved_against_the_config_file(tmp_path):
    class Cfg:
        cassette = "tapes/aws"
        path = str(tmp_path / "cfg" / "target.yaml")

    assert cassette_path(Cfg()) == tmp_path / "cfg" / "tapes" / "aws"


def test_normaliser_numbers_ids_by_first_appearance_and_is_idempotent():
    raw = {"a": "cks-0123456789abcdef0", "b": ["cks-fedcba98765432100", "cks-0123456789abcdef0"],
           "arn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
           "when": "2026-11-29T13:00:00Z in text", "CreationDate": 1764421200.5}
    once = Normaliser().value(raw)
    assert once == {"a": "cks-00000000000000001", "b": ["cks-00000000000000002", "cks-00000000000000001"],
                    "arn": "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000001",
                    "when": "2017-07-05T21:04:55Z in text", "CreationDate": 1499288695.918}
    assert Normaliser().value(once) == once


def test_capability_probing_through_the_recorder_fills_the_inner_target_and_meta(tmp_path):
    inner = FakeKms()
    rec = RecordingTarget(inner, tmp_path / "c")
    caps = rec.capabilities
    caps.unimplemented["DeleteCustomKeyStore"] = "HTML 500"  # what probe_capabilities does, in place
    caps.speaks_json = False
    rec.capabilities.observable_transitions = True
    assert inner.capabilities.unimplemented == {"DeleteCustomKeyStore": "HTML 500"}
    assert inner.capabilities.speaks_json is False and inner.capabilities.observable_transitions
    assert not rec.capabilities.is_implemented("DeleteCustomKeyStore")
    rec.begin_case("X/scenario/y")  # meta is refreshed at each case
    meta = json.loads((tmp_path / "c" / META_FILE).read_text())["capabilities"]
    assert meta["unimplemented"] == {"DeleteCustomKeyStore": "HTML 500"}
    assert meta["speaks_json"] is False and meta["observable_transitions"] is True
    rec.close()


class EchoingKms(FakeKms):
    """A careless target that quotes the password it was sent in its error message."""

    def call(self, operation, params=None, *, service="kms"):
        password = (params or {}).get("KeyStorePassword", "")
        return self._obs(operation, 400, {"__type": "ValidationException",
                                          "message": f"the password {password} does not open the HSM ({password})"})


def test_request_secrets_echoed_in_answers_are_masked_and_given_back_on_replay(tmp_path):
    secret = "Echoed-Secret-123"
    rec = RecordingTarget(EchoingKms(), tmp_path / "c")
    rec.begin_case("UpdateCustomKeyStore/structural/KeyStorePassword/echo")
    live = rec.call("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-1234567890abcdef0", "KeyStorePassword": secret})
    rec.send_raw('{"KeyStorePassword": "' + secret + '", "CustomKeyStoreId": ', amz_target="TrentService.UpdateCustomKeyStore")
    rec.close()
    text = _files_text(tmp_path / "c")
    assert secret not in text and "<secret-1>" in text
    replay = ReplayTarget(str(tmp_path / "c"))
    replay.begin_case("UpdateCustomKeyStore/structural/KeyStorePassword/echo")
    served = replay.call("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-1234567890abcdef0", "KeyStorePassword": secret})
    assert served.message == live.message  # exactly what the target said, secret included (in memory only)
    # a raw body cut short still has its password found and masked
    assert replay.send_raw('{"KeyStorePassword": "' + secret + '", "CustomKeyStoreId": ',
                           amz_target="TrentService.UpdateCustomKeyStore").transport_error is None
    # the replay gives the case back its own made-up id in the answer
    assert "cks-1234567890abcdef0" not in text


class RefusingKms(FakeKms):
    def call(self, operation, params=None, *, service="kms"):
        if "Bogus" in (params or {}):
            raise ValueError(f"{operation} has no member(s) Bogus: send unknown members with send_raw")
        return super().call(operation, params, service=service)


def test_a_request_the_adapter_refuses_is_refused_again_on_replay(tmp_path):
    rec = RecordingTarget(RefusingKms(), tmp_path / "c")
    rec.begin_case("UpdateCustomKeyStore/structural/unknown-member")
    with pytest.raises(ValueError, match="no member"):
        rec.call("UpdateCustomKeyStore", {"Bogus": 1})
    rec.close()
    replay = ReplayTarget(str(tmp_path / "c"))
    replay.begin_case("UpdateCustomKeyStore/structural/unknown-member")
    with pytest.raises(ValueError, match="UpdateCustomKeyStore has no member"):
        replay.call("UpdateCustomKeyStore", {"Bogus": 1})


class NoControlSurface(FakeKms):
    """A served target whose control surface turns out to be missing on first use."""

    def __init__(self):
        super().__init__()

        class Refusing(FakeWorldControl):
            def set_cluster_state(self, cluster_id, state):
                raise NotTriggerable("the target has no control surface")

        self.abilities = Abilities(world_control=Refusing())


def test_an_ability_that_was_not_triggerable_is_not_triggerable_again_on_replay(tmp_path):
    rec = RecordingTarget(NoControlSurface(), tmp_path / "c")
    rec.begin_case("ConnectCustomKeyStore/scenario/inactive-cluster")
    with pytest.raises(NotTriggerable, match="no control surface"):
        rec.abilities.need_world_control("inactive cluster").set_cluster_state(CLUSTER, "INACTIVE")
    rec.close()
    replay = ReplayTarget(str(tmp_path / "c"))
    replay.begin_case("ConnectCustomKeyStore/scenario/inactive-cluster")
    with pytest.raises(NotTriggerable, match="no control surface"):
        replay.abilities.need_world_control("inactive cluster").set_cluster_state(CLUSTER, "INACTIVE")
    assert replay.misses == []


def test_every_ability_a_target_can_offer_is_recorded():
    from dataclasses import fields

    assert set(ABILITY_PROTOCOLS) == {f.name for f in fields(Abilities)}


class SurrogateEchoKms(FakeKms):
    """Quotes the CloudHsmClusterId it got in its message, unpaired surrogates included (as a real target may)."""

    def send_raw(self, body, *, amz_target, **kwargs):
        text = body.decode("utf-8", errors="surrogateescape") if isinstance(body, bytes) else body
        try:
            value = json.loads(text).get("CloudHsmClusterId")
        except ValueError:
            value = text
        message = f"Value '{value}' at 'cloudHsmClusterId' failed to satisfy constraint"
        return Observation(operation=amz_target.split(".")[-1], status=400, error_code="ValidationException",
                           message=message, body={"__type": "ValidationException", "message": message},
                           raw_body=json.dumps({"__type": "ValidationException", "message": message}))


SURROGATE_BODIES = [
    b'{"CloudHsmClusterId": "cluster-\\ud800x"}',  # an escaped unpaired surrogate (what json.dumps sends)
    '{"CloudHsmClusterId": "cluster-\udc00y"}',  # a str body holding one
    b'{"CloudHsmClusterId": "\xff\xfe"}',  # not UTF-8 at all
    b'{"CloudHsmClusterId": "\xff\xfd"}',
]


def test_bodies_and_answers_with_unpaired_surrogates_or_bad_utf8_round_trip_exactly(tmp_path):
    case_id = "CreateCustomKeyStore/schemathesis/not_a_server_error"
    rec = RecordingTarget(SurrogateEchoKms(), tmp_path / "c")
    rec.begin_case(case_id)
    live = [rec.send_raw(b, amz_target="TrentService.CreateCustomKeyStore") for b in SURROGATE_BODIES]
    rec.close()
    assert "\ud800" in live[0].message and "\udc00" in live[1].message  # the answers did carry them
    (tmp_path / "c" / INTERACTIONS_FILE).read_text(encoding="utf-8")  # strict UTF-8: nothing was mangled on write
    assert len(load_cassette(tmp_path / "c").interactions) == len(SURROGATE_BODIES)

    replay = ReplayTarget(str(tmp_path / "c"))
    replay.begin_case(case_id)
    served = [replay.send_raw(b, amz_target="TrentService.CreateCustomKeyStore") for b in SURROGATE_BODIES]
    assert replay.misses == []
    assert [(o.status, o.error_code, o.message, o.body) for o in served] == \
        [(o.status, o.error_code, o.message, o.body) for o in live]

    # two different malformed bodies are two different requests (no lossy decoding makes them alike)
    swapped = ReplayTarget(str(tmp_path / "c"))
    swapped.begin_case(case_id)
    for body in SURROGATE_BODIES[:2] + [SURROGATE_BODIES[3]]:
        swapped.send_raw(body, amz_target="TrentService.CreateCustomKeyStore")
    assert len(swapped.misses) == 1 and "request differs from the recording at $.body" in swapped.misses[0]


def test_a_filler_password_does_not_mask_ids_inside_other_values(tmp_path):
    """A short or filler secret is masked only where a whole string equals it, so ids around it stay normalisable."""
    rec = RecordingTarget(EchoingKms(), tmp_path / "c")
    rec.begin_case("UpdateCustomKeyStore/structural/KeyStorePassword/length-min")
    rec.call("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-0000000000000000a", "KeyStorePassword": "0000000"})
    rec.close()
    line = json.loads((tmp_path / "c" / INTERACTIONS_FILE).read_text().splitlines()[-1])
    assert line["request"]["params"] == {"CustomKeyStoreId": "cks-00000000000000001", "KeyStorePassword": REDACTED}
    assert "<secret-1>" not in json.dumps(line["request"])
