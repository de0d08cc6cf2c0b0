"""A stand-in AWS endpoint on 127.0.0.1 (own thread and loop): forwards to moto unless a rule answers.

Used by CLI tests, which call ``main()`` (it runs its own event loop), so the server
cannot live on the test's loop. ``rules`` are ``(predicate(request), status, body)``;
the first whose predicate holds answers instead of moto.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

Rule = tuple[Callable[[web.Request], bool], int, str]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ThreadedServer:
    """An aiohttp server on 127.0.0.1 in its own thread and loop, answering every path with ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.url = ""

    def __enter__(self) -> ThreadedServer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self.handler)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", 0).start()
            self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("stand-in server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@dataclass
class StandIn:
    upstream: str
    rules: list[Rule] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)
    url: str = ""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        for i, (pred, status, text) in enumerate(self.rules):
            if pred(request):
                self.hits[str(i)] = self.hits.get(str(i), 0) + 1
                return web.Response(status=status, text=text, content_type="application/xml")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with (
            aiohttp.ClientSession(auto_decompress=False) as s,
            s.request(
                request.method, self.upstream + request.path_qs, data=body, headers=headers, allow_redirects=False
            ) as resp,
        ):
            data = await resp.read()
            keep = {k: v for k, v in resp.headers.items() if k.lower() not in ("content-length", "transfer-encoding")}
            return web.Response(status=resp.status, body=data, headers=keep)

    def __enter__(self) -> StandIn:
        self._server = ThreadedServer(self._handle).__enter__()
        self.url = self._server.url
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)


def service_of(request: web.Request) -> str:
    """The signing service of a SigV4 request (``Credential=KEY/DATE/REGION/SERVICE/aws4_request``)."""
    auth = request.headers.get("Authorization", "")
    scope = auth.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    return scope[3] if len(scope) >= 5 else ""


def xml_error(code: str, message: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
