"""Derived ``cspm.*`` fields: deployers, foreign accounts, actor account, self-targeting; used from Sigma."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cspm_stream.detect import derived
from cspm_stream.detect.derived import DerivedConfig, Deriver
from cspm_stream.detect.fields import Vocabulary
from tests.unit.detect.helpers import ev, matches, rule

ACCT = "123456789012"
OTHER = "999999999999"


def role_identity(role: str, session: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLE:" + session,
        "arn": f"arn:aws:sts::{ACCT}:assumed-role/{role}/{session}",
        "accountId": ACCT,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "arn": f"arn:aws:iam::{ACCT}:role/{role}",
                "accountId": ACCT,
                "userName": role,
            }
        },
        **extra,
    }


def val(rec: dict[str, Any], name: str, config: DerivedConfig | None = None) -> Any:
    return Deriver(config).value(rec, name)


# ---------------------------------------------------------------------------- deployers

DEPLOYERS = [
    (
        "terraform agent",
        ev(
            "DeleteBucket",
            "s3.amazonaws.com",
            user_agent="APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.40.0",
        ),
        "terraform",
        "user_agent",
    ),
    (
        "opentofu agent",
        ev("DeleteBucket", "s3.amazonaws.com", user_agent="APN/1.0 HashiCorp/1.0 OpenTofu/1.6.2"),
        "opentofu",
        "user_agent",
    ),
    (
        "pulumi agent",
        ev("DeleteBucket", "s3.amazonaws.com", user_agent="aws-sdk-go-v2/1.25 pulumi-aws/6.22.0 Pulumi/3.108"),
        "pulumi",
        "user_agent",
    ),
    ("cdk agent", ev("CreateRole", user_agent="aws-sdk-js/2.1500.0 promise aws-cdk/2.120.0"), "cdk", "user_agent"),
    (
        "cloudformation service role",
        ev(
            "DeleteBucket",
            "s3.amazonaws.com",
            user_agent="cloudformation.amazonaws.com",
            source_ip="cloudformation.amazonaws.com",
            userIdentity=role_identity("stack-exec", "AWSCloudFormation", invokedBy="cloudformation.amazonaws.com"),
        ),
        "cloudformation",
        "invoked_by",
    ),
    (
        "cdk session name",
        ev("PutRolePolicy", userIdentity=role_identity("deploy", "aws-cdk-alice")),
        "cdk",
        "session_name",
    ),
    (
        "cdk exec role",
        ev("PutRolePolicy", userIdentity=role_identity(f"cdk-hnb659fds-cfn-exec-role-{ACCT}-us-east-1", "x")),
        "cdk",
        "role_name",
    ),
    (
        "terraform session",
        ev("DeleteSecret", "secretsmanager.amazonaws.com", userIdentity=role_identity("ci", "terraform-run-42")),
        "terraform",
        "session_name",
    ),
]


@pytest.mark.parametrize(("name", "rec", "tool", "signal"), DEPLOYERS, ids=[d[0] for d in DEPLOYERS])
def test_deployers_are_recognised_with_tool_and_signal(name: str, rec: dict[str, Any], tool: str, signal: str) -> None:
    dv = Deriver()
    assert dv.value(rec, "deployer") is True
    assert dv.value(rec, "deployer_tool") == tool
    assert signal in dv.value(rec, "deployer_via")


NOT_DEPLOYERS = [
    ("cli user", ev("DeleteBucket", "s3.amazonaws.com", user_agent="aws-cli/2.15.0 Python/3.11")),
    (
        "boto3 role",
        ev("DeleteBucket", "s3.amazonaws.com", user_agent="Boto3/1.34", userIdentity=role_identity("app", "i-0abc")),
    ),
    (
        "console user",
        ev("DeleteBucket", "s3.amazonaws.com", user_agent="Mozilla/5.0", sessionCredentialFromConsole="true"),
    ),
    (
        "console session on the terraform role",
        ev(
            "CreateAccessKey",
            user_agent="Terraform/1.7",
            sessionCredentialFromConsole="true",
            userIdentity=role_identity("terraform", "alice"),
        ),
    ),
    (
        "root with a terraform agent",
        ev(
            "DeleteBucket",
            "s3.amazonaws.com",
            user_agent="Terraform/1.7",
            userIdentity={"type": "Root", "arn": f"arn:aws:iam::{ACCT}:root", "accountId": ACCT},
        ),
    ),
    ("console login", ev("ConsoleLogin", "signin.amazonaws.com", userIdentity=role_identity("terraform", "alice"))),
    (
        "cloudformation read by a person",
        ev("DescribeStacks", "cloudformation.amazonaws.com", user_agent="aws-cli/2.15"),
    ),
]


@pytest.mark.parametrize(("name", "rec"), NOT_DEPLOYERS, ids=[d[0] for d in NOT_DEPLOYERS])
def test_near_misses_are_not_deployers(name: str, rec: dict[str, Any]) -> None:
    dv = Deriver()
    assert dv.value(rec, "deployer") is False
    assert dv.value(rec, "deployer_tool") is None
    assert dv.value(rec, "deployer_via") is None


def test_configured_principals_and_session_patterns() -> None:
    cfg = DerivedConfig(
        deployer_principals=(f"arn:aws:iam::{ACCT}:role/pipeline-*",),
        deployer_session_patterns=("gh-actions-*",),
    )
    by_role = ev("DeleteBucket", "s3.amazonaws.com", userIdentity=role_identity("pipeline-prod", "botocore-session-1"))
    by_session = ev("DeleteBucket", "s3.amazonaws.com", userIdentity=role_identity("deployer", "gh-actions-1234"))
    other = ev("DeleteBucket", "s3.amazonaws.com", userIdentity=role_identity("pipelines", "gh-action"))
    assert val(by_role, "deployer_tool", cfg) == "configured" and val(by_role, "deployer_via", cfg) == ["principal"]
    assert val(by_session, "deployer_via", cfg) == ["session_name"]
    assert val(other, "deployer", cfg) is False
    assert val(by_role, "deployer") is False  # not without the configuration


# ---------------------------------------------------------------------------- foreign accounts


def test_foreign_accounts_in_arns_sharing_lists_and_policy_documents() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    trust = ev("UpdateAssumeRolePolicy", request_parameters={"roleName": "r", "policyDocument": json.dumps(policy)})
    assert val(trust, "foreign_accounts") == [OTHER]
    share = ev(
        "ModifySnapshotAttribute",
        "ec2.amazonaws.com",
        request_parameters={
            "createVolumePermission": {"add": {"items": [{"userId": "111111111111"}, {"userId": ACCT}]}}
        },
    )
    assert val(share, "foreign_accounts") == ["111111111111"]
    both = ev(
        "ModifyDBSnapshotAttribute",
        "rds.amazonaws.com",
        request_parameters={"valuesToAdd": ["111111111111,222222222222"]},
    )
    assert val(both, "foreign_accounts") == ["111111111111", "222222222222"]


def test_foreign_accounts_ignores_own_trusted_ids_numbers_and_resource_ids() -> None:
    rec = ev(
        "CreateVolume",
        "ec2.amazonaws.com",
        request_parameters={
            "roleArn": f"arn:aws:iam::{ACCT}:role/x",
            "size": 107374182400,  # a 12-digit number: bytes, not an account
            "volumeId": "vol-049df61146c4d7901",
            "snapshotId": "snap-123456789012abcde",
            "clientToken": "1700000000000",  # 13 digits
            "kmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1",
        },
    )
    assert val(rec, "foreign_accounts") == ["444455556666"]
    assert val(rec, "foreign_accounts", DerivedConfig(trusted_accounts=frozenset({"444455556666"}))) is None
    assert val(ev("ListUsers", request_parameters=None), "foreign_accounts") is None


def test_actor_account_trusted_reads_the_actors_account_against_the_trusted_list() -> None:
    partner = ev(
        "GetObject", "s3.amazonaws.com", user_arn="arn:aws:iam::444455556666:user/x", account_id="444455556666"
    )
    trusted = DerivedConfig(trusted_accounts=frozenset({"444455556666"}))
    assert val(partner, "actor_account_trusted", trusted) is True
    assert val(partner, "actor_account_trusted") is False  # no trusted accounts configured
    assert val(ev("GetObject", "s3.amazonaws.com"), "actor_account_trusted", trusted) is False  # our own account
    arn_only = ev("GetObject", "s3.amazonaws.com", user_arn="arn:aws:iam::444455556666:user/x")
    del arn_only["userIdentity"]["accountId"]  # the account read off the ARN
    assert val(arn_only, "actor_account_trusted", trusted) is True


# ---------------------------------------------------------------------------- actor and target


def test_actor_account_and_target_is_self() -> None:
    alice = ev("CreateAccessKey", request_parameters={"userName": "Alice"})
    assert val(alice, "actor_account") == ACCT
    assert val(alice, "target_is_self") is True  # IAM user names are case-insensitive
    assert val(ev("CreateAccessKey", request_parameters={"userName": "bob"}), "target_is_self") is False
    assert val(ev("CreateAccessKey", request_parameters={}), "target_is_self") is True
    root = {"type": "Root", "arn": f"arn:aws:iam::{ACCT}:root", "accountId": ACCT}
    assert (
        val(ev("CreateAccessKey", request_parameters={"userName": "root"}, userIdentity=root), "target_is_self")
        is False
    )
    assert val(ev("CreateAccessKey", request_parameters=None, userIdentity=root), "target_is_self") is True
    no_acct = ev("GetCallerIdentity", userIdentity={"type": "IAMUser", "arn": f"arn:aws:iam::{OTHER}:user/x"})
    assert val(no_acct, "actor_account") == OTHER


def test_principal_session_and_console() -> None:
    rec = ev("ListUsers", userIdentity=role_identity("ops", "alice@example.com"))
    assert val(rec, "principal") == f"arn:aws:iam::{ACCT}:role/ops"
    assert val(rec, "session_name") == "alice@example.com"
    assert val(rec, "console") is False
    assert val(ev("ConsoleLogin", "signin.amazonaws.com"), "console") is True


JSON_VALUES: list[Any] = [None, True, 3, 2.5, "x", ["Terraform/1"], {"a": "Terraform/1"}]


@pytest.mark.parametrize("bad", JSON_VALUES, ids=repr)
@pytest.mark.parametrize(
    "path",
    [
        "userAgent",
        "userIdentity",
        "userIdentity.arn",
        "userIdentity.type",
        "requestParameters",
        "requestParameters.userName",
        "recipientAccountId",
        "sessionCredentialFromConsole",
        "userIdentity.sessionContext",
    ],
)
def test_every_field_accepts_any_json_type(path: str, bad: Any) -> None:
    rec = ev("CreateAccessKey", request_parameters={"userName": "alice", "p": f"arn:aws:iam::{OTHER}:root"})
    node: Any = rec
    *head, last = path.split(".")
    for k in head:
        node = node[k]
    node[last] = bad
    values = Deriver().values(rec)  # computes every field: must not raise
    assert all(k.startswith("cspm.") for k in values)


# ---------------------------------------------------------------------------- from Sigma


def test_rules_filter_deployers_in_standard_sigma() -> None:
    rs = rule(
        """
        selection: {eventName: DeleteBucket}
        filter_deployer: {cspm.deployer: true}
        condition: selection and not filter_deployer
        """
    )
    assert matches(rs, ev("DeleteBucket", "s3.amazonaws.com"))
    assert not matches(rs, ev("DeleteBucket", "s3.amazonaws.com", user_agent="Terraform/1.7.5"))


def test_rules_select_on_foreign_accounts_and_self() -> None:
    rs = rule(
        """
        selection: {eventName: CreateAccessKey, cspm.target_is_self: false}
        condition: selection
        """
    )
    assert matches(rs, ev("CreateAccessKey", request_parameters={"userName": "bob"}))
    assert not matches(rs, ev("CreateAccessKey", request_parameters={"userName": "alice"}))
    shared = rule(
        "selection: {cspm.foreign_accounts|exists: true}\ncondition: selection",
        rid="00000000-0000-4000-8000-000000000002",
    )
    assert matches(shared, ev("PutBucketPolicy", request_parameters={"policy": f'"arn:aws:iam::{OTHER}:root"'}))
    assert not matches(shared, ev("PutBucketPolicy", request_parameters={"policy": f'"arn:aws:iam::{ACCT}:root"'}))
    listed = rule(
        "selection: {cspm.foreign_accounts: '999999999999'}\ncondition: selection",
        rid="00000000-0000-4000-8000-000000000003",
    )
    assert matches(listed, ev("PutBucketPolicy", request_parameters={"policy": f"{OTHER} 111111111111"}))


def test_unknown_derived_field_fails_the_rule() -> None:
    rs = rule("selection: {cspm.deployr: true}\ncondition: selection")
    (err,) = rs.errors
    assert "unknown derived field 'cspm.deployr'" in err.reason


def test_derived_values_are_computed_once_per_record(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = derived.FIELDS["_deployer"]

    def counting(rec: dict[str, Any], dv: Deriver) -> Any:
        calls.append(1)
        return real.compute(rec, dv)

    monkeypatch.setitem(derived.FIELDS, "_deployer", derived.DerivedField("_deployer", "internal", "", counting))
    dv = Deriver()
    rec = ev("DeleteBucket", "s3.amazonaws.com", user_agent="Terraform/1.7.5")
    for name in ("deployer", "deployer_tool", "deployer_via", "deployer"):
        dv.value(rec, name)
    assert len(calls) == 1
    dv.value(dict(rec), "deployer")  # another record object: computed again
    assert len(calls) == 2


def test_vocabulary_shares_one_deriver() -> None:
    v = Vocabulary()
    get = v.getter("cspm.deployer_via")
    assert get(ev("X", user_agent="Terraform/1")) == ["user_agent"]
    assert v.scalar("cspm.deployer_tool")(ev("X")) is not None  # MISSING sentinel, not a crash


# --- cspm.ec2_credentials ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "kinds"),
    [
        (role_identity("web-app", "i-0a1b2c3d4e5f60718"), ["instance_profile"]),
        (role_identity("web-app", "i-0a1b2c3d"), ["instance_profile"]),  # 8-digit (older) instance id
        (role_identity("aws:ec2-instance", "i-0a1b2c3d4e5f60718"), ["instance_profile", "instance_identity"]),
        (role_identity("AWS:EC2-Instance", "botocore-session-1"), ["instance_identity"]),  # contains: any case
        (role_identity("web-app", "i-0A1B2C3D4E5F60718"), None),  # EC2 writes instance ids in lower case
        (role_identity("web-app", "i-0a1b2c3"), None),  # too short for an instance id
        (role_identity("web-app", "i-0a1b2c3d4e5f60718-copy"), None),  # the id must end the ARN
        (role_identity("web-app", "alice"), None),
        ({"type": "IAMUser", "arn": f"arn:aws:iam::{ACCT}:user/i-0a1b2c3d4e5f60718"}, None),
        (dict(role_identity("web-app", "i-0a1b2c3d4e5f60718"), type="FederatedUser"), None),
        (dict(role_identity("web-app", "i-0a1b2c3d4e5f60718"), type="assumedrole"), ["instance_profile"]),
        (
            {"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"userName": "aws:ec2-instance"}}},
            ["instance_identity"],
        ),
        ({"type": "AssumedRole", "arn": ["arn:aws:sts::1:assumed-role/r/i-0a1b2c3d4e5f60718"]}, None),  # not a string
        ("not an identity", None),
    ],
)
def test_ec2_credentials_reads_the_session_shape_ec2_writes(identity: Any, kinds: list[str] | None) -> None:
    rec = ev("DescribeInstances", "ec2.amazonaws.com", userIdentity=identity)
    assert Deriver().value(rec, "ec2_credentials") == kinds
    assert derived.ec2_credential_kinds(rec) == tuple(kinds or ())  # the index key: the same answer
    assert derived.identity_key(rec) == (tuple(kinds or ()), derived.is_person(rec))  # twice: remembered
    assert derived.identity_key(rec) == (tuple(kinds or ()), derived.is_person(rec))


def test_ec2_credentials_key_depends_on_the_identity_alone() -> None:
    ident = role_identity("web-app", "i-0a1b2c3d4e5f60718")
    a = ev(
        "GetCallerIdentity",
        "sts.amazonaws.com",
        userIdentity=ident,
        userAgent="curl/8.5.0",
        sourceIPAddress="198.51.100.7",
    )
    b = ev("ListBuckets", "s3.amazonaws.com", userIdentity=ident, errorCode="AccessDenied")
    assert derived.KEYED["ec2_credentials"][0] == "userIdentity"
    assert derived.ec2_credential_kinds(a) == derived.ec2_credential_kinds(b) == ("instance_profile",)


# --- cspm.person ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "person"),
    [
        ({"type": "IAMUser", "arn": f"arn:aws:iam::{ACCT}:user/alice"}, True),
        ({"type": "Root", "arn": f"arn:aws:iam::{ACCT}:root"}, True),
        ({"type": "FederatedUser", "arn": f"arn:aws:sts::{ACCT}:federated-user/bob"}, True),
        ({"type": "IdentityCenterUser", "accountId": ACCT}, True),
        (role_identity("AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6a7b", "alice@example.com"), True),
        (role_identity("awsreservedsso_ReadOnly_0a1b2c3d4e5f6a7b", "carol"), True),  # ARN compared in any case
        (role_identity("payments-api", "botocore-session-1"), False),
        (role_identity("AWSServiceRoleForConfig", "AWSConfig"), False),
        (role_identity("web-app", "i-0a1b2c3d4e5f60718"), False),
        (role_identity("ci", "AWSReservedSSO_fake"), False),  # the session name is not the role
        ({"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}, False),
        ({"type": ["IAMUser"], "arn": f"arn:aws:iam::{ACCT}:user/alice"}, False),  # not a string
        ("not an identity", False),
    ],
)
def test_person_tells_a_persons_credentials_from_a_workloads(identity: Any, person: bool) -> None:
    rec = ev("ListBuckets", "s3.amazonaws.com", userIdentity=identity)
    assert Deriver().value(rec, "person") is person
    assert derived.is_person(rec) is person
    key = derived.identity_key(rec)
    assert isinstance(key, tuple) and key[1] is person  # the index key: the same answer


def test_vpc_endpoint_rule_leaves_trusted_accounts_out() -> None:
    """The built-in VPC endpoint rule reads detection.trusted_accounts through cspm.actor_account_trusted."""
    from pathlib import Path

    import yaml

    from cspm_stream.detect.catalog import builtin_rules_dir, vocabulary
    from cspm_stream.detect.engine import DetectionEngine
    from cspm_stream.detect.loader import load_paths
    from cspm_stream.settings import DetectionSettings

    path = Path(builtin_rules_dir()) / "exfiltration" / "vpc_endpoint_used_by_foreign_account.yml"
    tests = yaml.safe_load(path.with_suffix("").with_suffix(".tests.yml").read_text())["tests"]
    outsider = next(t["events"][0] for t in tests if t["expect"] == "match")
    acct = outsider["userIdentity"]["accountId"]
    for trusted, expect in ((set(), True), ({acct}, False)):
        settings = DetectionSettings(trusted_accounts=sorted(trusted))
        rs = load_paths([path], vocab=vocabulary(settings))
        assert bool(DetectionEngine(rs).process(dict(outsider), {}).findings) is expect, trusted
