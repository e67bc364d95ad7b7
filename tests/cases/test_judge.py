"""judge(): the one place verdicts are decided, at each strictness."""

import json

import pytest

from conformance.steps import Expected
from conformance.observation import Observation
from conformance.verdicts import Verdict, judge

JSON = {"content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "r-1"}


def wire(status, body, headers=JSON):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Observation.from_http(operation="UpdateCustomKeyStore", status=status, headers=dict(headers), raw=raw, latency_s=0.01)


def err(code, message=None, status=400):
    body = {"__type": code}
    if message is not None:
        body["message"] = message
    return wire(status, body)


MSG = "1 validation error detected: Value at 'keyStorePassword' failed to satisfy constraint: Member must have length greater than or equal to 7"
VALIDATION = Expected(status=400, error_code="ValidationException", message=MSG, message_pattern=None)


@pytest.mark.parametrize("strictness", ["code", "regex", "exact"])
def test_exact_match_passes_at_every_strictness(strictness):
    assert judge(VALIDATION, err("ValidationException", MSG), strictness)[0] is Verdict.PASS


def test_other_message_is_non_strict_below_exact_and_fail_at_exact():
    obs = err("ValidationException", "keyStorePassword is too short")
    assert judge(VALIDATION, obs, "code")[0] is Verdict.PASS
    verdict, detail = judge(VALIDATION, obs, "regex")
    assert verdict is Verdict.NON_STRICT
    assert "keyStorePassword is too short" in detail and "message differs" in detail
    assert judge(VALIDATION, obs, "exact")[0] is Verdict.FAIL


def test_wrong_code_fails_with_one_readable_line():
    verdict, detail = judge(Expected(status=400, error_code="ValidationException"), err("CustomKeyStoreNotFoundException"), "code")
    assert verdict is Verdict.FAIL
    assert detail == "expected 400 ValidationException, observed 400 CustomKeyStoreNotFoundException"
    assert "\n" not in detail


def test_wrong_status_with_right_code_fails():
    verdict, detail = judge(Expected(status=400, error_code="CustomKeyStoreNotFoundException"), err("CustomKeyStoreNotFoundException", status=404), "code")
    assert verdict is Verdict.FAIL and "observed 404" in detail


def test_should_level_difference_is_non_strict():
    exp = Expected(status=400, error_code="SerializationException", level="SHOULD")
    assert judge(exp, err("ValidationException"), "exact")[0] is Verdict.NON_STRICT


def test_should_level_refusal_answered_with_success_or_5xx_fails():
    exp = Expected(status=400, error_code="UnknownOperationException", level="SHOULD")
    verdict, detail = judge(exp, wire(200, {}), "code")
    assert verdict is Verdict.FAIL and "must be refused" in detail
    verdict, detail = judge(exp, err("InternalFailure", status=500), "code")
    assert verdict is Verdict.FAIL and "client error (4xx)" in detail
    # another 4xx is only the SHOULD differing
    assert judge(exp, err("ValidationException"), "code")[0] is Verdict.NON_STRICT
    # when success is an acceptable alternative, success is not a broken refusal
    lenient = Expected(status=400, error_code="SerializationException", level="SHOULD",
                       alternatives=[Expected(status=200)])
    assert judge(lenient, wire(200, {}), "code")[0] is Verdict.PASS


def test_regex_uses_message_pattern_and_namespaced_type_is_sanitised():
    exp = Expected(status=400, error_code="InvalidSignatureException", message_pattern=r"Signature expired: .*")
    obs = wire(400, {"__type": "com.amazon.coral.service#InvalidSignatureException", "message": "Signature expired: 2020 is now earlier than 2021"})
    assert judge(exp, obs, "regex")[0] is Verdict.PASS
    assert judge(exp, err("InvalidSignatureException", "bad"), "regex")[0] is Verdict.NON_STRICT
    # exact with no exact text known falls back to the pattern
    assert judge(exp, err("InvalidSignatureException", "bad"), "exact")[0] is Verdict.FAIL


def test_unordered_sets_compare_as_sets_at_exact():
    m1 = "1 validation error detected: Value 'x' at 'customKeyStoreType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_CLOUDHSM, EXTERNAL_KEY_STORE]"
    m2 = m1.replace("[AWS_CLOUDHSM, EXTERNAL_KEY_STORE]", "[EXTERNAL_KEY_STORE, AWS_CLOUDHSM]")
    exp = Expected(status=400, error_code="ValidationException", message=m1, message_unordered=True)
    assert judge(exp, err("ValidationException", m2), "exact")[0] is Verdict.PASS
    exp.message_unordered = False
    assert judge(exp, err("ValidationException", m2), "exact")[0] is Verdict.FAIL
    # several violations in another order
    a, b = "Value null at 'a' failed to satisfy constraint: Member must not be null", "Value null at 'b' failed to satisfy constraint: Member must not be null"
    exp = Expected(status=400, error_code="ValidationException", message=f"2 validation errors detected: {a}; {b}", message_unordered=True)
    assert judge(exp, err("ValidationException", f"2 validation errors detected: {b}; {a}"), "exact")[0] is Verdict.PASS
    assert judge(exp, err("ValidationException", f"2 validation errors detected: {b}; {b}"), "exact")[0] is Verdict.FAIL


def test_unimplemented_and_transport_error():
    obs = Observation(operation="UpdateCustomKeyStore", status=500, raw_body="<html>NotImplemented</html>", unimplemented=True)
    assert judge(VALIDATION, obs, "code")[0] is Verdict.UNIMPLEMENTED
    verdict, detail = judge(VALIDATION, Observation(transport_error="timed out after 30 s"), "code")
    assert verdict is Verdict.ERROR and "timed out" in detail


@pytest.mark.parametrize("raw", [b"<html><body>Internal error</body></html>", b'{"__type": "Validation', b"OK"])
def test_non_json_where_json_was_due_fails_with_what_was_received(raw):
    obs = wire(400, raw)
    verdict, detail = judge(Expected(status=400, error_code="ValidationException"), obs, "code")
    assert verdict is Verdict.FAIL
    assert "non-JSON" in detail and raw.decode()[:10] in detail
    verdict, detail = judge(Expected(status=200), wire(200, raw), "code")
    assert verdict is Verdict.FAIL and "non-JSON" in detail


def test_success_expectations():
    assert judge(Expected(status=200), wire(200, b""), "exact")[0] is Verdict.PASS  # empty body = {}
    assert judge(Expected(status=200), wire(200, {}), "exact")[0] is Verdict.PASS
    assert judge(Expected(status=200), wire(200, []), "exact")[0] is Verdict.FAIL
    assert judge(Expected(status=200), err("ValidationException"), "code")[0] is Verdict.FAIL
    exp = Expected(status=200, body={"CustomKeyStores": "*", "Truncated": False})
    assert judge(exp, wire(200, {"CustomKeyStores": [], "Truncated": False}), "code")[0] is Verdict.PASS
    verdict, detail = judge(exp, wire(200, {"Truncated": False}), "code")
    assert verdict is Verdict.FAIL and "CustomKeyStores" in detail


def test_alternatives_are_accepted_and_named_on_failure():
    exp = Expected(status=400, error_code="CustomKeyStoreNotFoundException", alternatives=[Expected(status=400, error_code="InvalidMarkerException")])
    assert judge(exp, err("InvalidMarkerException"), "exact")[0] is Verdict.PASS
    verdict, detail = judge(exp, err("ValidationException"), "code")
    assert verdict is Verdict.FAIL and "also acceptable: 400 InvalidMarkerException" in detail


def test_wildcard_error_and_headers():
    anyerr = Expected(status=None, error_code="*")
    assert judge(anyerr, wire(404, b"not found", {}), "exact")[0] is Verdict.PASS
    assert judge(anyerr, err("UnknownOperationException"), "exact")[0] is Verdict.PASS
    assert judge(anyerr, wire(500, {"__type": "InternalFailure"}), "code")[0] is Verdict.FAIL
    assert judge(anyerr, wire(200, {}), "code")[0] is Verdict.FAIL
    hdr = Expected(status=200, headers={"content-type": "application/x-amz-json-1.1", "x-amzn-requestid": None})
    assert judge(hdr, wire(200, {}, {"Content-Type": "application/x-amz-json-1.1; charset=utf-8", "x-amzn-RequestId": "a"}), "code")[0] is Verdict.PASS
    verdict, detail = judge(hdr, wire(200, {}, {"Content-Type": "application/json"}), "code")
    assert verdict is Verdict.FAIL and "content-type" in detail and "x-amzn-requestid missing" in detail


def test_error_body_subset_requires_type_key():
    exp = Expected(status=400, error_code="CustomKeyStoreNotFoundException", body={"__type": "*"})
    assert judge(exp, err("CustomKeyStoreNotFoundException"), "code")[0] is Verdict.PASS
    assert judge(exp, wire(400, {"code": "CustomKeyStoreNotFoundException"}), "code")[0] is Verdict.FAIL


def test_bad_strictness_is_rejected():
    with pytest.raises(ValueError):
        judge(VALIDATION, err("ValidationException"), "loose")


# --- how a case's verdict comes about: the kernel's steps and run_case ---------------------------

from conformance.abilities import Abilities  # noqa: E402
from conformance.cases.base import Case, CaseContext  # noqa: E402
from conformance.errors import MissingRole, NotTriggerable, SetupFailed, Unimplemented  # noqa: E402
from conformance.targets.base import Capabilities, Identity, Target  # noqa: E402
from conformance.world import World  # noqa: E402
from conformance.cases.kernel import run_case  # noqa: E402


class Scripted(Target):
    """Answers calls from a script of observations."""

    def __init__(self, answers=(), unimplemented=None, world=None):
        self.identity = Identity(name="scripted", adapter="test", endpoint="http://127.0.0.1:9")
        self.world = world or World()
        self.capabilities = Capabilities(unimplemented=dict(unimplemented or {}))
        self.abilities = Abilities()
        self.answers = list(answers)
        self.calls = []

    def call(self, operation, params=None, *, service="kms"):
        self.calls.append(operation)
        return self.answers.pop(0)

    def send_raw(self, body, **kw):
        self.calls.append(kw.get("amz_target"))
        return self.answers.pop(0)


def ctx_for(target, strictness="code"):
    return CaseContext(target=target, edition="current", strictness=strictness, seed=0, driver=None, model=None)


def mkcase(run, **kw):
    return Case(id="UpdateCustomKeyStore/scenario/x", operation="UpdateCustomKeyStore", kind="scenario",
                requirements=("UPD-001",), title="x", run=run, **kw)


def test_multi_step_case_takes_the_worst_step_and_shows_it():
    target = Scripted([wire(200, {}), err("ValidationException", "other text"), err("CustomKeyStoreNotFoundException")])

    def run(rec):
        rec.judge(Expected(status=200), rec.call("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-1"}))
        rec.judge(VALIDATION, rec.call("UpdateCustomKeyStore", {"CustomKeyStoreId": ""}))
        rec.judge(Expected(status=400, error_code="ValidationException"), rec.call("DescribeCustomKeyStores", {}, label="describe"))

    case = mkcase(run)
    result = run_case(case, ctx_for(target, "regex"))
    assert result.verdict is Verdict.FAIL
    assert result.detail.startswith("describe: expected 400 ValidationException, observed 400 CustomKeyStoreNotFoundException")
    assert [s.verdict for s in result.steps] == ["PASS", "NON_STRICT", "FAIL"]
    assert result.observed["error_code"] == "CustomKeyStoreNotFoundException"
    # several steps: the request alone would not reproduce it, the case run does
    assert result.reproduce == "kms-conformance run --case UpdateCustomKeyStore/scenario/x"


def raises(exc):
    def run(rec):
        raise exc
    return run


def test_run_case_maps_every_way_a_case_cannot_be_judged_by_class():
    target = Scripted()
    assert run_case(mkcase(raises(MissingRole("related_cluster_id"))), ctx_for(target)).verdict is Verdict.SKIPPED
    r = run_case(mkcase(raises(NotTriggerable("connects are instant here"))), ctx_for(target))
    assert r.verdict is Verdict.NOT_TRIGGERABLE and r.detail == "connects are instant here"
    r = run_case(mkcase(raises(Unimplemented("UpdateCustomKeyStore", "HTML 500"))), ctx_for(target))
    assert r.verdict is Verdict.UNIMPLEMENTED and r.detail == "target does not implement UpdateCustomKeyStore: HTML 500"
    r = run_case(mkcase(raises(SetupFailed("setup: the store did not connect"))), ctx_for(target))
    assert r.verdict is Verdict.ERROR and r.detail == "setup: the store did not connect"
    r = run_case(mkcase(raises(KeyError("boom"))), ctx_for(target))
    assert r.verdict is Verdict.ERROR and r.detail.startswith("harness error: KeyError: 'boom' (at test_judge.py:")
    with pytest.raises(KeyboardInterrupt):
        run_case(mkcase(raises(KeyboardInterrupt())), ctx_for(target))


def test_an_exception_that_only_shares_a_name_is_a_harness_crash():
    """Outcomes are matched by class, never by name: a look-alike NotTriggerable is not one."""

    class NotTriggerable(Exception):  # noqa: N818 - the point is the name
        pass

    r = run_case(mkcase(raises(NotTriggerable("connects are instant here"))), ctx_for(Scripted()))
    assert r.verdict is Verdict.ERROR and r.detail.startswith("harness error: NotTriggerable")


def test_an_outcome_after_checks_takes_the_worst_unless_the_case_could_not_run():
    def run_then(exc):
        def run(rec):
            rec.judge(Expected(status=400, error_code="ValidationException"), rec.call("UpdateCustomKeyStore", {}))
            raise exc
        return run

    fail = err("CustomKeyStoreNotFoundException")
    r = run_case(mkcase(run_then(NotTriggerable("later step not showable"))), ctx_for(Scripted([fail])))
    assert r.verdict is Verdict.FAIL and "CustomKeyStoreNotFoundException" in r.detail
    r = run_case(mkcase(run_then(MissingRole("related_cluster_id"))), ctx_for(Scripted([fail])))
    assert r.verdict is Verdict.SKIPPED


def test_precheck_unimplemented_and_missing_roles_make_no_call():
    target = Scripted(unimplemented={"UpdateCustomKeyStore": "HTML 500"})
    r = run_case(mkcase(lambda rec: 1 / 0), ctx_for(target))
    assert r.verdict is Verdict.UNIMPLEMENTED and "HTML 500" in r.detail and target.calls == []
    target = Scripted(world=World(active_cluster_id="cluster-abc"))
    r = run_case(mkcase(lambda rec: 1 / 0, needs_roles=("active_cluster_id", "unrelated_cluster_id")), ctx_for(target))
    assert r.verdict is Verdict.SKIPPED and "unrelated_cluster_id" in r.detail and "active_cluster_id'" not in r.detail


def test_a_response_quoting_a_secret_of_the_request_fails_at_any_strictness():
    from conformance.redact import request_strings

    request = {"via": "boto3", "operation": "UpdateCustomKeyStore",
               "params": {"CustomKeyStoreId": "cks-1", "KeyStorePassword": "hunter22"}}
    assert request_strings(request)[0] == ["hunter22"]
    exp = Expected(status=400, error_code="ValidationException",
                   message="1 validation error detected: Value at 'keyStorePassword' failed to satisfy constraint: x")
    leaked = err("ValidationException", "1 validation error detected: Value 'hunter22' at 'keyStorePassword' failed")
    for strictness in ("code", "regex", "exact"):
        verdict, detail = judge(exp, leaked, strictness, request=request)
        assert verdict is Verdict.FAIL and "quotes a secret" in detail
        assert "hunter22" not in detail
    # raw wire requests: the secret sits in the JSON body
    raw = {"via": "wire", "body": '{"KeyStorePassword": "hunter22", "CustomKeyStoreId": "cks-1"}'}
    assert request_strings(raw)[0] == ["hunter22"]
    # short values are not tracked (they occur anywhere by chance)
    assert request_strings({"params": {"KeyStorePassword": "x"}})[0] == []


def test_a_public_value_that_contains_the_secret_is_not_a_leak():
    request = {"params": {"CustomKeyStoreName": "0000000000", "KeyStorePassword": "0000"}}
    echoed_name = err("ValidationException", "Value '0000000000' at 'customKeyStoreName' failed")
    exp = Expected(status=400, error_code="ValidationException")
    assert judge(exp, echoed_name, "code", request=request)[0] is Verdict.PASS
    both = err("ValidationException", "Value '0000000000' at 'customKeyStoreName'; Value '0000' at 'keyStorePassword'")
    assert judge(exp, both, "code", request=request)[0] is Verdict.FAIL


def test_each_check_cites_what_it_checks():
    """Blame: a difference only in a protocol or message rule cites that rule; the rest of the answer,
    judged as expected, cites the case's requirements."""
    from conformance.verdicts import judge_checks

    def cited(expected, obs, strictness="regex"):
        return [(c.name, c.verdict.value, c.requirements) for c in
                judge_checks(expected, obs, strictness, requirements=("DES-004",))]

    not_found = Expected(status=400, error_code="CustomKeyStoreNotFoundException")
    assert cited(not_found, err("CustomKeyStoreNotFoundException", status=404)) == [
        ("code", "PASS", ("DES-004",)), ("status", "FAIL", ("PROTO-005",))]
    assert cited(not_found, err("ValidationException")) == [("code", "FAIL", ("DES-004",))]
    headers = Expected(status=400, error_code="CustomKeyStoreNotFoundException",
                       headers={"content-type": "application/x-amz-json-1.1"})
    json_ct = wire(400, {"__type": "CustomKeyStoreNotFoundException"}, headers={"content-type": "application/json"})
    assert cited(headers, json_ct)[-1] == ("headers", "FAIL", ("PROTO-003",))
    validation = Expected(status=400, error_code="ValidationException", message="1 validation error detected: x")
    assert cited(validation, err("ValidationException", "1 validation error detected: X"))[-1] == (
        "message", "NON_STRICT", ("VAL-001",))
    should = Expected(status=400, error_code="UnknownOperationException", level="SHOULD")
    assert cited(should, wire(200, {}))[-1] == ("refusal", "FAIL", ("DES-004",))
    assert cited(should, err("InternalFailure", status=500))[-1] == ("refusal", "FAIL", ("PROTO-005",))
    # A wrong code blames `failing` (a member's own bound), plus the validation order rule on an existence answer.
    invalid = Expected(status=400, error_code="ValidationException")
    checks = judge_checks(invalid, err("CustomKeyStoreNotFoundException"), "code",
                          requirements=("UPD-021", "VAL-001", "VAL-009"), failing=("UPD-021",))
    assert checks[-1].requirements == ("UPD-021", "VAL-009")


def test_a_validation_message_quoting_a_sensitive_value_blames_val_004():
    from conformance.verdicts import judge_checks

    exp = Expected(status=400, error_code="ValidationException",
                   message="1 validation error detected: Value at 'keyStorePassword' failed to satisfy constraint: "
                           "Member must have length greater than or equal to 7")
    leaked = err("ValidationException", "1 validation error detected: Value 'abc' at 'keyStorePassword' failed to "
                 "satisfy constraint: Member must have length greater than or equal to 7")
    assert judge_checks(exp, leaked, "regex", requirements=("UPD-023",))[-1].requirements == ("VAL-004",)
    other = err("ValidationException", "1 validation error detected: Value at 'KeyStorePassword' failed")
    assert judge_checks(exp, other, "regex", requirements=("UPD-023",))[-1].requirements == ("VAL-001",)
