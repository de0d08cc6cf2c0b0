"""Content checks on the built-in policies and frameworks, beyond the engine's contract test.

* every remediation action a policy names is registered by the remediator;
* every top-level attribute a condition reads is one the collector emits for that resource
  type: a detail key of its spec, or a field of the list item named in ``ITEM_FIELDS``
  (the AWS response fields policies rely on — a typo or a renamed detail fails here);
* every example snapshot carries each detail attribute the condition reads, present (null when
  "not configured") or listed in ``errors`` — exactly as the collector would produce it;
* cross-references have the right shape, the FSBP framework agrees with ``related.securityhub``,
  and the CIS frameworks map every benchmark requirement the inventory can evaluate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from cspm_stream.collect.services import SPECS
from cspm_stream.iamgraph import PRINCIPAL_ATTRIBUTES, PRINCIPAL_TYPE
from cspm_stream.policy.catalog import Catalog, load_catalog
from cspm_stream.policy.frameworks import builtin_framework_dir
from cspm_stream.policy.loader import builtin_policy_dir
from cspm_stream.policy.model import Policy
from cspm_stream.remediate.base import registry as action_registry

#: list/describe item fields (as the AWS API returns them) that built-in conditions read
ITEM_FIELDS: dict[str, frozenset[str]] = {
    k: frozenset(v.split())
    for k, v in {
        "aws.s3.bucket": "Name",
        "aws.ec2.security_group": "GroupName IpPermissions IpPermissionsEgress",
        "aws.ec2.instance": "State MetadataOptions PublicIpAddress IamInstanceProfile Monitoring NetworkInterfaces "
        "VirtualizationType LaunchTime",
        "aws.ec2.volume": "Encrypted State",
        "aws.ec2.snapshot": "Encrypted",
        "aws.ec2.image": "Public BlockDeviceMappings",
        "aws.ec2.network_acl": "Entries IsDefault Associations",
        "aws.iam.user": "PasswordLastUsed",
        "aws.iam.role": "AssumeRolePolicyDocument",
        "aws.iam.policy": "AttachmentCount",
        "aws.rds.instance": "PubliclyAccessible StorageEncrypted AutoMinorVersionUpgrade MultiAZ DeletionProtection "
        "BackupRetentionPeriod EnabledCloudwatchLogsExports IAMDatabaseAuthenticationEnabled MonitoringInterval "
        "CopyTagsToSnapshot MasterUsername Engine Endpoint DBSubnetGroup DBClusterIdentifier "
        "ReadReplicaSourceDBInstanceIdentifier",
        "aws.rds.cluster": "StorageEncrypted DeletionProtection MultiAZ IAMDatabaseAuthenticationEnabled "
        "CopyTagsToSnapshot BackupRetentionPeriod MasterUsername Engine EnabledCloudwatchLogsExports "
        "AutoMinorVersionUpgrade BacktrackWindow Port",
        "aws.rds.snapshot": "Encrypted",
        "aws.cloudtrail.trail": "LogFileValidationEnabled KmsKeyId CloudWatchLogsLogGroupArn",
        "aws.lambda.function": "Runtime VpcConfig",
        "aws.secretsmanager.secret": "RotationEnabled LastRotatedDate CreatedDate LastAccessedDate KmsKeyId",
        "aws.ecr.repository": "imageScanningConfiguration imageTagMutability encryptionConfiguration",
        "aws.elbv2.load_balancer": "Type AvailabilityZones",
        "aws.efs.file_system": "Encrypted",
        # posture breadth, part A (MethodSettingsList, InstanceTypesByAz: derived by the collector's post step)
        "aws.acm.certificate": "InUse KeyAlgorithm NotAfter Type",
        "aws.apigateway.domain_name": "securityPolicy",
        "aws.apigateway.rest_api": "endpointConfiguration policy",
        "aws.apigateway.stage": "MethodSettingsList accessLogSettings clientCertificateId tracingEnabled webAclArn",
        "aws.apigatewayv2.stage": "AccessLogSettings",
        "aws.athena.workgroup": "State",
        "aws.autoscaling.group": "AvailabilityZones CapacityRebalance HealthCheckType InstanceTypesByAz LaunchTemplate "
        "LoadBalancerNames MixedInstancesPolicy TargetGroupARNs",
        "aws.autoscaling.launch_configuration": "AssociatePublicIpAddress MetadataOptions",
        "aws.backup.recovery_point": "IsEncrypted",
        "aws.backup.vault": "EncryptionKeyArn Locked",
        "aws.cloudwatch.alarm": "ActionsEnabled AlarmActions",
        "aws.ecs.cluster": "settings",
        "aws.ecs.service": "launchType networkConfiguration platformFamily platformVersion",
        "aws.ecs.task_set": "networkConfiguration",
        "aws.elasticache.cluster": "AutoMinorVersionUpgrade CacheNodes CacheSubnetGroupName ConfigurationEndpoint Engine "
        "TransitEncryptionEnabled",
        "aws.elasticache.replication_group": "AtRestEncryptionEnabled AuthTokenEnabled AutoMinorVersionUpgrade "
        "AutomaticFailover ConfigurationEndpoint MultiAZ NodeGroups SnapshotRetentionLimit TransitEncryptionEnabled "
        "TransitEncryptionMode",
        "aws.elb.load_balancer": "AvailabilityZones ListenerDescriptions Scheme",
        "aws.glue.connection": "ConnectionProperties",
        "aws.glue.job": "DefaultArguments",
        "aws.glue.ml_transform": "TransformEncryption",
        "aws.logs.log_group": "kmsKeyId retentionInDays",
        "aws.redshift.cluster": "AllowVersionUpgrade AutomatedSnapshotRetentionPeriod DBName Encrypted Endpoint "
        "EnhancedVpcRouting MasterUsername MultiAZ PubliclyAccessible",
        "aws.route53.domain": "AutoRenew",
        "aws.route53.hosted_zone": "Config",
        # posture breadth, part C
        "aws.neptune.cluster": "BackupRetentionPeriod CopyTagsToSnapshot DeletionProtection EnabledCloudwatchLogsExports "
        "IAMDatabaseAuthenticationEnabled MultiAZ StorageEncrypted",
        "aws.neptune.cluster_snapshot": "StorageEncrypted",
        "aws.docdb.cluster": "BackupRetentionPeriod DeletionProtection EnabledCloudwatchLogsExports MultiAZ StorageEncrypted",
        "aws.memorydb.cluster": "AutoMinorVersionUpgrade TLSEnabled",
        "aws.dax.cluster": "ClusterEndpointEncryptionType Nodes SSEDescription",
        "aws.cloudformation.stack": "EnableTerminationProtection Outputs RootId StackName",
        "aws.appsync.graphql_api": "apiType authenticationType logConfig",
        "aws.ec2.vpc": "AvailabilityZones",
        "aws.ec2.elastic_ip": "AssociationId",
        "aws.ec2.transit_gateway": "Options",
        "aws.ec2.subnet": "MapPublicIpOnLaunch",
        "aws.ec2.vpc_endpoint": "SubnetIds VpcEndpointType",
        "aws.ec2.vpn_connection": "VgwTelemetry",
        "aws.appstream.fleet": "DisconnectTimeoutInSeconds EnableDefaultInternetAccess IdleDisconnectTimeoutInSeconds "
        "MaxUserDurationInSeconds",
        "aws.lightsail.instance": "addOns networking publicIpAddress",
        "aws.lightsail.database": "publiclyAccessible",
        "aws.lightsail.static_ip": "isAttached",
        "aws.storagegateway.gateway": "HostEnvironment",
        "aws.ds.directory": "RadiusSettings RadiusStatus Type",
        "aws.ds.certificate": "ExpiryDateTime",
        "aws.directconnect.region": "Locations",
    }.items()
}

SH_ID = re.compile(r"^[A-Za-z0-9]+\.\d+$")
PROWLER_ID = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog([builtin_policy_dir()], [builtin_framework_dir()], strict=True)


def _detail_keys() -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for specs in SPECS.values():
        for spec in specs:
            out[spec.resource_type] = frozenset(d.key for d in spec.details)
    # the derived per-principal records the context stage computes (not collected)
    out[PRINCIPAL_TYPE] = PRINCIPAL_ATTRIBUTES
    return out


DETAILS = _detail_keys()


def _tops(policy: Policy) -> Iterator[str]:
    for path in policy.condition.reads:
        yield re.split(r"[.\[]", path, maxsplit=1)[0]


def test_enough_builtins(catalog: Catalog) -> None:
    assert len(catalog.policies) >= 150


def test_remediation_actions_are_registered(catalog: Catalog) -> None:
    names = set(action_registry())
    bad = {p.id: p.remediation.action for p in catalog.policies.values() if p.remediation.action not in (None, *names)}
    assert not bad, f"unknown remediation actions: {bad}"


def test_conditions_read_only_collected_attributes(catalog: Catalog) -> None:
    problems = []
    for p in catalog.policies.values():
        assert p.resource_type in DETAILS, f"{p.id}: no collector spec for {p.resource_type}"
        allowed = DETAILS[p.resource_type] | ITEM_FIELDS.get(p.resource_type, frozenset())
        problems += [f"{p.id} reads {top!r}" for top in _tops(p) if top not in allowed]
    assert not problems, "attributes no collector emits: " + "; ".join(sorted(problems))


def test_examples_carry_every_detail_attribute_they_read(catalog: Catalog) -> None:
    problems = []
    for p in catalog.policies.values():
        needed = {t for t in _tops(p) if t in DETAILS[p.resource_type]}
        for test in p.tests:
            failed = {attribute for attribute, _code, _message in test.errors}
            missing = needed - set(test.attributes) - failed
            if missing:
                problems.append(f"{p.id}[{test.name}] lacks {sorted(missing)}")
    assert not problems, "; ".join(problems)


def test_cross_reference_shapes(catalog: Catalog) -> None:
    bad = []
    for p in catalog.policies.values():
        bad += [f"{p.id}: securityhub {c!r}" for c in p.related.securityhub if not SH_ID.match(c)]
        bad += [f"{p.id}: prowler {c!r}" for c in p.related.prowler if not PROWLER_ID.match(c)]
    assert not bad, bad


def test_fsbp_framework_agrees_with_related_securityhub(catalog: Catalog) -> None:
    # an FSBP control maps exactly the policies naming it as their Security Hub equivalent;
    # related.securityhub may also name controls of other standards (CIS, PCI, NIST), not in FSBP
    fsbp = catalog.frameworks["aws-fsbp"]
    by_control = {r.id: set(r.policies) for r in fsbp.requirements}
    expected: dict[str, set[str]] = {rid: set() for rid in by_control}
    for p in catalog.policies.values():
        for c in p.related.securityhub:
            if c in expected:
                expected[c].add(p.id)
    assert by_control == expected


@pytest.mark.parametrize("fid", ["cis-aws-3.0.0", "cis-aws-5.0.0"])
def test_cis_requirements_are_mapped_or_explained(catalog: Catalog, fid: str) -> None:
    fw = catalog.frameworks[fid]
    for r in fw.requirements:
        assert r.automated == bool(r.policies), f"{fid} {r.id}: automated flag must say whether policies map it"
        if not r.policies:
            assert r.description, f"{fid} {r.id}: unmapped requirement needs a description saying why"
    ids = [r.id for r in fw.requirements]
    assert len(ids) == len(set(ids))
    # the benchmark controls every evaluable resource type covers
    for must in ("2.1.1", "2.1.4", "3.1", "3.2", "3.3", "3.5", "3.6", "3.7", "4.16"):
        assert must in {r.id for r in fw.requirements if r.policies}, f"{fid} {must} unmapped"


def test_public_exposure_policies_are_at_least_high(catalog: Catalog) -> None:
    # network ACLs are the stateless second layer behind security groups: medium, like Security Hub EC2.21
    low = [
        p.id
        for p in catalog.policies.values()
        if re.search(r"(not_public|_public$|_world$|public_access)", p.id)
        and not p.id.startswith("ec2_nacl_")
        and p.severity.name not in ("HIGH", "CRITICAL")
    ]
    assert not low, f"public-exposure policies below high: {low}"
