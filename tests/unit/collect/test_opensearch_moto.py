"""OpenSearch domains on the wire (moto): domain status, parsed access policy, verdicts with decoys."""

from __future__ import annotations

import json

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

LG = f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/opensearch/search"
OPEN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "es:*", "Resource": "*"}],
}
OFFICE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "es:ESHttpGet",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}},
        }
    ],
}


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    os_ = moto_server.boto3_client("opensearch")
    os_.create_domain(
        DomainName="good",
        EngineVersion="OpenSearch_2.11",
        ClusterConfig={
            "InstanceType": "r6g.large.search",
            "InstanceCount": 3,
            "ZoneAwarenessEnabled": True,
            "ZoneAwarenessConfig": {"AvailabilityZoneCount": 3},
            "DedicatedMasterEnabled": True,
            "DedicatedMasterCount": 3,
            "DedicatedMasterType": "m6g.large.search",
        },
        EncryptionAtRestOptions={"Enabled": True},
        NodeToNodeEncryptionOptions={"Enabled": True},
        DomainEndpointOptions={"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10"},
        AdvancedSecurityOptions={
            "Enabled": True,
            "InternalUserDatabaseEnabled": False,
            "MasterUserOptions": {"MasterUserARN": f"arn:aws:iam::{ACCOUNT_ID}:role/search-admin"},
        },
        CognitoOptions={
            "Enabled": True,
            "UserPoolId": "us-east-1_AbCdEf123",
            "IdentityPoolId": "us-east-1:0a1b2c3d",
            "RoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/cognito",
        },
        VPCOptions={"SubnetIds": ["subnet-0a1b2c3d"], "SecurityGroupIds": ["sg-0123456789abcdef0"]},
        LogPublishingOptions={
            k: {"CloudWatchLogsLogGroupArn": LG, "Enabled": True}
            for k in ("SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "AUDIT_LOGS", "ES_APPLICATION_LOGS")
        },
        TagList=[{"Key": "team", "Value": "search"}],
    )
    os_.create_domain(DomainName="public-open", AccessPolicies=json.dumps(OPEN))
    os_.create_domain(DomainName="public-office", AccessPolicies=json.dumps(OFFICE))
    return collect_moto(moto_server, ["opensearch"])


def test_snapshots(estate: Estate) -> None:
    good = estate.one("aws.opensearch.domain", "good")
    assert good.arn == f"arn:aws:es:us-east-1:{ACCOUNT_ID}:domain/good"
    assert good.tags == {"team": "search"}
    assert good.attributes["DomainStatus"]["AccessPolicies"] is None  # "" = no policy
    assert estate.one("aws.opensearch.domain", "public-open").attributes["DomainStatus"]["AccessPolicies"] == OPEN
    assert estate.errors() == set()


def test_verdicts(estate: Estate) -> None:
    pols = {
        # policy: (good, public-open, public-office)
        "opensearch_service_domains_access_control_enabled": ("pass", "fail", "fail"),
        "opensearch_service_domains_audit_logging_enabled": ("pass", "fail", "fail"),
        "opensearch_service_domains_cloudwatch_logging_enabled": ("pass", "fail", "fail"),
        "opensearch_domain_error_logging_enabled": ("pass", "fail", "fail"),
        "opensearch_service_domains_encryption_at_rest_enabled": ("pass", "fail", "fail"),
        "opensearch_service_domains_fault_tolerant_data_nodes": ("pass", "fail", "fail"),
        "opensearch_service_domains_fault_tolerant_master_nodes": ("pass", "fail", "fail"),
        "opensearch_service_domains_https_communications_enforced": ("pass", "fail", "fail"),
        "opensearch_domain_tls_1_2_policy": ("pass", "fail", "fail"),
        "opensearch_service_domains_internal_user_database_enabled": ("pass", "pass", "pass"),
        "opensearch_service_domains_node_to_node_encryption_enabled": ("pass", "fail", "fail"),
        "opensearch_domain_in_vpc": ("pass", "fail", "fail"),
        "opensearch_domain_access_policy_public": ("pass", "fail", "pass"),
        "opensearch_service_domains_use_cognito_authentication_for_kibana": ("pass", "fail", "fail"),
    }
    v = estate.verdicts(list(pols))
    got = {p: tuple(v[(p, d)] for d in ("good", "public-open", "public-office")) for p in pols}
    assert got == pols
