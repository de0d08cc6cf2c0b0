"""AWS Glue on the wire: moto for connections (passwords never read), jobs, crawlers, development endpoints,
ML transforms and security configurations; recorded responses for the Data Catalog (moto lacks SearchTables)."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/glue"


def _config(mode: str) -> dict[str, object]:
    on = mode != "DISABLED"
    return {
        "S3Encryption": [{"S3EncryptionMode": "SSE-KMS" if on else "DISABLED", **({"KmsKeyArn": KEY} if on else {})}],
        "CloudWatchEncryption": {
            "CloudWatchEncryptionMode": "SSE-KMS" if on else "DISABLED",
            **({"KmsKeyArn": KEY} if on else {}),
        },
        "JobBookmarksEncryption": {
            "JobBookmarksEncryptionMode": "CSE-KMS" if on else "DISABLED",
            **({"KmsKeyArn": KEY} if on else {}),
        },
    }


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    g = moto_server.boto3_client("glue")
    g.create_security_configuration(Name="encrypted", EncryptionConfiguration=_config("on"))
    g.create_security_configuration(Name="clear", EncryptionConfiguration=_config("DISABLED"))
    cmd = {"Name": "glueetl", "ScriptLocation": "s3://etl/job.py"}
    g.create_job(
        Name="secure-job",
        Role=ROLE,
        Command=cmd,
        SecurityConfiguration="encrypted",
        DefaultArguments={"--enable-continuous-cloudwatch-log": "true"},
    )
    g.create_job(Name="clear-job", Role=ROLE, Command=cmd, SecurityConfiguration="clear")
    g.create_job(Name="sse-s3-arg-job", Role=ROLE, Command=cmd, DefaultArguments={"--encryption-type": "sse-s3"})
    g.create_job(Name="dangling-config-job", Role=ROLE, Command=cmd, SecurityConfiguration="deleted-config")
    for name, ssl in (("ssl", "true"), ("no-ssl", "false")):
        g.create_connection(
            ConnectionInput={
                "Name": name,
                "ConnectionType": "JDBC",
                "ConnectionProperties": {
                    "JDBC_CONNECTION_URL": "jdbc:postgresql://db.internal:5432/app",
                    "USERNAME": "etl",
                    "PASSWORD": "s3cr3t-Value",
                    "JDBC_ENFORCE_SSL": ssl,
                },
            }
        )
    g.create_dev_endpoint(EndpointName="dev-secure", RoleArn=ROLE, SecurityConfiguration="encrypted")
    g.create_dev_endpoint(EndpointName="dev-open", RoleArn=ROLE)
    g.create_crawler(
        Name="crawler-secure",
        Role=ROLE,
        Targets={"S3Targets": [{"Path": "s3://lake"}]},
        CrawlerSecurityConfiguration="encrypted",
    )
    g.create_crawler(Name="crawler-open", Role=ROLE, Targets={"S3Targets": [{"Path": "s3://lake"}]})
    ml = {
        "InputRecordTables": [{"DatabaseName": "crm", "TableName": "customers"}],
        "Parameters": {"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "id"}},
        "Role": ROLE,
    }
    g.create_ml_transform(
        Name="ml-encrypted",
        TransformEncryption={"MlUserDataEncryption": {"MlUserDataEncryptionMode": "SSE-KMS", "KmsKeyId": KEY}},
        **ml,
    )
    g.create_ml_transform(Name="ml-clear", **ml)
    return collect_moto(moto_server, ["glue"])


def test_connections_never_hold_passwords(estate: Estate) -> None:
    for s in estate.by_type["aws.glue.connection"]:
        assert "PASSWORD" not in s.attributes["ConnectionProperties"]
        assert "s3cr3t" not in str(s.attributes)
    assert estate.one("aws.glue.connection", "ssl").arn == f"arn:aws:glue:us-east-1:{ACCOUNT_ID}:connection/ssl"


def test_verdicts(estate: Estate) -> None:
    v = estate.verdicts(
        [
            "glue_database_connections_ssl_enabled",
            "glue_etl_jobs_amazon_s3_encryption_enabled",
            "glue_etl_jobs_cloudwatch_logs_encryption_enabled",
            "glue_etl_jobs_job_bookmark_encryption_enabled",
            "glue_etl_jobs_logging_enabled",
            "glue_development_endpoints_s3_encryption_enabled",
            "glue_development_endpoints_cloudwatch_logs_encryption_enabled",
            "glue_development_endpoints_job_bookmark_encryption_enabled",
            "glue_crawler_s3_encryption_enabled",
            "glue_ml_transform_encrypted_at_rest",
        ]
    )
    assert v[("glue_database_connections_ssl_enabled", "ssl")] == "pass"
    assert v[("glue_database_connections_ssl_enabled", "no-ssl")] == "fail"
    s3 = {
        j: v[("glue_etl_jobs_amazon_s3_encryption_enabled", j)]
        for j in ("secure-job", "clear-job", "sse-s3-arg-job", "dangling-config-job")
    }
    assert s3 == {"secure-job": "pass", "clear-job": "fail", "sse-s3-arg-job": "pass", "dangling-config-job": "fail"}
    for p in ("glue_etl_jobs_cloudwatch_logs_encryption_enabled", "glue_etl_jobs_job_bookmark_encryption_enabled"):
        got = {j: v[(p, j)] for j in ("secure-job", "clear-job", "sse-s3-arg-job", "dangling-config-job")}
        assert got == {
            "secure-job": "pass",
            "clear-job": "fail",
            "sse-s3-arg-job": "fail",
            "dangling-config-job": "fail",
        }, p
    assert (v[("glue_etl_jobs_logging_enabled", "secure-job")], v[("glue_etl_jobs_logging_enabled", "clear-job")]) == (
        "pass",
        "fail",
    )
    for p in (
        "glue_development_endpoints_s3_encryption_enabled",
        "glue_development_endpoints_cloudwatch_logs_encryption_enabled",
        "glue_development_endpoints_job_bookmark_encryption_enabled",
    ):
        assert (v[(p, "dev-secure")], v[(p, "dev-open")]) == ("pass", "fail"), p
    p = "glue_crawler_s3_encryption_enabled"
    assert (v[(p, "crawler-secure")], v[(p, "crawler-open")]) == ("pass", "fail")
    ml = {s.attributes["Name"]: s.resource_id for s in estate.by_type["aws.glue.ml_transform"]}
    p = "glue_ml_transform_encrypted_at_rest"
    assert (v[(p, ml["ml-encrypted"])], v[(p, ml["ml-clear"])]) == ("pass", "fail")


def test_catalog_moto_gap_is_an_error(estate: Estate) -> None:
    cat = estate.one("aws.glue.data_catalog", "us-east-1")
    assert cat.arn == f"arn:aws:glue:us-east-1:{ACCOUNT_ID}:catalog"
    assert cat.attributes["ResourcePolicy"] is None
    assert [e.attribute for e in cat.errors] == ["HasTables"]  # moto lacks SearchTables


def test_catalog_recorded() -> None:
    e, aws = collect_fixture("glue", "glue")
    assert aws.unanswered == []
    v = e.verdicts(
        [
            "glue_data_catalogs_connection_passwords_encryption_enabled",
            "glue_data_catalogs_metadata_encryption_enabled",
            "glue_data_catalog_resource_policy_public",
        ]
    )
    assert v[("glue_data_catalogs_connection_passwords_encryption_enabled", "us-east-1")] == "pass"
    assert v[("glue_data_catalogs_metadata_encryption_enabled", "us-east-1")] == "fail"  # SSE-KMS-WITH-SERVICE-ROLE
    assert v[("glue_data_catalog_resource_policy_public", "us-east-1")] == "fail"
