from __future__ import annotations

from pathlib import Path

from cspm_stream import settings as settings_mod
from cspm_stream.stages.alerts import build_alert_handler, build_sink_service
from cspm_stream.stages.remediate import RemediationHandler, build_remediate_handler


def test_daemon_factories_share_one_runner(tmp_path: Path) -> None:
    s = settings_mod.load(
        data={
            "alerts": {
                "sinks": {"siem": {"type": "kafka"}, "f": {"type": "file", "path": str(tmp_path / "a.jsonl")}},
                "routes": [{"name": "a", "sink": "siem"}, {"name": "b", "sink": "f"}],
            }
        },
        environ={},
    )
    handler = build_alert_handler(s)
    service = build_sink_service(s)
    assert service is not None and handler.runner is service.runner
    assert handler.inputs == ("findings", "detections") and handler.name == "alerts"
    assert build_alert_handler(s) is handler  # the same stage for the same settings


def test_kafka_only_config_needs_no_service() -> None:
    s = settings_mod.load(environ={})
    assert build_sink_service(s) is None
    assert build_alert_handler(s).runner is not None


def test_remediate_factory() -> None:
    h = build_remediate_handler(settings_mod.load(environ={}))
    assert isinstance(h, RemediationHandler) and h.inputs == ("remediation", "approvals")
