from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.delivery.runner import SinkRunner
from cspm_stream.errors import ConfigError, DecodeError
from cspm_stream.models import RemediationCommand, RemediationMode, Severity, decode
from cspm_stream.stages.alerts import AlertRouterHandler, build_handler, build_sinks
from cspm_stream.stages.base import RecordMeta
from cspm_stream.testing.findings import compliance_finding, detection_finding, raw

from .test_sinks import MemoryDlq

META = RecordMeta(topic="findings", partition=0, offset=0)


def load(**data: Any) -> settings_mod.Settings:
    return settings_mod.load(data=data, environ={})


async def test_kafka_only_default_config_routes_to_alerts_topic() -> None:
    h = build_handler(load())
    state: dict[str, Any] = {}
    f = compliance_finding()
    emits = await h.handle(b"k", raw(f), META, state)
    assert [(e.topic, e.key) for e in emits] == [("alerts", f["finding_info"]["uid"])]
    # replays never alert twice
    for _ in range(3):
        assert await h.handle(b"k", raw(f), META, state) == []
    # resolution is a new alert
    res = await h.handle(b"k", raw(compliance_finding(state="resolved", time_ms=f["time"] + 5)), META, state)
    assert [e.topic for e in res] == ["alerts"]


async def test_detections_are_routed_too() -> None:
    h = build_handler(load())
    emits = await h.handle(None, raw(detection_finding()), RecordMeta("detections", 0, 0), {})
    assert emits[0].headers["class_uid"] == "2004" and emits[0].headers["severity"] == "Critical"


async def test_decode_error_propagates_for_the_dlq() -> None:
    h = build_handler(load())
    with pytest.raises(DecodeError):
        await h.handle(None, b"{}", META, {})


async def test_delivery_sinks_are_enqueued_not_awaited(tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    s = load(
        alerts={
            "sinks": {"siem": {"type": "kafka"}, "file": {"type": "file", "path": str(out)}},
            "routes": [
                {"name": "all", "sink": "siem"},
                {"name": "crit", "sink": "file", "min_severity": 5},
            ],
        }
    )
    sinks = build_sinks(s.alerts)
    runner = SinkRunner(sinks, s.alerts.sinks, MemoryDlq())
    h = AlertRouterHandler(s.alerts, s.remediation, sinks, runner)
    async with runner:
        state: dict[str, Any] = {}
        e1 = await h.handle(None, raw(compliance_finding(arn="arn:aws:s3:::a")), META, state)
        e2 = await h.handle(None, raw(detection_finding()), META, state)
        await runner.join()
    assert [e.topic for e in e1 + e2] == ["alerts", "alerts"]
    lines = out.read_bytes().splitlines()
    assert len(lines) == 1 and orjson.loads(lines[0])["class_uid"] == 2004


def test_build_handler_refuses_delivery_sinks_without_runner() -> None:
    s = load(alerts={"sinks": {"f": {"type": "stdout"}}, "routes": [{"name": "r", "sink": "f"}]})
    with pytest.raises(ConfigError):
        build_handler(s)


def test_webhook_secret_env_must_exist() -> None:
    s = load(
        alerts={
            "sinks": {"w": {"type": "webhook", "url": "http://127.0.0.1:1/x", "hmac_secret_env": "HOOK_KEY"}},
            "routes": [{"name": "r", "sink": "w"}],
        }
    )
    with pytest.raises(ConfigError, match="HOOK_KEY"):
        build_sinks(s.alerts, environ={})
    assert build_sinks(s.alerts, environ={"HOOK_KEY": "x"})[0].name == "w"


def _commands(emits: list[Any]) -> list[RemediationCommand]:
    return [decode(e.value, RemediationCommand) for e in emits if e.topic == "remediation"]


async def test_no_remediation_command_by_default() -> None:
    h = build_handler(load())
    assert _commands(await h.handle(None, raw(compliance_finding()), META, {})) == []


async def test_remediation_command_for_new_finding_with_mode() -> None:
    s = load(remediation={"actions": {"s3_block_public_access": "auto"}})
    h = build_handler(s)
    state: dict[str, Any] = {}
    f = compliance_finding(arn="arn:aws:s3:::open-bucket")
    emits = await h.handle(None, raw(f), META, state)
    (cmd,) = _commands(emits)
    assert cmd.mode is RemediationMode.AUTO and cmd.action == "s3_block_public_access"
    assert cmd.resource_arn == "arn:aws:s3:::open-bucket" and cmd.resource_id == "open-bucket"
    assert cmd.resource_type == "aws.s3.bucket" and cmd.finding_uid == f["finding_info"]["uid"]
    key = next(e.key for e in emits if e.topic == "remediation")
    assert key == "arn:aws:s3:::open-bucket"
    # deterministic id: another router instance (restart, fresh state) computes the same command id
    (again,) = _commands(await build_handler(s).handle(None, raw(f), META, {}))
    assert again.command_id == cmd.command_id
    # still failing / resolved / suppressed never command; neither do detections
    for st in ("failing", "resolved", "suppressed", "error"):
        assert _commands(await h.handle(None, raw(compliance_finding(state=st)), META, {})) == []
    assert _commands(await h.handle(None, raw(detection_finding()), META, {})) == []
    assert _commands(await h.handle(None, raw(compliance_finding(action=None)), META, {})) == []


async def test_detection_rule_may_name_an_action_with_params() -> None:
    s = load(remediation={"actions": {"iam_deactivate_access_key": "approve"}})
    h = build_handler(s)
    d = detection_finding(group_key="arn:aws:iam::123456789012:user/alice")
    d["resources"][0]["type"] = "aws.iam.user"
    d["unmapped"]["remediation_action"] = "iam_deactivate_access_key"
    d["unmapped"]["remediation_params"] = {"access_key_id": "AKIAEXAMPLE", "nested": {"x": 1}}
    (cmd,) = _commands(await h.handle(None, raw(d), META, {}))
    assert cmd.action == "iam_deactivate_access_key" and cmd.mode is RemediationMode.APPROVE
    assert cmd.resource_id == "alice" and cmd.resource_type == "aws.iam.user"
    assert cmd.params == {"access_key_id": "AKIAEXAMPLE"}  # only plain values pass
    # a repeat of the detection inside its window (activity update) never commands again
    d["activity_id"] = 2
    d["type_uid"] = 200402
    assert _commands(await h.handle(None, raw(d), META, {})) == []


async def test_account_cap_and_approve_expiry() -> None:
    s = load(
        remediation={
            "default_mode": "auto",
            "accounts": {"123456789012": "approve", "210987654321": "off"},
            "approval_ttl_s": 600,
        }
    )
    h = build_handler(s)
    (cmd,) = _commands(await h.handle(None, raw(compliance_finding()), META, {}))
    assert cmd.mode is RemediationMode.APPROVE
    assert cmd.requested_at == "2026-01-01T00:00:00.000Z" and cmd.expires_at == "2026-01-01T00:10:00.000Z"
    off = compliance_finding(account="210987654321")
    assert _commands(await h.handle(None, raw(off), META, {})) == []


async def test_command_emitted_even_when_no_route_matches() -> None:
    s = load(
        alerts={"routes": [{"name": "siem", "sink": "siem", "min_severity": 5}]},
        remediation={"actions": {"s3_block_public_access": "dry-run"}},
    )
    emits = await build_handler(s).handle(None, raw(compliance_finding()), META, {})
    assert [e.topic for e in emits] == ["remediation"]


def test_slack_url_from_environment() -> None:
    s = load(
        alerts={"sinks": {"chat": {"type": "slack", "url_env": "SLACK_URL"}}, "routes": [{"name": "r", "sink": "chat"}]}
    )
    with pytest.raises(ConfigError, match="SLACK_URL"):
        build_sinks(s.alerts, environ={})
    (sink,) = build_sinks(s.alerts, environ={"SLACK_URL": "https://hooks.slack.example/T/B/x"})
    assert sink.name == "chat"
    with pytest.raises(ConfigError, match="http"):  # refused when the settings load (the daemon's start)
        load(alerts={"sinks": {"w": {"type": "webhook", "url": "ftp://x"}}, "routes": [{"name": "r", "sink": "w"}]})


async def test_state_only_for_checks_something_is_sent_for() -> None:
    """A stream of passing checks leaves the router no state; a failing check that no route sends
    and no remediation takes (low severity under a high-only route) leaves none either."""
    h = build_handler(load(alerts={"routes": [{"name": "siem", "sink": "siem", "min_severity": 4}]}))
    state: dict[str, Any] = {}
    for i in range(50):
        f = compliance_finding(arn=f"arn:aws:s3:::b-{i}", state="passed")
        assert await h.handle(None, raw(f), META, state) == []
    low = compliance_finding(arn="arn:aws:s3:::low", severity=Severity.LOW)
    assert await h.handle(None, raw(low), META, state) == []
    assert state == {}
    # the same records under a config that routes 'passed': each is sent once, so each is traced
    h2 = build_handler(load(alerts={"routes": [{"name": "all", "sink": "siem", "states": ["passed", "new"]}]}))
    f = compliance_finding(state="passed")
    assert len(await h2.handle(None, raw(f), META, state)) == 1
    assert await h2.handle(None, raw(f), META, state) == [] and len(state) == 1


async def test_fail_resolve_fail_with_only_new_routed() -> None:
    """Only 'new' routed: new is alerted; the resolve is sent nowhere but noted on the check's trace;
    failing again is NEW again and alerted (and commanded again); the passing check after it, a day
    later, drops the trace."""
    s = load(
        alerts={"routes": [{"name": "siem", "sink": "siem", "states": ["new"]}]},
        remediation={"actions": {"s3_block_public_access": "dry-run"}},
    )
    h = build_handler(s)
    state: dict[str, Any] = {}
    t = compliance_finding()["time"]
    new = await h.handle(None, raw(compliance_finding(time_ms=t)), META, state)
    assert sorted(e.topic for e in new) == ["alerts", "remediation"]
    assert await h.handle(None, raw(compliance_finding(state="resolved", time_ms=t + 1000)), META, state) == []
    again = await h.handle(None, raw(compliance_finding(time_ms=t + 2000)), META, state)
    assert sorted(e.topic for e in again) == ["alerts", "remediation"]
    assert _commands(again)[0].command_id != _commands(new)[0].command_id  # another occurrence
    # restart: the state restored from its changelog (JSON) and the three records replayed
    restored = orjson.loads(orjson.dumps(state))
    h_restarted = build_handler(s)
    for st, dt_ms in (("new", 0), ("resolved", 1000), ("new", 2000)):
        f = compliance_finding(state=st, time_ms=t + dt_ms)
        assert await h_restarted.handle(None, raw(f), META, restored) == []
    day = 86_400_000
    assert await h.handle(None, raw(compliance_finding(state="resolved", time_ms=t + day + 2000)), META, state) == []
    assert state == {}
