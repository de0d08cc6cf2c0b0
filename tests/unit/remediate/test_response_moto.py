"""Response actions on moto through the remediator (modes, audit), and their rollback from the audit record."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import pytest_asyncio

from cspm_stream.models import RemediationMode, RemediationResult, RemediationStatus, decode
from cspm_stream.remediate.engine import Remediator
from cspm_stream.remediate.rollback import rollback, rollback_id
from cspm_stream.remediate.session import RemediatorSession
from cspm_stream.settings import RemediationSettings
from cspm_stream.testing.moto import MotoServer
from cspm_stream.timeutil import iso

from .moto_util import command, new_account, seed_client, session, uniq

R = "us-east-1"
NOW = "2026-01-01T00:00:00.000Z"
Seeded = tuple[str, str, dict[str, Any]]


# --- seeders (also the generic "every action fixes its resource" cases of test_actions_moto) ------------


def seed_user_keys(m: MotoServer, a: str) -> Seeded:
    iam = seed_client(m, a, "iam")
    user = uniq("victim")
    iam.create_user(UserName=user)
    keys = [iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"] for _ in range(2)]
    return f"arn:aws:iam::{a}:user/{user}", "aws.iam.user", {"access_key_ids": [keys[1]]}


def seed_role(m: MotoServer, a: str) -> Seeded:
    iam = seed_client(m, a, "iam")
    role = uniq("WebRole")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=orjson.dumps(trust).decode())
    return f"arn:aws:iam::{a}:role/{role}", "aws.iam.role", {}


def seed_instance(m: MotoServer, a: str) -> Seeded:
    """An instance with two network interfaces in different groups.

    Launched with its interfaces (not instance-level groups): moto reports an interface's groups
    as the union of its own and the instance's launch groups, so a launch-group instance cannot be
    regrouped there (real EC2 replaces the interface's groups; this layout behaves the same on both).
    """
    ec2 = seed_client(m, a, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName=uniq("web"), Description="web", VpcId=vpc)["GroupId"]
    ssh = ec2.create_security_group(GroupName=uniq("ssh"), Description="ssh", VpcId=vpc)["GroupId"]
    eni0 = ec2.create_network_interface(SubnetId=subnet, Groups=[web, ssh])["NetworkInterface"]["NetworkInterfaceId"]
    eni1 = ec2.create_network_interface(SubnetId=subnet, Groups=[ssh])["NetworkInterface"]["NetworkInterfaceId"]
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    inst = ec2.run_instances(
        ImageId=ami,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        NetworkInterfaces=[
            {"NetworkInterfaceId": eni0, "DeviceIndex": 0},
            {"NetworkInterfaceId": eni1, "DeviceIndex": 1},
        ],
    )["Instances"][0]
    return f"arn:aws:ec2:{R}:{a}:instance/{inst['InstanceId']}", "aws.ec2.instance", {}


RESPONSE_CASES = {
    "iam_quarantine_access_key": seed_user_keys,
    "iam_revoke_role_sessions": seed_role,
    "ec2_isolate_instance": seed_instance,
}

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sess(moto_server: MotoServer) -> AsyncIterator[RemediatorSession]:
    async with session(moto_server) as s:
        yield s


@pytest.fixture(scope="module")
def acct() -> str:
    return new_account()


async def act(
    sess: RemediatorSession,
    acct: str,
    action: str,
    seeded: Seeded,
    mode: RemediationMode = RemediationMode.AUTO,
    **params: Any,
) -> RemediationResult:
    arn, rtype, seeded_params = seeded
    cmd = command(action, arn, acct, resource_type=rtype, params={**seeded_params, **params}, mode=mode)
    rem = Remediator(RemediationSettings(default_mode=mode), sess, clock=lambda: NOW)
    emits = await rem.on_command(cmd, {})
    (res,) = [decode(e.value, RemediationResult) for e in emits if e.topic == "remediation-results"]
    return res


async def undo(sess: RemediatorSession, res: RemediationResult, dry_run: bool = False) -> RemediationResult:
    cx = await sess.for_account(res.account_id)
    return await rollback(res, cx, actor="tester", at=NOW, dry_run=dry_run)


def key_status(m: MotoServer, acct: str, user: str) -> dict[str, str]:
    keys = seed_client(m, acct, "iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return {k["AccessKeyId"]: k["Status"] for k in keys}


# --- iam_quarantine_access_key -----------------------------------------------------------------


async def test_quarantine_named_key_then_rollback(moto_server: MotoServer, sess: RemediatorSession, acct: str) -> None:
    seeded = seed_user_keys(moto_server, acct)
    user = seeded[0].rsplit("/", 1)[1]
    target = seeded[2]["access_key_ids"][0]
    res = await act(sess, acct, "iam_quarantine_access_key", seeded)
    assert res.status is RemediationStatus.SUCCEEDED, res.error
    status = key_status(moto_server, acct, user)
    assert status[target] == "Inactive" and sorted(status.values()) == ["Active", "Inactive"]  # the other key lives
    assert res.before is not None and res.before["Targets"] == [target]
    back = await undo(sess, res)
    assert back.status is RemediationStatus.SUCCEEDED and back.command_id == rollback_id(res.command_id)
    assert back.command_id.startswith("rb-") and back.command_id[3:] == res.command_id[3:]
    assert set(key_status(moto_server, acct, user).values()) == {"Active"}
    assert [c["operation"] for c in back.calls] == ["update_access_key"]
    assert "rollback of " + res.command_id in back.actor
    again = await undo(sess, res)
    assert again.status is RemediationStatus.NOOP and not again.calls  # nothing left to restore


async def test_quarantine_by_creation_time_and_refusal_without_selector(
    moto_server: MotoServer, sess: RemediatorSession, acct: str
) -> None:
    arn, rtype, _ = seed_user_keys(moto_server, acct)
    user = arn.rsplit("/", 1)[1]
    future = iso(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    res = await act(sess, acct, "iam_quarantine_access_key", (arn, rtype, {}), created_after=future)
    assert res.status is RemediationStatus.NOOP  # no key that new: nothing to contain
    past = iso(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    res = await act(sess, acct, "iam_quarantine_access_key", (arn, rtype, {}), created_after=past)
    assert res.status is RemediationStatus.SUCCEEDED and set(key_status(moto_server, acct, user).values()) == {
        "Inactive"
    }
    res = await act(sess, acct, "iam_quarantine_access_key", (arn, rtype, {}))
    assert res.status is RemediationStatus.FAILED and "access_key_ids or params.created_after" in (res.error or "")


# --- iam_revoke_role_sessions ------------------------------------------------------------------


async def test_revoke_sessions_then_rollback_deletes_the_policy(
    moto_server: MotoServer, sess: RemediatorSession, acct: str
) -> None:
    seeded = seed_role(moto_server, acct)
    role = seeded[0].rsplit("/", 1)[1]
    iam = seed_client(moto_server, acct, "iam")
    res = await act(sess, acct, "iam_revoke_role_sessions", seeded)
    assert res.status is RemediationStatus.SUCCEEDED, res.error
    doc = iam.get_role_policy(RoleName=role, PolicyName="CspmStreamRevokeOlderSessions")["PolicyDocument"]
    doc = orjson.loads(doc) if isinstance(doc, str) else doc
    (st,) = doc["Statement"]
    assert st["Effect"] == "Deny" and st["Action"] == "*" and st["Resource"] == "*"
    cutoff = st["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
    assert cutoff >= NOW and res.before is not None and res.before["RevokePolicy"] is None
    back = await undo(sess, res)
    assert back.status is RemediationStatus.SUCCEEDED and [c["operation"] for c in back.calls] == ["delete_role_policy"]
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == []


async def test_revoke_rollback_restores_an_earlier_revoke_and_refuses_aws_roles(
    moto_server: MotoServer, sess: RemediatorSession, acct: str
) -> None:
    seeded = seed_role(moto_server, acct)
    role = seeded[0].rsplit("/", 1)[1]
    iam = seed_client(moto_server, acct, "iam")
    from cspm_stream.remediate.actions.response import revoke_document

    old = revoke_document("2025-06-01T00:00:00.000Z")
    iam.put_role_policy(
        RoleName=role, PolicyName="CspmStreamRevokeOlderSessions", PolicyDocument=orjson.dumps(old).decode()
    )
    res = await act(sess, acct, "iam_revoke_role_sessions", seeded)
    assert res.status is RemediationStatus.SUCCEEDED  # the old cutoff predates the detection: revoked again
    await undo(sess, res)
    doc = iam.get_role_policy(RoleName=role, PolicyName="CspmStreamRevokeOlderSessions")["PolicyDocument"]
    assert (orjson.loads(doc) if isinstance(doc, str) else doc) == old
    name = "AWSReservedSSO_Admin_0123456789abcdef"
    iam.create_role(RoleName=name, Path="/aws-reserved/sso.amazonaws.com/", AssumeRolePolicyDocument="{}")
    res = await act(sess, acct, "iam_revoke_role_sessions", (f"arn:aws:iam::{acct}:role/{name}", "aws.iam.role", {}))
    assert res.status is RemediationStatus.FAILED and "managed by AWS" in (res.error or "")


# --- ec2_isolate_instance -----------------------------------------------------------------------


def eni_groups(m: MotoServer, acct: str, iid: str) -> dict[str, list[str]]:
    r = seed_client(m, acct, "ec2").describe_instances(InstanceIds=[iid])
    inst = r["Reservations"][0]["Instances"][0]
    return {n["NetworkInterfaceId"]: sorted(g["GroupId"] for g in n["Groups"]) for n in inst["NetworkInterfaces"]}


async def test_isolate_instance_into_a_closed_group_then_rollback(
    moto_server: MotoServer, sess: RemediatorSession, acct: str
) -> None:
    seeded = seed_instance(moto_server, acct)
    iid = seeded[0].rsplit("/", 1)[1]
    original = eni_groups(moto_server, acct, iid)
    assert sorted(len(g) for g in original.values()) == [1, 2]
    dry = await act(sess, acct, "ec2_isolate_instance", seeded, mode=RemediationMode.DRY_RUN)
    assert dry.status is RemediationStatus.PLANNED and eni_groups(moto_server, acct, iid) == original
    assert [c["operation"] for c in dry.calls] == [
        "create_security_group",
        "revoke_security_group_egress",
        "modify_network_interface_attribute",
        "modify_network_interface_attribute",
    ]
    res = await act(sess, acct, "ec2_isolate_instance", seeded)
    assert res.status is RemediationStatus.SUCCEEDED, res.error
    ec2 = seed_client(moto_server, acct, "ec2")
    isolated = eni_groups(moto_server, acct, iid)
    (q,) = {g[0] for g in isolated.values()}
    group = ec2.describe_security_groups(GroupIds=[q])["SecurityGroups"][0]
    assert (
        group["GroupName"] == "cspm-quarantine" and group["IpPermissions"] == [] and group["IpPermissionsEgress"] == []
    )
    back = await undo(sess, res)
    assert back.status is RemediationStatus.SUCCEEDED and eni_groups(moto_server, acct, iid) == original
    # a second isolation in the same VPC reuses the quarantine group (no second one)
    res2 = await act(sess, acct, "ec2_isolate_instance", seeded, occurrence="2")
    assert [c["operation"] for c in res2.calls] == ["modify_network_interface_attribute"] * 2


# --- rollback of the existing actions a playbook uses ----------------------------------------------


async def test_block_public_access_rollback_restores_what_was_there(
    moto_server: MotoServer, sess: RemediatorSession, acct: str
) -> None:
    s3 = seed_client(moto_server, acct, "s3")
    bare, partial = uniq("bare"), uniq("partial")
    for b in (bare, partial):
        s3.create_bucket(Bucket=b)
    prior = {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": False,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True,
    }
    s3.put_public_access_block(Bucket=partial, PublicAccessBlockConfiguration=prior)
    for bucket, expect in ((bare, None), (partial, prior)):
        res = await act(sess, acct, "s3_block_public_access", (f"arn:aws:s3:::{bucket}", "aws.s3.bucket", {}))
        assert res.status is RemediationStatus.SUCCEEDED
        await undo(sess, res)
        try:
            now = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        except s3.exceptions.ClientError as exc:
            assert "NoSuchPublicAccessBlockConfiguration" in str(exc)
            now = None
        assert now == expect


async def test_login_profile_rollback_recreates_it_without_showing_a_password(
    moto_server: MotoServer, sess: RemediatorSession, acct: str
) -> None:
    iam = seed_client(moto_server, acct, "iam")
    user = uniq("svc-backup")
    iam.create_user(UserName=user)
    iam.create_login_profile(UserName=user, Password="Intruder-Chosen-1!")
    res = await act(sess, acct, "iam_delete_login_profile", (f"arn:aws:iam::{acct}:user/{user}", "aws.iam.user", {}))
    assert res.status is RemediationStatus.SUCCEEDED
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName=user)
    plan = await undo(sess, res, dry_run=True)
    assert plan.status is RemediationStatus.PLANNED
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName=user)  # dry-run changed nothing
    back = await undo(sess, res)
    assert back.status is RemediationStatus.SUCCEEDED
    assert iam.get_login_profile(UserName=user)["LoginProfile"]["UserName"] == user  # console login exists again
    (call,) = back.calls
    assert call["operation"] == "create_login_profile" and call["params"]["PasswordResetRequired"] is True
    assert call["params"]["Password"] == "***" and "Intruder" not in orjson.dumps(back.calls).decode()
