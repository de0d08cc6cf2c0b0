"""Finding lifecycle on the real broker: inventory topic → posture handler → findings topic.

Every outcome is kept: first passes are PASSED (once); fail → fix → RESOLVED; delete
(tombstone) → every check closed; mute → SUPPRESSED; mute expiry → re-opened; restart +
full replay → no duplicate transitions; PASS → FAIL → PASS read back from the compacted
topic by the report gives the score at each step.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from cspm_stream.kafka import Producer, client_options
from cspm_stream.models import dumps
from cspm_stream.models.ocsf import finding_uid
from cspm_stream.policy.catalog import load_catalog
from cspm_stream.policy.mutelist import MutelistSource
from cspm_stream.settings import Settings
from cspm_stream.stages.base import RecordMeta
from cspm_stream.stages.posture import PostureHandler
from cspm_stream.testing import snapshot
from cspm_stream.topic_admin import ensure_topics
from tests.kafka_util import drain, produce

pytestmark = pytest.mark.integration

FIX = Path(__file__).parent.parent / "unit" / "policy" / "fixtures"
PUBLIC_GRANT = {"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}
A, B, C = "arn:aws:s3:::bucket-a", "arn:aws:s3:::bucket-b", "arn:aws:s3:::muted-c"


def _bucket(arn: str, at: str, *, public: bool, encrypted: bool = True) -> tuple[bytes, bytes]:
    attrs = {
        "Acl": {"Grants": [PUBLIC_GRANT] if public else []},
        "Encryption": {"Rules": []} if encrypted else None,
        "Policy": None,
    }
    return arn.encode(), dumps(
        snapshot("aws.s3.bucket", attrs, arn=arn, resource_id=arn.rsplit(":", 1)[1], observed_at=at)
    )


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


async def run_until_idle(
    settings: Settings, handler: PostureHandler, state: dict[str, Any], group: str, idle: float = 2.0
) -> int:
    """A minimal runtime: consume inventory, handle, produce emits (acks=all), then commit."""
    c = AIOKafkaConsumer(
        settings.kafka.topic("inventory"),
        **client_options(settings.kafka),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await c.start()
    handled = 0
    try:
        async with Producer(settings.kafka) as producer:
            last = time.monotonic()
            while time.monotonic() - last < idle:
                batch = await c.getmany(timeout_ms=300)
                for msgs in batch.values():
                    for m in msgs:
                        last = time.monotonic()
                        meta = RecordMeta(m.topic, m.partition, m.offset, m.timestamp)
                        await producer.send_many(await handler.handle(m.key, m.value, meta, state))
                        handled += 1
                if batch:
                    await c.commit()
    finally:
        await c.stop()
    return handled


async def send_tick(settings: Settings, handler: PostureHandler, state: dict[str, Any]) -> None:
    async with Producer(settings.kafka) as producer:
        await producer.send_many(handler.tick(state))


def transitions(records: list[Any]) -> list[tuple[str, str, str]]:
    out = []
    for r in records:
        f = orjson.loads(r.value)
        assert r.key.decode() == f["finding_info"]["uid"]
        out.append((f["resources"][0]["uid"], f["unmapped"]["policy_id"], f["unmapped"]["state"]))
    return out


async def test_lifecycle_on_real_broker(kafka_settings: Settings, tmp_path: Path) -> None:
    await ensure_topics(kafka_settings.kafka)
    catalog = load_catalog([FIX / "policies"], [FIX / "frameworks"])
    ml_file = tmp_path / "mutelist.yaml"
    ml_file.write_text(
        "mutes:\n  - {id: c, reason: legacy public site, owner: web-team, arn: 'arn:aws:s3:::muted-.*',"
        " expires: '2026-03-01T00:00:00Z'}\n"
    )
    clock = Clock(1767225600.0)  # 2026-01-01: the mute is active
    state: dict[str, Any] = {}
    handler = PostureHandler(catalog, MutelistSource(ml_file, reload_s=1), clock=clock)
    group = f"posture-{uuid.uuid4().hex[:8]}"

    # 1. first scan: A fails one policy, B fails two, C fails but is muted
    await produce(
        kafka_settings,
        "inventory",
        [
            _bucket(A, "2026-01-01T00:00:00Z", public=True),
            _bucket(B, "2026-01-01T00:00:00Z", public=True, encrypted=False),
            _bucket(C, "2026-01-01T00:00:00Z", public=True),
        ],
    )
    # 2. A fixed; B deleted (ResourceDeleted is optional: the tombstone alone resolves)
    await produce(
        kafka_settings,
        "inventory",
        [
            _bucket(A, "2026-01-02T00:00:00Z", public=False),
            (B.encode(), None),
            # a rescan of unchanged C: no new transition
            _bucket(C, "2026-01-02T00:00:00Z", public=True),
        ],
    )
    assert await run_until_idle(kafka_settings, handler, state, group) == 6

    # 3. the mute expires: re-opened without a rescan
    clock.t = 1772409600.0  # 2026-03-02
    await send_tick(kafka_settings, handler, state)

    got = transitions(await drain(kafka_settings, "findings", idle=2.0))
    # order is guaranteed per key (finding uid = one partition), not across keys
    per_finding: dict[tuple[str, str], list[str]] = {}
    for arn, pid, st in got:
        per_finding.setdefault((arn, pid), []).append(st)
    assert per_finding == {
        (A, "fx_s3_public_acl"): ["new", "resolved"],  # fail -> fix
        (A, "fx_s3_no_encryption"): ["passed"],  # passing checks: one record, never repeated
        (A, "fx_s3_policy_public"): ["passed"],
        (B, "fx_s3_no_encryption"): ["new", "resolved"],  # fail -> tombstone
        (B, "fx_s3_public_acl"): ["new", "resolved"],
        (B, "fx_s3_policy_public"): ["passed", "passed"],  # its last record says the resource is gone
        (C, "fx_s3_public_acl"): ["suppressed", "new"],  # mute -> expiry re-opens
        (C, "fx_s3_no_encryption"): ["passed"],
        (C, "fx_s3_policy_public"): ["passed"],
    }
    records = await drain(kafka_settings, "findings", idle=1.0)
    muted = next(orjson.loads(r.value) for r in records if r.key.decode() == finding_uid("fx_s3_public_acl", C))
    assert muted["status_id"] == 3 and muted["unmapped"]["mute_reason"] == "legacy public site"

    # 4. restart: the table is restored from its changelog (JSON), the whole inventory is
    # replayed from the beginning by a new consumer group, and the timer fires again
    restored = orjson.loads(orjson.dumps(state))
    restarted = PostureHandler(catalog, MutelistSource(ml_file, reload_s=1), clock=clock)
    assert await run_until_idle(kafka_settings, restarted, restored, f"{group}-replay") == 6
    await send_tick(kafka_settings, restarted, restored)
    assert len(await drain(kafka_settings, "findings", idle=2.0)) == 14  # nothing new


async def test_pass_fail_pass_through_the_broker_and_the_report(kafka_settings: Settings) -> None:
    """One bucket passes, fails, passes again; after each step the report, read from the
    compacted findings topic, shows passed / (passed + failed) over its three checks."""
    from cspm_stream.report import build_report, collect
    from cspm_stream.report.reader import read_latest

    await ensure_topics(kafka_settings.kafka)
    catalog = load_catalog([FIX / "policies"], [FIX / "frameworks"])
    handler = PostureHandler(catalog, clock=Clock(1767225600.0))
    state: dict[str, Any] = {}
    group = f"posture-{uuid.uuid4().hex[:8]}"
    d = "arn:aws:s3:::bucket-d"
    steps = [
        ("2026-01-01T00:00:00Z", False, 100.0, {"passed": 3}),
        ("2026-01-01T01:00:00Z", True, 100.0 * 2 / 3, {"passed": 2, "failed": 1}),
        ("2026-01-01T02:00:00Z", False, 100.0, {"passed": 3}),
    ]
    for at, public, score, counts in steps:
        await produce(kafka_settings, "inventory", [_bucket(d, at, public=public)])
        assert await run_until_idle(kafka_settings, handler, state, group, idle=1.5) == 1
        findings = await read_latest(kafka_settings.kafka, "findings", timeout_s=30)
        report = build_report(collect(findings.values.values()), [], now_ms=1767236400000)
        c = report.summary.checks
        assert {k: v for k, v in {"passed": c.passed, "failed": c.failed}.items() if v} == counts
        assert report.summary.score.value == pytest.approx(score)
    got = transitions(await drain(kafka_settings, "findings", idle=2.0))
    assert [st for arn, pid, st in got if pid == "fx_s3_public_acl"] == ["passed", "new", "resolved"]
    assert sorted(st for arn, pid, st in got if pid != "fx_s3_public_acl") == ["passed", "passed"]
    assert report.mttr.resolved == 1 and report.mttr.mean_s == pytest.approx(3600.0)  # failed 01:00, fixed 02:00
