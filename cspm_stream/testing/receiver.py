"""A local aiohttp webhook receiver on 127.0.0.1 for sink tests (verifies the HMAC)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from cspm_stream.delivery.sinks.webhook import SIGNATURE_HEADER, verify


@dataclass
class Receiver:
    secret: bytes = b""
    status: int = 200
    delay_s: float = 0.0
    bodies: list[bytes] = field(default_factory=list)
    signatures_ok: list[bool] = field(default_factory=list)
    hits: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        body = await request.read()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.secret:
            self.signatures_ok.append(verify(self.secret, body, request.headers.get(SIGNATURE_HEADER)))
        if self.status >= 300:
            return web.Response(status=self.status, text="boom")
        self.bodies.append(body)
        return web.Response(status=self.status, text="ok")

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
