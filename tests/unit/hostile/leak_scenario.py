"""One sink failure scenario in a fresh process, every output channel printed (for test_secrets).

``python -m tests.unit.hostile.leak_scenario redirect|echo|500|slow|refused``: configures
the project's logging (JSON on stderr), builds the webhook sink from settings with planted
secrets, delivers one alert through the SinkRunner, then prints the dead letters, the
metric exposition and the settings' repr on stdout.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest

from cspm_stream import settings as settings_mod
from cspm_stream.delivery.model import alert_from_bytes
from cspm_stream.delivery.runner import SinkMetrics, SinkRunner
from cspm_stream.delivery.sinks.factory import build_sink
from cspm_stream.logging import configure
from cspm_stream.models import DeadLetter, dumps
from cspm_stream.testing.findings import compliance_finding, raw

TOKEN_PATH = "/services/T0PLANTED1/B0PLANTED2/xoxbPLANTEDtoken0123456789"
TOKEN_QUERY = "sig=PLANTEDquerysecret42"
HMAC = "hmac-PLANTED-key-0001"
SASL = "sasl-PLANTED-pass-0001"
APPROVAL = "approval-PLANTED-key-01"


def planted_env(url: str) -> dict[str, str]:
    return {
        "HOOK_URL": url + TOKEN_PATH + "?" + TOKEN_QUERY,
        "HOOK_KEY": HMAC,
        "CSPM_KAFKA_SASL_PASSWORD": SASL,
        "CSPM_REMEDIATION_APPROVAL_HMAC_SECRET": APPROVAL,
    }


async def redirect(request: web.Request) -> web.Response:
    # the Location repeats the token: a redirect target must never be quoted whole
    return web.Response(status=307, headers={"Location": f"https://evil.example{request.path_qs}"})


async def echo(request: web.Request) -> web.Response:
    sig = request.headers.get("X-Cspm-Signature", "")
    return web.Response(status=400, text=f"bad {request.method} {request.path_qs} sig={sig} key={HMAC}")


async def error(request: web.Request) -> web.Response:
    return web.Response(status=500, text=f"upstream failed for {request.path_qs}")


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.Response(text="late")


HANDLERS: dict[str, Any] = {"redirect": redirect, "echo": echo, "500": error, "slow": slow, "refused": None}


async def scenario(mode: str) -> None:
    handler = HANDLERS[mode]
    runner = None
    url = "http://127.0.0.1:9"  # nothing listens there: connection refused
    if handler is not None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    env = planted_env(url)
    s = settings_mod.load(
        data={
            "kafka": {"security_protocol": "SASL_PLAINTEXT", "sasl_username": "u"},
            "alerts": {
                "sinks": {
                    "hook": {
                        "type": "webhook",
                        "url_env": "HOOK_URL",
                        "hmac_secret_env": "HOOK_KEY",
                        "timeout_s": 0.5,
                        "max_attempts": 2,
                        "backoff_s": 0.01,
                    }
                },
                "routes": [{"name": "r", "sink": "hook"}],
            },
        },
        environ=env,
    )
    letters: list[DeadLetter] = []

    async def dlq(letter: DeadLetter) -> None:
        letters.append(letter)

    reg = CollectorRegistry()
    sink = build_sink("hook", s.alerts.sinks["hook"], env)
    try:
        async with SinkRunner([sink], s.alerts.sinks, dlq, SinkMetrics(reg)) as sr:
            sr.submit("hook", alert_from_bytes(raw(compliance_finding())), "t.findings")
            await sr.join()
    finally:
        if runner is not None:
            await runner.cleanup()
    for letter in letters:
        print("DLQ:", dumps(letter).decode())
    print(generate_latest(reg).decode())
    print(repr(s))


if __name__ == "__main__":
    configure("DEBUG", "json")
    asyncio.run(scenario(sys.argv[1]))
