"""The daemon's host: faust's worker around an app that runs no Kafka client, web server or sensor.

What faust would add if its app ran its own clients — a consumer group named after ``app.id``, a
consumer thread, a web server on 0.0.0.0, a terminal spinner on stdout — must not appear; the
stages' own groups do, and SIGTERM ends the worker gracefully (exit 0).
"""

from __future__ import annotations

from pathlib import Path

import faust
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from cspm_stream.daemon import HostApp, Worker, host_app
from cspm_stream.errors import ConfigError
from cspm_stream.kafka import client_options
from cspm_stream.settings import Settings, load
from cspm_stream.topic_admin import ensure_topics
from tests.kafka_util import Daemon, wait_for, write_config

pytestmark = pytest.mark.integration


async def _groups(settings: Settings) -> set[str]:
    admin = AIOKafkaAdminClient(**client_options(settings.kafka))
    await admin.start()
    try:
        return {g[0] for g in await admin.list_consumer_groups()}
    finally:
        await admin.close()


async def test_faust_worker_hosts_the_stages_and_adds_no_client_of_its_own(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    await ensure_topics(kafka_settings.kafka)
    cfg = write_config(kafka_settings, tmp_path / "host.yaml", app={"data_dir": str(tmp_path / "data")})
    daemon = Daemon(["-m", "cspm_stream", "-c", str(cfg), "run", "--role", "alerts"], tmp_path / "host.log").start()
    try:
        daemon.wait_ready(120)
        app_id = kafka_settings.app.id

        async def stage_group() -> set[str] | None:
            groups = await _groups(kafka_settings)
            return groups if f"{app_id}.alerts" in groups else None

        groups = await wait_for(stage_group, 30)
        assert groups and f"{app_id}.alerts" in groups
        assert app_id not in groups  # faust's own consumer group never joined
        assert daemon.proc is not None
        threads = int(
            next(
                line.split()[1]
                for line in Path(f"/proc/{daemon.proc.pid}/status").read_text().splitlines()
                if line.startswith("Threads:")
            )
        )
        assert threads <= 3  # the event loop (+ the producer's executor at most): no faust consumer thread
    finally:
        code = daemon.terminate()
    assert code == 0, daemon.tail()
    out = daemon.log_path.read_bytes()
    assert b"\x1b[" not in out  # no terminal spinner codes among the JSON log lines
    assert (tmp_path / "data" / "faust").is_dir()


def test_an_unwritable_data_dir_fails_in_one_line_before_work(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    s = load(data={"app": {"data_dir": str(blocker)}}, environ={})
    with pytest.raises(ConfigError) as e:
        host_app(s)
    assert "app.data_dir" in str(e.value) and "cannot create" in str(e.value) and "\n" not in str(e.value)


def test_the_host_app_boots_no_kafka_web_or_sensor() -> None:
    app = host_app(load(data={"app": {"data_dir": "/tmp/cspm-host-test"}}, environ={}))
    assert isinstance(app, HostApp)
    assert list(app.boot_strategy.server()) == [app.agents]  # the (empty) agent manager only
    assert issubclass(Worker, faust.Worker)
