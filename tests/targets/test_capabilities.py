"""The one "not implemented" classifier: each emulator's way of saying it, and what is NOT a gap."""

from __future__ import annotations

import pytest

from conformance.observation import Observation
from conformance.targets.capabilities import classify_unimplemented, operation_of_target_header


def http(status, body, ctype="application/x-amz-json-1.1"):
    raw = body.encode() if isinstance(body, str) else body
    return Observation.from_http(operation="UpdateCustomKeyStore", status=status,
                                 headers={"Content-Type": ctype}, raw=raw, latency_s=0.0)


MOTO_HTML = ("<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
             "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error</p>")


@pytest.mark.parametrize(
    "obs, kwargs, expected",
    [
        # LocalStack 4.x
        (http(501, '{"__type":"InternalFailure","message":"The API action \'UpdateCustomKeyStore\' for service '
                   '\'kms\' is either not available in your current license plan or has not yet been emulated"}'),
         {}, "HTTP 501"),
        # ministack
        (http(400, '{"__type":"InvalidAction","message":"Unknown action"}'), {}, "InvalidAction"),
        (http(400, '{"__type":"com.amazon.coral.service#UnknownOperationException"}'), {}, "UnknownOperationException"),
        # moto server: HTML 500 from a target that otherwise speaks JSON
        (http(500, MOTO_HTML, "text/html; charset=utf-8"), {"speaks_json": True}, "HTML"),
        # ...but a server that never speaks JSON is broken, not missing an operation
        (http(500, MOTO_HTML, "text/html; charset=utf-8"), {"speaks_json": False}, None),
        # real answers are never gaps
        (http(400, '{"__type":"ValidationException","message":"1 validation error detected"}'), {}, None),
        (http(400, '{"__type":"CustomKeyStoreNotFoundException"}'), {}, None),
        (http(500, '{"__type":"KMSInternalException","message":"x"}'), {"speaks_json": True}, None),
        (http(200, "{}"), {}, None),
        (Observation(operation="UpdateCustomKeyStore", transport_error="timeout"), {}, None),
    ],
)
def test_classifier(obs, kwargs, expected):
    evidence = classify_unimplemented(obs, operation="UpdateCustomKeyStore", **kwargs)
    if expected is None:
        assert evidence is None
    else:
        assert evidence and expected in evidence


def test_unknown_operation_for_an_unmodelled_target_is_the_right_answer():
    obs = http(400, '{"__type":"UnknownOperationException"}')
    assert classify_unimplemented(obs, operation=None) is None
    assert operation_of_target_header("TrentService.NoSuchThing") is None
    assert operation_of_target_header("Foo.UpdateCustomKeyStore") is None
    assert operation_of_target_header("TrentService.UpdateCustomKeyStore") == "UpdateCustomKeyStore"


def test_moto_in_process_exception():
    obs = Observation(operation="UpdateCustomKeyStore", error_code="NotImplementedError")
    evidence = classify_unimplemented(obs, operation="UpdateCustomKeyStore",
                                      exception=NotImplementedError("The update_custom_key_store action has not "
                                                                    "been implemented"))
    assert evidence.startswith("NotImplementedError: The update_custom_key_store")
