from __future__ import annotations

import aiohttp
import pytest

from cspm_stream.observability import WebServer, create_metrics
from cspm_stream.settings import WebSettings


async def _get(port: int, path: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}{path}") as r:
        return r.status, await r.text(), r.headers.get("Content-Type", "")


def test_default_bind_is_loopback() -> None:
    assert WebSettings().host == "127.0.0.1"


async def test_endpoints_and_readiness() -> None:
    m = create_metrics()
    m.events_out.labels(topic="cspm.findings").inc(3)
    state = {"ready": False}
    async with WebServer(WebSettings(port=0), m, lambda: state["ready"]) as server:
        assert server.port
        status, body, _ = await _get(server.port, "/healthz")
        assert status == 200 and "ok" in body
        assert (await _get(server.port, "/readyz"))[0] == 503
        state["ready"] = True
        assert (await _get(server.port, "/readyz"))[0] == 200
        status, body, ctype = await _get(server.port, "/metrics")
        assert status == 200 and ctype.startswith("text/plain")
        assert 'cspm_events_out_total{topic="cspm.findings"} 3.0' in body
        assert (await _get(server.port, "/table"))[0] == 404


async def test_async_and_failing_readiness() -> None:
    async def ready() -> bool:
        raise RuntimeError("consumer not assigned")

    async with WebServer(WebSettings(port=0), create_metrics(), ready) as server:
        status, body, _ = await _get(server.port, "/readyz")
        assert status == 503 and "consumer not assigned" in body


async def test_stop_releases_the_port() -> None:
    server = WebServer(WebSettings(port=0), create_metrics(), lambda: True)
    await server.start()
    port = server.port
    await server.stop()
    assert port is not None
    with pytest.raises(aiohttp.ClientConnectorError):
        await _get(port, "/healthz")


async def test_build_web_service_serves_the_context_registry() -> None:
    from cspm_stream import settings as settings_mod
    from cspm_stream.app import role_context
    from cspm_stream.observability.web import build_web_service

    assert build_web_service(role_context(settings_mod.load(data={"web": {"enabled": False}}, environ={}))) is None
    ctx = role_context(settings_mod.load(data={"web": {"port": 0}}, environ={}))
    ctx.metrics.dlq.labels(stage="detect", topic="t").inc()
    svc = build_web_service(ctx)
    assert svc is not None
    await svc.start()
    try:
        assert svc.port
        assert (await _get(svc.port, "/readyz"))[0] == 200  # ready once listening by default
        body = (await _get(svc.port, "/metrics"))[1]
        assert 'cspm_dlq_records_total{stage="detect",topic="t"} 1.0' in body  # the one registry of the process
    finally:
        await svc.stop()


async def test_slow_clients_are_cut_off_and_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slowloris: a client trickling request headers held its connection (and a file descriptor)
    forever, so enough of them starved the process of descriptors. Connections now live at most
    MAX_CONNECTION_S, at most MAX_CONNECTIONS at once (the oldest closed first); /healthz answers."""
    import asyncio

    from cspm_stream.observability import web as webmod

    monkeypatch.setattr(webmod, "SWEEP_S", 0.05, raising=False)
    monkeypatch.setattr(webmod, "MAX_CONNECTION_S", 0.5, raising=False)
    monkeypatch.setattr(webmod, "MAX_CONNECTIONS", 3, raising=False)
    async with WebServer(WebSettings(port=0), create_metrics()) as server:
        assert server.port
        slow = []
        for _ in range(6):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
            await writer.drain()
            slow.append((reader, writer))
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.25)  # past the cap: the three oldest closed, well before the age limit
        assert [await asyncio.wait_for(r.read(), 1) for r, _ in slow[:3]] == [b""] * 3
        assert (await _get(server.port, "/healthz"))[0] == 200
        for reader, writer in slow[3:]:  # the rest once they are too old
            writer.write(b"X-Slow: 1\r\n")
            assert await asyncio.wait_for(reader.read(), 2) == b""
            writer.close()
        for _, writer in slow[:3]:
            writer.close()
