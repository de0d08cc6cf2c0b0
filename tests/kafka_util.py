"""Small real-broker helpers for tests (aiokafka; never a mock)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from cspm_stream.kafka import client_options
from cspm_stream.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


async def produce(settings: Settings, topic: str, records: list[tuple[bytes | None, bytes | None]]) -> None:
    p = AIOKafkaProducer(**client_options(settings.kafka), acks="all")
    await p.start()
    try:
        for key, value in records:
            await p.send_and_wait(settings.kafka.topic(topic), value=value, key=key)
    finally:
        await p.stop()


async def _reader(settings: Settings, topic: str) -> AIOKafkaConsumer:
    """A started consumer of ``topic`` from its start, in a group of its own."""
    c = AIOKafkaConsumer(
        settings.kafka.topic(topic),
        **client_options(settings.kafka),
        group_id=f"reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await c.start()
    return c


async def consume(settings: Settings, topic: str, *, count: int, timeout: float = 30.0) -> list[Any]:
    """Read ``count`` records from the start of ``topic`` (fails on timeout with what it got)."""
    c = await _reader(settings, topic)
    got: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(got) < count and time.monotonic() < deadline:
            batch = await c.getmany(timeout_ms=500)
            for msgs in batch.values():
                got.extend(msgs)
    finally:
        await c.stop()
    assert len(got) >= count, f"expected {count} records on {topic}, got {len(got)} in {timeout}s"
    return got


async def first_record(settings: Settings, topic: str, *, timeout: float = 60.0) -> Any:
    """The first record to appear on ``topic``, seen within ~100 ms (no group join: partitions assigned)."""
    c = AIOKafkaConsumer(
        **client_options(settings.kafka), group_id=None, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await c.start()
    try:
        name = settings.kafka.topic(topic)
        c.assign([TopicPartition(name, p) for p in c.partitions_for_topic(name) or range(settings.kafka.partitions)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await c.getmany(timeout_ms=100, max_records=1)
            for msgs in batch.values():
                if msgs:
                    return msgs[0]
        raise TimeoutError(f"nothing on {name} within {timeout} s")
    finally:
        await c.stop()


async def drain(settings: Settings, topic: str, *, idle: float = 3.0, timeout: float = 30.0) -> list[Any]:
    """Every record currently on ``topic``: read until ``idle`` seconds pass with nothing new."""
    c = await _reader(settings, topic)
    got: list[Any] = []
    last = time.monotonic()
    deadline = last + timeout
    try:
        while time.monotonic() - last < idle and time.monotonic() < deadline:
            batch = await c.getmany(timeout_ms=300)
            for msgs in batch.values():
                if msgs:
                    last = time.monotonic()
                got.extend(msgs)
    finally:
        await c.stop()
    return got


def write_config(settings: Settings, path: Path, **overrides: Any) -> Path:
    """A YAML config for a daemon subprocess with the same broker, prefix and app id."""
    data: dict[str, Any] = {
        "app": {
            "id": settings.app.id,
            "data_dir": settings.app.data_dir,
            "log_format": "json",
            "shutdown_timeout_s": 25,
        },
        "kafka": {
            "bootstrap": settings.kafka.bootstrap,
            "topic_prefix": settings.kafka.topic_prefix,
            "partitions": settings.kafka.partitions,
        },
        "web": {"enabled": False},
    }
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    path.write_text(yaml.safe_dump(data))
    return path


class Daemon:
    """A daemon subprocess (``python <script> <config>`` or ``-m cspm_stream``)."""

    def __init__(self, argv: list[str], log_path: Path) -> None:
        self.argv = argv
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Daemon:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CSPM_") or k == "CSPM_KAFKA_BOOTSTRAP"}
        env.pop("CSPM_KAFKA_BOOTSTRAP", None)
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, *self.argv], cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        return self

    def terminate(self, timeout: float = 40.0) -> int:
        """SIGTERM once the daemon is ready (a stop during faust's group join can hang: that is
        what the shutdown watchdog is for, and not what these tests measure)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            try:
                self.wait_ready(60)
            except AssertionError:
                pass
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"daemon did not stop within {timeout}s; log: {self.tail()}") from None
        finally:
            self._log.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self._log.close()

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Block until the daemon logged readiness (partitions assigned, tables recovered)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if '"event":"ready"' in self.log_path.read_text(errors="replace"):
                return
            if not self.alive():
                raise AssertionError(f"daemon exited during startup: {self.tail()}")
            time.sleep(0.2)
        raise AssertionError(f"daemon not ready within {timeout}s: {self.tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


async def wait_for(predicate: Any, timeout: float, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(interval)
    return await predicate()
