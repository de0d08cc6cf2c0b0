"""Request-shape ``cspm.*`` fields: public policies, batch sizes, lifecycle expirations, resource accounts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cspm_stream.detect.derived import DerivedConfig, Deriver

ACCT = "123456789012"
OTHER = "999999999999"


def rec(rp: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "eventTime": "2026-03-02T10:00:00Z",
        "recipientAccountId": ACCT,
        "userIdentity": {"type": "IAMUser", "accountId": ACCT, "arn": f"arn:aws:iam::{ACCT}:user/alice"},
        "requestParameters": rp,
        **extra,
    }


def val(r: dict[str, Any], name: str, config: DerivedConfig | None = None) -> Any:
    return Deriver(config).value(r, name)


def stmt(principal: Any, condition: Any = None, effect: str = "Allow") -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": effect, "Principal": principal, "Action": "s3:GetObject", "Resource": "*"}
    if condition is not None:
        st["Condition"] = condition
    return st


# ------------------------------------------------------------------ cspm.public_policy


@pytest.mark.parametrize(
    "principal",
    ["*", {"AWS": "*"}, {"AWS": ["*"]}, {"AWS": "arn:aws:iam::*:root"}],
)
def test_public_principal_without_condition_is_public(principal: Any) -> None:
    doc = {"Version": "2012-10-17", "Statement": [stmt(principal)]}
    assert val(rec({"bucketName": "b", "bucketPolicy": doc}), "public_policy") is True


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:SourceAccount": ACCT}},
        {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{ACCT}:trail/t"}},
        {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}},
        {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        {"StringEquals": {"aws:PrincipalAccount": ACCT}},
        {"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}},
    ],
)
def test_restrictive_condition_is_not_public(condition: dict[str, Any]) -> None:
    doc = {"Statement": [stmt("*", condition)]}
    assert val(rec({"bucketPolicy": doc}), "public_policy") is False


@pytest.mark.parametrize(
    "condition",
    [
        {"Bool": {"aws:SecureTransport": "true"}},
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
        {"StringEqualsIfExists": {"aws:SourceAccount": ACCT}},
        {"StringLike": {"aws:PrincipalOrgID": "*"}},
    ],
)
def test_non_narrowing_condition_stays_public(condition: dict[str, Any]) -> None:
    doc = {"Statement": [stmt("*", condition)]}
    assert val(rec({"bucketPolicy": doc}), "public_policy") is True


def test_policy_as_json_text_anywhere_in_the_request() -> None:
    text = json.dumps({"Statement": [stmt({"AWS": "*"})]})
    assert val(rec({"queueUrl": "q", "attributes": {"Policy": text}}), "public_policy") is True
    assert val(rec({"topicArn": "t", "attributeName": "Policy", "attributeValue": text}), "public_policy") is True
    assert val(rec({"keyId": "k", "policyName": "default", "policy": text}), "public_policy") is True


def test_account_principal_deny_and_service_principal_are_not_public() -> None:
    own = {"Statement": [stmt({"AWS": f"arn:aws:iam::{ACCT}:root"})]}
    deny = {"Statement": [stmt("*", effect="Deny")]}
    svc = {"Statement": [stmt({"Service": "cloudtrail.amazonaws.com"})]}
    for doc in (own, deny, svc):
        assert val(rec({"bucketPolicy": doc}), "public_policy") is False


@pytest.mark.parametrize("rp", [None, 7, "x", [], {"policy": "{not json Statement"}, {"policy": ["Statement"]}])
def test_public_policy_any_json_type(rp: Any) -> None:
    assert val(rec(rp), "public_policy") is False


# ------------------------------------------------------------------ cspm.batch_size


def test_batch_size_is_the_longest_list() -> None:
    names = [f"/prod/db/{i}" for i in range(10)]
    assert val(rec({"names": names, "withDecryption": True}), "batch_size") == 10
    assert val(rec({"name": "/prod/db/1", "withDecryption": True}), "batch_size") is None
    assert val(rec({"a": [1, 2], "b": {"c": [1, 2, 3]}}), "batch_size") == 3
    assert val(rec("names"), "batch_size") is None


# ------------------------------------------------------------------ cspm.lifecycle_expiration_days


def lifecycle(*rules: dict[str, Any]) -> dict[str, Any]:
    rule: Any = rules[0] if len(rules) == 1 else list(rules)
    return {"bucketName": "logs", "LifecycleConfiguration": {"Rule": rule}}


def test_lifecycle_days_count_enabled_rules_only() -> None:
    on = {"ID": "a", "Status": "Enabled", "Expiration": {"Days": 1}, "Filter": {"Prefix": ""}}
    off = {"ID": "b", "Status": "Disabled", "Expiration": {"Days": 2}}
    assert val(rec(lifecycle(on, off)), "lifecycle_expiration_days") == [1]
    assert val(rec(lifecycle(off)), "lifecycle_expiration_days") is None


def test_lifecycle_days_from_date_noncurrent_and_strings() -> None:
    past = {"Status": "Enabled", "Expiration": {"Date": "2026-01-01T00:00:00Z"}}
    soon = {"Status": "Enabled", "Expiration": {"Date": "2026-03-05T00:00:00Z"}}
    nc = {"Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": "3"}}
    assert val(rec(lifecycle(past, soon, nc)), "lifecycle_expiration_days") == [0, 2, 3]


@pytest.mark.parametrize(
    "rp",
    [
        None,
        {"LifecycleConfiguration": None},
        {"LifecycleConfiguration": {"Rule": "x"}},
        {"LifecycleConfiguration": {"Rule": [{"Status": ["Enabled"], "Expiration": {"Days": 1}}]}},
        {"LifecycleConfiguration": {"Rule": {"Status": "Enabled", "Expiration": {"Days": True}}}},
        {"LifecycleConfiguration": {"Rule": {"Status": "Enabled", "Expiration": {"Date": "not a date"}}}},
        {"LifecycleConfiguration": {"Rule": {"Status": "Enabled", "Transition": {"Days": 1}}}},
    ],
)
def test_lifecycle_days_absent_on_odd_shapes(rp: Any) -> None:
    assert val(rec(rp), "lifecycle_expiration_days") is None


# ------------------------------------------------------------------ cspm.foreign_resource_accounts


def test_foreign_resource_accounts() -> None:
    resources = [
        {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::dst/k"},
        {"accountId": OTHER, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::dst"},
        {"accountId": ACCT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::src"},
        {"type": "AWS::KMS::Key", "ARN": f"arn:aws:kms:us-east-1:{OTHER[:-1]}1:key/abc"},
    ]
    r = rec({"bucketName": "dst"}, resources=resources)
    assert val(r, "foreign_resource_accounts") == [OTHER[:-1] + "1", OTHER]
    trusted = DerivedConfig(trusted_accounts=frozenset({OTHER, OTHER[:-1] + "1"}))
    assert val(r, "foreign_resource_accounts", trusted) is None
    assert val(rec({}, resources="x"), "foreign_resource_accounts") is None
    assert val(rec({}, resources=[{"accountId": 123456789012}]), "foreign_resource_accounts") is None
