"""Stage factories: built from one RoleContext, sharing what the context holds (no lookups, no caches)."""

from __future__ import annotations

from pathlib import Path

from cspm_stream import settings as settings_mod
from cspm_stream.app import role_context
from cspm_stream.stages import alerts, remediate
from cspm_stream.stages.alerts import AlertStage
from cspm_stream.stages.remediate import RemediationHandler


def test_alerts_stage_shares_one_runner_with_its_sink_service(tmp_path: Path) -> None:
    s = settings_mod.load(
        data={
            "alerts": {
                "sinks": {"siem": {"type": "kafka"}, "f": {"type": "file", "path": str(tmp_path / "a.jsonl")}},
                "routes": [{"name": "a", "sink": "siem"}, {"name": "b", "sink": "f"}],
            }
        },
        environ={},
    )
    ctx = role_context(s, environ={})
    parts = alerts.build_stage(ctx)
    ((name, service),) = parts.services
    assert name == "sinks" and isinstance(service, AlertStage)
    handler = parts.handler
    assert isinstance(handler, alerts.AlertRouterHandler) and handler.runner is service.runner
    assert handler.inputs == ("findings", "detections") and handler.name == "alerts"
    # the sink metrics live in the context's registry (the one /metrics serves)
    service.runner.metrics.sent.labels("f").inc()
    assert b'cspm_alerts_sent_total{sink="f"} 1.0' in ctx.metrics.exposition()
    # a second build makes a second stage: nothing is cached behind the caller's back
    assert alerts.build_stage(role_context(s, environ={})).handler is not handler


def test_kafka_only_config_needs_no_service() -> None:
    parts = alerts.build_stage(role_context(settings_mod.load(environ={}), environ={}))
    assert parts.services == ()
    assert isinstance(parts.handler, alerts.AlertRouterHandler) and parts.handler.runner is not None


def test_remediate_factory() -> None:
    h = remediate.build_stage(role_context(settings_mod.load(environ={}), environ={})).handler
    assert isinstance(h, RemediationHandler) and h.inputs == ("remediation", "approvals")
