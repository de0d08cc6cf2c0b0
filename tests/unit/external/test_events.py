"""EventBridge → SQS finding events: GuardDuty, Security Hub imported findings, Access Analyzer."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiobotocore.session import get_session

from cspm_stream.external.events import ExternalEventsSqsSource, findings_of
from cspm_stream.external.mapping import Equivalents
from cspm_stream.external.model import ExternalFinding
from cspm_stream.models import decode
from cspm_stream.sources.sqs import PermanentMessageError, SqsSourceOptions
from cspm_stream.stages.base import Emit
from cspm_stream.testing.moto import MotoServer
from cspm_stream.testing.recorded import load_exchanges
from tests.unit.external import samples as s
from tests.unit.external.test_normalise import _camel

DATA = Path(__file__).resolve().parents[2] / "data" / "recorded" / "external"
AT = "2026-11-28T16:30:00.000Z"


def _gd_finding() -> dict[str, Any]:
    ex = next(e for e in load_exchanges(DATA / "guardduty.json") if e.operation == "GetFindings")
    return copy.deepcopy(dict((ex.response or {})["Findings"][0]))


def gd_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "GuardDuty Finding",
        "source": "aws.guardduty",
        "account": "123456789012",
        "time": "2026-11-28T16:25:04Z",
        "region": "us-east-1",
        "resources": [],
        "detail": _camel(_gd_finding()),
    }


def hub_event(findings: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Security Hub Findings - Imported",
        "source": "aws.securityhub",
        "account": "123456789012",
        "time": "2026-11-28T16:30:00Z",
        "region": "us-east-1",
        "resources": [f["Id"] for f in findings],
        "detail": {"findings": findings},
    }


def analyzer_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Access Analyzer Finding",
        "source": "aws.access-analyzer",
        "account": "123456789012",
        "time": "2026-11-28T16:30:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:access-analyzer:us-east-1:123456789012:analyzer/account-analyzer"],
        "detail": {
            "version": "1.0",
            "id": "0b1f2c3d-1111-4a5b-8c9d-000000000001",
            "status": "ACTIVE",
            "resourceType": "AWS::S3::Bucket",
            "resource": "arn:aws:s3:::public-reports-bucket",
            "createdAt": "2026-11-20T08:00:00Z",
            "analyzedAt": "2026-11-28T08:00:00Z",
            "updatedAt": "2026-11-20T08:00:00Z",
            "accountId": "123456789012",
            "region": "us-east-1",
            "principal": {"AWS": "*"},
            "action": ["s3:GetObject"],
            "condition": {},
            "isPublic": True,
        },
    }


def _findings(emits: list[Emit]) -> list[ExternalFinding]:
    return [decode(e.value, ExternalFinding) for e in emits if e.topic != "dlq"]


def test_each_event_kind(eq: Equivalents) -> None:
    (gd,) = _findings(findings_of(gd_event(), eq, AT, "x"))
    assert (gd.product, gd.via, gd.subject) == ("guardduty", "eventbridge", "123456789012|user/mallory")
    ctrl = s.control("S3.8", "arn:aws:s3:::b", "AwsS3Bucket")
    hub = findings_of(hub_event([ctrl, s.inspector_cve()]), eq, AT, "x")
    assert [e.topic for e in hub] == ["external-findings", "external-findings"]
    assert _findings(hub)[0].policy_id == "s3_bucket_public_access_block"
    (aa,) = _findings(findings_of(analyzer_event(), eq, AT, "x"))
    assert aa.uid.startswith("arn:aws:access-analyzer:us-east-1:123456789012:analyzer/account-analyzer/finding/")


def test_a_bad_finding_inside_a_good_event_is_dead_lettered_alone(eq: Equivalents) -> None:
    emits = findings_of(hub_event([s.inspector_cve(), {"Id": "x", "AwsAccountId": 5}]), eq, AT, "source.x")
    assert [e.topic for e in emits] == ["external-findings", "dlq"]
    letter = orjson.loads(emits[1].value or b"")
    assert letter["stage"] == "source.x" and "AwsAccountId" in letter["reason"]


@pytest.mark.parametrize(
    "event",
    [
        [],
        "x",
        {"detail-type": "AWS API Call via CloudTrail", "detail": {}},
        {"detail-type": None},
    ],
)
def test_not_a_finding_event(event: Any, eq: Equivalents) -> None:
    with pytest.raises(PermanentMessageError):
        findings_of(event, eq, AT, "x")


def test_analyzer_event_without_its_analyzer_is_refused(eq: Equivalents) -> None:
    ev = analyzer_event()
    ev["resources"] = []
    (emit,) = findings_of(ev, eq, AT, "x")
    assert emit.topic == "dlq"


class Capture:
    def __init__(self) -> None:
        self.emits: list[Emit] = []

    async def send_many(self, emits: Iterable[Emit]) -> None:
        self.emits.extend(emits)


async def test_sqs_source_produces_then_deletes(moto_server: MotoServer, eq: Equivalents) -> None:
    sqs_sync = moto_server.boto3_client("sqs")
    url = sqs_sync.create_queue(QueueName=f"findings-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs_sync.send_message(QueueUrl=url, MessageBody=orjson.dumps(gd_event()).decode())
    envelope = {"Type": "Notification", "Message": orjson.dumps(analyzer_event()).decode()}
    sqs_sync.send_message(QueueUrl=url, MessageBody=orjson.dumps(envelope).decode())
    sqs_sync.send_message(QueueUrl=url, MessageBody="{not json")
    out = Capture()
    async with get_session().create_client(
        "sqs", region_name="us-east-1", endpoint_url=moto_server.endpoint_url
    ) as sqs:
        src = ExternalEventsSqsSource(sqs, url, out, SqsSourceOptions(wait_time_s=0), eq=eq)
        deleted = 0
        for _ in range(5):
            deleted += await src.poll_once(0)
            if deleted >= 3:
                break
    assert deleted == 3
    assert sorted(e.topic for e in out.emits) == ["dlq", "external-findings", "external-threats"]
    assert "not JSON" in orjson.loads(next(e.value for e in out.emits if e.topic == "dlq") or b"")["reason"]
    assert (
        sqs_sync.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "0"
    )
