"""Remediation end to end on the real broker and moto.

Closed loop with every real stage: misconfigured bucket → finding NEW → command (auto) →
fixed on moto → rescan → RESOLVED. Then the guard rails over Kafka: dry-run publishes the
plan and changes nothing; approve waits, acts on a signed approval from the CLI, expires
without one; exclusion tag; blast-radius pause with an alert; duplicate command is a no-op.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.alerts.closed_loop import closed_loop, loop_settings
from cspm_stream import settings as settings_mod
from cspm_stream.kafka import Producer
from cspm_stream.models import DeadLetter, RemediationMode, RemediationResult, RescanRequest, decode, dumps
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit, headers_for
from cspm_stream.stages.remediate import build_remediate_handler
from cspm_stream.testing.moto import MotoServer
from cspm_stream.testing.runtime import LocalRuntime
from cspm_stream.topic_admin import ensure_topics
from tests.kafka_util import ROOT, drain, wait_for
from tests.unit.remediate.moto_util import command, new_account, seed_client, uniq

pytestmark = pytest.mark.integration
SECRET = "integration-approval-key"


async def test_closed_loop_to_resolved(kafka_settings: Settings, moto_server: MotoServer, tmp_path: Path) -> None:
    account = new_account()
    s = loop_settings(
        kafka_settings.kafka.bootstrap,
        kafka_settings.kafka.topic_prefix,
        moto_server.endpoint_url,
        account,
        str(tmp_path),
    )
    out = await closed_loop(s, moto_server, account, timeout_s=60)
    assert out["results"] == ["succeeded"]
    assert out["new_s"] < out["fixed_s"] <= out["rescan_s"] < out["resolved_s"] < 30, out
    conf = seed_client(moto_server, account, "s3").get_public_access_block(Bucket=out["bucket"])
    assert all(conf["PublicAccessBlockConfiguration"].values())


def _settings(base: Settings, moto: MotoServer, **remediation: Any) -> Settings:
    return settings_mod.load(
        data={
            "app": {"id": base.app.id, "data_dir": base.app.data_dir},
            "kafka": {"bootstrap": base.kafka.bootstrap, "topic_prefix": base.kafka.topic_prefix, "partitions": 1},
            "aws": {"endpoint_url": moto.endpoint_url},
            "remediation": remediation,
        },
        environ={"CSPM_REMEDIATION_APPROVAL_HMAC_SECRET": SECRET},
    )


def _bucket(moto: MotoServer, account: str, tags: dict[str, str] | None = None) -> str:
    s3 = seed_client(moto, account, "s3")
    name = uniq("e2e")
    s3.create_bucket(Bucket=name)
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    return name


def _blocked(moto: MotoServer, account: str, name: str) -> bool:
    try:
        seed_client(moto, account, "s3").get_public_access_block(Bucket=name)
    except Exception:
        return False
    return True


async def _send_cmds(s: Settings, cmds: list[Any]) -> None:
    async with Producer(s.kafka) as p:
        for c in cmds:
            await p.send(Emit("remediation", c.resource_arn, dumps(c), headers_for("remediation.v1")))


async def _results(s: Settings, n: int) -> list[RemediationResult]:
    async def enough() -> list[RemediationResult] | None:
        got = [decode(m.value, RemediationResult) for m in await drain(s, "remediation-results", idle=0.3)]
        return got if len(got) >= n else None

    got = await wait_for(enough, timeout=30)
    assert got, f"fewer than {n} results"
    return got


async def test_guard_rails_over_kafka(kafka_settings: Settings, moto_server: MotoServer, tmp_path: Path) -> None:
    acct = new_account()
    s = _settings(
        kafka_settings,
        moto_server,
        default_mode="auto",
        actions={"s3_enable_versioning": "dry-run"},
        blast_radius_max=2,
        blast_radius_window_s=3600,
    )
    await ensure_topics(s.kafka)  # one partition: the remediator is one worker, commands stay in order
    a, b = _bucket(moto_server, acct), _bucket(moto_server, acct)
    tagged = _bucket(moto_server, acct, tags={"cspm:remediation": "skip"})
    c, d = _bucket(moto_server, acct), _bucket(moto_server, acct)
    bpa = "s3_block_public_access"
    first = command(bpa, f"arn:aws:s3:::{a}", acct)
    cmds = [
        command("s3_enable_versioning", f"arn:aws:s3:::{a}", acct),  # config says dry-run
        first,
        first,  # duplicate (at-least-once redelivery)
        command(bpa, f"arn:aws:s3:::{tagged}", acct),
        command(bpa, f"arn:aws:s3:::{b}", acct),  # 2nd action: cap reached
        command(bpa, f"arn:aws:s3:::{c}", acct),  # 3rd: blocked + pause + alert
        command(bpa, f"arn:aws:s3:::{d}", acct),  # paused
    ]
    handler = build_remediate_handler(s)
    try:
        async with LocalRuntime(s, [handler]):
            await _send_cmds(s, cmds)
            res = await _results(s, len(cmds))
    finally:
        await handler.stop()
    by = [(r.resource_arn.rsplit(":", 1)[1], r.action, r.status.value) for r in res]
    assert sorted(by) == sorted(
        [
            (a, "s3_enable_versioning", "planned"),
            (a, bpa, "succeeded"),
            (a, bpa, "skipped"),
            (tagged, bpa, "blocked"),
            (b, bpa, "succeeded"),
            (c, bpa, "blocked"),
            (d, bpa, "blocked"),
        ]
    )
    planned = next(r for r in res if r.status.value == "planned")
    assert planned.calls[0]["operation"] == "put_bucket_versioning"
    versioning = seed_client(moto_server, acct, "s3").get_bucket_versioning(Bucket=a)
    assert versioning.get("Status") != "Enabled"  # dry-run changed nothing
    assert [_blocked(moto_server, acct, x) for x in (a, tagged, b, c, d)] == [True, False, True, False, False]
    rescans = [decode(m.value, RescanRequest) for m in await drain(s, "rescan", idle=0.3)]
    assert sorted(r.arn or "" for r in rescans) == sorted([f"arn:aws:s3:::{a}", f"arn:aws:s3:::{b}"])
    alerts = await drain(s, "detections", idle=0.3)
    assert len(alerts) == 1 and b"blast-radius" in alerts[0].value


async def test_approve_with_the_cli_and_expiry(
    kafka_settings: Settings, moto_server: MotoServer, tmp_path: Path
) -> None:
    acct = new_account()
    s = _settings(kafka_settings, moto_server, default_mode="approve", approval_ttl_s=3600)
    await ensure_topics(s.kafka)
    ok, late = _bucket(moto_server, acct), _bucket(moto_server, acct)
    cmd_ok = command("s3_block_public_access", f"arn:aws:s3:::{ok}", acct, mode=RemediationMode.APPROVE)
    cmd_late = command(
        "s3_block_public_access",
        f"arn:aws:s3:::{late}",
        acct,
        mode=RemediationMode.APPROVE,
        expires_at="2099-01-01T00:00:00.000Z",
    )
    cfg = tmp_path / "cspm.yaml"
    cfg.write_text(f"kafka: {{bootstrap: '{s.kafka.bootstrap}', topic_prefix: '{s.kafka.topic_prefix}'}}\n")
    handler = build_remediate_handler(s)
    try:
        async with LocalRuntime(s, [handler]) as runtime:
            await _send_cmds(s, [cmd_ok, cmd_late])
            waiting = await _results(s, 2)
            assert {r.status.value for r in waiting} == {"awaiting-approval"}
            assert not _blocked(moto_server, acct, ok)  # waits: nothing done yet
            env = {k: v for k, v in os.environ.items() if not k.startswith("CSPM_")}
            # an approval signed with the wrong key is refused (dead-lettered), nothing happens
            bad = subprocess.run(
                [sys.executable, "-m", "cspm_stream", "-c", str(cfg), "remediation", "approve", cmd_ok.command_id],
                cwd=ROOT,
                env={**env, "CSPM_REMEDIATION_APPROVAL_HMAC_SECRET": "wrong"},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert bad.returncode == 0, bad.stderr
            good = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "cspm_stream",
                    "-c",
                    str(cfg),
                    "remediation",
                    "approve",
                    cmd_ok.command_id,
                    "--approver",
                    "alice",
                ],
                cwd=ROOT,
                env={**env, "CSPM_REMEDIATION_APPROVAL_HMAC_SECRET": SECRET},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert good.returncode == 0, good.stderr
            done = await _results(s, 3)
            approved = [r for r in done if r.status.value == "succeeded"]
            assert len(approved) == 1 and "approved by alice" in approved[0].actor
            letters = [decode(m.value, DeadLetter) for m in await drain(s, "dlq", idle=0.3)]
            assert any("signature" in d.reason for d in letters)
            # the other one never gets an approval: it expires (clock moved past its TTL) at the
            # runtime's next tick; here the tick is run at once
            handler.remediator.clock = lambda: "2099-01-01T00:00:01.000Z"
            await runtime.loop("remediate").step(handler.tick)
            final = await _results(s, 4)
    finally:
        await handler.stop()
    assert [r.status.value for r in final if r.resource_arn.endswith(late)] == ["awaiting-approval", "expired"]
    assert _blocked(moto_server, acct, ok) and not _blocked(moto_server, acct, late)
    dlq = await drain(s, "dlq", idle=0.3)
    assert len(dlq) == 1  # the badly signed approval, with its reason
