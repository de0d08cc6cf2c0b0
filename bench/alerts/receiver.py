"""A webhook receiver for the benchmark, in its own process (so it does not share the
router's event loop): POST /hook verifies the HMAC and counts; GET /count answers the count.
Prints its port on stdout, then serves on 127.0.0.1 until killed."""

from __future__ import annotations

import asyncio
import os
import sys

from aiohttp import web

from cspm_stream.delivery.sinks.webhook import SIGNATURE_HEADER, verify


async def main() -> None:
    secret = os.environ.get("BENCH_HOOK_KEY", "").encode()
    counts = {"ok": 0, "bad_signature": 0}

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        if verify(secret, body, request.headers.get(SIGNATURE_HEADER)):
            counts["ok"] += 1
            return web.Response(text="ok")
        counts["bad_signature"] += 1
        return web.Response(status=401, text="bad signature")

    async def count(_: web.Request) -> web.Response:
        return web.json_response(counts)

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/count", count)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    sys.stdout.write(f"{runner.addresses[0][1]}\n")
    sys.stdout.flush()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
