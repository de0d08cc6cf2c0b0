"""Topics on the real broker (which allows auto-creation): only ``topics create`` creates them.

Every client of the product — consumer, producer, admin, the report reader, ``run``,
``alerts test`` — meets a missing topic without creating it (the broker here has
``auto.create.topics.enable=true``, Kafka's default). ``topics create`` verifies what
matters and ``--repair`` fixes configs by IncrementalAlterConfigs (other configs untouched)
and grows partitions. A webhook's dead letters on the real DLQ topic carry no secret.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, UnknownTopicOrPartitionError

from cspm_stream.cli import main
from cspm_stream.delivery.model import alert_from_bytes
from cspm_stream.delivery.runner import KafkaDeadLetterWriter, SinkRunner
from cspm_stream.delivery.sinks.factory import build_sink
from cspm_stream.errors import TopicError
from cspm_stream.kafka import Producer, client_options, consumer
from cspm_stream.report.reader import read_latest
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit
from cspm_stream.testing.findings import compliance_finding, raw
from cspm_stream.topic_admin import describe_configs
from cspm_stream.topics import TOPICS

from ..kafka_util import consume

pytestmark = pytest.mark.integration


async def _topics(s: Settings) -> set[str]:
    admin = AIOKafkaAdminClient(**client_options(s.kafka))
    await admin.start()
    try:
        return {t for t in await admin.list_topics() if t.startswith(s.kafka.topic_prefix)}
    finally:
        await admin.close()


async def _alter_legacy(s: Settings, logical: str, configs: dict[str, str]) -> None:
    """The old AlterConfigs: every config not named falls back to the broker default."""
    admin = AIOKafkaAdminClient(**client_options(s.kafka))
    await admin.start()
    try:
        name = s.kafka.topic(logical)
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs)])
        # the broker answers before its metadata holds the change: wait until a describe shows it
        for _ in range(100):
            now = (await describe_configs(admin, [name]))[name]
            if all(now.get(k) == v for k, v in configs.items()):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{name}: altered configs never became visible")
    finally:
        await admin.close()


async def _configs(s: Settings, logical: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(**client_options(s.kafka))
    await admin.start()
    try:
        return (await describe_configs(admin, [s.kafka.topic(logical)]))[s.kafka.topic(logical)]
    finally:
        await admin.close()


def _env(monkeypatch: pytest.MonkeyPatch, s: Settings) -> None:
    monkeypatch.setenv("CSPM_KAFKA_BOOTSTRAP", s.kafka.bootstrap)
    monkeypatch.setenv("CSPM_KAFKA_TOPIC_PREFIX", s.kafka.topic_prefix)
    monkeypatch.setenv("CSPM_KAFKA_PARTITIONS", str(s.kafka.partitions))


async def test_no_client_auto_creates_a_topic(kafka_settings: Settings) -> None:
    s = kafka_settings
    c = consumer(s.kafka, "activity", group_id=f"g-{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest")
    try:  # subscribing to a missing topic: aiokafka may say so, or wait; it must not create it
        await c.start()
        await c.getmany(timeout_ms=1500)
    except UnknownTopicOrPartitionError:
        pass
    finally:
        await c.stop()
    async with Producer(s.kafka, request_timeout_ms=3000) as p:
        with pytest.raises((KafkaError, TimeoutError)):  # the topic never appears in metadata
            await asyncio.wait_for(p.send(Emit("findings", "k", b"{}")), 8)
    with pytest.raises(TopicError, match="topics create"):
        await read_latest(s.kafka, "detections", timeout_s=5)
    await asyncio.sleep(1.0)  # auto-creation, had it been asked for, is asynchronous
    assert await _topics(s) == set()


def test_report_run_and_alerts_test_create_nothing(
    kafka_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch, kafka_settings)
    assert main(["report", "--timeout", "10"]) == 4
    assert main(["run", "--role", "process"]) == 4
    assert main(["alerts", "test", "--sink", "siem"]) == 4
    err = capsys.readouterr().err
    assert err.count("topics create") == 3 and "Traceback" not in err
    assert asyncio.run(_topics(kafka_settings)) == set()


def test_create_verify_repair(
    kafka_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    s = kafka_settings
    _env(monkeypatch, s)
    assert main(["topics", "verify"]) == 4  # nothing exists yet, and verify creates nothing
    assert asyncio.run(_topics(s)) == set()

    async def precreate() -> None:  # activity made by someone else, with one partition
        admin = AIOKafkaAdminClient(**client_options(s.kafka))
        await admin.start()
        try:
            await admin.create_topics([NewTopic(s.kafka.topic("activity"), 1, 1)])
        finally:
            await admin.close()

    asyncio.run(precreate())
    assert main(["topics", "create"]) == 4  # everything else created; activity reported
    out = capsys.readouterr()
    assert "partitions=1, expected 3" in out.out and "--repair" in out.err
    assert asyncio.run(_topics(s)) == {s.kafka.topic(t.name) for t in TOPICS}
    assert main(["topics", "verify"]) == 4

    # break more: a detections topic too small for a detection, a findings topic not compacted;
    # and an operator's own setting that a repair must leave alone
    asyncio.run(_alter_legacy(s, "detections", {"max.message.bytes": "1000"}))
    asyncio.run(_alter_legacy(s, "findings", {"cleanup.policy": "delete"}))
    asyncio.run(
        _alter_legacy(
            s,
            "alerts",
            {
                "retention.ms": str(30 * 86_400_000),
                "cleanup.policy": "delete",
                "max.message.bytes": str(4 * 1024 * 1024),
                "segment.bytes": "7340032",
            },
        )
    )
    assert main(["topics", "verify"]) == 4
    out = capsys.readouterr().out
    assert "detections" in out and "max.message.bytes=1000, expected >= 4194304" in out
    assert "cleanup.policy=delete, expected compact" in out

    assert main(["topics", "create", "--repair"]) == 0
    out = capsys.readouterr().out
    assert "repaired" in out and "partitions grown to 3" in out
    assert main(["topics", "verify"]) == 0
    det = asyncio.run(_configs(s, "detections"))
    assert int(det["max.message.bytes"]) >= 4 * 1024 * 1024 and det["cleanup.policy"] == "delete"
    assert asyncio.run(_configs(s, "findings"))["cleanup.policy"] == "compact"
    assert asyncio.run(_configs(s, "alerts"))["segment.bytes"] == "7340032"  # untouched: incremental


def test_partitions_never_shrink(
    kafka_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch, kafka_settings)
    assert main(["topics", "create"]) == 0
    monkeypatch.setenv("CSPM_KAFKA_PARTITIONS", "2")
    assert main(["topics", "create", "--repair"]) == 4
    out = capsys.readouterr().out
    assert "cannot repair: partitions cannot shrink (3 > 2)" in out


def test_alerts_test_through_the_kafka_sink(kafka_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, kafka_settings)
    assert main(["topics", "create"]) == 0
    assert main(["alerts", "test", "--sink", "siem"]) == 0
    (rec,) = asyncio.run(consume(kafka_settings, "alerts", count=1))
    doc = orjson.loads(rec.value)
    assert doc["unmapped"]["test"] is True and doc["class_uid"] == 2004 and doc["severity"] == "Informational"


async def test_dead_letters_on_the_broker_carry_no_secret(kafka_settings: Settings) -> None:
    from cspm_stream.topic_admin import ensure

    s = kafka_settings
    await ensure(s.kafka)

    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=307, headers={"Location": f"https://evil.example{request.path_qs}"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", redirect)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/services/T0PLANTED/B0PLANTED/PLANTEDtoken123456?k=PLANTEDq1"
    env = {"HOOK_URL": url, "HOOK_KEY": "hmac-PLANTED-0001"}
    conf: Any = {
        "type": "webhook",
        "url_env": "HOOK_URL",
        "hmac_secret_env": "HOOK_KEY",
        "max_attempts": 2,
        "backoff_s": 0.01,
    }
    from cspm_stream import settings as settings_mod

    s2 = settings_mod.load(
        data={
            "kafka": {"bootstrap": s.kafka.bootstrap, "topic_prefix": s.kafka.topic_prefix},
            "alerts": {"sinks": {"hook": conf}, "routes": [{"name": "r", "sink": "hook"}]},
        },
        environ={},
    )
    writer = KafkaDeadLetterWriter(s2.kafka)
    await writer.start()
    try:
        async with SinkRunner([build_sink("hook", s2.alerts.sinks["hook"], env)], s2.alerts.sinks, writer) as sr:
            sr.submit("hook", alert_from_bytes(raw(compliance_finding())), s.kafka.topic("findings"))
            await sr.join()
    finally:
        await writer.stop()
        await runner.cleanup()
    (rec,) = await consume(s, "dlq", count=1)
    letter = orjson.loads(rec.value)
    assert "redirects are never followed" in letter["reason"]
    assert b"PLANTED" not in rec.value and all(b"PLANTED" not in (v or b"") for _, v in rec.headers)


def test_largest_records_fit_their_topics(tmp_path: Path) -> None:
    """A dead letter of the largest input any topic accepts fits the DLQ topic's limit."""
    from cspm_stream.models import DeadLetter, dumps
    from cspm_stream.topics import BY_NAME

    biggest_input = max(t.max_message_bytes for t in TOPICS if t.name != "dlq")
    letter = DeadLetter.build(
        stage="detect",
        reason="x" * 2000,
        error_type="DecodeError",
        at="2026-01-01T00:00:00Z",
        original=b"\xff" * biggest_input,
        source_topic="cspm.activity",
        key="k" * 256,
        headers={"h": "v" * 256},
    )
    assert len(dumps(letter)) < BY_NAME["dlq"].max_message_bytes


async def test_a_topic_the_broker_refuses_is_never_reported_created(kafka_settings: Settings) -> None:
    """aiokafka returns CreateTopics' per-topic errors instead of raising: a name the broker refused
    (over 249 characters, as a 1,000-character topic_prefix made them) was printed 'created', exit 0."""
    from cspm_stream.topic_admin import check

    s = kafka_settings
    good, bad = s.kafka.topic("activity"), s.kafka.topic("x" * 300)
    found = {r.name: r for r in await check(s.kafka, [(good, TOPICS[0]), (bad, TOPICS[0])], create=True)}
    assert found[good].status == "created"
    assert not found[bad].ok and found[bad].status.startswith("MISSING (not created: Topic name is invalid")
    assert len(found[bad].status) < 300
    assert await _topics(s) == {good}
    again = await check(s.kafka, [(good, TOPICS[0])], create=True)  # exists now: verified, not re-created
    assert [r.status for r in again] == ["ok"]
