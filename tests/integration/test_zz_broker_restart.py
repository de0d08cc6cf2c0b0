"""Broker restart while the daemon runs: it reconnects and catches up (runs last: it restarts the broker)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import orjson
import pytest

from cspm_stream.settings import Settings
from cspm_stream.topic_admin import ensure_topics
from tests.integration.resilience_util import failing_bucket
from tests.integration.test_resilience import _count, _daemon
from tests.kafka_util import ROOT, produce

pytestmark = pytest.mark.integration


def _kafka(action: str) -> None:
    subprocess.run([str(ROOT / "scripts" / "kafka-local"), action], check=True, timeout=180)


@pytest.mark.skipif("CSPM_KAFKA_BOOTSTRAP" in os.environ, reason="an external cluster is not ours to restart")
async def test_daemon_survives_broker_restart(kafka_settings: Settings, tmp_path: Path) -> None:
    await ensure_topics(kafka_settings.kafka)
    daemon = _daemon(kafka_settings, tmp_path, "process", "survivor")
    try:
        await produce(kafka_settings, "inventory", [(b"arn:aws:s3:::before", failing_bucket("before"))])
        await _count(kafka_settings, "findings", 1, timeout=90)
        await asyncio.to_thread(_kafka, "stop")
        try:
            await asyncio.sleep(5)  # the daemon sees the broker gone and keeps retrying
            assert daemon.alive(), daemon.tail()
        finally:
            await asyncio.to_thread(_kafka, "start")  # whatever happens, later tests get their broker back
        await produce(kafka_settings, "inventory", [(b"arn:aws:s3:::after", failing_bucket("after"))])
        findings = await _count(kafka_settings, "findings", 2, timeout=180)
        assert daemon.alive(), daemon.tail()
    finally:
        code = daemon.terminate()
    resources = {orjson.loads(m.value)["resources"][0]["uid"] for m in findings if m.value}
    assert {"arn:aws:s3:::before", "arn:aws:s3:::after"} <= resources
    assert code == 0, daemon.tail()
