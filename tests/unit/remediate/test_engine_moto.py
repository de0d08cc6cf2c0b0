"""Guard rails of the remediator, on moto with the remediator's own assumed role."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from cspm_stream.errors import DecodeError
from cspm_stream.models import (
    Approval,
    RemediationMode,
    RemediationResult,
    RemediationStatus,
    RescanRequest,
    decode,
    dumps,
)
from cspm_stream.remediate.modes import sign_approval
from cspm_stream.remediate.session import RemediatorSession
from cspm_stream.settings import AwsSettings, RemediationSettings, Secret
from cspm_stream.stages.base import Emit, RecordMeta
from cspm_stream.stages.remediate import RemediationHandler
from cspm_stream.testing.moto import MotoServer
from cspm_stream.timeutil import iso, parse_iso

from .moto_util import command, new_account, seed_client, uniq

META = RecordMeta("remediation", 0, 0)
SECRET = "approval-key"


class Clock:
    def __init__(self) -> None:
        self.t = parse_iso("2026-01-01T00:00:00Z")

    def __call__(self) -> str:
        return iso(self.t)

    def advance(self, seconds: float) -> None:
        self.t += dt.timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def acct() -> str:
    return new_account()


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def session(moto_server: MotoServer) -> AsyncIterator[RemediatorSession]:
    """One remediator session for the module: its clients are cached per account, like the daemon's."""
    async with RemediatorSession(RemediationSettings(), AwsSettings(endpoint_url=moto_server.endpoint_url)) as s:
        yield s


def handler(session: RemediatorSession, clock: Clock, **conf: Any) -> RemediationHandler:
    conf.setdefault("default_mode", RemediationMode.AUTO)
    conf.setdefault("approval_hmac_secret", Secret(SECRET))
    return RemediationHandler(RemediationSettings(**conf), session, clock=clock)


def open_bucket(m: MotoServer, acct: str, tags: dict[str, str] | None = None) -> str:
    name = uniq("bkt")
    s3 = seed_client(m, acct, "s3")
    s3.create_bucket(Bucket=name)
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    return name


def bpa(m: MotoServer, acct: str, name: str) -> dict[str, Any] | None:
    try:
        return dict(seed_client(m, acct, "s3").get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"])
    except Exception as exc:
        assert "NoSuchPublicAccessBlockConfiguration" in str(exc)
        return None


def cmd_for(acct: str, name: str, **kw: Any) -> bytes:
    return dumps(command("s3_block_public_access", f"arn:aws:s3:::{name}", acct, **kw))


def results(emits: list[Emit]) -> list[RemediationResult]:
    return [decode(e.value, RemediationResult) for e in emits if e.topic == "remediation-results"]


def approval(cid: str, *, approve: bool = True, secret: str = SECRET, sign: bool = True) -> bytes:
    a = Approval(command_id=cid, approver="alice", approved_at="2026-01-01T00:01:00.000Z", approve=approve)
    if sign:
        a.signature = sign_approval(a, secret)
    return dumps(a)


async def test_auto_fixes_audits_and_asks_for_rescan(
    moto_server: MotoServer, session: RemediatorSession, acct: str
) -> None:
    name = open_bucket(moto_server, acct)
    h = handler(session, Clock())
    state: dict[str, Any] = {}
    emits = await h.handle(None, cmd_for(acct, name), META, state)
    (res,) = results(emits)
    assert res.status is RemediationStatus.SUCCEEDED and res.mode is RemediationMode.AUTO
    assert res.before == {"PublicAccessBlock": None}
    assert res.after is not None and res.after["PublicAccessBlock"]["BlockPublicPolicy"] is True
    assert res.calls == [
        {
            "service": "s3",
            "operation": "put_public_access_block",
            "region": "us-east-1",
            "params": {
                "Bucket": name,
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            },
        }
    ]
    assert "assumed-role/CspmStreamRemediator" in res.actor and res.at == "2026-01-01T00:00:00.000Z"
    assert bpa(moto_server, acct, name) == res.after["PublicAccessBlock"]
    (rescan,) = [decode(e.value, RescanRequest) for e in emits if e.topic == "rescan"]
    assert rescan.arn == f"arn:aws:s3:::{name}" and rescan.resource_type == "aws.s3.bucket"
    assert [e.key for e in emits] == [f"arn:aws:s3:::{name}"] * 2


async def test_duplicate_command_does_nothing_the_second_time(
    moto_server: MotoServer, session: RemediatorSession, acct: str
) -> None:
    name = open_bucket(moto_server, acct)
    h = handler(session, Clock())
    state: dict[str, Any] = {}
    raw = cmd_for(acct, name)
    assert results(await h.handle(None, raw, META, state))[0].status is RemediationStatus.SUCCEEDED
    seed_client(moto_server, acct, "s3").delete_public_access_block(Bucket=name)  # someone undoes the fix
    emits = await h.handle(None, raw, META, state)  # the same command re-delivered
    assert [r.status for r in results(emits)] == [RemediationStatus.SKIPPED]
    assert [e.topic for e in emits] == ["remediation-results"]
    assert bpa(moto_server, acct, name) is None  # proof that nothing was called


async def test_already_compliant_is_noop(moto_server: MotoServer, session: RemediatorSession, acct: str) -> None:
    name = open_bucket(moto_server, acct)
    seed_client(moto_server, acct, "s3").put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        },
    )
    emits = await handler(session, Clock()).handle(None, cmd_for(acct, name), META, {})
    assert [r.status for r in results(emits)] == [RemediationStatus.NOOP]
    assert "rescan" not in [e.topic for e in emits]


async def test_dry_run_publishes_the_plan_and_changes_nothing(
    moto_server: MotoServer, session: RemediatorSession, acct: str
) -> None:
    name = open_bucket(moto_server, acct)
    h = handler(session, Clock(), default_mode=RemediationMode.DRY_RUN)
    emits = await h.handle(None, cmd_for(acct, name), META, {})  # the command says auto; config caps it
    (res,) = results(emits)
    assert res.status is RemediationStatus.PLANNED and res.mode is RemediationMode.DRY_RUN
    assert [c["operation"] for c in res.calls] == ["put_public_access_block"]
    assert bpa(moto_server, acct, name) is None


async def test_off_by_default(moto_server: MotoServer, session: RemediatorSession, acct: str) -> None:
    name = open_bucket(moto_server, acct)
    h = RemediationHandler(RemediationSettings(), session, clock=Clock())
    (res,) = results(await h.handle(None, cmd_for(acct, name), META, {}))
    assert res.status is RemediationStatus.BLOCKED and res.error == "remediation is off"
    assert bpa(moto_server, acct, name) is None


async def test_exclusion_tag_is_respected(moto_server: MotoServer, session: RemediatorSession, acct: str) -> None:
    name = open_bucket(moto_server, acct, tags={"cspm:remediation": "skip", "team": "x"})
    (res,) = results(await handler(session, Clock()).handle(None, cmd_for(acct, name), META, {}))
    assert res.status is RemediationStatus.BLOCKED and "exclusion tag" in (res.error or "")
    assert bpa(moto_server, acct, name) is None


async def test_approve_waits_then_acts_on_a_signed_approval(
    moto_server: MotoServer, session: RemediatorSession, acct: str
) -> None:
    name = open_bucket(moto_server, acct)
    clock = Clock()
    h = handler(session, clock, default_mode=RemediationMode.APPROVE, approval_ttl_s=600)
    state: dict[str, Any] = {}
    raw = cmd_for(acct, name, mode=RemediationMode.APPROVE)
    (waiting,) = results(await h.handle(None, raw, META, state))
    assert waiting.status is RemediationStatus.AWAITING_APPROVAL and waiting.calls
    assert bpa(moto_server, acct, name) is None
    cid = waiting.command_id
    # refused: unsigned, wrongly signed — nothing happens
    with pytest.raises(DecodeError, match="signature"):
        await h.handle(None, approval(cid, sign=False), RecordMeta("approvals", 0, 0), state)
    with pytest.raises(DecodeError, match="signature"):
        await h.handle(None, approval(cid, secret="forged"), RecordMeta("approvals", 0, 0), state)
    assert bpa(moto_server, acct, name) is None
    assert h.sweep(state) == []  # not expired yet
    clock.advance(60)
    emits = await h.handle(None, approval(cid), RecordMeta("approvals", 0, 0), state)
    (done,) = results(emits)
    assert done.status is RemediationStatus.SUCCEEDED and "approved by alice" in done.actor
    assert bpa(moto_server, acct, name) is not None and "rescan" in [e.topic for e in emits]
    # a replayed approval does nothing
    assert await h.handle(None, approval(cid), RecordMeta("approvals", 0, 0), state) == []


async def test_approve_expires_without_approval(moto_server: MotoServer, session: RemediatorSession, acct: str) -> None:
    name = open_bucket(moto_server, acct)
    clock = Clock()
    h = handler(session, clock, default_mode=RemediationMode.APPROVE, approval_ttl_s=600)
    state: dict[str, Any] = {}
    (waiting,) = results(await h.handle(None, cmd_for(acct, name, mode=RemediationMode.APPROVE), META, state))
    clock.advance(601)
    (expired,) = results(h.sweep(state))
    assert expired.status is RemediationStatus.EXPIRED and expired.command_id == waiting.command_id
    # a late approval cannot resurrect it
    assert await h.handle(None, approval(waiting.command_id), RecordMeta("approvals", 0, 0), state) == []
    assert bpa(moto_server, acct, name) is None


async def test_late_approval_before_sweep_is_expired(
    moto_server: MotoServer, session: RemediatorSession, acct: str
) -> None:
    name = open_bucket(moto_server, acct)
    clock = Clock()
    h = handler(session, clock, default_mode=RemediationMode.APPROVE, approval_ttl_s=60)
    state: dict[str, Any] = {}
    (waiting,) = results(await h.handle(None, cmd_for(acct, name, mode=RemediationMode.APPROVE), META, state))
    clock.advance(61)
    (res,) = results(await h.handle(None, approval(waiting.command_id), RecordMeta("approvals", 0, 0), state))
    assert res.status is RemediationStatus.EXPIRED
    assert bpa(moto_server, acct, name) is None


async def test_rejection_blocks(moto_server: MotoServer, session: RemediatorSession, acct: str) -> None:
    name = open_bucket(moto_server, acct)
    h = handler(session, Clock(), default_mode=RemediationMode.APPROVE)
    state: dict[str, Any] = {}
    (w,) = results(await h.handle(None, cmd_for(acct, name, mode=RemediationMode.APPROVE), META, state))
    (res,) = results(await h.handle(None, approval(w.command_id, approve=False), RecordMeta("approvals", 0, 0), state))
    assert res.status is RemediationStatus.BLOCKED and "rejected by alice" in res.actor
    assert bpa(moto_server, acct, name) is None


async def test_blast_radius_cap_pauses_and_alerts(moto_server: MotoServer, session: RemediatorSession) -> None:
    acct = new_account()  # the cap is per account: keep this test's count to itself
    names = [open_bucket(moto_server, acct) for _ in range(4)]
    clock = Clock()
    h = handler(session, clock, blast_radius_max=2, blast_radius_window_s=300)
    state: dict[str, Any] = {}
    statuses = []
    alerts = []
    for n in names[:3]:
        emits = await h.handle(None, cmd_for(acct, n), META, state)
        statuses += [r.status for r in results(emits)]
        alerts += [e for e in emits if e.topic == "detections"]
        clock.advance(1)
    assert statuses == [RemediationStatus.SUCCEEDED, RemediationStatus.SUCCEEDED, RemediationStatus.BLOCKED]
    assert len(alerts) == 1 and alerts[0].headers["schema"] == "ocsf.detection_finding.v1"
    assert b"blast-radius" in (alerts[0].value or b"")
    assert bpa(moto_server, acct, names[2]) is None
    # paused: the next one is blocked too, without touching AWS
    (res,) = results(await h.handle(None, cmd_for(acct, names[3]), META, state))
    assert res.status is RemediationStatus.BLOCKED and "paused" in (res.error or "")
    # after the window the account resumes (a new finding occurrence → a new command id)
    clock.advance(301)
    (res,) = results(await h.handle(None, cmd_for(acct, names[3], occurrence="2"), META, state))
    assert res.status is RemediationStatus.SUCCEEDED


async def test_unknown_action_and_aws_errors_fail_loudly(
    moto_server: MotoServer, session: RemediatorSession, acct: str
) -> None:
    h = handler(session, Clock())
    bad = command("no_such_action", "arn:aws:s3:::x", acct)
    (res,) = results(await h.handle(None, dumps(bad), META, {}))
    assert res.status is RemediationStatus.FAILED and res.error == "unknown action"
    (res,) = results(await h.handle(None, cmd_for(acct, "bucket-that-does-not-exist"), META, {}))
    assert res.status is RemediationStatus.FAILED and "NoSuchBucket" in (res.error or "")


async def test_garbage_is_a_decode_error(session: RemediatorSession) -> None:
    h = handler(session, Clock())
    with pytest.raises(DecodeError):
        await h.handle(None, b'{"schema": "inventory.v1"}', META, {})
