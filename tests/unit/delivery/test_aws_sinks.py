"""Security Hub and SNS sinks against moto in server mode, and ``alerts test --sink`` for every new sink."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from cspm_stream.cli import main
from cspm_stream.delivery.model import Alert, alert_from_bytes
from cspm_stream.delivery.sinks.securityhub import SecurityHubSink
from cspm_stream.delivery.sinks.sns import MAX_MESSAGE_BYTES, SnsSink, message_body, subject
from cspm_stream.errors import SinkError
from cspm_stream.models import FindingStatus, ocsf
from cspm_stream.testing.findings import compliance_finding, detection_finding, raw
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.delivery.standins import JiraStandIn, PagerDutyStandIn, SplunkHecStandIn
from tests.unit.delivery.test_http_sinks import HEC_TOKEN, JIRA_TOKEN, PD_KEY, comp, deliver


def _enable_hub(moto: MotoServer) -> None:
    sh = moto.boto3_client("securityhub")
    try:
        sh.enable_security_hub()
    except sh.exceptions.ResourceConflictException:
        pass  # enabled by an earlier test on this (session-wide) moto server


def _finding(moto: MotoServer, uid: str) -> list[dict[str, Any]]:
    sh = moto.boto3_client("securityhub")
    return [f for f in sh.get_findings()["Findings"] if f["Id"] == uid]


async def test_securityhub_imports_asff_and_resolves_the_same_finding(moto_server: MotoServer) -> None:
    _enable_hub(moto_server)
    sink = SecurityHubSink("sh", "us-east-1", endpoint_url=moto_server.endpoint_url)
    new = comp(FindingStatus.NEW)
    dlq = await deliver(sink, "securityhub", [new])
    assert not dlq.letters
    (f,) = _finding(moto_server, new.uid)
    assert f["ProductArn"] == f"arn:aws:securityhub:us-east-1:{ACCOUNT_ID}:product/{ACCOUNT_ID}/default"
    assert f["RecordState"] == "ACTIVE" and f["Workflow"] == {"Status": "NEW"}
    assert f["Compliance"]["Status"] == "FAILED" and f["Resources"][0]["Id"] == "arn:aws:s3:::b1"
    assert f["Resources"][0]["Type"] == "AwsS3Bucket" and f["Severity"]["Label"] == "HIGH"
    await deliver(sink, "securityhub", [comp(FindingStatus.RESOLVED)])
    (f,) = _finding(moto_server, new.uid)  # the same finding, updated — never a second one
    assert f["RecordState"] == "ARCHIVED" and f["Workflow"] == {"Status": "RESOLVED"}
    assert f["Compliance"]["Status"] == "PASSED"
    d = alert_from_bytes(raw(detection_finding()))
    await deliver(sink, "securityhub", [d])
    (g,) = _finding(moto_server, d.uid)
    assert g["Types"] == ["TTPs"] and g["Severity"]["Label"] == "CRITICAL"


async def test_securityhub_refused_finding_is_permanent(moto_server: MotoServer) -> None:
    sink = SecurityHubSink("sh", "us-east-1", endpoint_url=moto_server.endpoint_url)
    await sink.start()
    try:
        a = comp(FindingStatus.NEW)
        doc = sink.document(a)
        doc["Resources"] = []  # what Security Hub refuses: a finding without resources
        sink.document = lambda alert: doc  # type: ignore[method-assign]
        with pytest.raises(SinkError) as info:
            await sink.send(a)
        assert not info.value.retriable and "refused finding" in str(info.value)
    finally:
        await sink.stop()


async def test_securityhub_unreachable_is_retriable() -> None:
    sink = SecurityHubSink("sh", "us-east-1", endpoint_url="http://127.0.0.1:9", timeout_s=0.5)
    with pytest.raises(SinkError) as info:
        await sink.start()
    assert info.value.retriable and "127.0.0.1:9" not in str(info.value).replace("http://127.0.0.1:9", "")
    await sink.stop()


def _sns_queue(moto: MotoServer, topic_name: str, fifo: bool = False) -> tuple[str, str]:
    sns, sqs = moto.boto3_client("sns"), moto.boto3_client("sqs")
    attrs = {"FifoTopic": "true", "ContentBasedDeduplication": "false"} if fifo else {}
    topic = sns.create_topic(Name=topic_name, Attributes=attrs)["TopicArn"]
    qattrs = {"FifoQueue": "true"} if fifo else {}
    q = sqs.create_queue(QueueName=topic_name.replace(".fifo", "") + ("-q.fifo" if fifo else "-q"), Attributes=qattrs)
    qarn = sqs.get_queue_attributes(QueueUrl=q["QueueUrl"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    return topic, q["QueueUrl"]


def _received(moto: MotoServer, queue_url: str) -> list[dict[str, Any]]:
    sqs = moto.boto3_client("sqs")
    msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return [json.loads(m["Body"]) for m in msgs]


async def test_sns_publishes_the_ocsf_bytes_with_routing_attributes(moto_server: MotoServer) -> None:
    topic, queue = _sns_queue(moto_server, "cspm-alerts")
    sink = SnsSink("sns", topic, "us-east-1", endpoint_url=moto_server.endpoint_url)
    a = comp(FindingStatus.NEW)
    dlq = await deliver(sink, "sns", [a])
    assert not dlq.letters
    (env,) = _received(moto_server, queue)
    assert env["TopicArn"] == topic and env["Message"].encode() == a.raw
    assert env["Subject"] == subject(a) and len(env["Subject"]) <= 100
    attrs = {k: v["Value"] for k, v in env["MessageAttributes"].items()}
    assert attrs == {
        "severity": "High",
        "class_uid": "2003",
        "account": a.account_id,
        "state": "new",
        "control": a.control,
    }


async def test_sns_fifo_topic_gets_group_and_dedup_ids(moto_server: MotoServer) -> None:
    topic, queue = _sns_queue(moto_server, "cspm-alerts.fifo", fifo=True)
    sink = SnsSink("sns", topic, "us-east-1", endpoint_url=moto_server.endpoint_url)
    a = comp(FindingStatus.NEW)
    req = sink.request(a)
    assert req["MessageGroupId"] == a.account_id and len(req["MessageDeduplicationId"]) == 64
    assert sink.request(a)["MessageDeduplicationId"] == req["MessageDeduplicationId"]
    assert sink.request(comp(FindingStatus.RESOLVED))["MessageDeduplicationId"] != req["MessageDeduplicationId"]
    dlq = await deliver(sink, "sns", [a])
    assert not dlq.letters and len(_received(moto_server, queue)) == 1


async def test_sns_missing_topic_is_dead_lettered_at_once(moto_server: MotoServer) -> None:
    sink = SnsSink(
        "sns", f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:nope", "us-east-1", endpoint_url=moto_server.endpoint_url
    )
    dlq = await deliver(sink, "sns", [comp(FindingStatus.NEW)], max_attempts=4)
    (letter,) = dlq.letters
    assert letter.reason.startswith("permanent failure") and "NotFound" in letter.reason


def test_sns_oversize_finding_drops_evidence_then_refuses() -> None:
    f = detection_finding()
    f["evidences"] = [{"data": {"event_id": "e" * 64, "blob": "x" * 1000}} for _ in range(400)]
    a = alert_from_bytes(raw(f))
    body = orjson.loads(message_body(a))
    assert "evidences" not in body and body["unmapped"]["evidence_dropped"] == 400
    f["finding_info"]["desc"] = "y" * MAX_MESSAGE_BYTES
    with pytest.raises(SinkError) as info:
        message_body(alert_from_bytes(raw(f)))
    assert not info.value.retriable


def test_subject_is_ascii_and_bounded() -> None:
    a: Alert = alert_from_bytes(raw(compliance_finding(title="Bücket «öffentlich» " + "z" * 200)))
    s = subject(a)
    assert len(s) <= 100 and all(32 <= ord(c) < 127 for c in s)


# --- `cspm-stream alerts test --sink NAME` through every new sink --------------------------------


def _config(tmp_path: Path, sinks: dict[str, Any]) -> str:
    cfg = tmp_path / "cspm.yaml"
    first = next(iter(sinks))
    cfg.write_text(yaml.safe_dump({"alerts": {"sinks": sinks, "routes": [{"name": "r", "sink": first}]}}))
    return str(cfg)


def test_alerts_test_through_each_new_sink(
    moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _enable_hub(moto_server)
    topic, queue = _sns_queue(moto_server, "cspm-test")
    monkeypatch.setenv("PD_KEY", PD_KEY)
    monkeypatch.setenv("JIRA_TOKEN", JIRA_TOKEN)
    monkeypatch.setenv("HEC_TOKEN", HEC_TOKEN)
    with PagerDutyStandIn(PD_KEY) as pd, JiraStandIn(JIRA_TOKEN) as jira, SplunkHecStandIn(HEC_TOKEN) as hec:
        assert isinstance(pd, PagerDutyStandIn) and isinstance(jira, JiraStandIn)
        assert isinstance(hec, SplunkHecStandIn)
        ep = moto_server.endpoint_url
        cfg = _config(
            tmp_path,
            {
                "sh": {"type": "securityhub", "region": "us-east-1", "endpoint_url": ep},
                "topic": {"type": "sns", "topic_arn": topic, "endpoint_url": ep},
                "pd": {"type": "pagerduty", "url": pd.url + "/v2/enqueue", "routing_key_env": "PD_KEY"},
                "jira": {"type": "jira", "url": jira.url, "project": "SEC", "token_env": "JIRA_TOKEN"},
                "splunk": {
                    "type": "splunk_hec",
                    "url": hec.url + "/services/collector/event",
                    "token_env": "HEC_TOKEN",
                },
            },
        )
        for name in ("sh", "topic", "pd", "jira", "splunk"):
            assert main(["--config", cfg, "alerts", "test", "--sink", name]) == 0, capsys.readouterr().err
        assert len(pd.alerts) == 1 and len(jira.issues) == 1 and len(hec.events) == 1
        assert not (pd.errors or jira.errors or hec.errors)
        (test_alert,) = pd.alerts.values()
        assert test_alert.events[0]["payload"]["severity"] == "info"
        assert hec.events[0]["event"]["unmapped"]["test"] is True
    sh = moto_server.boto3_client("securityhub").get_findings()["Findings"]
    sh = [f for f in sh if f["GeneratorId"] == "cspm_stream_alert_test"]
    assert len(sh) == 1 and sh[0]["AwsAccountId"] == ACCOUNT_ID  # the test alert lands in the sink's account
    assert len(_received(moto_server, queue)) == 1
    # a sink that refuses: exit 3, one line, the secret masked
    monkeypatch.setenv("PD_KEY", "WRONG-KEY-0000000000000000000000")
    with PagerDutyStandIn(PD_KEY) as pd:
        cfg = _config(
            tmp_path, {"pd": {"type": "pagerduty", "url": pd.url + "/v2/enqueue", "routing_key_env": "PD_KEY"}}
        )
        capsys.readouterr()
        assert main(["--config", cfg, "alerts", "test", "--sink", "pd"]) == 3
        err = capsys.readouterr().err
        assert "HTTP 400" in err and "WRONG-KEY" not in err and err.count("\n") == 1
    assert ocsf.DETECTION_FINDING == 2004
