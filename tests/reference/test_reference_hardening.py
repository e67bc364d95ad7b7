"""The reference target as a service facing hostile peers: size, depth, echo, stalls, broken HTTP.

Every refusal is the AWS JSON error envelope (never HTML, never a dropped
thread). The timeouts below are guards against a hang, not measurements.
"""

from __future__ import annotations

import json
import socket

import pytest

from conformance.reference.app import json_depth
from conformance.reference.config import ReferenceConfig
from conformance.reference.world import LINEAGE_A_CERT
from conformance.spec import predict_validation
from refhelpers import InProcess, threaded_server

JSON_TYPE = "application/x-amz-json-1.1"


def exchange(endpoint: str, data: bytes, guard_s: float = 20.0,
             half_close: bool = False) -> tuple[int | None, dict[str, str], bytes]:
    """Send raw bytes on a fresh connection; (status, headers, body) of whatever comes back before it closes."""
    port = int(endpoint.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=guard_s) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    if not raw:
        return None, {}, b""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def aws_error(headers: dict[str, str], body: bytes) -> str:
    assert headers["content-type"] == JSON_TYPE and headers.get("x-amzn-requestid"), headers
    return json.loads(body)["__type"]


@pytest.mark.parametrize("data, status, code", [
    (b"GARBAGE\r\n\r\n", 400, "MalformedHttpRequestException"),
    (b"GET / HTTP/1.1 extra\r\n\r\n", 400, "MalformedHttpRequestException"),
    (b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431, "RequestHeaderFieldsTooLargeException"),
    (b"POST / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(120)) + b"\r\n",
     431, "RequestHeaderFieldsTooLargeException"),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "RequestUriTooLongException"),
], ids=["garbage-line", "bad-version", "header-line-too-long", "too-many-headers", "uri-too-long"])
def test_broken_http_gets_an_aws_json_error(data, status, code):
    with threaded_server() as (endpoint, _):
        got_status, headers, body = exchange(endpoint, data)
    assert (got_status, aws_error(headers, body)) == (status, code)


def test_a_stalled_body_gets_408_and_frees_the_connection():
    """Content-Length announced, body never sent: the server gives up after its read timeout."""
    stalled = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
               b"X-Amz-Target: TrentService.DescribeCustomKeyStores\r\n\r\n{")
    with threaded_server(read_timeout_s=0.3) as (endpoint, _):
        status, headers, body = exchange(endpoint, stalled)
        assert (status, aws_error(headers, body)) == (408, "RequestTimeoutException")
        cut = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"  # then the client stops sending
        status, headers, body = exchange(endpoint, cut, half_close=True)
        assert (status, aws_error(headers, body)) == (400, "MalformedHttpRequestException")


def test_an_oversized_body_is_refused_over_the_wire_before_it_is_read():
    """A client sending far more than the limit still reads a JSON 413 (the rest is drained, not kept)."""
    body = json.dumps({"CustomKeyStoreName": "n" * 2_000_000}).encode()
    request = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: " + JSON_TYPE.encode()
               + b"\r\nX-Amz-Target: TrentService.DescribeCustomKeyStores\r\nContent-Length: "
               + str(len(body)).encode() + b"\r\n\r\n" + body)
    with threaded_server() as (endpoint, _):
        status, headers, answer = exchange(endpoint, request)
    assert (status, aws_error(headers, answer)) == (413, "RequestEntityTooLargeException")
    assert len(answer) < 200


def test_size_limit_counts_chunked_bodies_too():
    chunk = b"n" * 100_000
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(4)) + b"0\r\n\r\n"
    request = (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
               b"X-Amz-Target: TrentService.DescribeCustomKeyStores\r\n\r\n" + body)
    with threaded_server() as (endpoint, _):
        status, headers, answer = exchange(endpoint, request)
    assert (status, aws_error(headers, answer)) == (413, "RequestEntityTooLargeException")


def test_html_fault_turns_the_http_level_refusals_into_pages():
    with threaded_server(faults=("http-errors-as-html",)) as (endpoint, _):
        status, headers, body = exchange(endpoint, b"GARBAGE\r\n\r\n")
    assert status == 400 and headers["content-type"].startswith("text/html") and body.startswith(b"<html>")


def test_in_process_size_limit_and_its_setting():
    status, _, body = InProcess().raw(json.dumps({"CustomKeyStoreName": "n" * 300_000}))
    assert (status, body["__type"]) == (413, "RequestEntityTooLargeException")
    status, _, body = InProcess(max_request_bytes=1_000_000).raw(json.dumps({"CustomKeyStoreName": "n" * 300_000}))
    assert (status, body["__type"]) == (400, "ValidationException")


@pytest.mark.parametrize("arrays", [127, 128, 20_000])
def test_deep_json_is_a_serialization_exception_never_a_500(arrays):
    body = '{"CustomKeyStoreName": ' + "[" * arrays + "]" * arrays + "}"  # nests arrays + 1 deep
    status, _, answer = InProcess().raw(body)
    assert (status, answer["__type"]) == (400, "SerializationException")
    # within the limit the parser reads it and the type check refuses it; past it, the depth check
    assert ("nesting" in answer["message"]) == (arrays + 1 > ReferenceConfig().max_json_depth)


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth(b"{}") == 1
    assert json_depth(b'{"a": [[{}]], "b": "[[[[[["}') == 4
    assert json_depth(b'{"a": "\\"[[[", "b": [1]}') == 2
    assert json_depth(b"   ") == 0


def test_long_values_are_cut_in_messages_and_boundary_values_are_not():
    limit = ReferenceConfig().echo_limit_chars
    _, _, answer = InProcess().raw(json.dumps({"CustomKeyStoreName": "n" * 20_000}))
    message = answer["message"]
    assert f"Value '{'n' * limit}...' at 'customKeyStoreName'" in message and len(message) < limit + 200
    # the longest value a boundary case sends (a 5001-character certificate) comes back whole
    ref = InProcess()
    cert = "c" * 5001
    params = {"CustomKeyStoreName": "s", "TrustAnchorCertificate": cert}
    _, _, answer = ref.raw(json.dumps(params), target="TrentService.CreateCustomKeyStore")
    assert answer["message"] == predict_validation("CreateCustomKeyStore", params).message
    assert cert in answer["message"]
    assert len(LINEAGE_A_CERT) < limit


HOSTILE = "oversized-body or deeply-nested-json or long-value-echo-bounded"


def _run(tmp_path, name, **kw):
    from conformance.runner import RunOptions, run_suite

    outcome = run_suite(RunOptions(report_dir=str(tmp_path / name), keyword=HOSTILE,
                                   modules=("conformance.cases.protocol",), progress=False, **kw))
    return {c["id"].rsplit("/", 1)[1]: c for c in outcome.results["cases"]}


@pytest.mark.parametrize("fault, case, verdict", [
    ("deep-json-internal-error", "deeply-nested-json", "FAIL"),
    ("http-errors-as-html", "oversized-body", "NON_STRICT"),
    ("validation-echoes-whole-value", "long-value-echo-bounded", "NON_STRICT"),
])
def test_hostile_body_cases_pass_the_clean_reference_and_catch_their_fault(tmp_path, monkeypatch, fault, case, verdict):
    from conformance.reference import FAULTS

    monkeypatch.chdir(tmp_path)
    clean = _run(tmp_path, "clean")
    assert {c: r["verdict"] for c, r in clean.items()} == dict.fromkeys(
        ("oversized-body", "deeply-nested-json", "long-value-echo-bounded"), "PASS")
    faulty = _run(tmp_path, "faulty", faults=(fault,))
    assert {c for c, r in faulty.items() if r["verdict"] != "PASS"} == {case}
    assert faulty[case]["verdict"] == verdict, faulty[case]["detail"]
    assert set(faulty[case]["requirements"]) <= set(FAULTS[fault].breaks)
    # the results show a description of the hostile body, not the body, and a command that rebuilds it
    assert len(json.dumps(faulty[case])) < 20_000
    assert faulty[case]["reproduce"].startswith("python3 -c ") and "| curl" in faulty[case]["reproduce"]


def test_hostile_body_cases_record_and_replay(tmp_path, monkeypatch):
    """The 10,000-deep body must not trip the harness's own JSON parsing (secret search, cassette)."""
    monkeypatch.chdir(tmp_path)
    recorded = _run(tmp_path, "rec", record=str(tmp_path / "cassette"))
    config = tmp_path / "replay.yaml"
    config.write_text(f"target:\n  adapter: replay\n  cassette: {tmp_path / 'cassette'}\n")
    replayed = _run(tmp_path, "rep", config=str(config))
    assert {c: r["verdict"] for c, r in recorded.items()} == {c: r["verdict"] for c, r in replayed.items()}
    assert set(r["verdict"] for r in replayed.values()) == {"PASS"} and len(replayed) == 3
