"""Athena workgroups on the wire (moto): configuration, query history scope, verdicts with decoys."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    a = moto_server.boto3_client("athena")
    secure = {
        "ResultConfiguration": {
            "OutputLocation": "s3://results/",
            "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
        },
        "EnforceWorkGroupConfiguration": True,
        "PublishCloudWatchMetricsEnabled": True,
    }
    loose = {
        "ResultConfiguration": {"OutputLocation": "s3://results/"},
        "EnforceWorkGroupConfiguration": False,
        "PublishCloudWatchMetricsEnabled": False,
    }
    a.create_work_group(Name="secure", Configuration=secure, Tags=[{"Key": "team", "Value": "bi"}])
    a.create_work_group(Name="loose", Configuration=loose)
    a.create_work_group(Name="loose-unused", Configuration=loose)  # never queried: out of scope
    for wg in ("secure", "loose"):
        a.start_query_execution(
            QueryString="SELECT 1", WorkGroup=wg, ResultConfiguration={"OutputLocation": "s3://results/"}
        )
    return collect_moto(moto_server, ["athena"])


def test_snapshots(estate: Estate) -> None:
    secure = estate.one("aws.athena.workgroup", "secure")
    assert secure.arn == f"arn:aws:athena:us-east-1:{ACCOUNT_ID}:workgroup/secure"
    assert secure.attributes["HasQueries"] is True
    assert estate.one("aws.athena.workgroup", "loose-unused").attributes["HasQueries"] is False


def test_verdicts(estate: Estate) -> None:
    pols = {
        # policy: (secure, loose, loose-unused, primary)
        "athena_workgroup_encryption": ("pass", "fail", "pass", "pass"),
        "athena_workgroup_enforce_configuration": ("pass", "fail", "pass", "pass"),
        "athena_workgroup_logging_enabled": ("pass", "fail", "pass", "pass"),
    }
    v = estate.verdicts(list(pols))
    order = ("secure", "loose", "loose-unused", "primary")
    assert {p: tuple(v[(p, w)] for w in order) for p in pols} == pols
