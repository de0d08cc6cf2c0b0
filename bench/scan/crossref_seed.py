"""A moto account seeded with traps and decoys for the Prowler checks our policies name as exact.

Each resource is created for a reason: a *trap* must fail the checks of its topic, a *decoy* looks like a
failure but must pass (a private CIDR on port 22, UDP 22, ports next to the sensitive ones, a customer
policy named AdministratorAccess, a role only EC2 can assume, ...), and *splits* separate our policy from
its twin (all traffic open: the port checks pass, the all-ports check fails). ``seed`` returns what it
created and what the endpoint refused (moto gaps), so the report can say which pairs moto cannot exercise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

import boto3
from botocore.config import Config

REGIONS = ["us-east-1", "eu-west-1"]
TRUST_EC2: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
TRUST_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}
    ],
}
ADMIN_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
READ_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


class Seeder:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.created: list[str] = []
        self.refused: dict[str, str] = {}

    def client(self, service: str, region: str = "us-east-1") -> Any:
        cfg = Config(retries={"mode": "standard", "max_attempts": 3})
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint, config=cfg)

    def do(self, label: str, fn: Callable[[], Any]) -> Any:
        try:
            out = fn()
        except Exception as exc:  # a moto gap: report it, keep seeding
            self.refused[label] = f"{type(exc).__name__}: {str(exc)[:160]}"
            return None
        self.created.append(label)
        return out


def _rule(proto: str, lo: int | None, hi: int | None, v4: str | None = None, v6: str | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"IpProtocol": proto}
    if lo is not None:
        r.update(FromPort=lo, ToPort=hi)
    if v4:
        r["IpRanges"] = [{"CidrIp": v4}]
    if v6:
        r["Ipv6Ranges"] = [{"CidrIpv6": v6}]
    return r


SECURITY_GROUPS: dict[str, list[dict[str, Any]]] = {
    "trap-ssh-world": [_rule("tcp", 22, 22, v4="0.0.0.0/0")],
    "trap-ssh-ipv6": [_rule("tcp", 22, 22, v6="::/0")],
    "trap-range-3000-3500": [_rule("tcp", 3000, 3500, v4="0.0.0.0/0")],  # 3389, 3306, 3000 (high risk)
    "split-all-traffic": [_rule("-1", None, None, v4="0.0.0.0/0")],  # port checks pass, all-ports fails
    "split-all-tcp-ipv6": [_rule("tcp", 0, 65535, v6="::/0")],
    "trap-many-services": [
        _rule("tcp", p, p, v4="0.0.0.0/0")
        for p in (20, 23, 25, 1433, 1521, 5432, 5601, 6379, 7199, 8080, 9092, 11211, 27017)
    ],
    "decoy-udp-22": [_rule("udp", 22, 22, v4="0.0.0.0/0")],
    "decoy-private-22": [_rule("tcp", 22, 22, v4="10.0.0.0/8")],
    "decoy-adjacent-ports": [_rule("tcp", p, p, v4="0.0.0.0/0") for p in (21 + 1000, 3307, 5433, 6380)],
    "decoy-web-only": [_rule("tcp", 80, 80, v4="0.0.0.0/0"), _rule("tcp", 443, 443, v4="0.0.0.0/0", v6="::/0")],
    "decoy-no-ingress": [],
}


def seed_ec2(s: Seeder) -> None:
    ec2 = s.client("ec2", "us-east-1")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    for name, rules in SECURITY_GROUPS.items():
        gid = s.do(
            f"sg:{name}",
            partial(lambda n: ec2.create_security_group(GroupName=n, Description=n, VpcId=vpc)["GroupId"], name),
        )
        if gid and rules:
            s.do(
                f"sg-rules:{name}",
                partial(ec2.authorize_security_group_ingress, GroupId=gid, IpPermissions=rules),
            )
    # a second VPC whose default group is emptied (decoy for the default-group check)
    v2 = s.do("vpc:clean-default-sg", lambda: ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"])
    if v2:
        sg = ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [v2]}, {"Name": "group-name", "Values": ["default"]}]
        )
        g = sg["SecurityGroups"][0]
        if g.get("IpPermissions"):
            s.do(
                "sg:default-revoke-in",
                lambda: ec2.revoke_security_group_ingress(GroupId=g["GroupId"], IpPermissions=g["IpPermissions"]),
            )
        if g.get("IpPermissionsEgress"):
            s.do(
                "sg:default-revoke-out",
                lambda: ec2.revoke_security_group_egress(GroupId=g["GroupId"], IpPermissions=g["IpPermissionsEgress"]),
            )
        s.do(
            "flowlog:vpc2",
            lambda: ec2.create_flow_logs(
                ResourceIds=[v2],
                ResourceType="VPC",
                TrafficType="ALL",
                LogDestinationType="s3",
                LogDestination="arn:aws:s3:::flow-logs-bucket",
            ),
        )
        s.do("nacl:unused", lambda: ec2.create_network_acl(VpcId=v2))
    # instances: hardened, default, endpoint off with tokens optional (EC2.8 split)
    ami = "ami-12c6146b"
    prof = s.do(
        "iam:instance-profile",
        lambda: s.client("iam").create_instance_profile(InstanceProfileName="app-profile")["InstanceProfile"]["Arn"],
    )
    hard = s.do(
        "ec2:hardened",
        lambda: ec2.run_instances(
            ImageId=ami,
            MinCount=1,
            MaxCount=1,
            Monitoring={"Enabled": True},
            MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
            IamInstanceProfile={"Arn": prof} if prof else {},
        )["Instances"][0]["InstanceId"],
    )
    soft = s.do(
        "ec2:default", lambda: ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    )
    s.do(
        "ec2:endpoint-off-tokens-optional",
        lambda: ec2.run_instances(
            ImageId=ami,
            MinCount=1,
            MaxCount=1,
            MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "disabled"},
        ),
    )
    if soft:
        subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
        eni = s.do(
            "eni:second",
            lambda: ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"],
        )
        if eni:
            s.do(
                "eni:attach",
                lambda: ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=soft, DeviceIndex=1),
            )
    enc = s.do(
        "ebs:encrypted",
        lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, Encrypted=True)["VolumeId"],
    )
    plain = s.do("ebs:unencrypted", lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"])
    if plain and hard:
        s.do("ebs:attach-unencrypted", lambda: ec2.attach_volume(VolumeId=plain, InstanceId=hard, Device="/dev/sdf"))
    s.do("ebs:unencrypted-unattached", lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=1))
    if plain:
        pub = s.do("snap:public", lambda: ec2.create_snapshot(VolumeId=plain)["SnapshotId"])
        if pub:
            s.do(
                "snap:make-public",
                lambda: ec2.modify_snapshot_attribute(
                    SnapshotId=pub, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
                ),
            )
        s.do("snap:private", lambda: ec2.create_snapshot(VolumeId=plain))
    if enc:
        s.do("snap:encrypted", lambda: ec2.create_snapshot(VolumeId=enc))
    if soft:
        img = s.do("ami:public", lambda: ec2.create_image(InstanceId=soft, Name="public-image")["ImageId"])
        if img:
            s.do(
                "ami:make-public",
                lambda: ec2.modify_image_attribute(ImageId=img, LaunchPermission={"Add": [{"Group": "all"}]}),
            )
        s.do("ami:private", lambda: ec2.create_image(InstanceId=soft, Name="private-image"))
    s.do("ebs:default-encryption-eu", lambda: s.client("ec2", "eu-west-1").enable_ebs_encryption_by_default())


def seed_iam(s: Seeder) -> None:
    iam = s.client("iam")
    s.do(
        "iam:password-policy",
        lambda: iam.update_account_password_policy(
            MinimumPasswordLength=10,
            RequireSymbols=True,
            RequireNumbers=True,
            RequireUppercaseCharacters=True,
            RequireLowercaseCharacters=False,
            MaxPasswordAge=120,
            PasswordReusePrevention=5,
        ),
    )
    users = {
        "alice": "console+mfa",
        "bob": "console-no-mfa",
        "carol": "api-only",
        "dave": "two-keys",
        "erin": "admin-attached",
        "frank": "inline-admin",
        "grace": "fake-admin-name",
    }
    for u in users:
        s.do(f"user:{u}", partial(iam.create_user, UserName=u))
    for u in ("alice", "bob"):
        s.do(f"login:{u}", partial(iam.create_login_profile, UserName=u, Password="Str0ng!Passw0rd#"))
    dev = s.do(
        "mfa:alice",
        lambda: iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"],
    )
    if dev:
        s.do(
            "mfa:alice-enable",
            lambda: iam.enable_mfa_device(
                UserName="alice", SerialNumber=dev, AuthenticationCode1="123456", AuthenticationCode2="654321"
            ),
        )
    s.do("key:dave-1", lambda: iam.create_access_key(UserName="dave"))
    s.do("key:dave-2", lambda: iam.create_access_key(UserName="dave"))
    s.do("key:bob", lambda: iam.create_access_key(UserName="bob"))  # console user with a never-used key
    s.do(
        "attach:erin-admin",
        lambda: iam.attach_user_policy(UserName="erin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"),
    )
    s.do(
        "inline:frank-admin",
        lambda: iam.put_user_policy(UserName="frank", PolicyName="all", PolicyDocument=json.dumps(ADMIN_DOC)),
    )
    fake = s.do(
        "policy:named-AdministratorAccess",
        lambda: iam.create_policy(PolicyName="AdministratorAccess", PolicyDocument=json.dumps(READ_DOC))["Policy"][
            "Arn"
        ],
    )
    if fake:
        s.do("attach:grace-fake-admin", lambda: iam.attach_user_policy(UserName="grace", PolicyArn=fake))
    admin = s.do(
        "policy:custom-admin-attached",
        lambda: iam.create_policy(PolicyName="custom-admin", PolicyDocument=json.dumps(ADMIN_DOC))["Policy"]["Arn"],
    )
    s.do(
        "policy:custom-admin-unattached",
        lambda: iam.create_policy(PolicyName="custom-admin-spare", PolicyDocument=json.dumps(ADMIN_DOC)),
    )
    s.do(
        "policy:notaction",
        lambda: iam.create_policy(
            PolicyName="power-user-like",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}
            ),
        ),
    )
    s.do("group:admins", lambda: iam.create_group(GroupName="admins"))
    s.do(
        "group:admins-attach",
        lambda: iam.attach_group_policy(GroupName="admins", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"),
    )
    s.do("group:readers", lambda: iam.create_group(GroupName="readers"))
    if admin:
        s.do("group:readers-custom-admin", lambda: iam.attach_group_policy(GroupName="readers", PolicyArn=admin))
    s.do(
        "role:ec2-admin", lambda: iam.create_role(RoleName="ec2-admin", AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    )
    s.do(
        "role:ec2-admin-attach",
        lambda: iam.attach_role_policy(RoleName="ec2-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"),
    )
    s.do(
        "role:partner-admin",
        lambda: iam.create_role(RoleName="partner-admin", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT)),
    )
    s.do(
        "role:partner-admin-attach",
        lambda: iam.attach_role_policy(
            RoleName="partner-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        ),
    )
    s.do(
        "role:partner-read",
        lambda: iam.create_role(RoleName="partner-read", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT)),
    )
