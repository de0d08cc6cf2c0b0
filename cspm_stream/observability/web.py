"""``/metrics``, ``/healthz`` and ``/readyz`` on an aiohttp server (127.0.0.1 by default).

* ``/healthz`` — liveness: 200 while the event loop answers.
* ``/readyz`` — readiness: 200 when the ``ready`` callable (plain or async)
  returns true, 503 otherwise or if it raises (the reason is in the body).
* ``/metrics`` — the Prometheus exposition of the process's registry.

Nothing else is served (no table contents, no debug pages).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from cspm_stream.observability.metrics import Metrics
from cspm_stream.settings import WebSettings
from cspm_stream.stages.base import RoleContext

ReadyCheck = Callable[[], bool | Awaitable[bool]]

#: a connection is closed this long after it opened: a client trickling a request's headers
#: (slowloris) held one forever, and each holds a file descriptor the Kafka clients need too
MAX_CONNECTION_S = 30.0
#: most connections held at once; past it the oldest are closed
MAX_CONNECTIONS = 256
#: how often connections are looked over
SWEEP_S = 1.0


class WebServer:
    """The health and metrics listener. ``start()``/``stop()`` or ``async with``."""

    def __init__(self, web_settings: WebSettings, metrics: Metrics, ready: ReadyCheck | None = None) -> None:
        self._settings = web_settings
        self._metrics = metrics
        self._ready: ReadyCheck = ready if ready is not None else (lambda: self._runner is not None)
        self._runner: web.AppRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self.port: int | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics_view)
        return app

    async def start(self) -> None:
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self._settings.host, self._settings.port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._sweeper = asyncio.create_task(self._sweep(runner), name="web-connection-sweeper")
        addresses = runner.addresses  # the bound sockets: the real port when port 0 was asked
        self.port = int(addresses[0][1]) if addresses else self._settings.port

    async def _sweep(self, runner: web.AppRunner) -> None:
        """Close connections older than :data:`MAX_CONNECTION_S`, and the oldest past :data:`MAX_CONNECTIONS`."""
        loop = asyncio.get_running_loop()
        opened: dict[Any, float] = {}  # the live handlers only: rebuilt on every sweep
        while True:
            await asyncio.sleep(SWEEP_S)
            server = runner.server
            handlers = list(server.connections) if server is not None else []
            now = loop.time()
            opened = {h: opened.get(h, now) for h in handlers}
            by_age = sorted(handlers, key=opened.__getitem__)
            excess = len(by_age) - MAX_CONNECTIONS
            for i, h in enumerate(by_age):
                if i < excess or now - opened[h] >= MAX_CONNECTION_S:
                    transport = h.transport
                    if transport is not None:
                        transport.close()

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> WebServer:
        await self.start()
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, request: web.Request) -> web.Response:
        try:
            result = self._ready()
            ready = bool(await result) if inspect.isawaitable(result) else bool(result)
        except Exception as exc:  # a failing readiness check means "not ready", with the reason shown
            return web.json_response({"ready": False, "reason": f"{type(exc).__name__}: {exc}"}, status=503)
        return web.json_response({"ready": ready}, status=200 if ready else 503)

    async def _metrics_view(self, request: web.Request) -> web.Response:
        body = self._metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def build_web_service(ctx: RoleContext, ready: ReadyCheck | None = None) -> WebServer | None:
    """The daemon's listener (``cspm_stream.services``) serving the context's one registry;
    None when ``web.enabled`` is false. Without ``ready`` it is ready once listening."""
    if not ctx.settings.web.enabled:
        return None
    return WebServer(ctx.settings.web, ctx.metrics, ready)
