"""Pure parts of the collector: fault classification, normalisation, rate budget, planning."""

from __future__ import annotations

import datetime as dt

from botocore.exceptions import ClientError, ReadTimeoutError

from cspm_stream import settings as settings_mod
from cspm_stream.collect.accounts import AccountRef
from cspm_stream.collect.faults import FaultKind, classify
from cspm_stream.collect.normalize import parse_policy, plain
from cspm_stream.collect.schedule import job_key, plan_scan, scan_id_for
from cspm_stream.collect.services import SPECS, all_types, is_global, service_of


def _err(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


def test_classify_codes() -> None:
    assert classify(_err("AccessDenied", 403)).kind is FaultKind.DENIED
    assert classify(_err("Throttling")).kind is FaultKind.THROTTLED
    assert classify(_err("SlowDown", 503)).kind is FaultKind.THROTTLED
    assert classify(_err("InternalError", 500)).kind is FaultKind.TRANSIENT
    assert classify(_err("NotImplemented", 501)).kind is FaultKind.NOT_IMPLEMENTED
    assert classify(_err("NoSuchBucketPolicy", 404), frozenset({"NoSuchBucketPolicy"})).kind is FaultKind.NOT_CONFIGURED
    assert classify(_err("ValidationError")).kind is FaultKind.ERROR
    assert classify(ReadTimeoutError(endpoint_url="http://x")).code == "Timeout"


def test_plain_and_policy_parsing() -> None:
    t = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert plain({"A": t, "ResponseMetadata": {}, "B": [t]}) == {
        "A": "2026-01-02T03:04:05.000Z",
        "B": ["2026-01-02T03:04:05.000Z"],
    }
    assert parse_policy('{"Version": "2012-10-17"}') == {"Version": "2012-10-17"}
    assert parse_policy("%7B%22Version%22%3A%20%222012-10-17%22%7D") == {"Version": "2012-10-17"}
    assert parse_policy(None) is None
    assert parse_policy("not json") == "not json"


def test_registry_covers_contract_types() -> None:
    wanted = {
        "aws.s3.bucket",
        "aws.s3.account",
        "aws.ec2.security_group",
        "aws.ec2.instance",
        "aws.ec2.volume",
        "aws.ec2.snapshot",
        "aws.ec2.image",
        "aws.ec2.vpc",
        "aws.ec2.network_acl",
        "aws.ec2.region",
        "aws.iam.user",
        "aws.iam.role",
        "aws.iam.group",
        "aws.iam.policy",
        "aws.iam.account",
        "aws.rds.instance",
        "aws.rds.cluster",
        "aws.rds.snapshot",
        "aws.kms.key",
        "aws.cloudtrail.trail",
        "aws.cloudtrail.region",
        "aws.logs.monitoring",
        "aws.config.region",
        "aws.guardduty.region",
        "aws.lambda.function",
        "aws.sns.topic",
        "aws.sqs.queue",
        "aws.secretsmanager.secret",
        "aws.ecr.repository",
        "aws.eks.cluster",
        "aws.elbv2.load_balancer",
        "aws.cloudfront.distribution",
        "aws.dynamodb.table",
        "aws.efs.file_system",
        "aws.organizations.account",
        "aws.accessanalyzer.region",
        "aws.securityhub.region",
    }
    assert wanted <= set(all_types())
    assert len(all_types()) == len(set(all_types()))  # a type belongs to exactly one spec
    assert service_of("aws.iam.user") == "iam" and is_global("aws.iam.user")
    assert not is_global("aws.ec2.instance")


def test_plan_scan_regional_and_global_jobs() -> None:
    s = settings_mod.load(data={"scan": {"services": ["s3", "ec2", "iam"]}}, environ={})
    accounts = [AccountRef("111111111111"), AccountRef("222222222222", "arn:aws:iam::222222222222:role/R")]
    jobs = plan_scan(
        s,
        accounts,
        {"111111111111": ["us-east-1", "eu-west-1"], "222222222222": ["us-east-1"]},
        "2026-11-28T10:00:00.000Z",
    )
    keys = sorted(job_key(j) for j in jobs)
    assert keys == sorted(
        [
            "111111111111|global|s3",
            "111111111111|us-east-1|ec2",
            "111111111111|eu-west-1|ec2",
            "111111111111|global|iam",
            "222222222222|global|s3",
            "222222222222|us-east-1|ec2",
            "222222222222|global|iam",
        ]
    )
    assert {j.scan_id for j in jobs} == {scan_id_for("2026-11-28T10:00:00.000Z")} == {"scan-20261128T100000Z"}
    assert all(j.role_arn == "arn:aws:iam::222222222222:role/R" for j in jobs if j.account_id == "222222222222")
    assert len({j.job_id for j in jobs}) == len(jobs)
    assert set(SPECS) >= {"s3", "ec2", "iam"}
