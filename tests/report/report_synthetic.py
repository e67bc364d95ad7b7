"""Synthetic runs for the report tests: CaseResults built by hand, so no runner or target is needed."""

from __future__ import annotations

from types import SimpleNamespace

from conformance.steps import CaseResult, Expected, Step
from conformance.observation import Observation
from conformance.redact import register_secret
from conformance.verdicts import Verdict

# Distinctive values the secret-grep test looks for in every written file.
SECRET_PASSWORD = "Pa55-word-H5a-never-written"
SECRET_CONFIG_VALUE = "cfg-secret-H5a-9f8e7d6c"
SHORT_PASSWORD = "q"  # too short to register as a value: must still be blanked via the key

REQUIREMENTS = [
    SimpleNamespace(id="UPD-001", title="Update validates CustomKeyStoreId length", operation="UpdateCustomKeyStore",
                    level="MUST", editions=("current", "2019-12"), source="seed"),
    SimpleNamespace(id="UPD-002", title="Update requires DISCONNECTED to change the password",
                    operation="UpdateCustomKeyStore", level="MUST", editions=("current", "2019-12"), source="seed"),
    SimpleNamespace(id="UPD-003", title="Update message lists every violation", operation="UpdateCustomKeyStore",
                    level="SHOULD", editions=("current",), source="facts"),
    SimpleNamespace(id="DES-001", title="Describe returns an empty list for no stores",
                    operation="DescribeCustomKeyStores", level="MUST", editions=("current", "2019-12"), source="seed"),
    SimpleNamespace(id="CON-001", title="Connect needs an active cluster", operation="ConnectCustomKeyStore",
                    level="MUST", editions=("current", "2019-12"), source="seed"),
    SimpleNamespace(id="DEL-009", title="Delete requires no KMS keys", operation="DeleteCustomKeyStore",
                    level="MUST", editions=("2019-12",), source="seed"),
]

META = {
    "target": {"name": "synthetic", "adapter": "reference", "version": "0.1.0", "endpoint": None},
    "edition": "current",
    "strictness": "regex",
    "suite_version": "0.1.0",
    "seed": 7,
    "started": "2026-11-29T14:00:00Z",
}


def _obs(status=400, code="ValidationException", message="bad", body=None, **kw):
    if body is None and code:
        body = {"__type": code, "message": message}
    return Observation(operation="UpdateCustomKeyStore", status=status, error_code=code, message=message,
                       body=body if body is not None else {}, raw_body="", **kw).to_dict()


def case(id, verdict, *, operation=None, reqs=("UPD-001",), password=None, observed=None,
         expected=None, detail=None, steps=(), kind="structural"):
    operation = operation or id.split("/")[0]
    request = {"operation": operation, "params": {"CustomKeyStoreId": "cks-1234567890abcdef0"}}
    if password is not None:
        request["params"]["KeyStorePassword"] = password
    reproduce = f"aws kms {operation.lower()} --custom-key-store-id cks-1234567890abcdef0"
    if password is not None:
        reproduce += f" --key-store-password '{password}'"
    return CaseResult(
        id=id, operation=operation, kind=kind, requirements=list(reqs), verdict=Verdict(verdict),
        title=f"title of {id}", request=request,
        expected=(expected or Expected(status=400, error_code="ValidationException", message="bad")).to_dict(),
        observed=observed or _obs(),
        detail=detail or f"{verdict}: expected 400 ValidationException, observed something",
        reproduce=reproduce, steps=list(steps), duration_s=0.01,
    )


def synthetic_cases():
    """A run with every interesting verdict, multi-step scenarios and secrets in requests."""
    register_secret(SECRET_CONFIG_VALUE)
    connect_steps = [
        Step(label="describe before", request={"operation": "DescribeCustomKeyStores", "params": {}},
             observed=_obs(200, None, None, body={"CustomKeyStores": []}), verdict="PASS"),
        Step(label=f"update password (config {SECRET_CONFIG_VALUE})",
             request={"operation": "UpdateCustomKeyStore",
                      "params": {"CustomKeyStoreId": "cks-1", "KeyStorePassword": SECRET_PASSWORD}},
             observed=_obs(400, "CustomKeyStoreInvalidStateException", "store is CONNECTED"),
             expected=Expected(status=400, error_code="CustomKeyStoreInvalidStateException").to_dict(),
             verdict="FAIL"),
    ]
    return [
        case("UpdateCustomKeyStore/structural/CustomKeyStoreId-min-1", "PASS"),
        case("UpdateCustomKeyStore/structural/CustomKeyStoreId-max+1", "NON_STRICT",
             observed=_obs(message="<script>alert('x')</script><img src=x onerror=\"window.__pwned=1\"> different text")),
        case("UpdateCustomKeyStore/structural/KeyStorePassword-max+1", "FAIL", reqs=("UPD-001", "UPD-003"),
             password=SECRET_PASSWORD,
             observed=_obs(200, None, None, body={}),
             detail="expected 400 ValidationException, observed 200 success"),
        case("UpdateCustomKeyStore/structural/KeyStorePassword-min", "PASS", password=SHORT_PASSWORD),
        case("UpdateCustomKeyStore/scenario/password-needs-disconnected", "FAIL", reqs=("UPD-002",), kind="scenario",
             steps=connect_steps, password=SECRET_PASSWORD),
        case("DescribeCustomKeyStores/protocol/empty-body", "PASS", operation="DescribeCustomKeyStores",
             reqs=("DES-001",), kind="protocol", observed=_obs(200, None, None, body={"CustomKeyStores": []})),
        case("DescribeCustomKeyStores/protocol/garbage", "ERROR", operation="DescribeCustomKeyStores",
             reqs=("DES-001",), kind="protocol",
             observed=Observation(status=None, transport_error="timed out after 30s").to_dict(),
             detail="no response: timed out after 30s"),
        case("ConnectCustomKeyStore/scenario/inactive-cluster", "SKIPPED", operation="ConnectCustomKeyStore",
             reqs=("CON-001",), kind="scenario", detail="world role 'inactive_cluster_id' is not configured"),
        case("ConnectCustomKeyStore/scenario/connecting", "NOT_TRIGGERABLE", operation="ConnectCustomKeyStore",
             reqs=("CON-001",), kind="scenario", detail="connect is instant on this target"),
    ]


def write_run(tmp_path, cases=None, name="run", meta=None, finish=True):
    from conformance.report.render import render_results
    from conformance.report.results import ResultsWriter

    writer = ResultsWriter(tmp_path / name, dict(meta or META), REQUIREMENTS)
    for c in cases if cases is not None else synthetic_cases():
        writer.add(c)
    if not finish:
        return writer, writer.results()
    results = writer.finish()
    render_results(results, writer.report_dir)  # what the runner does after a run
    return writer, results


