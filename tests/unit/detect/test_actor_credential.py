"""A detection names the credential: actor.user.credential_uid (accessKeyId), session issuer, MFA, creation time."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cspm_stream.detect.engine import DetectionEngine, EngineConfig, RecordRejected
from cspm_stream.detect.findings import actor_of
from cspm_stream.testing.ocsf_models import actor_errors, ocsf_errors
from tests.unit.detect.helpers import ev, rule

ACCT = "123456789012"
ANY_IAM = rule(
    """
    sel:
        eventSource: iam.amazonaws.com
    condition: sel
"""
)
IAM_USER = {
    "type": "IAMUser",
    "principalId": "AIDAJ45Q7YFFAREXAMPLE",
    "arn": f"arn:aws:iam::{ACCT}:user/Alice",
    "accountId": ACCT,
    "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
    "userName": "Alice",
}
ASSUMED_ROLE = {
    "type": "AssumedRole",
    "principalId": "AROAIDPPEZS35WEXAMPLE:deploy-session",
    "arn": f"arn:aws:sts::{ACCT}:assumed-role/Deployer/deploy-session",
    "accountId": ACCT,
    "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAIDPPEZS35WEXAMPLE",
            "arn": f"arn:aws:iam::{ACCT}:role/Deployer",
            "accountId": ACCT,
            "userName": "Deployer",
        },
        "webIdFederationData": {},
        "attributes": {"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "true"},
    },
}
ROOT = {
    "type": "Root",
    "principalId": ACCT,
    "arn": f"arn:aws:iam::{ACCT}:root",
    "accountId": ACCT,
    "accessKeyId": "ASIAROOTEXAMPLE00001",
    "sessionContext": {"attributes": {"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "false"}},
}
AWS_SERVICE = {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}


def detect(ident: dict[str, Any], **cfg: Any) -> dict[str, Any]:
    rec = ev("ListUsers")
    rec["userIdentity"] = copy.deepcopy(ident)
    (f,) = DetectionEngine(ANY_IAM, EngineConfig(**cfg)).process(rec, {}).findings
    assert ocsf_errors(f) == []
    assert actor_errors(f["actor"]) == [], actor_errors(f["actor"])
    return f


def test_iam_user_names_its_access_key() -> None:
    a = detect(IAM_USER)["actor"]
    assert a["user"] == {
        "uid": f"arn:aws:iam::{ACCT}:user/Alice",
        "uid_alt": "AIDAJ45Q7YFFAREXAMPLE",
        "type": "IAMUser",
        "type_id": 1,
        "name": "Alice",
        "account": {"uid": ACCT, "type_id": 10, "type": "AWS Account"},
        "credential_uid": "AKIAIOSFODNN7EXAMPLE",
    }
    assert "session" not in a  # a long-term key: no session context


def test_assumed_role_names_key_issuer_mfa_and_session_start() -> None:
    a = detect(ASSUMED_ROLE)["actor"]
    assert a["user"]["uid"] == f"arn:aws:sts::{ACCT}:assumed-role/Deployer/deploy-session"
    assert a["user"]["credential_uid"] == "ASIAIOSFODNN7EXAMPLE"
    assert a["user"]["name"] == "Deployer" and a["user"]["uid_alt"] == "AROAIDPPEZS35WEXAMPLE:deploy-session"
    assert a["session"] == {
        "issuer": f"arn:aws:iam::{ACCT}:role/Deployer",
        "is_mfa": True,
        "created_time": 1767225600000,
        "credential_uid": "ASIAIOSFODNN7EXAMPLE",
    }


def test_root_is_admin_and_says_it_had_no_mfa() -> None:
    a = detect(ROOT)["actor"]
    assert a["user"]["type_id"] == 2 and a["user"]["name"] == "root"
    assert a["user"]["credential_uid"] == "ASIAROOTEXAMPLE00001"
    assert a["session"]["is_mfa"] is False
    assert "issuer" not in a["session"]


def test_aws_service_has_no_credential() -> None:
    a = detect(AWS_SERVICE)["actor"]
    assert a["user"]["uid"] == "ec2.amazonaws.com" and a["user"]["type_id"] == 3
    assert a["invoked_by"] == "ec2.amazonaws.com"
    assert "credential_uid" not in a["user"] and "session" not in a


@pytest.mark.parametrize("bad", [["AKIAIOSFODNN7EXAMPLE"], {"id": "AKIA"}])
def test_a_list_or_object_access_key_is_refused_naming_the_field(bad: Any) -> None:
    rec = ev("ListUsers")
    rec["userIdentity"] = {**IAM_USER, "accessKeyId": bad}
    with pytest.raises(RecordRejected, match=r"userIdentity\.accessKeyId is a"):
        DetectionEngine(ANY_IAM).process(rec, {})
    # built from anything (e.g. state written by an older version), the actor simply has no credential
    a = actor_of({"userIdentity": {**IAM_USER, "accessKeyId": bad}})
    assert "credential_uid" not in a["user"] and actor_errors(a) == []


def test_a_huge_access_key_is_clipped_and_marked() -> None:
    f = detect({**ASSUMED_ROLE, "accessKeyId": "ASIA" + "X" * 1_000_000}, max_text_chars=512)
    cred = f["actor"]["user"]["credential_uid"]
    assert len(cred) <= 512 and cred.startswith("ASIAXXX") and cred.endswith("chars truncated]")
    assert f["actor"]["session"]["credential_uid"] == cred


@pytest.mark.parametrize(
    "attrs",
    [
        {"mfaAuthenticated": ["true"], "creationDate": {"t": 1}},
        {"mfaAuthenticated": "maybe", "creationDate": "yesterday"},
        {"mfaAuthenticated": None, "creationDate": "9" * 10_000},
        "not an object",
    ],
)
def test_hostile_session_attributes_read_as_unknown(attrs: Any) -> None:
    ident = copy.deepcopy(ASSUMED_ROLE)
    ident["sessionContext"]["attributes"] = attrs
    a = detect(ident)["actor"]
    assert "is_mfa" not in a["session"] and "created_time" not in a["session"]
    assert a["session"]["issuer"] == f"arn:aws:iam::{ACCT}:role/Deployer"


def test_numbers_read_as_text_and_unknown_types_as_unknown() -> None:
    a = actor_of({"userIdentity": {"type": "SomethingNew", "accountId": 123456789012, "accessKeyId": 7}})
    assert a["user"]["account"]["uid"] == "123456789012" and a["user"]["credential_uid"] == "7"
    assert a["user"]["type_id"] == 0
    assert actor_errors(a) == []
