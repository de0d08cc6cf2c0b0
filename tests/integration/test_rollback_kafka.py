"""``cspm-stream remediation rollback ID`` on the real broker and moto: from the audit record back to the prior state.

A response (``iam_quarantine_access_key``) really runs on moto through the remediator; its
result goes to ``remediation-results``; the command then finds it there, plans (--dry-run:
nothing changes), restores, publishes its own audit record ``rb-…`` and a rescan, and refuses
a second rollback and an unknown id.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.cli import main
from cspm_stream.kafka import Producer
from cspm_stream.models import RemediationMode, RemediationResult, RemediationStatus, decode
from cspm_stream.remediate.audit import history
from cspm_stream.remediate.engine import Remediator
from cspm_stream.remediate.rollback import rollback_id
from cspm_stream.remediate.session import RemediatorSession
from cspm_stream.settings import Settings
from cspm_stream.testing.moto import MotoServer
from cspm_stream.topic_admin import ensure_topics
from tests.unit.remediate.moto_util import command, new_account, seed_client, uniq

pytestmark = pytest.mark.integration


async def _quarantine(s: Settings, moto: MotoServer, acct: str) -> tuple[RemediationResult, str, str]:
    iam = seed_client(moto, acct, "iam")
    user = uniq("victim")
    iam.create_user(UserName=user)
    keep = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    backdoor = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    cmd = command(
        "iam_quarantine_access_key",
        f"arn:aws:iam::{acct}:user/{user}",
        acct,
        resource_type="aws.iam.user",
        params={"access_key_ids": [backdoor], "playbook": "quarantine_access_key_created_for_another_user"},
    )
    async with RemediatorSession(s.remediation, s.aws) as sess:
        rem = Remediator(s.remediation, sess)
        emits = await rem.on_command(cmd, {})
    (res,) = [decode(e.value, RemediationResult) for e in emits if e.topic == "remediation-results"]
    async with Producer(s.kafka) as p:
        for e in emits:
            await p.send(e)
    return res, user, keep


def test_rollback_from_the_audit_topic(
    kafka_settings: Settings, moto_server: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acct = new_account()
    cfg = tmp_path / "cspm.yaml"
    cfg.write_text(
        f"kafka: {{bootstrap: '{kafka_settings.kafka.bootstrap}', topic_prefix: '{kafka_settings.kafka.topic_prefix}'}}\n"
        f"aws: {{endpoint_url: '{moto_server.endpoint_url}'}}\n"
        "remediation: {default_mode: auto}\n"
    )
    s = settings_mod.load(cfg, environ={})
    asyncio.run(ensure_topics(s.kafka))
    res, user, keep = asyncio.run(_quarantine(s, moto_server, acct))
    assert res.status is RemediationStatus.SUCCEEDED, res.error
    iam = seed_client(moto_server, acct, "iam")

    def status() -> dict[str, str]:
        return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}

    assert sorted(status().values()) == ["Active", "Inactive"] and status()[keep] == "Active"
    capsys.readouterr()

    assert main(["--config", str(cfg), "remediation", "rollback", res.command_id, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"{rollback_id(res.command_id)} (planned)" in out and "iam:update_access_key" in out
    assert sorted(status().values()) == ["Active", "Inactive"]  # a dry run changes nothing

    assert main(["--config", str(cfg), "remediation", "rollback", res.command_id, "--actor", "alice"]) == 0
    assert "(succeeded)" in capsys.readouterr().out
    assert set(status().values()) == {"Active"}

    audit = asyncio.run(history(s.kafka, [res.command_id, rollback_id(res.command_id)]))
    assert [(r.command_id[:3], r.status.value) for r in audit] == [
        ("rc-", "succeeded"),
        ("rb-", "planned"),
        ("rb-", "succeeded"),
    ]
    done = audit[-1]
    assert "alice" in done.actor and done.mode is RemediationMode.AUTO and done.after is not None
    assert done.before is not None and any(k["Status"] == "Inactive" for k in done.before["AccessKeys"])

    assert main(["--config", str(cfg), "remediation", "rollback", res.command_id]) == 2
    assert "already rolled back" in capsys.readouterr().err
    assert main(["--config", str(cfg), "remediation", "rollback", "rc-" + "0" * 32]) == 2
    assert "no result for" in capsys.readouterr().err
    rescans = asyncio.run(_rescans(s))
    assert any(r.get("reason") == f"rollback of {res.command_id}" for r in rescans)


async def _rescans(s: Settings) -> list[dict[str, Any]]:
    import orjson

    from cspm_stream.report.reader import read_latest

    snap = await read_latest(s.kafka, "rescan")
    return [orjson.loads(v) for v in snap.values.values()]
