"""Run a role of the daemon: check the topics, build the role's stages from one context, run one worker.

The host is faust-streaming's worker (``faust.Worker``: service tree, signals, logging, start and
stop order) around a ``faust.App`` that runs no Kafka client, web server or sensor of its own
(:class:`HostApp`): the worker's services are the process's producer, the web listener, the side
services and one batch loop per stage (:func:`build_services`), each a ``mode`` service (faust's
service layer). Hosting them in faust's worker rather than a bare ``mode`` worker costs nothing
measurable (``python -m bench.runtime_host``; figures in docs/design.md); faust agents are not
used (their per-event machinery caps a worker at a few thousand records/s).

Shutdown: SIGTERM/SIGINT stop the worker gracefully (each stage settles what it processed —
outputs acknowledged, changelog written, offsets committed — and leaves its group; the
producer stops last). A watchdog thread bounds the whole stop at ``app.shutdown_timeout_s``;
past it the process exits hard with status 1 so an orchestrator never waits on a hung group join.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import faust
import mode
from faust.app import BootStrategy

from cspm_stream import topic_admin
from cspm_stream.app import build_role, role_context
from cspm_stream.errors import ConfigError
from cspm_stream.logging import configure, get_logger
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Handler, RoleContext, Service, StageParts

log = get_logger("cspm_stream.daemon")


class HostBoot(BootStrategy):
    """faust's app starts no Kafka producer or consumer, web server or sensor: the stages' loops,
    the process producer and our own listener (127.0.0.1, no ``/table``) do that work."""

    enable_kafka = False
    enable_web = False
    enable_sensors = False


class HostApp(faust.App):
    """The faust app a worker hosts: no agents, no topics, no tables (``BootStrategy = HostBoot``)."""

    BootStrategy = HostBoot


def host_app(settings: Settings) -> HostApp:
    """The app for ``settings``; its data folder (``<app.data_dir>/faust``, made by faust at start)
    is created here first, so an unwritable ``app.data_dir`` fails in one line before any work."""
    datadir = Path(settings.app.data_dir) / "faust"
    try:
        datadir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError("app.data_dir", settings.app.data_dir, f"cannot create {datadir}: {exc.strerror}") from None
    return HostApp(settings.app.id, web_enabled=False, autodiscover=False, datadir=str(datadir))


class Worker(faust.Worker):
    """The process's worker: readiness once every service started; shutdown bounded by a watchdog."""

    def __init__(
        self,
        app: faust.App,
        *services: Any,
        stop_timeout: float,
        ready: threading.Event | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(app, *services, **kw)
        self.spinner = None  # no terminal spinner: stdout carries JSON log lines
        self._stop_timeout = stop_timeout
        self._watchdog: threading.Timer | None = None
        self._ready = ready or threading.Event()

    async def on_startup_finished(self) -> None:
        """Readiness: every service started (a stage starts once its partitions are assigned and restored)."""
        await super().on_startup_finished()
        self._ready.set()
        log.info("ready")

    async def on_stop(self) -> None:
        """The graceful stop begins (a signal, or a stage that cannot deliver): arm the watchdog."""
        if self._watchdog is None:
            log.info("shutdown requested", timeout_s=self._stop_timeout)
            self._watchdog = threading.Timer(self._stop_timeout, self._hard_exit)
            self._watchdog.daemon = True
            self._watchdog.start()
        await super().on_stop()

    def _hard_exit(self) -> None:
        log.error("graceful shutdown exceeded its bound; exiting hard", timeout_s=self._stop_timeout)
        os._exit(1)


class ServiceAdapter(mode.Service):
    """Run any object with async ``start()``/``stop()`` as a service of the worker."""

    def __init__(self, name: str, obj: Service, **kw: Any) -> None:
        super().__init__(**kw)
        self._name = name
        self._obj = obj

    @property
    def label(self) -> str:
        return f"service:{self._name}"

    @property
    def shortlabel(self) -> str:
        return self.label

    async def on_start(self) -> None:
        await self._obj.start()

    async def on_stop(self) -> None:
        await self._obj.stop()


class _Fatal:
    """A stage that cannot deliver its outputs stops the process with status 1 (restart = resume)."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def __call__(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
            os.kill(os.getpid(), signal.SIGTERM)  # graceful stop of everything else, then exit 1


def build_services(
    ctx: RoleContext,
    role: str,
    parts: Sequence[StageParts],
    *,
    ready: Callable[[], bool],
    on_fatal: _Fatal,
    side: bool = True,
) -> list[mode.Service]:
    """The worker's services in start order (stopped in reverse): the producer, the web listener
    (``/healthz`` answers while the stages start; ``/readyz`` once they all have), the stages' and
    the role's side services, then one :class:`~cspm_stream.batchloop.StageLoop` per stage."""
    from cspm_stream.batchloop import StageLoop
    from cspm_stream.services import role_services, web_service

    out: list[mode.Service] = [ServiceAdapter("producer", ctx.producer)]
    web = web_service(ctx, ready)
    if web is not None:
        out.append(ServiceAdapter("web", web))
    out += [ServiceAdapter(name, svc) for p in parts for name, svc in p.services]
    if side:
        out += [ServiceAdapter(name, svc) for name, svc in role_services(ctx, role)]
    out += [StageLoop(ctx, p.handler, on_fatal=on_fatal) for p in parts]
    return out


def run(
    settings: Settings,
    role: str,
    handlers: Sequence[Handler] | None = None,
    *,
    stages: tuple[str, ...] | None = None,
) -> int:
    """Run ``role`` until SIGTERM/SIGINT. ``stages``: only those of the role's stages, without the
    role's side services (benchmarks); ``handlers``: these handlers instead of the role's stages
    (tests of the runtime itself).

    Every stage runs on the batch loop (:mod:`cspm_stream.batchloop`), one ``mode`` service
    each, in one faust worker with the role's side services.
    """
    configure(settings.app.log_level, settings.app.log_format)
    # topics are created only by 'cspm-stream topics create': a missing or wrong one stops the start
    # (TopicError); a stage creates only its own state changelog (cspm_stream/changelog.py)
    asyncio.run(topic_admin.require(settings.kafka))
    app = host_app(settings)
    ctx = role_context(settings, log=get_logger("cspm_stream"))
    parts = build_role(ctx, role, stages) if handlers is None else [StageParts(h) for h in handlers]
    started = threading.Event()
    fatal = _Fatal()
    services = build_services(ctx, role, parts, ready=started.is_set, on_fatal=fatal, side=stages is None)
    # compiled rules and policies live as long as the process: keep them out of every GC pass;
    # every record allocates dozens of containers freed by reference counting (few cycles), so
    # young collections run every 50,000 allocations instead of 700 (measured: +8% detect throughput)
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)
    log.info("starting", role=role, app_id=settings.app.id, stages=[p.handler.name for p in parts])
    worker = Worker(
        app,
        *services,
        stop_timeout=settings.app.shutdown_timeout_s,
        ready=started,
        loglevel=settings.app.log_level,
        quiet=True,
        redirect_stdouts=False,
        override_logging=False,
    )
    code = 0
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        code = int(exc.code or 0)
    return 1 if fatal.error is not None else code
