"""IAM and Organizations collection deep enough for effective permissions, on the wire (moto):
permission boundaries, instance profiles, non-default policy versions, attached AWS managed
policies and each member account's SCP levels — then the escalation analysis on those very
snapshots (the collected shapes are what :mod:`cspm_stream.iamgraph` reads)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cspm_stream.iamgraph.build import Resource, build_account
from cspm_stream.iamgraph.paths import Analysis
from cspm_stream.iamgraph.results import ADMIN, ESCALATES, NONE
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

TRUST_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
TRUST_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "sts:AssumeRole"}
    ],
}


def _doc(*stmts: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(stmts)})


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> dict[str, Any]:
    reset(moto_server)
    iam = moto_server.boto3_client("iam")
    cap = iam.create_policy(
        PolicyName="cap", PolicyDocument=_doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    )
    cap_arn = cap["Policy"]["Arn"]
    mine = iam.create_policy(
        PolicyName="dev-pol", PolicyDocument=_doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    )["Policy"]["Arn"]
    iam.create_policy_version(
        PolicyArn=mine, PolicyDocument=_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}), SetAsDefault=False
    )
    # dev may make an older version of its own policy the default: an escalation
    iam.create_user(UserName="dev")
    iam.attach_user_policy(UserName="dev", PolicyArn=mine)
    iam.put_user_policy(
        UserName="dev",
        PolicyName="versions",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "iam:SetDefaultPolicyVersion", "Resource": mine}),
    )
    # deployer may pass any role to Lambda and run it; the admin role trusts Lambda
    iam.create_user(UserName="deployer")
    iam.put_user_policy(
        UserName="deployer",
        PolicyName="deploy",
        PolicyDocument=_doc(
            {
                "Effect": "Allow",
                "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
                "Resource": "*",
            }
        ),
    )
    iam.create_role(RoleName="fn-admin", AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))
    iam.attach_role_policy(RoleName="fn-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    # a capped role: AdministratorAccess under an s3-only boundary is not admin
    iam.create_role(RoleName="capped", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT), PermissionsBoundary=cap_arn)
    iam.attach_role_policy(RoleName="capped", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_instance_profile(InstanceProfileName="capped-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="capped-profile", RoleName="capped")
    iam.create_user(UserName="hopper")
    iam.put_user_policy(
        UserName="hopper",
        PolicyName="hop",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}),
    )
    iam.attach_user_policy(UserName="hopper", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    # an organization whose OU denies CreatePolicyVersion to the member account
    org = moto_server.boto3_client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    ou = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    member = org.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    scp = org.create_policy(
        Content=_doc({"Effect": "Deny", "Action": "iam:CreatePolicyVersion", "Resource": "*"}),
        Description="no policy rewrites",
        Name="deny-cpv",
        Type="SERVICE_CONTROL_POLICY",
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=ou)
    return {"estate": collect_moto(moto_server, ["iam", "organizations"]), "member": member, "ou": ou, "cap": cap_arn}


def test_no_collection_errors(estate: dict[str, Any]) -> None:
    e: Estate = estate["estate"]
    assert e.errors() == set()


def test_role_boundary_and_instance_profiles(estate: dict[str, Any]) -> None:
    e: Estate = estate["estate"]
    capped = e.one("aws.iam.role", "capped").attributes
    assert capped["PermissionsBoundary"]["PermissionsBoundaryArn"] == estate["cap"]
    assert [p["InstanceProfileName"] for p in capped["InstanceProfiles"]] == ["capped-profile"]
    assert set(capped["InstanceProfiles"][0]) == {"InstanceProfileName", "InstanceProfileId", "Arn"}
    assert e.one("aws.iam.role", "fn-admin").attributes["PermissionsBoundary"] is None
    assert "PermissionsBoundary" in e.one("aws.iam.user", "dev").attributes


def test_policy_versions_carry_non_default_documents(estate: dict[str, Any]) -> None:
    e: Estate = estate["estate"]
    versions = e.one("aws.iam.policy", "dev-pol").attributes["PolicyVersions"]
    by_id = {v["VersionId"]: v for v in versions}
    assert by_id["v1"]["IsDefaultVersion"] is True and "Document" not in by_id["v1"]
    assert by_id["v2"]["Document"]["Statement"][0]["Action"] == "*"


def test_attached_aws_managed_policies_are_collected(estate: dict[str, Any]) -> None:
    e: Estate = estate["estate"]
    names = e.ids("aws.iam.aws_managed_policy")
    assert {"AdministratorAccess", "ReadOnlyAccess"} <= names
    assert len(names) < 10  # only the attached ones, never AWS's whole catalogue
    admin = e.one("aws.iam.aws_managed_policy", "AdministratorAccess")
    assert admin.arn == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert admin.attributes["PolicyVersion"]["Document"]["Statement"][0]["Action"] == "*"


def test_scp_levels_of_a_member_account(estate: dict[str, Any]) -> None:
    e: Estate = estate["estate"]
    member = e.one("aws.organizations.account", estate["member"]).attributes["ServiceControlPolicies"]
    assert member["Enabled"] is True and member["ManagementAccount"] is False
    assert [lv["Type"] for lv in member["Levels"]] == ["ROOT", "ORGANIZATIONAL_UNIT", "ACCOUNT"]
    ou_level = member["Levels"][1]
    assert ou_level["Target"] == estate["ou"]
    assert {p["Name"] for p in ou_level["Policies"]} == {"FullAWSAccess", "deny-cpv"}
    deny = next(p for p in ou_level["Policies"] if p["Name"] == "deny-cpv")
    assert deny["Content"]["Statement"][0]["Effect"] == "Deny"
    mgmt = e.one("aws.organizations.account", ACCOUNT_ID).attributes["ServiceControlPolicies"]
    assert mgmt["ManagementAccount"] is True and mgmt["Levels"] == []


def test_analysis_on_the_collected_snapshots(estate: dict[str, Any]) -> None:
    e: Estate = estate["estate"]
    resources = [Resource(s.resource_type, s.arn, s.attributes, s.tags) for s in e.snaps]
    out = Analysis(build_account(ACCOUNT_ID, resources)).run()
    arn = f"arn:aws:iam::{ACCOUNT_ID}"
    dev = out[f"{arn}:user/dev"]
    assert dev.status == ESCALATES and dev.path[0].method == "set-default-policy-version"
    deployer = out[f"{arn}:user/deployer"]
    assert deployer.status == ESCALATES and deployer.path[0].target == f"{arn}:role/fn-admin"
    assert out[f"{arn}:role/fn-admin"].status == ADMIN
    assert out[f"{arn}:role/capped"].status == NONE  # the boundary caps AdministratorAccess
    hopper = out[f"{arn}:user/hopper"]
    assert hopper.status == NONE  # it can assume 'capped' only, which is not admin
    assert not any("not collected" in n for r in out.values() for n in r.notes)
