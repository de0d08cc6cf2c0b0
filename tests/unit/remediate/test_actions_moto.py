"""Every built-in action against moto: misconfigure → check says non-compliant → the plan's
exact calls fix it → check says compliant; resources that are fine need no calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from cspm_stream.remediate.base import registry
from cspm_stream.remediate.session import RemediatorSession
from cspm_stream.testing.moto import MotoServer

from .moto_util import command, new_account, seed_client, session, uniq

R = "us-east-1"
Seeder = Callable[[MotoServer, str], tuple[str, str, dict[str, Any]]]  # -> arn, resource_type, params


def s3_bucket(m: MotoServer, acct: str, **kw: Any) -> str:
    name = uniq("b")
    s3 = seed_client(m, acct, "s3")
    s3.create_bucket(Bucket=name)
    if kw.get("acl"):
        s3.put_bucket_acl(Bucket=name, ACL=kw["acl"])
    try:
        s3.delete_bucket_encryption(Bucket=name)
    except Exception:
        pass
    return name


def seed_bpa(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    return f"arn:aws:s3:::{s3_bucket(m, a)}", "aws.s3.bucket", {}


def seed_account_bpa(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    return f"arn:aws:s3:{R}:{a}:account-settings", "aws.s3.account", {}


def seed_acl(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    return f"arn:aws:s3:::{s3_bucket(m, a, acl='public-read')}", "aws.s3.bucket", {}


def seed_sg(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    ec2 = seed_client(m, a, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName=uniq("open"), Description="open", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        ],
    )
    return f"arn:aws:ec2:{R}:{a}:security-group/{sg}", "aws.ec2.security_group", {}


def seed_region(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    return f"arn:aws:ec2:{R}:{a}:region-settings", "aws.ec2.region", {}


def _instance(m: MotoServer, a: str) -> tuple[Any, str]:
    ec2 = seed_client(m, a, "ec2")
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    inst = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]
    return ec2, inst["InstanceId"]


def seed_snapshot(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    ec2 = seed_client(m, a, "ec2")
    vol = ec2.create_volume(AvailabilityZone=f"{R}a", Size=1)["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=snap, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
    )
    return f"arn:aws:ec2:{R}::snapshot/{snap}", "aws.ec2.snapshot", {}


def seed_ami(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    ec2, iid = _instance(m, a)
    img = ec2.create_image(InstanceId=iid, Name="img")["ImageId"]
    ec2.modify_image_attribute(ImageId=img, LaunchPermission={"Add": [{"Group": "all"}]})
    return f"arn:aws:ec2:{R}::image/{img}", "aws.ec2.image", {}


def seed_imds(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    _, iid = _instance(m, a)
    return f"arn:aws:ec2:{R}:{a}:instance/{iid}", "aws.ec2.instance", {}


def _user(m: MotoServer, a: str) -> tuple[Any, str]:
    iam = seed_client(m, a, "iam")
    user = uniq("bob")
    iam.create_user(UserName=user)
    return iam, f"arn:aws:iam::{a}:user/{user}"


def seed_key(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    iam, arn = _user(m, a)
    key = iam.create_access_key(UserName=arn.rsplit("/", 1)[1])["AccessKey"]["AccessKeyId"]
    return arn, "aws.iam.user", {"access_key_id": key}


def seed_login(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    iam, arn = _user(m, a)
    iam.create_login_profile(UserName=arn.rsplit("/", 1)[1], Password="Sup3r-s3cret-pass!")
    return arn, "aws.iam.user", {}


def seed_admin(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    iam, arn = _user(m, a)
    iam.attach_user_policy(UserName=arn.rsplit("/", 1)[1], PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.attach_user_policy(UserName=arn.rsplit("/", 1)[1], PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    return arn, "aws.iam.user", {}


def seed_pwpolicy(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    seed_client(m, a, "iam").update_account_password_policy(MinimumPasswordLength=8, MaxPasswordAge=90)
    return f"arn:aws:iam::{a}:account-settings", "aws.iam.account", {}


def _db(m: MotoServer, a: str) -> tuple[Any, str]:
    rds = seed_client(m, a, "rds")
    db = uniq("db")
    rds.create_db_instance(
        DBInstanceIdentifier=db,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin1",
        MasterUserPassword="password123",
        AllocatedStorage=20,
        PubliclyAccessible=True,
    )
    return rds, db


def seed_rds(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    _, db = _db(m, a)
    return f"arn:aws:rds:{R}:{a}:db:{db}", "aws.rds.instance", {}


def seed_rds_snap(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    rds, db = _db(m, a)
    snap = uniq("snap")
    rds.create_db_snapshot(DBInstanceIdentifier=db, DBSnapshotIdentifier=snap)
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=snap, AttributeName="restore", ValuesToAdd=["all"])
    return f"arn:aws:rds:{R}:{a}:snapshot:{snap}", "aws.rds.snapshot", {}


def seed_kms(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    kid = seed_client(m, a, "kms").create_key()["KeyMetadata"]["KeyId"]
    return f"arn:aws:kms:{R}:{a}:key/{kid}", "aws.kms.key", {}


def seed_trail(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    s3 = seed_client(m, a, "s3")
    bucket = uniq("trail")
    s3.create_bucket(Bucket=bucket)
    ct = seed_client(m, a, "cloudtrail")
    arn = ct.create_trail(Name=uniq("main"), S3BucketName=bucket)["TrailARN"]
    return arn, "aws.cloudtrail.trail", {}


def seed_gd(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    return f"arn:aws:guardduty:{R}:{a}:region-settings", "aws.guardduty.region", {}


def seed_ecr(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    arn = seed_client(m, a, "ecr").create_repository(repositoryName=uniq("app"))["repository"]["repositoryArn"]
    return arn, "aws.ecr.repository", {}


def seed_sqs(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    q = uniq("q")
    seed_client(m, a, "sqs").create_queue(QueueName=q, Attributes={"SqsManagedSseEnabled": "false"})
    return f"arn:aws:sqs:{R}:{a}:{q}", "aws.sqs.queue", {}


CASES: dict[str, Seeder] = {
    "s3_block_public_access": seed_bpa,
    "s3_account_block_public_access": seed_account_bpa,
    "s3_enable_default_encryption": seed_bpa,
    "s3_enable_versioning": seed_bpa,
    "s3_remove_public_acl_grants": seed_acl,
    "ec2_revoke_public_ingress": seed_sg,
    "ec2_enable_ebs_default_encryption": seed_region,
    "ec2_remove_public_snapshot_sharing": seed_snapshot,
    "ec2_remove_public_ami_sharing": seed_ami,
    "ec2_require_imdsv2": seed_imds,
    "iam_deactivate_access_key": seed_key,
    "iam_delete_login_profile": seed_login,
    "iam_detach_admin_policy": seed_admin,
    "iam_set_password_policy": seed_pwpolicy,
    "rds_make_private": seed_rds,
    "rds_enable_deletion_protection": seed_rds,
    "rds_remove_public_snapshot_sharing": seed_rds_snap,
    "kms_enable_rotation": seed_kms,
    "cloudtrail_start_logging": seed_trail,
    "cloudtrail_enable_log_validation": seed_trail,
    "guardduty_enable": seed_gd,
    "ecr_enable_scan_on_push": seed_ecr,
    "sqs_enable_encryption": seed_sqs,
}


def _response_cases() -> dict[str, Seeder]:
    from .test_response_moto import RESPONSE_CASES  # the response actions' seeders live with their tests

    return dict(RESPONSE_CASES)


CASES.update(_response_cases())


def seed_trail_region(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    s3 = seed_client(m, a, "s3")
    bucket = uniq("trail")
    s3.create_bucket(Bucket=bucket)
    seed_client(m, a, "cloudtrail").create_trail(Name=uniq("org"), S3BucketName=bucket, IsMultiRegionTrail=True)
    return f"arn:aws:cloudtrail:{R}:{a}:region-settings", "aws.cloudtrail.region", {}


def seed_admin_policy(m: MotoServer, a: str) -> tuple[str, str, dict[str, Any]]:
    iam, user_arn = _user(m, a)
    doc = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
    arn = iam.create_policy(PolicyName=uniq("god"), PolicyDocument=doc)["Policy"]["Arn"]
    role = uniq("role")
    trust = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    iam.attach_user_policy(UserName=user_arn.rsplit("/", 1)[1], PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    return arn, "aws.iam.policy", {}


EXTRA: dict[str, tuple[str, Seeder]] = {
    "trail-region": ("cloudtrail_start_logging", seed_trail_region),
    "customer-admin-policy": ("iam_detach_admin_policy", seed_admin_policy),
}


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sess(moto_server: MotoServer) -> AsyncIterator[RemediatorSession]:
    async with session(moto_server) as s:
        yield s


@pytest.fixture(scope="module")
def acct() -> str:
    """One fresh account for this module (a new moto account costs seconds to initialise)."""
    return new_account()


@pytest.mark.parametrize("case", sorted(CASES) + sorted(EXTRA))
async def test_action_fixes_the_resource(
    moto_server: MotoServer, case: str, acct: str, sess: RemediatorSession
) -> None:
    name, seeder = EXTRA.get(case, (case, CASES.get(case)))
    assert seeder is not None
    arn, rtype, params = seeder(moto_server, acct)
    assert rtype in registry()[name].resource_types
    action = registry()[name]
    cmd = command(name, arn, acct, resource_type=rtype, params=params)
    cx = await sess.for_account(acct)
    assert cx.identity.startswith(f"arn:aws:sts::{acct}:assumed-role/CspmStreamRemediator/")
    assert await action.tags(cx, cmd) == {}
    before = await action.check(cx, cmd)
    assert not action.compliant(before), before
    calls = action.plan(cmd, before)
    assert calls and all(c.service for c in calls)
    await action.apply(cx, calls)
    after = await action.check(cx, cmd)
    assert action.compliant(after) or not action.plan(cmd, after), after
    assert action.plan(cmd, after) == [] or action.compliant(after)


async def test_sg_revoke_keeps_the_harmless_rules(moto_server: MotoServer, acct: str, sess: RemediatorSession) -> None:
    arn, rtype, _ = seed_sg(moto_server, acct)
    action = registry()["ec2_revoke_public_ingress"]
    cmd = command("ec2_revoke_public_ingress", arn, acct, resource_type=rtype)
    cx = await sess.for_account(acct)
    before = await action.check(cx, cmd)
    (call,) = action.plan(cmd, before)
    assert call.params["IpPermissions"] == [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    ]
    await action.apply(cx, [call])
    kept = {(p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in (await action.check(cx, cmd))["IpPermissions"]}
    assert kept == {(443, "0.0.0.0/0"), (5432, "10.0.0.0/8")}


async def test_password_policy_keeps_stronger_and_expiry(
    moto_server: MotoServer, acct: str, sess: RemediatorSession
) -> None:
    arn, rtype, _ = seed_pwpolicy(moto_server, acct)
    action = registry()["iam_set_password_policy"]
    cmd = command("iam_set_password_policy", arn, acct, resource_type=rtype, params={"MinimumPasswordLength": 20})
    cx = await sess.for_account(acct)
    (call,) = action.plan(cmd, await action.check(cx, cmd))
    assert call.params["MinimumPasswordLength"] == 20 and call.params["MaxPasswordAge"] == 90
    assert call.params["PasswordReusePrevention"] == 24


async def test_detach_admin_keeps_other_policies(moto_server: MotoServer, acct: str, sess: RemediatorSession) -> None:
    arn, rtype, _ = seed_admin(moto_server, acct)
    action = registry()["iam_detach_admin_policy"]
    cmd = command("iam_detach_admin_policy", arn, acct, resource_type=rtype)
    cx = await sess.for_account(acct)
    await action.apply(cx, action.plan(cmd, await action.check(cx, cmd)))
    left = [p["PolicyName"] for p in (await action.check(cx, cmd))["AttachedPolicies"]]
    assert left == ["ReadOnlyAccess"]
