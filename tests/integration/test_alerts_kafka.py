"""Alert router on the real broker: replays deduplicated, a failing webhook retried then
dead-lettered on <prefix>dlq while the Kafka sink and a healthy signed webhook keep flowing;
passing checks leave the router no state; after a restart (state restored from the changelog)
a fixed check's RESOLVED and its next failure (NEW again) are alerted and replays are not."""

from __future__ import annotations

import orjson
import pytest
from prometheus_client import CollectorRegistry

from cspm_stream import settings as settings_mod
from cspm_stream.models import DeadLetter, RemediationCommand, Severity, decode
from cspm_stream.settings import Settings
from cspm_stream.stages.alerts import AlertStage
from cspm_stream.testing.findings import compliance_finding, detection_finding, raw
from cspm_stream.testing.receiver import Receiver
from cspm_stream.testing.runtime import LocalRuntime
from cspm_stream.topic_admin import ensure_topics
from tests.kafka_util import consume, drain, produce

pytestmark = pytest.mark.integration


def _settings(base: Settings, bad_url: str, good_url: str) -> Settings:
    return settings_mod.load(
        data={
            "app": {"id": base.app.id, "data_dir": base.app.data_dir},
            "kafka": {"bootstrap": base.kafka.bootstrap, "topic_prefix": base.kafka.topic_prefix, "partitions": 3},
            "alerts": {
                "dedup_window_s": 3600,
                "sinks": {
                    "siem": {"type": "kafka"},
                    "broken": {"type": "webhook", "url": bad_url, "max_attempts": 3, "backoff_s": 0.01},
                    "soc": {"type": "webhook", "url": good_url, "hmac_secret_env": "SOC_HOOK_KEY"},
                },
                "routes": [
                    {"name": "siem", "sink": "siem", "min_severity": 1},
                    {"name": "broken", "sink": "broken", "min_severity": 4},
                    {"name": "soc", "sink": "soc", "min_severity": 4, "exclude": ["muted_*"]},
                ],
            },
            "remediation": {"actions": {"s3_block_public_access": "dry-run"}},
        },
        environ={},
    )


async def test_router_end_to_end(kafka_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOC_HOOK_KEY", "soc-secret")
    await ensure_topics(kafka_settings.kafka)
    async with Receiver(status=500) as bad, Receiver(secret=b"soc-secret") as good:
        s = _settings(kafka_settings, bad.url, good.url)
        findings = [compliance_finding(arn=f"arn:aws:s3:::bucket-{i}") for i in range(4)]
        findings.append(compliance_finding(policy_id="muted_policy", arn="arn:aws:s3:::m", action=None))
        low = compliance_finding(arn="arn:aws:s3:::low", severity=Severity.LOW, action=None)
        records = [(f["finding_info"]["uid"].encode(), raw(f)) for f in [*findings, low]]
        # at-least-once upstream: every record delivered twice, then the whole batch replayed
        await produce(s, "findings", records + records[:3] + [(b"x", b"not json")])
        await produce(s, "detections", [(None, raw(detection_finding()))] * 2)
        # passing checks: no route sends 'passed' (the default states), so no alert and no state
        passing = [compliance_finding(arn=f"arn:aws:s3:::ok-{i}", state="passed", action=None) for i in range(3)]
        await produce(s, "findings", [(f["finding_info"]["uid"].encode(), raw(f)) for f in passing])
        registry = CollectorRegistry()
        stage = AlertStage(s, registry)
        async with stage, LocalRuntime(s, [stage.handler]) as runtime:
            alerts = await consume(s, "alerts", count=7, timeout=30)
            await consume(s, "detections", count=2, timeout=10)
            processed = await runtime.wait_processed(15)  # the runtime has taken every input
            await stage.runner.join()  # every delivery finished or dead-lettered
            table = dict(runtime.loop("alerts").table)
            dlq = await consume(s, "dlq", count=1 + 6, timeout=30)
        # exactly one alert per finding: 5 high + 1 low + 1 detection, no duplicates
        assert len(alerts) == 7
        more = await drain(s, "alerts", idle=1.0)
        assert len(more) == 7
        assert len({m.key for m in more}) == 7
        hdrs = {k: v.decode() for k, v in alerts[0].headers}
        assert {"class_uid", "severity", "account", "schema"} <= set(hdrs)
        # the healthy signed webhook got the high ones except the muted route-level exclude
        assert len(good.bodies) == 5 and all(good.signatures_ok)
        assert "muted_policy" not in b"".join(good.bodies).decode()
        # the broken webhook was tried 3 times per alert, then each alert was dead-lettered
        letters = [decode(m.value, DeadLetter) for m in dlq]
        sink_letters = [d for d in letters if d.stage == "alerts.sink.broken"]
        assert len(sink_letters) == 6 and bad.hits == 18
        assert all("gave up after 3 attempts" in d.reason for d in sink_letters)
        assert {orjson.loads(d.original())["finding_info"]["uid"] for d in sink_letters} >= {
            f["finding_info"]["uid"] for f in findings
        }
        assert [d for d in letters if d.stage == "alerts" and d.original() == b"not json"]
        assert registry.get_sample_value("cspm_alerts_dead_lettered_total", {"sink": "broken"}) == 6
        assert registry.get_sample_value("cspm_alerts_sent_total", {"sink": "soc"}) == 5
        # dry-run remediation configured: one command per new finding with the action, keyed by ARN
        cmds = await drain(s, "remediation", idle=1.0)
        assert sorted(m.key.decode() for m in cmds) == [f"arn:aws:s3:::bucket-{i}" for i in range(4)]
        assert {decode(m.value, RemediationCommand).mode.value for m in cmds} == {"dry-run"}
        assert processed == 15  # 6 findings + 3 replays + 1 garbage + 2 detections + 3 passing
        # the router's state: one dedup trace per alerted finding, none for the passing checks
        alerted = {f["finding_info"]["uid"] for f in [*findings, low]} | {detection_finding()["finding_info"]["uid"]}
        assert set(table) == {f"alert-dedup:{uid}" for uid in alerted}

        # restart: a new router restores its state from the changelog. bucket-0 is fixed (FAIL -> PASS:
        # RESOLVED, alerted), fails again (NEW again: alerted and commanded), and the upstream replays
        # the first findings and the fix (nothing alerted twice)
        f0 = findings[0]
        key0 = f0["finding_info"]["uid"].encode()
        fixed = compliance_finding(arn="arn:aws:s3:::bucket-0", state="resolved", time_ms=f0["time"] + 60_000)
        again = compliance_finding(arn="arn:aws:s3:::bucket-0", time_ms=f0["time"] + 120_000)
        stage2 = AlertStage(s, CollectorRegistry())
        async with stage2, LocalRuntime(s, [stage2.handler]) as runtime2:
            assert dict(runtime2.loop("alerts").table) == table  # restored
            await produce(s, "findings", [*records[:3], (key0, raw(fixed)), (key0, raw(fixed)), (key0, raw(again))])
            await runtime2.wait_processed(6)
            await stage2.runner.join()
            after = await drain(s, "alerts", idle=1.5)
        assert len(after) == 9
        # one key, one partition: in order
        assert [orjson.loads(m.value)["unmapped"]["state"] for m in after if m.key == key0] == [
            "new",
            "resolved",
            "new",
        ]
        cmds = await drain(s, "remediation", idle=1.0)
        assert [m.key.decode() for m in cmds].count("arn:aws:s3:::bucket-0") == 2
