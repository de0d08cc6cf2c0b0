"""Normalisers: Security Hub (ASFF), GuardDuty and Access Analyzer findings → ExternalFinding."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from cspm_stream.errors import DecodeError
from cspm_stream.external import model as m
from cspm_stream.external._common import subject_of_arn, subject_of_principal
from cspm_stream.external.accessanalyzer import from_access_analyzer
from cspm_stream.external.asff import control_id, from_asff, guardduty_type
from cspm_stream.external.guardduty import from_guardduty
from cspm_stream.external.mapping import Equivalents
from cspm_stream.models.enums import Severity
from cspm_stream.testing.recorded import load_exchanges, validate
from tests.unit.external import samples as s

DATA = Path(__file__).resolve().parents[2] / "data" / "recorded" / "external"


def _response(name: str, operation: str, analyzer: str | None = None) -> dict[str, Any]:
    for ex in load_exchanges(DATA / f"{name}.json"):
        if ex.operation == operation and (analyzer is None or ex.params.get("analyzerArn") == analyzer):
            return dict(ex.response or {})
    raise AssertionError(f"no {operation} in {name}")


def test_samples_have_security_hub_shapes() -> None:
    findings = [
        s.control("S3.8", "arn:aws:s3:::b", "AwsS3Bucket"),
        s.inspector_cve(),
        s.guardduty_via_hub(),
    ]
    assert validate("securityhub", "GetFindings", {"Findings": findings}) == []


# ---------------------------------------------------------------- Security Hub controls


def test_failed_control_on_a_bucket_is_our_policy_on_the_same_arn(eq: Equivalents) -> None:
    ext = from_asff(s.control("S3.8", "arn:aws:s3:::reports", "AwsS3Bucket"), eq=eq)
    assert ext.kind == m.COMPLIANCE
    assert (ext.product, ext.control, ext.verdict) == (m.SECURITYHUB, "S3.8", "fail")
    assert ext.policy_id == "s3_bucket_public_access_block"
    assert ext.resource_arn == "arn:aws:s3:::reports"
    assert ext.severity == Severity.HIGH
    assert ext.product_name == "AWS Security Hub"


@pytest.mark.parametrize(
    ("status", "record", "workflow", "verdict", "suppressed"),
    [
        ("PASSED", "ACTIVE", "RESOLVED", "pass", False),
        ("PASSED", "ACTIVE", "NEW", "pass", False),
        ("NOT_AVAILABLE", "ACTIVE", "NEW", "error", False),
        ("WARNING", "ACTIVE", "NEW", "error", False),
        ("FAILED", "ARCHIVED", "NEW", "pass", False),  # resource gone or control disabled
        ("FAILED", "ACTIVE", "SUPPRESSED", "fail", True),
        ("FAILED", "ACTIVE", "NOTIFIED", "fail", False),
    ],
)
def test_control_verdicts(status: str, record: str, workflow: str, verdict: str, suppressed: bool) -> None:
    f = s.control("EC2.19", "arn:aws:ec2:us-east-1:123456789012:security-group/sg-1", "AwsEc2SecurityGroup", status)
    f["RecordState"], f["Workflow"]["Status"] = record, workflow
    ext = from_asff(f)
    assert (ext.verdict, ext.suppressed) == (verdict, suppressed)


def test_control_without_a_compliance_status_is_an_error_never_a_pass() -> None:
    f = s.control("EC2.19", "arn:aws:ec2:us-east-1:123456789012:security-group/sg-1", "AwsEc2SecurityGroup")
    del f["Compliance"]["Status"]
    assert from_asff(f).verdict == "error"


def test_account_level_controls_use_our_collectors_arn(eq: Equivalents) -> None:
    s3 = from_asff(s.control("S3.1", "AWS::::Account:123456789012", "AwsAccount"), eq=eq)
    assert (s3.policy_id, s3.resource_arn) == (
        "s3_account_public_access_block",
        "arn:aws:s3::123456789012:account-settings",
    )
    ebs = from_asff(s.control("EC2.7", "AWS::::Account:123456789012", "AwsAccount", region="eu-west-1"), eq=eq)
    assert ebs.policy_id == "ec2_ebs_default_encryption"
    assert ebs.resource_arn == "arn:aws:ec2:eu-west-1:123456789012:region-settings"


def test_a_control_shared_by_policies_is_decided_by_the_resource_type(eq: Equivalents) -> None:
    arn = "arn:aws:iam::123456789012:role/ops"
    assert from_asff(s.control("IAM.27", arn, "AwsIamRole"), eq=eq).policy_id == "iam_role_no_cloudshell_full_access"
    assert from_asff(s.control("IAM.27", arn, "AwsIamUser"), eq=eq).policy_id == "iam_user_no_cloudshell_full_access"
    # an unknown type leaves three candidates: no merge rather than a wrong one
    assert from_asff(s.control("IAM.27", arn, "AwsOther"), eq=eq).policy_id == ""


def test_near_misses_map_to_nothing(eq: Equivalents) -> None:
    # a control no policy of ours lists
    assert from_asff(s.control("Zzz.99", "AWS::::Account:123456789012", "AwsAccount"), eq=eq).policy_id == ""
    # a CIS rule number is not a control id
    cis = s.control("S3.8", "arn:aws:s3:::b", "AwsS3Bucket")
    del cis["Compliance"]["SecurityControlId"]
    cis["GeneratorId"] = "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/2.7"
    assert control_id(cis) == ""
    assert from_asff(cis, eq=eq).policy_id == ""
    # the legacy FSBP generator carries the control id
    fsbp = s.control("S3.8", "arn:aws:s3:::b", "AwsS3Bucket")
    del fsbp["Compliance"]["SecurityControlId"]
    fsbp["GeneratorId"] = "aws-foundational-security-best-practices/v/1.0.0/S3.8"
    assert from_asff(fsbp, eq=eq).policy_id == "s3_bucket_public_access_block"
    # an account-level control on a resource id that is not an ARN maps to nothing
    odd = s.control("S3.8", "bucket-name-only", "AwsS3Bucket")
    assert from_asff(odd, eq=eq).policy_id == ""
    # another product's finding never carries a control id
    insp = s.inspector_cve()
    insp["Compliance"] = {"Status": "FAILED", "SecurityControlId": "S3.8"}
    assert from_asff(insp, eq=eq).control == ""


def test_inspector_and_macie_are_posture_like() -> None:
    ext = from_asff(s.inspector_cve())
    assert (ext.product, ext.kind, ext.verdict) == (m.INSPECTOR, m.COMPLIANCE, "fail")
    assert ext.severity == Severity.CRITICAL
    assert ext.product_name == "Amazon Inspector"
    macie = s.inspector_cve()
    macie["ProductArn"] = "arn:aws:securityhub:us-east-1::product/aws/macie"
    macie["Types"] = ["Sensitive Data Identifications/PII"]
    assert (from_asff(macie).product, from_asff(macie).kind) == (m.MACIE, m.COMPLIANCE)


def test_third_party_threat_types_are_detections_and_keep_their_name() -> None:
    f = s.inspector_cve()
    f["ProductArn"] = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
    f["ProductName"] = "Acme EDR"
    f["Types"] = ["TTPs/Execution/Suspicious process"]
    ext = from_asff(f)
    assert (ext.product, ext.product_name, ext.kind) == ("other", "Acme EDR", m.DETECTION)


# ---------------------------------------------------------------- GuardDuty through Security Hub


def test_guardduty_through_security_hub_names_the_type_actor_and_our_rules(
    eq: Equivalents, rule_ids: dict[str, str]
) -> None:
    ext = from_asff(s.guardduty_via_hub(), eq=eq)
    assert (ext.product, ext.kind) == (m.GUARDDUTY, m.DETECTION)
    assert ext.finding_type == "Stealth:IAMUser/CloudTrailLoggingDisabled"
    assert ext.subject == "123456789012|user/mallory"
    assert (ext.api, ext.source_ip) == ("StopLogging", "198.51.100.7")
    assert set(ext.rules or []) == {
        rule_ids["cspm_cloudtrail_logging_stopped"],
        rule_ids["cspm_cloudtrail_trail_deleted"],
    }
    # the same finding read from GuardDuty itself has the same uid: one problem, one record
    direct = from_guardduty(_response("guardduty", "GetFindings")["Findings"][0], eq=eq)
    assert direct.uid == ext.uid
    assert direct.subject == ext.subject


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        (
            ["TTPs/Defense Evasion/Stealth:IAMUser-CloudTrailLoggingDisabled"],
            "Stealth:IAMUser/CloudTrailLoggingDisabled",
        ),
        (["TTPs/PenTest:IAMUser/KaliLinux"], "PenTest:IAMUser/KaliLinux"),
        (
            ["Effects/Data Exposure/Policy:S3-BucketBlockPublicAccessDisabled"],
            "Policy:S3/BucketBlockPublicAccessDisabled",
        ),
        (
            ["Software and Configuration Checks/Policy:S3.BucketBlockPublicAccessDisabled"],
            "Policy:S3/BucketBlockPublicAccessDisabled",
        ),
        (["TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS"], "Backdoor:EC2/C&CActivity.B!DNS"),
        (["TTPs/Impact/IAMUser-AnomalousBehavior"], ""),  # Security Hub drops the purpose: unknown type
        ([], ""),
        ({"not": "a list"}, ""),
        ([42, None, "x" * 10_000], ""),
    ],
)
def test_guardduty_type_from_asff_types(types: Any, expected: str) -> None:
    assert guardduty_type(types) == expected


# ---------------------------------------------------------------- GuardDuty API and EventBridge


def _camel(v: Any) -> Any:
    """The EventBridge spelling of a GuardDuty finding (lowerCamel member names)."""
    if isinstance(v, dict):
        return {k[0].lower() + k[1:]: _camel(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_camel(x) for x in v]
    return v


def test_guardduty_findings(eq: Equivalents, rule_ids: dict[str, str]) -> None:
    trail, probe, kali = (from_guardduty(f, eq=eq) for f in _response("guardduty", "GetFindings")["Findings"])
    assert trail.severity == Severity.LOW
    assert trail.user_agent.endswith(".kali")
    assert trail.first_seen == "2026-11-28T16:21:00.000Z"
    assert trail.product_uid == "arn:aws:guardduty:us-east-1:123456789012:detector/12abc34d567e8fa901bc2d34e56789f0"
    # an instance probed: no principal, the instance is the subject and the resource; no rule of ours
    assert probe.subject == "123456789012|arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def567890"
    assert probe.rules is None
    # an assumed role's UserName is the role: the subject is the role; archived = suppressed
    assert kali.subject == "123456789012|role/ci-deployer"
    assert kali.suppressed and kali.verdict == "fail"
    assert kali.rules == [rule_ids["cspm_api_call_from_penetration_testing_distribution"]]


def test_eventbridge_spelling_reads_the_same(eq: Equivalents) -> None:
    for raw in _response("guardduty", "GetFindings")["Findings"]:
        assert from_guardduty(_camel(raw), eq=eq, via="guardduty") == from_guardduty(raw, eq=eq)


def test_hostile_guardduty_findings_are_refused_or_read_as_absent() -> None:
    raw = _response("guardduty", "GetFindings")["Findings"][0]
    for broken in ({**raw, "Arn": 7}, {**raw, "AccountId": "12"}, {**raw, "Type": None}, [raw], "x"):
        with pytest.raises(DecodeError):
            from_guardduty(broken)
    odd = copy.deepcopy(raw)
    odd["Resource"]["AccessKeyDetails"] = ["not", "an", "object"]
    odd["Service"] = "nope"
    odd["Severity"] = "high"
    odd["Title"] = "t" * 50_000
    ext = from_guardduty(odd)
    assert ext.principal == "" and ext.api == "" and ext.severity == Severity.UNKNOWN
    assert len(ext.title) == 1024


# ---------------------------------------------------------------- Access Analyzer

ANALYZER = "arn:aws:access-analyzer:us-east-1:123456789012:analyzer/account-analyzer"
UNUSED = "arn:aws:access-analyzer:us-east-1:123456789012:analyzer/unused-access"


def test_access_analyzer_findings() -> None:
    public, vendor, archived = (
        from_access_analyzer(f, analyzer_arn=ANALYZER) for f in _response("accessanalyzer", "ListFindings")["findings"]
    )
    assert (public.kind, public.verdict, public.severity) == (m.COMPLIANCE, "fail", Severity.HIGH)
    assert public.resource_arn == "arn:aws:s3:::public-reports-bucket"
    assert public.uid == f"{ANALYZER}/finding/0b1f2c3d-1111-4a5b-8c9d-000000000001"
    assert "AWS=*" in public.description and "s3:GetObject" in public.description
    assert (vendor.severity, vendor.finding_type) == (Severity.MEDIUM, "ExternalAccess")
    assert archived.suppressed and archived.verdict == "fail"
    (unused,) = (
        from_access_analyzer(f, analyzer_arn=UNUSED)
        for f in _response("accessanalyzer", "ListFindingsV2", UNUSED)["findings"]
    )
    assert (unused.finding_type, unused.severity) == ("UnusedIAMRole", Severity.LOW)


def test_access_analyzer_resolved_is_a_pass_and_errors_are_errors() -> None:
    f = dict(_response("accessanalyzer", "ListFindings")["findings"][0])
    assert from_access_analyzer({**f, "status": "RESOLVED"}, analyzer_arn=ANALYZER).verdict == "pass"
    assert from_access_analyzer({**f, "error": "ACCESS_DENIED"}, analyzer_arn=ANALYZER).verdict == "error"
    with pytest.raises(DecodeError):
        from_access_analyzer({**f, "status": "WHATEVER"}, analyzer_arn=ANALYZER)
    with pytest.raises(DecodeError):
        from_access_analyzer({**f, "resource": ["x"]}, analyzer_arn=ANALYZER)


# ---------------------------------------------------------------- subjects


@pytest.mark.parametrize(
    ("arn", "subject"),
    [
        ("arn:aws:iam::123456789012:user/dev/Mallory", "123456789012|user/mallory"),
        ("arn:aws:sts::123456789012:assumed-role/CI-Deployer/build-77", "123456789012|role/ci-deployer"),
        ("arn:aws:iam::123456789012:role/svc/CI-Deployer", "123456789012|role/ci-deployer"),
        ("arn:aws:iam::123456789012:root", "123456789012|root"),
        ("arn:aws:sts::123456789012:federated-user/bob", "123456789012|federated/bob"),
        ("arn:aws:s3:::bucket", ""),
        ("not an arn", ""),
        ("arn:aws:iam::123456789012:user/", ""),
    ],
)
def test_subject_of_arn(arn: str, subject: str) -> None:
    assert subject_of_arn("123456789012", arn) == subject


def test_the_two_spellings_of_one_principal_meet() -> None:
    assert subject_of_principal("123456789012", "IAMUser", "Mallory") == subject_of_arn(
        "123456789012", "arn:aws:iam::123456789012:user/Mallory"
    )
    assert subject_of_principal("123456789012", "Root", "") == "123456789012|root"
    assert subject_of_principal("123456789012", "AWSService", "x") == ""


def test_our_own_alerts_exported_to_security_hub_are_recognised() -> None:
    from cspm_stream.delivery.asff import to_asff
    from cspm_stream.delivery.model import alert_from_bytes
    from cspm_stream.external.asff import is_ours
    from cspm_stream.external.checkpoints import MemoryCheckpoints
    from cspm_stream.external.events import findings_of
    from cspm_stream.external.pollers import SecurityHubPoller
    from cspm_stream.testing.findings import compliance_finding, detection_finding, raw

    for f in (compliance_finding(), detection_finding()):
        doc = to_asff(alert_from_bytes(raw(f)))
        assert is_ours(doc)
        poller = SecurityHubPoller(None, "123456789012", "us-east-1", None, MemoryCheckpoints())  # type: ignore[arg-type]
        assert poller.normalise(doc, poller.key) is None
        event = {"detail-type": "Security Hub Findings - Imported", "detail": {"findings": [doc]}}
        assert findings_of(event, None, "2026-11-28T00:00:00.000Z", "x") == []
    partner = s.inspector_cve()
    partner["ProductArn"] = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
    assert not is_ours(partner)  # another custom integration of the account: kept
    assert not is_ours(s.control("S3.8", "arn:aws:s3:::b", "AwsS3Bucket"))
