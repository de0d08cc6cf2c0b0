"""Inspector, Macie and Systems Manager on the wire: moto for Inspector activation per Region (partly on in one,
never enabled in the other), Macie sessions, SSM documents (private, shared, public) and
parameters; recorded responses where moto does not serve the call (Macie automated discovery, SSM compliance
summaries and service settings) — each of which must ERROR on moto, never pass."""

from __future__ import annotations

import json

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

REGIONS = ("us-east-1", "eu-west-1")
DOC = {
    "schemaVersion": "2.2",
    "description": "deploy",
    "mainSteps": [{"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["echo"]}}],
}


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    moto_server.boto3_client("inspector2").enable(accountIds=[ACCOUNT_ID], resourceTypes=["EC2", "ECR"])
    for region in REGIONS:
        moto_server.boto3_client("ecr", region).create_repository(repositoryName=f"app-{region}")
    moto_server.boto3_client("macie2").enable_macie()
    ssm = moto_server.boto3_client("ssm")
    for name in ("private-doc", "partner-doc", "public-doc"):
        ssm.create_document(Content=json.dumps(DOC), Name=name, DocumentType="Command")
    ssm.modify_document_permission(Name="partner-doc", PermissionType="Share", AccountIdsToAdd=["210987654321"])
    ssm.modify_document_permission(Name="public-doc", PermissionType="Share", AccountIdsToAdd=["all"])
    ssm.put_parameter(Name="/orders/db_password", Value="plaintext-not-kept", Type="String")
    ssm.put_parameter(Name="/orders/api_token", Value="secure-not-kept", Type="SecureString")
    ssm.put_parameter(Name="/orders/db_password_arn", Value="arn:aws:secretsmanager:...", Type="String")
    return collect_moto(moto_server, ["inspector2", "macie2", "ssm"], regions=REGIONS)


def test_inspector_per_region(estate: Estate) -> None:
    v = estate.verdicts(
        ["inspector2_is_enabled", "inspector2_ecr_scanning_enabled", "inspector2_lambda_standard_scanning_enabled"]
    )
    # moto answers no account status where Inspector was never enabled (AWS answers DISABLED): an error, not a pass
    # EC2 and ECR on, Lambda off: not enabled for every resource type
    assert (v[("inspector2_is_enabled", "us-east-1")], v[("inspector2_is_enabled", "eu-west-1")]) == ("fail", "error")
    assert v[("inspector2_ecr_scanning_enabled", "us-east-1")] == "pass"
    assert v[("inspector2_lambda_standard_scanning_enabled", "us-east-1")] == "fail"
    on = estate.one("aws.inspector2.region", "us-east-1")
    assert on.attributes["Findings"] == {"HasActive": False, "OldestFirstObservedAt": None, "HasActiveCritical": False}
    assert ("aws.inspector2.region", "Account") in estate.errors()


def test_recorded_inspector_findings() -> None:
    e, aws = collect_fixture("inspector2", "inspector2")
    assert aws.unanswered == []
    region = e.one("aws.inspector2.region", "us-east-1")
    assert region.attributes["Findings"] == {
        "HasActive": True,
        "OldestFirstObservedAt": "2025-06-01T00:00:00.000Z",
        "HasActiveCritical": False,  # the active finding is HIGH
    }
    pols = [
        "inspector2_is_enabled",
        "inspector2_active_findings_exist",
        "inspector2_active_findings_within_max_age",
        "inspector2_lambda_code_scanning_enabled",
        "inspector2_ec2_scanning_enabled",
        "inspector2_no_active_critical_findings",
    ]
    v = e.verdicts(pols)
    assert {p: v[(p, "us-east-1")] for p in pols} == {
        "inspector2_is_enabled": "fail",  # Lambda code scanning off
        "inspector2_active_findings_exist": "fail",
        "inspector2_active_findings_within_max_age": "fail",  # first observed 2025-06-01, more than 192 days ago
        "inspector2_lambda_code_scanning_enabled": "fail",
        "inspector2_ec2_scanning_enabled": "pass",
        "inspector2_no_active_critical_findings": "pass",
    }


def test_macie_per_region(estate: Estate) -> None:
    v = estate.verdicts(["macie_is_enabled", "macie_automated_sensitive_data_discovery_enabled"])
    assert v[("macie_is_enabled", "us-east-1")] == "pass"
    # moto does not serve GetAutomatedDiscoveryConfiguration: an error where Macie is on, never a pass
    assert v[("macie_automated_sensitive_data_discovery_enabled", "us-east-1")] == "error"


def test_ssm_documents_and_parameters(estate: Estate) -> None:
    assert "plaintext-not-kept" not in repr(estate.snaps) and "secure-not-kept" not in repr(estate.snaps)
    docs = ("private-doc", "partner-doc", "public-doc")
    v = estate.verdicts(["ssm_documents_set_as_public", "ssm_document_not_public"])
    assert tuple(v[("ssm_documents_set_as_public", d)] for d in docs) == ("pass", "fail", "fail")
    assert tuple(v[("ssm_document_not_public", d)] for d in docs) == ("pass", "pass", "fail")
    p = "ssm_parameter_secret_is_secure_string"
    v = estate.verdicts([p])
    params = ("/orders/db_password", "/orders/api_token", "/orders/db_password_arn")
    assert tuple(v[(p, n)] for n in params) == ("fail", "pass", "pass")
    assert ("aws.ssm.region", "PublicSharingPermission") in estate.errors()


def test_recorded_ssm_compliance_and_sharing_setting() -> None:
    e, aws = collect_fixture("ssm", "ssm")
    assert aws.unanswered == []
    instance = e.one("aws.ssm.managed_instance", "i-0patched000000000")
    assert instance.arn == f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:instance/i-0patched000000000"
    assert (
        e.one("aws.ssm.managed_instance", "mi-0onprem00000000").arn
        == f"arn:aws:ssm:us-east-1:{ACCOUNT_ID}:managed-instance/mi-0onprem00000000"
    )
    v = e.verdicts(
        [
            "ssm_managed_instance_patch_compliant",
            "ssm_managed_instance_association_compliant",
            "ssm_document_public_sharing_blocked",
        ]
    )
    assert (
        v[("ssm_managed_instance_patch_compliant", "i-0patched000000000")],
        v[("ssm_managed_instance_patch_compliant", "mi-0onprem00000000")],
    ) == ("pass", "fail")
    assert v[("ssm_managed_instance_association_compliant", "i-0patched000000000")] == "fail"
    assert v[("ssm_document_public_sharing_blocked", "us-east-1")] == "fail"


def test_recorded_macie_not_enabled() -> None:
    from cspm_stream.testing.recorded import Exchange, collect_recorded, load_dir
    from tests.unit.collect.breadth_util import RECORDED

    exchanges = [x for x in load_dir(RECORDED / "macie2") if x.operation != "GetMacieSession"]
    exchanges.insert(
        0,
        Exchange(
            "macie2",
            "GetMacieSession",
            error={"Code": "AccessDeniedException", "Message": "Macie is not enabled."},
            status=403,
        ),
    )
    import asyncio

    snaps, _ = asyncio.run(collect_recorded("macie2", exchanges))
    e = Estate(snaps)
    assert e.one("aws.macie2.region", "us-east-1").attributes["Session"] == {"status": "DISABLED"}
    v = e.verdicts(["macie_is_enabled", "macie_automated_sensitive_data_discovery_enabled"])
    assert (
        v[("macie_is_enabled", "us-east-1")],
        v[("macie_automated_sensitive_data_discovery_enabled", "us-east-1")],
    ) == ("fail", "pass")
    # any other access denial is an error, never "disabled"
    exchanges[0] = Exchange(
        "macie2",
        "GetMacieSession",
        error={"Code": "AccessDeniedException", "Message": "User is not authorized"},
        status=403,
    )
    snaps, _ = asyncio.run(collect_recorded("macie2", exchanges))
    assert Estate(snaps).verdicts(["macie_is_enabled"])[("macie_is_enabled", "us-east-1")] == "error"


def test_recorded_macie_discovery() -> None:
    e, aws = collect_fixture("macie2", "macie2")
    assert aws.unanswered == []
    v = e.verdicts(["macie_automated_sensitive_data_discovery_enabled", "macie_is_enabled"])
    assert v[("macie_automated_sensitive_data_discovery_enabled", "us-east-1")] == "fail"
    assert v[("macie_is_enabled", "us-east-1")] == "pass"
