"""Traps and decoys for the part-C breadth pairs moto can serve (see crossref_seed.py for the conventions).

Neptune clusters and snapshots, MemoryDB, DAX, CloudFormation stacks (CDK bootstrap stack, nested-looking names),
AppSync APIs, DataSync tasks, SES identities, Direct Connect connections, and the EC2 network twins: instances
judged through all their security groups (exposed by range, over IPv6 only, UDP and private-source decoys),
launch-wizard and many-rule groups, Elastic IPs, transit gateways, subnets, VPC endpoints and volume snapshots;
multi-Region KMS keys, NLBs with and without cross-zone balancing and TLS listeners, EFS access points.
DocumentDB (moto refuses the engine) and VPN tunnels (moto reports no telemetry) are tested on recorded responses.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from bench.scan.crossref_seed import Seeder

ACCOUNT = "123456789012"


def _world(proto: str, lo: int, hi: int, *, v6: bool = False) -> dict[str, Any]:
    r: dict[str, Any] = {"IpProtocol": proto, "FromPort": lo, "ToPort": hi}
    if v6:
        r["Ipv6Ranges"] = [{"CidrIpv6": "::/0"}]
    else:
        r["IpRanges"] = [{"CidrIp": "0.0.0.0/0"}]
    return r


def seed_network(s: Seeder) -> None:
    ec2 = s.client("ec2", "us-east-1")
    vpc = s.do("c:vpc", lambda: ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"])
    if not vpc:
        return
    a = s.do(
        "c:subnet-a",
        lambda: ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24", AvailabilityZone="us-east-1a")["Subnet"][
            "SubnetId"
        ],
    )
    b = s.do(
        "c:subnet-b-public-ip",
        lambda: ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.2.0/24", AvailabilityZone="us-east-1a")["Subnet"][
            "SubnetId"
        ],
    )
    if b:
        s.do("c:map-public-ip", lambda: ec2.modify_subnet_attribute(SubnetId=b, MapPublicIpOnLaunch={"Value": True}))
    if a:
        s.do(
            "c:vpce-single-subnet",
            lambda: ec2.create_vpc_endpoint(
                VpcId=vpc, ServiceName="com.amazonaws.us-east-1.ssm", VpcEndpointType="Interface", SubnetIds=[a]
            ),
        )
    groups: dict[str, list[dict[str, Any]]] = {
        "c-exposed-range": [_world("tcp", 20, 23), _world("tcp", 3306, 3306, v6=True)],
        "c-decoys": [
            _world("udp", 3389, 3389),
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        ],
        "launch-wizard-7": [],
        "c-many-rules": [
            {"IpProtocol": "tcp", "FromPort": 4000 + i, "ToPort": 4000 + i, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
            for i in range(51)
        ],
    }
    ids: dict[str, str] = {}
    for name, rules in groups.items():
        gid = s.do(
            f"c:sg:{name}",
            partial(lambda n: ec2.create_security_group(GroupName=n, Description=n, VpcId=vpc)["GroupId"], name),
        )
        if gid:
            ids[name] = gid
            if rules:
                s.do(
                    f"c:sg-rules:{name}",
                    partial(ec2.authorize_security_group_ingress, GroupId=gid, IpPermissions=rules),
                )
    if a and "c-exposed-range" in ids and "c-decoys" in ids:
        s.do(
            "c:ec2-exposed",
            lambda: ec2.run_instances(
                ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=a, SecurityGroupIds=[ids["c-exposed-range"]]
            ),
        )
        s.do(
            "c:ec2-decoys-only",
            lambda: ec2.run_instances(
                ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=a, SecurityGroupIds=[ids["c-decoys"]]
            ),
        )
    s.do("c:eip-idle", lambda: ec2.allocate_address(Domain="vpc"))
    s.do("c:tgw-auto-accept", lambda: ec2.create_transit_gateway(Options={"AutoAcceptSharedAttachments": "enable"}))
    s.do("c:tgw-strict", lambda: ec2.create_transit_gateway(Options={"AutoAcceptSharedAttachments": "disable"}))
    kept = s.do("c:volume-with-snapshot", lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"])
    if kept:
        s.do("c:snapshot", lambda: ec2.create_snapshot(VolumeId=kept))
    s.do("c:volume-bare", lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=8))


def seed_data(s: Seeder) -> None:
    ne = s.client("neptune", "us-east-1")
    s.do(
        "c:neptune-good",
        lambda: ne.create_db_cluster(
            DBClusterIdentifier="graph-good",
            Engine="neptune",
            StorageEncrypted=True,
            DeletionProtection=True,
            BackupRetentionPeriod=7,
            CopyTagsToSnapshot=True,
            EnableCloudwatchLogsExports=["audit"],
        ),
    )
    s.do("c:neptune-bad", lambda: ne.create_db_cluster(DBClusterIdentifier="graph-bad", Engine="neptune"))
    s.do(
        "c:neptune-public-snapshot",
        lambda: ne.create_db_cluster_snapshot(
            DBClusterIdentifier="graph-bad", DBClusterSnapshotIdentifier="graph-open"
        ),
    )
    s.do(
        "c:neptune-snapshot-public",
        lambda: ne.modify_db_cluster_snapshot_attribute(
            DBClusterSnapshotIdentifier="graph-open", AttributeName="restore", ValuesToAdd=["all"]
        ),
    )
    md = s.client("memorydb", "us-east-1")
    s.do(
        "c:memorydb-good",
        lambda: md.create_cluster(ClusterName="mdb-good", NodeType="db.t4g.small", ACLName="open-access"),
    )
    s.do(
        "c:memorydb-bad",
        lambda: md.create_cluster(
            ClusterName="mdb-bad",
            NodeType="db.t4g.small",
            ACLName="open-access",
            TLSEnabled=False,
            AutoMinorVersionUpgrade=False,
        ),
    )
    dax = s.client("dax", "us-east-1")
    role = f"arn:aws:iam::{ACCOUNT}:role/dax"
    s.do(
        "c:dax-good",
        lambda: dax.create_cluster(
            ClusterName="dax-good",
            NodeType="dax.t3.small",
            ReplicationFactor=3,
            IamRoleArn=role,
            SSESpecification={"Enabled": True},
            ClusterEndpointEncryptionType="TLS",
        ),
    )
    s.do(
        "c:dax-bad",
        lambda: dax.create_cluster(
            ClusterName="dax-bad", NodeType="dax.t3.small", ReplicationFactor=1, IamRoleArn=role
        ),
    )
    cf = s.client("cloudformation", "us-east-1")

    def template(version: str) -> str:
        return json.dumps(
            {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"BootstrapVersion": {"Value": version}}}
        )

    s.do(
        "c:cdk-old-protected",
        lambda: cf.create_stack(StackName="CDKToolkit", TemplateBody=template("19"), EnableTerminationProtection=True),
    )
    s.do("c:stack-unprotected-old-output", lambda: cf.create_stack(StackName="app", TemplateBody=template("3")))
    s.do(
        "c:cdk-current-eu",
        lambda: s.client("cloudformation", "eu-west-1").create_stack(
            StackName="CDKToolkit", TemplateBody=template("27"), EnableTerminationProtection=True
        ),
    )
    ap = s.client("appsync", "us-east-1")
    logs = {"cloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/appsync"}
    s.do(
        "c:appsync-good",
        lambda: ap.create_graphql_api(
            name="api-good", authenticationType="AWS_IAM", logConfig={"fieldLogLevel": "ERROR", **logs}
        ),
    )
    s.do(
        "c:appsync-bad",
        lambda: ap.create_graphql_api(
            name="api-bad", authenticationType="API_KEY", logConfig={"fieldLogLevel": "NONE", **logs}
        ),
    )
    ds = s.client("datasync", "us-east-1")
    loc = s.do(
        "c:datasync-location",
        lambda: ds.create_location_s3(
            S3BucketArn="arn:aws:s3:::exports", S3Config={"BucketAccessRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ds"}
        )["LocationArn"],
    )
    if loc:
        s.do(
            "c:datasync-logged",
            lambda: ds.create_task(
                SourceLocationArn=loc,
                DestinationLocationArn=loc,
                Name="logged",
                CloudWatchLogGroupArn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/datasync",
            ),
        )
        s.do(
            "c:datasync-silent",
            lambda: ds.create_task(SourceLocationArn=loc, DestinationLocationArn=loc, Name="silent"),
        )
    s.do(
        "c:ses-identity", lambda: s.client("sesv2", "us-east-1").create_email_identity(EmailIdentity="mail.example.com")
    )
    dx = s.client("directconnect", "us-east-1")
    for name in ("dc1-a", "dc1-b"):  # two connections, one location: not redundant
        s.do(f"c:dx-{name}", partial(dx.create_connection, location="EqDC2", bandwidth="1Gbps", connectionName=name))
    dx_eu = s.client("directconnect", "eu-west-1")
    for name, where in (("eu-a", "EqFA5"), ("eu-b", "TCSH")):  # two locations: redundant
        s.do(f"c:dx-{name}", partial(dx_eu.create_connection, location=where, bandwidth="1Gbps", connectionName=name))


def seed_twins(s: Seeder) -> None:
    kms = s.client("kms", "us-east-1")
    s.do("c:kms-multi-region", lambda: kms.create_key(Description="multi", MultiRegion=True))
    s.do("c:kms-single-region", lambda: kms.create_key(Description="single", MultiRegion=False))
    ec2 = s.client("ec2", "us-east-1")
    vpc = s.do("c:lb-vpc", lambda: ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"])
    if vpc:
        subnets = [
            s.do(
                f"c:lb-subnet-{z}",
                partial(
                    lambda c, z: ec2.create_subnet(VpcId=vpc, CidrBlock=c, AvailabilityZone=f"us-east-1{z}")["Subnet"][
                        "SubnetId"
                    ],
                    c,
                    z,
                ),
            )
            for c, z in (("10.50.1.0/24", "a"), ("10.50.2.0/24", "b"))
        ]
        elb = s.client("elbv2", "us-east-1")
        tg = s.do(
            "c:tg",
            lambda: elb.create_target_group(Name="c-tg", Protocol="TCP", Port=443, VpcId=vpc)["TargetGroups"][0][
                "TargetGroupArn"
            ],
        )
        cert = s.do(
            "c:acm",
            lambda: s.client("acm", "us-east-1").request_certificate(DomainName="c.example.com")["CertificateArn"],
        )
        for name, cross, proto in (("c-nlb-good", "true", "TLS"), ("c-nlb-bad", "false", "TCP")):
            arn = s.do(
                f"c:{name}",
                partial(
                    lambda n: elb.create_load_balancer(Name=n, Subnets=subnets, Type="network")["LoadBalancers"][0][
                        "LoadBalancerArn"
                    ],
                    name,
                ),
            )
            if not arn or not tg:
                continue
            s.do(
                f"c:{name}-cross-zone",
                partial(
                    elb.modify_load_balancer_attributes,
                    LoadBalancerArn=arn,
                    Attributes=[{"Key": "load_balancing.cross_zone.enabled", "Value": cross}],
                ),
            )
            extra = {"Certificates": [{"CertificateArn": cert}]} if proto == "TLS" and cert else {}
            s.do(
                f"c:{name}-listener",
                partial(
                    elb.create_listener,
                    LoadBalancerArn=arn,
                    Protocol=proto if extra or proto == "TCP" else "TCP",
                    Port=443,
                    DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
                    **extra,
                ),
            )
    efs = s.client("efs", "us-east-1")
    confined = s.do("c:efs-confined", lambda: efs.create_file_system(CreationToken="c-confined")["FileSystemId"])
    wide = s.do("c:efs-wide", lambda: efs.create_file_system(CreationToken="c-wide")["FileSystemId"])
    if confined:
        s.do(
            "c:efs-ap-confined",
            lambda: efs.create_access_point(
                FileSystemId=confined, PosixUser={"Uid": 1000, "Gid": 1000}, RootDirectory={"Path": "/app"}
            ),
        )
    if wide:
        s.do("c:efs-ap-root", lambda: efs.create_access_point(FileSystemId=wide, RootDirectory={"Path": "/"}))


def seed_breadth_c(s: Seeder) -> None:
    seed_network(s)
    seed_data(s)
    seed_twins(s)
