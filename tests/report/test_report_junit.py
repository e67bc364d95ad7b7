"""junit.xml read back with junitparser (a real JUnit parser) and ElementTree."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from junitparser import Error, Failure, JUnitXml, Skipped

from report_synthetic import case, synthetic_cases, write_run


def _cases(path):
    xml = JUnitXml.fromfile(str(path))
    return {tc.name: (suite, tc) for suite in xml for tc in suite}


def test_one_testcase_per_case_with_operation_as_classname(run_dir):
    got = _cases(run_dir / "junit.xml")
    expected = {c.id: c for c in synthetic_cases()}
    assert set(got) == set(expected)
    for name, (suite, tc) in got.items():
        assert tc.classname == expected[name].operation == suite.name


def test_verdicts_map_to_failure_error_skipped(run_dir):
    got = _cases(run_dir / "junit.xml")
    kinds = {}
    for name, (_, tc) in got.items():
        results = tc.result
        kinds[name] = type(results[0]).__name__ if results else "passed"
    assert kinds["UpdateCustomKeyStore/structural/KeyStorePassword-max+1"] == Failure.__name__
    assert kinds["DescribeCustomKeyStores/protocol/garbage"] == Error.__name__
    assert kinds["ConnectCustomKeyStore/scenario/inactive-cluster"] == Skipped.__name__
    assert kinds["ConnectCustomKeyStore/scenario/connecting"] == Skipped.__name__
    assert kinds["UpdateCustomKeyStore/structural/CustomKeyStoreId-max+1"] == "passed"  # NON_STRICT is not a failure
    assert kinds["UpdateCustomKeyStore/structural/CustomKeyStoreId-min-1"] == "passed"
    fail = got["UpdateCustomKeyStore/structural/KeyStorePassword-max+1"][1].result[0]
    assert fail.type == "FAIL"
    assert "expected 400 ValidationException, observed 200 success" in fail.message
    assert "reproduce: aws kms" in fail.text and "expected: 400 ValidationException" in fail.text


def test_suite_counts_add_up(run_dir):
    xml = JUnitXml.fromfile(str(run_dir / "junit.xml"))
    xml.update_statistics()
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (9, 2, 1, 2)
    root = ET.parse(run_dir / "junit.xml").getroot()
    assert root.tag == "testsuites" and root.get("tests") == "9" and root.get("failures") == "2"


def test_requirement_ids_are_testcase_properties(run_dir):
    root = ET.parse(run_dir / "junit.xml").getroot()
    tc = next(t for t in root.iter("testcase") if t.get("name") == "UpdateCustomKeyStore/structural/KeyStorePassword-max+1")
    reqs = [p.get("value") for p in tc.find("properties") if p.get("name") == "requirement"]
    assert reqs == ["UPD-001", "UPD-003"]


def test_expected_fail_is_skipped_and_unexpected_pass_is_failure(tmp_path):
    from conformance.report.junit import write_junit

    _, results = write_run(tmp_path, cases=[case("A/x/1", "EXPECTED_FAIL"), case("A/x/2", "UNEXPECTED_PASS"),
                                            case("A/x/3", "UNIMPLEMENTED")])
    got = _cases(write_junit(results, tmp_path / "j.xml"))
    assert isinstance(got["A/x/1"][1].result[0], Skipped)
    assert isinstance(got["A/x/2"][1].result[0], Failure)
    assert isinstance(got["A/x/3"][1].result[0], Skipped)


def test_control_characters_in_a_garbage_response_keep_the_xml_valid(tmp_path):
    from conformance.report.junit import write_junit

    c = case("A/protocol/garbage", "FAIL", detail="observed \x00\x07 bytes \x1b[31m")
    _, results = write_run(tmp_path, cases=[c])
    path = write_junit(results, tmp_path / "j.xml")
    assert _cases(path)["A/protocol/garbage"][1].result[0].message.startswith("FAIL: observed")


def test_blamed_requirements_are_properties_and_in_the_failure_text(tmp_path):
    import xml.etree.ElementTree as ET

    from report_synthetic import case
    from conformance.verdicts import Check, Verdict, requirement_blame

    failing = case("UpdateCustomKeyStore/scenario/b", "FAIL", reqs=("UPD-001", "UPD-002"))
    failing.blame = requirement_blame(failing.requirements, [
        Check("effect", Verdict.PASS, "unchanged", ("UPD-001",)),
        Check("code", Verdict.FAIL, "observed 200 while CONNECTED", ("UPD-002",))])
    write_run(tmp_path, cases=[failing])
    tc = ET.parse(tmp_path / "run" / "junit.xml").getroot().find(".//testcase")
    blamed = [p.get("value") for p in tc.iter("property") if p.get("name") == "blamed"]
    assert blamed == ["UPD-002 FAIL"]
    text = tc.find("failure").text
    assert "blame: UPD-002 FAIL (code: observed 200 while CONNECTED)" in text and "blame: UPD-001 PASS" in text
