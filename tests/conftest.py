"""Shared fixtures: the real Kafka broker, per-test topic prefixes, a moto server."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.settings import Settings
from cspm_stream.testing.moto import MotoServer


def _bootstrap() -> str:
    return os.environ.get("CSPM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """The real broker started by scripts/kafka-local (make test starts it). Never mocked."""
    boot = _bootstrap()
    host, port = boot.split(",")[0].rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            pass
    except OSError as exc:
        pytest.fail(f"Kafka broker not reachable at {boot}: {exc}. Run 'scripts/kafka-local start'.")
    return boot


@pytest.fixture
def topic_prefix() -> str:
    """A fresh topic namespace per test, so tests never see each other's records."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def kafka_settings(kafka_bootstrap: str, topic_prefix: str, tmp_path: object) -> Settings:
    """Settings pointing at the real broker with an isolated prefix, app id and data dir."""
    return settings_mod.load(
        data={
            "app": {"id": f"app-{topic_prefix.rstrip('.')}", "data_dir": str(tmp_path), "log_format": "console"},
            "kafka": {"bootstrap": kafka_bootstrap, "topic_prefix": topic_prefix, "partitions": 3},
            "web": {"enabled": False},
        },
        environ={},
    )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the session; tests that need a clean account call ``reset()``."""
    with MotoServer() as server:
        yield server
