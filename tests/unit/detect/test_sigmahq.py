"""The vendored SigmaHQ CloudTrail rules load unchanged and match synthesized events as Sigma defines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cspm_stream.detect.engine import DetectionEngine
from cspm_stream.detect.loader import load_paths
from cspm_stream.detect.rules import RuleSet
from tests.unit.detect.helpers import ev

HERE = Path(__file__).parent / "sigmahq"
RULES = HERE / "rules"
ROLE = "arn:aws:sts::123456789012:assumed-role/Admin/s"
ROLE_IDENTITY = {
    "type": "AssumedRole",
    "arn": ROLE,
    "accountId": "123456789012",
    "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::123456789012:role/Admin"}},
}


@pytest.fixture(scope="module")
def sigmahq() -> RuleSet:
    return load_paths([RULES])


def test_vendored_set_is_complete_and_attributed() -> None:
    assert len(list(RULES.glob("*.yml"))) == 57
    assert (HERE / "LICENSE.DRL").is_file()
    assert "Detection Rule License" in (HERE / "README.md").read_text()


def test_all_rules_load_and_the_one_naming_a_field_cloudtrail_lacks_warns(sigmahq: RuleSet) -> None:
    assert sigmahq.loaded == 57
    assert not sigmahq.errors
    (warn,) = sigmahq.warnings
    assert warn.file.endswith("aws_delete_saml_provider.yml")
    assert "unknown CloudTrail field 'status'" in warn.reason


def test_every_loaded_rule_has_level_and_mitre_tags(sigmahq: RuleSet) -> None:
    for r in sigmahq.rules:
        assert r.info.level in ("low", "medium", "high"), r.info.file
        assert r.info.tactics or r.info.techniques, r.info.file


def _by_file(rs: RuleSet, stem: str) -> str:
    for r in rs.rules:
        if Path(r.info.file).stem == stem:
            return r.info.id
    raise AssertionError(f"{stem} not loaded")


CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "aws_cloudtrail_disable_logging",
        ev("StopLogging", "cloudtrail.amazonaws.com"),
        ev("StartLogging", "cloudtrail.amazonaws.com"),
    ),
    (
        "aws_cloudtrail_bucket_deleted",
        ev("DeleteBucket", "s3.amazonaws.com"),
        ev("DeleteBucket", "s3.amazonaws.com", error_code="AccessDenied"),
    ),
    (
        "aws_cloudtrail_console_login_success_without_mfa",
        ev(
            "ConsoleLogin",
            "signin.amazonaws.com",
            additionalEventData={"MFAUsed": "No"},
            response_elements={"ConsoleLogin": "Success"},
        ),
        ev(
            "ConsoleLogin",
            "signin.amazonaws.com",
            additionalEventData={"MFAUsed": "Yes"},
            response_elements={"ConsoleLogin": "Success"},
        ),
    ),
    (
        "aws_cloudtrail_guardduty_detector_deleted_or_updated",
        ev("UpdateDetector", "guardduty.amazonaws.com", request_parameters={"detectorId": "d", "enable": False}),
        ev("UpdateDetector", "guardduty.amazonaws.com", request_parameters={"detectorId": "d", "enable": True}),
    ),
    (
        "aws_cloudtrail_imds_malicious_usage",
        ev(
            "ListBuckets",
            "s3.amazonaws.com",
            user_type="AssumedRole",
            source_ip="203.0.113.9",
            user_arn="arn:aws:sts::123456789012:assumed-role/aws:ec2-instance/i-0abc",
        ),
        ev(
            "ListBuckets",
            "s3.amazonaws.com",
            user_type="AssumedRole",
            source_ip="AWS Internal",
            user_arn="arn:aws:sts::123456789012:assumed-role/aws:ec2-instance/i-0abc",
        ),
    ),
    (
        "aws_disable_bucket_versioning",
        ev(
            "PutBucketVersioning",
            "s3.amazonaws.com",
            request_parameters={"bucketName": "b", "VersioningConfiguration": {"Status": "Suspended"}},
        ),
        ev(
            "PutBucketVersioning",
            "s3.amazonaws.com",
            request_parameters={"bucketName": "b", "VersioningConfiguration": {"Status": "Enabled"}},
        ),
    ),
    (
        "aws_ec2_startup_script_change",
        ev("ModifyInstanceAttribute", "ec2.amazonaws.com", request_parameters={"attribute": "userData"}),
        ev("ModifyInstanceAttribute", "ec2.amazonaws.com", request_parameters={"attribute": "instanceType"}),
    ),
    (
        "aws_ec2_vm_export_failure",
        ev("CreateInstanceExportTask", "ec2.amazonaws.com", response_elements={"exportTask": {"state": "active"}}),
        ev("CreateInstanceExportTask", "ec2.amazonaws.com", error_code="InvalidParameter"),
    ),
    (
        "aws_ecs_task_definition_cred_endpoint_query",
        ev(
            "RegisterTaskDefinition",
            "ecs.amazonaws.com",
            request_parameters={
                "containerDefinitions": [
                    {"command": ["sh", "-c", "curl 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]}
                ]
            },
        ),
        ev(
            "RegisterTaskDefinition",
            "ecs.amazonaws.com",
            request_parameters={"containerDefinitions": [{"command": ["nginx"]}]},
        ),
    ),
    (
        "aws_enum_buckets",
        ev("ListBuckets", "s3.amazonaws.com"),
        ev("ListBuckets", "s3.amazonaws.com", userIdentity=ROLE_IDENTITY),
    ),
    (
        "aws_iam_s3browser_templated_s3_bucket_policy_creation",
        ev(
            "PutUserPolicy",
            user_agent="S3 Browser 11.5.7",
            request_parameters={
                "userName": "u",
                "policyName": "p",
                "policyDocument": '{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],'
                '"Resource":["arn:aws:s3:::<YOUR-BUCKET-NAME>/*"]}]}',
            },
        ),
        ev(
            "PutUserPolicy",
            user_agent="S3 Browser 11.5.7",
            request_parameters={
                "userName": "u",
                "policyName": "p",
                "policyDocument": '{"Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":["*"]}]}',
            },
        ),
    ),
    (
        "aws_new_lambda_layer_attached",
        ev(
            "UpdateFunctionConfiguration20150331v2",
            "lambda.amazonaws.com",
            request_parameters={"functionName": "f", "layers": ["arn:aws:lambda:us-east-1:1:layer:evil:1"]},
        ),
        ev(
            "UpdateFunctionConfiguration20150331v2",
            "lambda.amazonaws.com",
            request_parameters={"functionName": "f", "timeout": 30},
        ),
    ),
    (
        "aws_rds_change_master_password",
        ev(
            "ModifyDBInstance",
            "rds.amazonaws.com",
            response_elements={"pendingModifiedValues": {"masterUserPassword": "****"}},
        ),
        ev("ModifyDBInstance", "rds.amazonaws.com", response_elements={"pendingModifiedValues": {}}),
    ),
    (
        "aws_rds_public_db_restore",
        ev("RestoreDBInstanceFromDBSnapshot", "rds.amazonaws.com", response_elements={"publiclyAccessible": True}),
        ev("RestoreDBInstanceFromDBSnapshot", "rds.amazonaws.com", response_elements={"publiclyAccessible": False}),
    ),
    (
        "aws_root_account_usage",
        ev("ListUsers", user_type="Root", user_arn="arn:aws:iam::123456789012:root"),
        ev("ListUsers", user_type="Root", user_arn="arn:aws:iam::123456789012:root", eventType="AwsServiceEvent"),
    ),
    (
        "aws_sts_getsessiontoken_misuse",
        ev("GetSessionToken", "sts.amazonaws.com"),
        ev("GetSessionToken", "sts.amazonaws.com", userIdentity=ROLE_IDENTITY),
    ),
    (
        "aws_susp_saml_activity",
        ev("UpdateSAMLProvider"),
        ev("CreateSAMLProvider"),
    ),
    (
        "aws_update_login_profile",
        ev("UpdateLoginProfile", request_parameters={"userName": "bob"}),
        ev("UpdateLoginProfile", request_parameters={"userName": "arn:aws:iam::123456789012:user/alice"}),
    ),
    (
        "aws_console_getsignintoken",
        ev("GetSigninToken", "signin.amazonaws.com", user_agent="Mozilla/5.0"),
        ev("GetSigninToken", "signin.amazonaws.com", user_agent="Jersey/${project.version} (HttpUrlConnection)"),
    ),
    (
        "aws_cloudtrail_security_group_change_ingress_egress",
        ev("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com"),
        ev("DescribeSecurityGroups", "ec2.amazonaws.com"),
    ),
    (
        "aws_sts_assumerole_misuse",
        ev("ListBuckets", "s3.amazonaws.com", userIdentity=ROLE_IDENTITY),
        ev("ListBuckets", "s3.amazonaws.com"),
    ),
    (
        "aws_cloudtrail_pua_trufflehog",
        ev("GetCallerIdentity", "sts.amazonaws.com", user_agent="TruffleHog"),
        ev("GetCallerIdentity", "sts.amazonaws.com", user_agent="aws-cli/2"),
    ),
]


@pytest.mark.parametrize(("stem", "positive", "negative"), CASES, ids=[c[0] for c in CASES])
def test_rule_matches_positive_and_not_negative(
    sigmahq: RuleSet, stem: str, positive: dict[str, Any], negative: dict[str, Any]
) -> None:
    rid = _by_file(sigmahq, stem)
    engine = DetectionEngine(sigmahq)
    pos = engine.process(positive, {})
    assert rid in pos.matched
    assert any(f["unmapped"]["rule_id"] == rid for f in pos.findings)
    neg = engine.process(negative, {})
    assert rid not in neg.matched


def test_backdoor_keys_rule_keeps_sigma_literal_semantics(sigmahq: RuleSet) -> None:
    # the rule's filter compares userIdentity.arn with the *literal* text "responseElements.accessKey.userName"
    # (no |fieldref), so by Sigma semantics every CreateAccessKey matches
    rid = _by_file(sigmahq, "aws_iam_backdoor_users_keys")
    engine = DetectionEngine(sigmahq)
    own = ev("CreateAccessKey", response_elements={"accessKey": {"userName": "alice"}})
    assert rid in engine.process(own, {}).matched


def test_index_keeps_most_rules_away_from_most_records(sigmahq: RuleSet) -> None:
    engine = DetectionEngine(sigmahq)
    n = engine.candidate_count(ev("GetObject", "s3.amazonaws.com"))
    assert n <= 6  # the few rules pinned to neither eventName nor eventSource, plus S3-source rules
    assert n < sigmahq.loaded // 5
