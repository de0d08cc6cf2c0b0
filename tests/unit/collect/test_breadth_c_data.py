"""MemoryDB, DAX, CloudFormation, AppSync, DataSync and SES on the wire: moto serves the listings and the settings it
models (each non-compliant resource seeded next to a compliant twin); recorded responses cover what moto does not
model (DAX nodes, SES DKIM verified, SES paging, an unreadable identity)."""

from __future__ import annotations

import json

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

SERVICES = ["memorydb", "dax", "cloudformation", "appsync", "datasync", "ses"]


def _template(outputs: dict[str, str]) -> str:
    return json.dumps(
        {
            "Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
            "Parameters": {"Token": {"Type": "String", "NoEcho": True}},
            "Outputs": {k: {"Value": v} for k, v in outputs.items()},
        }
    )


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    md = moto_server.boto3_client("memorydb")
    md.create_cluster(ClusterName="mdb-good", NodeType="db.t4g.small", ACLName="open-access", TLSEnabled=True)
    md.create_cluster(
        ClusterName="mdb-bad",
        NodeType="db.t4g.small",
        ACLName="open-access",
        TLSEnabled=False,
        AutoMinorVersionUpgrade=False,
    )
    dax = moto_server.boto3_client("dax")
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/dax"
    dax.create_cluster(
        ClusterName="dax-good",
        NodeType="dax.t3.small",
        ReplicationFactor=3,
        IamRoleArn=role,
        SSESpecification={"Enabled": True},
        ClusterEndpointEncryptionType="TLS",
    )
    dax.create_cluster(ClusterName="dax-bad", NodeType="dax.t3.small", ReplicationFactor=1, IamRoleArn=role)
    cf = moto_server.boto3_client("cloudformation")
    secret = "AKIA" + "IOSFODNN7EXAMPLE"
    cf.create_stack(
        StackName="CDKToolkit",
        TemplateBody=_template({"BootstrapVersion": "20", "DeployKey": secret}),
        Parameters=[{"ParameterKey": "Token", "ParameterValue": "s3cr3t-t0ken-value"}],
        EnableTerminationProtection=True,
    )
    cf.create_stack(
        StackName="app",
        TemplateBody=_template({"BootstrapVersion": "5"}),
        Parameters=[{"ParameterKey": "Token", "ParameterValue": "x"}],
    )
    ap = moto_server.boto3_client("appsync")
    log_role = f"arn:aws:iam::{ACCOUNT_ID}:role/appsync-logs"
    good = ap.create_graphql_api(
        name="api-good",
        authenticationType="AWS_IAM",
        logConfig={"fieldLogLevel": "ALL", "cloudWatchLogsRoleArn": log_role},
    )["graphqlApi"]["apiId"]
    bad = ap.create_graphql_api(
        name="api-bad",
        authenticationType="API_KEY",
        logConfig={"fieldLogLevel": "NONE", "cloudWatchLogsRoleArn": log_role},
    )["graphqlApi"]["apiId"]
    ds = moto_server.boto3_client("datasync")
    loc = ds.create_location_s3(
        S3BucketArn="arn:aws:s3:::exports", S3Config={"BucketAccessRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/ds"}
    )["LocationArn"]
    logged = ds.create_task(
        SourceLocationArn=loc,
        DestinationLocationArn=loc,
        Name="logged",
        CloudWatchLogGroupArn=f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/datasync",
    )["TaskArn"]
    silent = ds.create_task(SourceLocationArn=loc, DestinationLocationArn=loc, Name="silent")["TaskArn"]
    se = moto_server.boto3_client("sesv2")
    se.create_email_identity(EmailIdentity="example.com")
    e = collect_moto(moto_server, SERVICES)
    e.names = {  # type: ignore[attr-defined]
        "api-good": good,
        "api-bad": bad,
        "logged": logged.rsplit("/", 1)[-1],
        "silent": silent.rsplit("/", 1)[-1],
    }
    return e


@pytest.mark.moto
def test_snapshots(estate: Estate) -> None:
    assert estate.ids("aws.memorydb.cluster") == {"mdb-good", "mdb-bad"}
    assert estate.ids("aws.dax.cluster") == {"dax-good", "dax-bad"}
    assert estate.ids("aws.cloudformation.stack") == {"CDKToolkit", "app"}
    assert len(estate.ids("aws.appsync.graphql_api")) == 2
    assert len(estate.ids("aws.datasync.task")) == 2
    assert estate.ids("aws.ses.identity") == {"example.com"}
    cdk = estate.one("aws.cloudformation.stack", "CDKToolkit")
    assert cdk.arn.startswith(f"arn:aws:cloudformation:us-east-1:{ACCOUNT_ID}:stack/CDKToolkit/")
    text = json.dumps(cdk.attributes)
    assert "IOSFODNN7EXAMPLE" not in text and "s3cr3t" not in text  # values that may be secrets are not kept
    outputs = {o["OutputKey"]: o for o in cdk.attributes["Outputs"]}
    assert outputs["BootstrapVersion"]["OutputValue"] == "20"
    assert outputs["DeployKey"]["holdsSecret"] is True and "OutputValue" not in outputs["DeployKey"]
    assert (
        estate.one("aws.ses.identity", "example.com").arn == f"arn:aws:ses:us-east-1:{ACCOUNT_ID}:identity/example.com"
    )
    # moto serves no DataSync ListTagsForResource (HTTP 500): the tags are an error, nothing else is
    assert estate.errors() == {("aws.datasync.task", "Tags")}


@pytest.mark.moto
def test_verdicts(estate: Estate) -> None:
    n = estate.names  # type: ignore[attr-defined]
    pairs = {
        "memorydb_cluster_auto_minor_version_upgrades": ("mdb-good", "mdb-bad"),
        "memorydb_cluster_in_transit_encryption_enabled": ("mdb-good", "mdb-bad"),
        "dynamodb_accelerator_cluster_encryption_enabled": ("dax-good", "dax-bad"),
        "dynamodb_accelerator_cluster_in_transit_encryption_enabled": ("dax-good", "dax-bad"),
        "cloudformation_stacks_termination_protection_enabled": ("CDKToolkit", "app"),
        "appsync_field_level_logging_enabled": (n["api-good"], n["api-bad"]),
        "appsync_graphql_api_no_api_key_authentication": (n["api-good"], n["api-bad"]),
        "datasync_task_logging_enabled": (n["logged"], n["silent"]),
    }
    v = estate.verdicts([*pairs, "cloudformation_stack_cdktoolkit_bootstrap_version", "ses_identity_dkim_enabled"])
    assert {p: (v[(p, good)], v[(p, bad)]) for p, (good, bad) in pairs.items()} == {p: ("pass", "fail") for p in pairs}
    # version 20 on the CDKToolkit stack fails; version 5 on another stack is not a bootstrap stack
    assert v[("cloudformation_stack_cdktoolkit_bootstrap_version", "CDKToolkit")] == "fail"
    assert v[("cloudformation_stack_cdktoolkit_bootstrap_version", "app")] == "pass"
    assert v[("ses_identity_dkim_enabled", "example.com")] == "fail"  # moto never verifies DKIM


def test_dax_nodes_recorded() -> None:
    e, aws = collect_fixture("dax", "dax")
    assert aws.unanswered == []
    v = e.verdicts(["dynamodb_accelerator_cluster_multi_az", "dynamodb_accelerator_cluster_encryption_enabled"])
    assert v[("dynamodb_accelerator_cluster_multi_az", "orders-cache")] == "pass"
    assert v[("dynamodb_accelerator_cluster_multi_az", "scratch")] == "fail"
    assert v[("dynamodb_accelerator_cluster_encryption_enabled", "scratch")] == "fail"
    assert e.one("aws.dax.cluster", "orders-cache").tags == {"team": "orders"}


def test_ses_recorded() -> None:
    e, aws = collect_fixture("ses", "ses")
    assert aws.unanswered == []
    assert e.ids("aws.ses.identity") == {
        "mail.example.com",
        "legacy.example.com",
        "locked.example.com",
        "alerts@example.com",
    }
    mail = e.one("aws.ses.identity", "mail.example.com")
    assert mail.tags == {"team": "mail"}
    assert mail.attributes["Identity"]["Policies"]["crm"]["Statement"][0]["Principal"]["AWS"].endswith(":root")
    v = e.verdicts(["ses_identity_dkim_enabled"])
    assert v[("ses_identity_dkim_enabled", "mail.example.com")] == "pass"
    assert v[("ses_identity_dkim_enabled", "legacy.example.com")] == "fail"  # verified, signing off
    assert v[("ses_identity_dkim_enabled", "alerts@example.com")] == "fail"
    assert v[("ses_identity_dkim_enabled", "locked.example.com")] == "error"


@pytest.fixture(scope="module")
def direct_connect(moto_server: MotoServer) -> tuple[Estate, Estate]:
    reset(moto_server)
    dx = moto_server.boto3_client("directconnect")
    dx.create_connection(location="EqDC2", bandwidth="10Gbps", connectionName="primary")
    dx.create_connection(location="EqDC2", bandwidth="10Gbps", connectionName="secondary")
    one_site = collect_moto(moto_server, ["directconnect"], regions=("us-east-1", "eu-west-1"))
    dx.create_connection(location="CSVA1", bandwidth="10Gbps", connectionName="tertiary")
    return one_site, collect_moto(moto_server, ["directconnect"])


@pytest.mark.moto
def test_direct_connect_redundancy(direct_connect: tuple[Estate, Estate]) -> None:
    one_site, two_sites = direct_connect
    p = "directconnect_connection_redundancy"
    assert one_site.one("aws.directconnect.region", "us-east-1").attributes["Locations"] == ["EqDC2"]
    v = one_site.verdicts([p])
    assert (v[(p, "us-east-1")], v[(p, "eu-west-1")]) == ("fail", "pass")  # two connections, one site; none
    assert two_sites.verdicts([p])[(p, "us-east-1")] == "pass"
