"""Run a role of the daemon: check the topics, build the role's stages from one context, run one worker.

The worker is a ``mode`` worker (faust-streaming's service framework: service tree, signals,
logging); its services are the process's producer, the side services, one batch loop per
stage and the web listener (:func:`build_services`).

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
from typing import Any

import mode

from cspm_stream import topic_admin
from cspm_stream.app import build_role, role_context
from cspm_stream.logging import configure, get_logger
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Handler, RoleContext, Service, StageParts

log = get_logger("cspm_stream.daemon")


class Worker(mode.Worker):
    """The process's worker: readiness once every service started; shutdown bounded by a watchdog."""

    def __init__(self, *services: Any, stop_timeout: float, ready: threading.Event | None = None, **kw: Any) -> None:
        super().__init__(*services, **kw)
        self._stop_timeout = stop_timeout
        self._watchdog: threading.Timer | None = None
        self._ready = ready or threading.Event()

    async def on_started(self) -> None:
        """Readiness: every service started (a stage starts once its partitions are assigned and restored)."""
        self._ready.set()
        log.info("ready")
        await super().on_started()

    def _arm(self) -> None:
        if self._watchdog is None:
            log.info("shutdown requested", timeout_s=self._stop_timeout)
            self._watchdog = threading.Timer(self._stop_timeout, self._hard_exit)
            self._watchdog.daemon = True
            self._watchdog.start()

    def _hard_exit(self) -> None:
        log.error("graceful shutdown exceeded its bound; exiting hard", timeout_s=self._stop_timeout)
        os._exit(1)

    def _on_sigterm(self) -> None:
        self._arm()
        super()._on_sigterm()

    def _on_sigint(self) -> None:
        self._arm()
        super()._on_sigint()


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
    each, in one worker with the role's side services.
    """
    configure(settings.app.log_level, settings.app.log_format)
    # topics are created only by 'cspm-stream topics create': a missing or wrong one stops the start
    # (TopicError); a stage creates only its own state changelog (cspm_stream/changelog.py)
    asyncio.run(topic_admin.require(settings.kafka))
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
