"""A refused redirect names where it pointed: scheme-relative and backslash forms are other hosts.

``Location: //evil.example/x`` (and the ``/\\evil`` / ``\\\\evil`` spellings browsers accept) send a
client to another host; the error used to call that "the same host".
"""

from __future__ import annotations

import pytest
from aiohttp import web

from cspm_stream.delivery.sinks.http import HttpDelivery
from cspm_stream.errors import SinkError


@pytest.mark.parametrize(
    ("location", "named"),
    [
        ("//evil.example.com/steal?token=x", "to http://evil.example.com refused"),
        ("/\\evil.example.com/steal", "to http://evil.example.com refused"),
        ("\\\\evil.example.com/steal", "to http://evil.example.com refused"),
        ("http://169.254.169.254/latest/meta-data/", "to http://169.254.169.254 refused"),
        ("file:///etc/passwd", "to file://? refused"),
        ("/other/path", "to the same host refused"),
    ],
)
async def test_redirect_error_names_the_real_target(location: str, named: str) -> None:
    async def hook(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=302, headers={"Location": location})

    app = web.Application()
    app.router.add_post("/hook/{token}", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    http = HttpDelivery("hook", f"http://127.0.0.1:{port}/hook/T0KEN-secret-0123456789", 5.0)
    await http.start()
    try:
        with pytest.raises(SinkError) as info:
            await http.send(b"{}", {})
    finally:
        await http.stop()
        await runner.cleanup()
    assert named in str(info.value) and info.value.retriable
    assert "T0KEN" not in str(info.value) and "steal" not in str(info.value)
