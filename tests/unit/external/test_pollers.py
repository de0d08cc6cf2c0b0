"""Pollers: Security Hub against moto (BatchImportFindings/GetFindings), GuardDuty and Access Analyzer
against recorded responses validated by botocore's model (moto 5.2.5 serves neither API)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiobotocore.session import get_session

from cspm_stream import settings as settings_mod
from cspm_stream.collect.accounts import SessionPool
from cspm_stream.external.checkpoints import MemoryCheckpoints
from cspm_stream.external.mapping import Equivalents
from cspm_stream.external.model import ExternalFinding
from cspm_stream.external.pollers import AccessAnalyzerPoller, GuardDutyPoller, PollOptions, SecurityHubPoller
from cspm_stream.models import decode
from cspm_stream.stages.base import Emit
from cspm_stream.testing.moto import MotoServer
from cspm_stream.testing.recorded import Exchange, RecordedAWS, load_exchanges
from tests.unit.external import samples as s

DATA = Path(__file__).resolve().parents[2] / "data" / "recorded" / "external"
REGION = "ap-southeast-4"  # a region no other test seeds Security Hub in
NOW = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)


class Capture:
    """A producer that acknowledges everything and keeps it."""

    def __init__(self) -> None:
        self.emits: list[Emit] = []
        self.fail = False

    async def send_many(self, emits: Iterable[Emit]) -> None:
        if self.fail:
            raise RuntimeError("broker down")
        self.emits.extend(emits)

    def findings(self) -> list[ExternalFinding]:
        return [decode(e.value, ExternalFinding) for e in self.emits if e.topic.startswith("external-")]


@pytest.fixture
async def securityhub(moto_server: MotoServer) -> AsyncIterator[Any]:
    async with get_session().create_client(
        "securityhub", region_name=REGION, endpoint_url=moto_server.endpoint_url
    ) as client:
        yield client


def _imported(moto: MotoServer, findings: list[dict[str, Any]]) -> None:
    out = moto.boto3_client("securityhub", REGION).batch_import_findings(Findings=findings)
    assert out["FailedCount"] == 0, out


async def test_security_hub_poller_against_moto(moto_server: MotoServer, securityhub: Any, eq: Equivalents) -> None:
    bucket = "arn:aws:s3:::poller-reports"
    control = s.control("S3.8", bucket, "AwsS3Bucket", region=REGION)
    gd = s.guardduty_via_hub()
    gd["Id"] += "-poller"
    _imported(moto_server, [control, s.inspector_cve(), gd])
    out, store = Capture(), MemoryCheckpoints()
    poller = SecurityHubPoller(
        securityhub, "123456789012", REGION, out, store, opts=PollOptions(lookback_s=10**7), eq=eq, clock=lambda: NOW
    )
    assert await poller.poll_once() >= 3
    by_uid = {f.uid: f for f in out.findings()}
    mine = by_uid[control["Id"]]
    assert (mine.policy_id, mine.resource_arn) == ("s3_bucket_public_access_block", bucket)
    emit = next(e for e in out.emits if e.value and orjson.loads(e.value)["uid"] == control["Id"])
    assert (emit.topic, emit.key) == ("external-findings", bucket)
    threat = next(e for e in out.emits if e.value and orjson.loads(e.value)["uid"] == gd["Id"])
    assert (threat.topic, threat.key) == ("external-threats", "123456789012|user/mallory")
    cp = store.load(poller.key)
    # updated before the overlap window (16:55): not worth remembering, the next window starts later
    assert cp == {"since": "2026-11-28T17:00:00.000Z", "seen": {}}
    # the next poll (moto ignores the UpdatedAt filter) re-reads them all and produces nothing new
    out.emits.clear()
    assert await poller.poll_once() == 0
    # one finding updated: only it is produced again
    _imported(
        moto_server,
        [s.control("S3.8", bucket, "AwsS3Bucket", "PASSED", region=REGION, updated="2026-11-28T16:58:00.000Z")],
    )
    out.emits.clear()
    assert await poller.poll_once() == 1
    (again,) = out.findings()
    assert (again.uid, again.verdict) == (control["Id"], "pass")
    assert store.load(poller.key)["seen"] == {control["Id"]: "2026-11-28T16:58:00.000Z"}
    out.emits.clear()
    assert await poller.poll_once() == 0  # read again within the overlap: remembered, not produced twice


async def test_security_hub_skips_products_polled_directly(
    securityhub: Any, moto_server: MotoServer, eq: Equivalents
) -> None:
    gd = s.guardduty_via_hub()
    gd["Id"] += "-skipped"
    _imported(moto_server, [gd])
    out = Capture()
    poller = SecurityHubPoller(
        securityhub,
        "123456789012",
        REGION,
        out,
        MemoryCheckpoints(),
        opts=PollOptions(lookback_s=10**7, skip_products=frozenset({"guardduty"})),
        eq=eq,
        clock=lambda: NOW,
    )
    await poller.poll_once()
    assert all(f.product != "guardduty" for f in out.findings())


# ---------------------------------------------------------------- recorded APIs


async def _client(service: str, exchanges: list[Exchange]) -> tuple[Any, RecordedAWS, Any]:
    aws = RecordedAWS(exchanges)
    cfg = settings_mod.load(data={}, environ={}).aws
    base = get_session()
    base.set_credentials("RECORDED", "RECORDED")
    pool = SessionPool(cfg, base=base, event_hooks=aws.hooks())
    cm = pool.base.create_client(service, region_name="us-east-1")
    return await cm.__aenter__(), aws, cm


async def test_guardduty_poller_reads_every_detector(eq: Equivalents, rule_ids: dict[str, str]) -> None:
    client, aws, cm = await _client("guardduty", load_exchanges(DATA / "guardduty.json"))
    try:
        out, store = Capture(), MemoryCheckpoints()
        poller = GuardDutyPoller(client, "123456789012", "us-east-1", out, store, eq=eq, clock=lambda: NOW)
        assert await poller.poll_once() == 3
    finally:
        await cm.__aexit__(None, None, None)
    assert aws.unanswered == []
    (listed,) = [p for svc, op, p in aws.calls if op == "ListFindings"]
    since = listed["FindingCriteria"]["Criterion"]["updatedAt"]["GreaterThanOrEqual"]
    assert since == int((NOW - dt.timedelta(seconds=86400)).timestamp() * 1000)
    assert {e.topic for e in out.emits} == {"external-threats"}
    trail = out.findings()[0]
    assert trail.rules and rule_ids["cspm_cloudtrail_logging_stopped"] in trail.rules
    key = "guardduty|123456789012|us-east-1|12abc34d567e8fa901bc2d34e56789f0"
    assert len(store.load(key)["seen"]) == 0  # updated before the overlap window: nothing to remember
    assert store.load(key)["since"] == "2026-11-28T17:00:00.000Z"


async def test_access_analyzer_poller(eq: Equivalents) -> None:
    client, aws, cm = await _client("accessanalyzer", load_exchanges(DATA / "accessanalyzer.json"))
    try:
        out = Capture()
        opts = PollOptions(lookback_s=90 * 86400)
        poller = AccessAnalyzerPoller(
            client, "123456789012", "us-east-1", out, MemoryCheckpoints(), opts=opts, clock=lambda: NOW
        )
        assert await poller.poll_once() == 4
    finally:
        await cm.__aexit__(None, None, None)
    assert aws.unanswered == []
    assert not any("being-created" in str(p) for _, _, p in aws.calls)  # only ACTIVE analyzers
    assert {(e.topic, e.key) for e in out.emits} >= {("external-findings", "arn:aws:s3:::public-reports-bucket")}
    assert sorted(f.finding_type for f in out.findings()) == ["ExternalAccess"] * 3 + ["UnusedIAMRole"]


async def test_access_analyzer_listing_without_time_filter_drops_old_findings(eq: Equivalents) -> None:
    client, _, cm = await _client("accessanalyzer", load_exchanges(DATA / "accessanalyzer.json"))
    try:
        out = Capture()
        poller = AccessAnalyzerPoller(client, "123456789012", "us-east-1", out, MemoryCheckpoints(), clock=lambda: NOW)
        # default lookback (a day): only the unused-access finding was updated since 2026-11-27T17:00
        assert await poller.poll_once() == 0
    finally:
        await cm.__aexit__(None, None, None)


async def test_a_failed_call_keeps_the_checkpoint() -> None:
    denied = Exchange(
        "guardduty", "ListDetectors", error={"Code": "AccessDeniedException", "Message": "no"}, status=403
    )
    client, _, cm = await _client("guardduty", [denied])
    try:
        store = MemoryCheckpoints()
        await store.save("guardduty|123456789012|us-east-1|d", {"since": "2026-11-28T10:00:00.000Z", "seen": {}})
        poller = GuardDutyPoller(client, "123456789012", "us-east-1", Capture(), store, clock=lambda: NOW)
        with pytest.raises(Exception, match="AccessDenied"):
            await poller.poll_once()
        assert store.load("guardduty|123456789012|us-east-1|d")["since"] == "2026-11-28T10:00:00.000Z"
    finally:
        await cm.__aexit__(None, None, None)


async def test_a_produce_failure_keeps_the_checkpoint_and_a_bad_finding_is_dead_lettered(eq: Equivalents) -> None:
    exchanges = load_exchanges(DATA / "guardduty.json")
    get = next(e for e in exchanges if e.operation == "GetFindings")
    broken = dict(get.response or {})
    broken["Findings"] = [*broken["Findings"], {**broken["Findings"][0], "AccountId": "not-an-account"}]
    exchanges = [e for e in exchanges if e is not get] + [Exchange("guardduty", "GetFindings", get.params, broken)]
    client, _, cm = await _client("guardduty", exchanges)
    try:
        out, store = Capture(), MemoryCheckpoints()
        poller = GuardDutyPoller(client, "123456789012", "us-east-1", out, store, eq=eq, clock=lambda: NOW)
        out.fail = True
        with pytest.raises(RuntimeError):
            await poller.poll_once()
        assert store.values == {}
        out.fail = False
        await poller.poll_once()
    finally:
        await cm.__aexit__(None, None, None)
    (dead,) = [e for e in out.emits if e.topic == "dlq"]
    assert dead.value is not None
    letter = orjson.loads(dead.value)
    assert "AccountId" in letter["reason"] and letter["stage"] == "source.external.guardduty"
    assert b"not-an-account" in base64.b64decode(letter["original_b64"])
