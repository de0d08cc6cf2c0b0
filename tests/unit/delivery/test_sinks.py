from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from cspm_stream.delivery.asff import to_asff
from cspm_stream.delivery.model import alert_from_bytes
from cspm_stream.delivery.runner import SinkMetrics, SinkRunner
from cspm_stream.delivery.sinks import FileSink, KafkaSink, SlackSink, WebhookSink
from cspm_stream.delivery.sinks.http import HttpDelivery, Redactor, url_origin
from cspm_stream.delivery.sinks.webhook import sign, verify
from cspm_stream.errors import SinkError
from cspm_stream.models import DeadLetter, Severity
from cspm_stream.settings import SinkSettings
from cspm_stream.testing.findings import compliance_finding, detection_finding, raw
from cspm_stream.testing.receiver import Receiver


class MemoryDlq:
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def __call__(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


def conf(type_: str, **kw: Any) -> SinkSettings:
    kw.setdefault("backoff_s", 0.01)
    return SinkSettings(type=type_, **kw)


def alerts(n: int) -> list[Any]:
    return [alert_from_bytes(raw(compliance_finding(arn=f"arn:aws:s3:::b{i}"))) for i in range(n)]


def test_hmac_sign_and_verify() -> None:
    sig = sign(b"k", b"body")
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert verify(b"k", b"body", sig)
    assert not verify(b"k", b"body2", sig)
    assert not verify(b"other", b"body", sig)
    assert not verify(b"k", b"body", None)


async def test_webhook_delivers_signed_bodies() -> None:
    async with Receiver(secret=b"s3cret") as rx:
        sink = WebhookSink("hook", rx.url, secret=b"s3cret")
        dlq = MemoryDlq()
        async with SinkRunner([sink], {"hook": conf("webhook")}, dlq) as runner:
            for a in alerts(3):
                runner.submit("hook", a)
            await runner.join()
        assert len(rx.bodies) == 3 and rx.signatures_ok == [True, True, True]
        assert {orjson.loads(b)["resources"][0]["uid"] for b in rx.bodies} == {
            "arn:aws:s3:::b0",
            "arn:aws:s3:::b1",
            "arn:aws:s3:::b2",
        }
        assert dlq.letters == []


async def test_failing_webhook_is_retried_then_dead_lettered_while_others_flow(tmp_path: Path) -> None:
    reg = CollectorRegistry()
    async with Receiver(status=500, secret=b"k") as rx:
        hook = WebhookSink("hook", rx.url, secret=b"k")
        out = tmp_path / "alerts.jsonl"
        fsink = FileSink("file", str(out))
        dlq = MemoryDlq()
        runner = SinkRunner(
            [hook, fsink],
            {"hook": conf("webhook", max_attempts=3), "file": conf("file", path=str(out))},
            dlq,
            SinkMetrics(reg),
        )
        async with runner:
            batch = alerts(2)
            for a in batch:
                runner.submit("hook", a, "t.findings")
                runner.submit("file", a, "t.findings")
            await runner.join()
        assert rx.hits == 6  # 3 attempts each, every one signed correctly
        assert all(rx.signatures_ok)
    assert len(dlq.letters) == 2
    for letter in dlq.letters:
        assert letter.stage == "alerts.sink.hook" and "gave up after 3 attempts" in letter.reason
        assert "HTTP 500" in letter.reason and letter.source_topic == "t.findings"
    # deliveries run concurrently: match letters to alerts by key, not by order
    assert {(d.key, d.original()) for d in dlq.letters} == {(a.uid, a.raw) for a in batch}
    assert len(out.read_bytes().splitlines()) == 2
    assert reg.get_sample_value("cspm_alerts_dead_lettered_total", {"sink": "hook"}) == 2
    assert reg.get_sample_value("cspm_alert_sink_retries_total", {"sink": "hook"}) == 4
    assert reg.get_sample_value("cspm_alerts_sent_total", {"sink": "file"}) == 2


async def test_client_error_is_not_retried() -> None:
    async with Receiver(status=404) as rx:
        dlq = MemoryDlq()
        async with SinkRunner([WebhookSink("hook", rx.url)], {"hook": conf("webhook")}, dlq) as runner:
            runner.submit("hook", alerts(1)[0])
            await runner.join()
        assert rx.hits == 1
    assert "permanent failure: HTTP 404" in dlq.letters[0].reason


async def test_unreachable_webhook_is_dead_lettered() -> None:
    dlq = MemoryDlq()
    sink = WebhookSink("hook", "http://127.0.0.1:9/none", timeout_s=1)
    async with SinkRunner([sink], {"hook": conf("webhook", max_attempts=2)}, dlq) as runner:
        runner.submit("hook", alerts(1)[0])
        await runner.join()
    assert len(dlq.letters) == 1 and "gave up after 2 attempts" in dlq.letters[0].reason


async def test_slow_sink_does_not_stall_the_others(tmp_path: Path) -> None:
    async with Receiver(delay_s=0.5) as slow:
        out = tmp_path / "a.jsonl"
        runner = SinkRunner(
            [WebhookSink("slow", slow.url), FileSink("file", str(out))],
            {"slow": conf("webhook"), "file": conf("file", path=str(out))},
            MemoryDlq(),
        )
        async with runner:
            for a in alerts(5):
                runner.submit("slow", a)
                runner.submit("file", a)
            await asyncio.sleep(0.2)
            fsink = runner._lanes["file"].sink
            await fsink.flush()
            # the file sink is done long before the slow webhook got through its first alert
            assert len(out.read_bytes().splitlines()) == 5
            assert len(slow.bodies) == 0
            await runner.join()
        assert len(slow.bodies) == 5


async def test_full_queue_dead_letters_instead_of_blocking() -> None:
    async with Receiver(delay_s=0.3) as rx:
        dlq = MemoryDlq()
        async with SinkRunner(
            [WebhookSink("hook", rx.url)], {"hook": conf("webhook", queue_size=2, concurrency=1)}, dlq
        ) as runner:
            for a in alerts(6):
                runner.submit("hook", a)  # returns at once even though the sink is slow
            await runner.join()
        # the worker took 1, 2 queued, 3 overflowed (at most one more may be taken while submitting)
        assert len(rx.bodies) + len(dlq.letters) == 6
        assert len(dlq.letters) >= 3
        assert all("queue full" in d.reason for d in dlq.letters)


async def test_kafka_sink_emits_with_routing_headers() -> None:
    a = alerts(1)[0]
    sink = KafkaSink("siem")
    await sink.send(a)
    (e,) = sink.drain()
    assert e.topic == "alerts" and e.key == a.uid and e.value == a.raw
    assert e.headers["class_uid"] == "2003" and e.headers["severity"] == "High"
    assert e.headers["account"] == "123456789012" and e.headers["schema"] == "ocsf.compliance_finding.v1"
    assert sink.drain() == []
    asff = KafkaSink("hub", topic="alerts-asff", fmt="asff").render(a)
    doc = orjson.loads(asff.value or b"")
    assert asff.topic == "alerts-asff" and doc["SchemaVersion"] == "2018-10-08"


def test_asff_mapping() -> None:
    a = alert_from_bytes(raw(compliance_finding(severity=Severity.CRITICAL)))
    doc = to_asff(a)
    assert doc["Id"] == a.uid and doc["AwsAccountId"] == "123456789012"
    assert doc["Severity"]["Label"] == "CRITICAL"
    assert doc["Compliance"]["Status"] == "FAILED"
    assert doc["Resources"] == [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::bucket-1", "Region": "us-east-1"}]
    assert doc["Workflow"]["Status"] == "NEW" and doc["RecordState"] == "ACTIVE"
    resolved = to_asff(alert_from_bytes(raw(compliance_finding(state="resolved"))))
    assert resolved["Compliance"]["Status"] == "PASSED" and resolved["RecordState"] == "ARCHIVED"
    det = to_asff(alert_from_bytes(raw(detection_finding())))
    assert det["Types"] == ["TTPs"] and "Compliance" not in det


async def test_slack_message_is_readable() -> None:
    async with Receiver() as rx:
        sink = SlackSink("chat", rx.url)
        async with SinkRunner([sink], {"chat": conf("slack")}, MemoryDlq()) as runner:
            runner.submit("chat", alerts(1)[0])
            runner.submit("chat", alert_from_bytes(raw(detection_finding())))
            await runner.join()
    comp, det = (orjson.loads(b) for b in rx.bodies)
    assert comp["text"].startswith("[High] s3_bucket_public_access_block failed")
    blocks = " ".join(b["text"]["text"] for b in comp["blocks"] if "text" in b)
    assert "arn:aws:s3:::b0" in blocks and "cis-aws-3.0.0" in blocks and "*Fix:*" in blocks
    assert "*Runbook:* rb" in " ".join(b["text"]["text"] for b in det["blocks"] if "text" in b)


async def test_file_sink_writes_json_lines(tmp_path: Path) -> None:
    p = tmp_path / "sub" / "out.jsonl"
    s = FileSink("f", str(p))
    await s.start()
    for a in alerts(3):
        await s.send(a)
    await s.stop()
    lines = p.read_bytes().splitlines()
    assert [orjson.loads(x)["finding_info"]["uid"] for x in lines] == [a.uid for a in alerts(3)]


class Redirector:
    """Answers every POST on /hook/<token> with ``status`` and a Location on a second server that counts hits."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.hits = 0
        self.stolen: list[tuple[str, bytes]] = []  # requests that reached the redirect target
        self.url = ""
        self._runners: list[web.AppRunner] = []

    async def _start(self, app: web.Application) -> int:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runners.append(runner)
        return int(runner.addresses[0][1])

    async def __aenter__(self) -> Redirector:
        async def steal(request: web.Request) -> web.Response:
            self.stolen.append((request.method, await request.read()))
            return web.Response(text="thanks")

        evil = web.Application()
        evil.router.add_route("*", "/steal", steal)
        evil_port = await self._start(evil)

        async def hook(request: web.Request) -> web.Response:
            self.hits += 1
            await request.read()
            return web.Response(status=self.status, headers={"Location": f"http://localhost:{evil_port}/steal"})

        app = web.Application()
        app.router.add_post("/hook/{token}", hook)
        port = await self._start(app)
        self.url = f"http://127.0.0.1:{port}/hook/T0KEN-in-the-path-0123456789?sig=qs-secret-abcdef123"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for r in self._runners:
            await r.cleanup()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirects_are_never_followed_but_retried_and_dead_lettered(status: int) -> None:
    async with Redirector(status) as rx:
        dlq = MemoryDlq()
        reg = CollectorRegistry()
        hook = WebhookSink("hook", rx.url, secret=b"hmac-key-planted-4242")
        async with SinkRunner([hook], {"hook": conf("webhook", max_attempts=2)}, dlq, SinkMetrics(reg)) as runner:
            runner.submit("hook", alerts(1)[0])
            await runner.join()
        assert rx.stolen == []  # neither the signed body (307/308) nor a GET (301/302/303) reached the target
        assert rx.hits == 2  # a redirect is a retriable failure
    (letter,) = dlq.letters
    assert f"HTTP {status} redirect" in letter.reason and "http://localhost:" in letter.reason
    assert "redirects are never followed" in letter.reason and "gave up after 2 attempts" in letter.reason
    assert "T0KEN" not in letter.reason and "qs-secret" not in letter.reason and "/steal" not in letter.reason
    assert reg.get_sample_value("cspm_alerts_sent_total", {"sink": "hook"}) is None


def test_url_origin_shows_no_path_query_or_user_info() -> None:
    assert (
        url_origin("https://user:pw@hooks.example.com:8443/services/T1/B2/tok?x=1#f")
        == "https://hooks.example.com:8443"
    )
    assert url_origin("http://[::1]:9/x") == "http://[::1]:9"
    assert url_origin("http://exa mple.com:99999/") == "<invalid url>"


def test_redactor_masks_url_pieces_and_secrets() -> None:
    r = Redactor(["hmac-secret-value"])
    r.add_url("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX?token=abcdef123456")
    text = r(
        "posted to /services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX; echo XXXXXXXXXXXXXXXXXXXXXXXX abcdef123456 hmac-secret-value"
    )
    assert "XXXXXXXX" not in text and "abcdef123456" not in text and "hmac-secret" not in text
    assert r("a webhook named hook on services") == "a webhook named hook on services"  # ordinary words stay


async def test_error_bodies_echoing_the_token_are_scrubbed() -> None:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(
            status=400, text=f"bad request to {request.path_qs} with {request.headers['X-Cspm-Signature']}"
        )

    app = web.Application()
    app.router.add_post("/{tail:.*}", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        url = f"http://127.0.0.1:{port}/in/the/path/SECRETPATHTOKEN123?key=querysecret99"
        http = HttpDelivery("hook", url, 2, secrets=[b"k" * 8])
        await http.start()
        with pytest.raises(SinkError) as info:
            await http.send(b"{}", {"X-Cspm-Signature": "kkkkkkkk-and-more"})
        await http.stop()
    finally:
        await runner.cleanup()
    msg = str(info.value)
    assert msg.startswith(f"HTTP 400 from sink hook (http://127.0.0.1:{port}): bad request to ***")
    assert "SECRETPATHTOKEN" not in msg and "querysecret" not in msg and "kkkkkkkk" not in msg
    assert info.value.retriable is False


async def test_huge_response_body_is_read_bounded() -> None:
    async def big(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=500)
        await resp.prepare(request)
        for _ in range(64):
            await resp.write(b"x" * 65536)  # 4 MiB: more than we read
        return resp

    app = web.Application()
    app.router.add_post("/", big)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        http = HttpDelivery("big", f"http://127.0.0.1:{runner.addresses[0][1]}/", 5, max_response_bytes=1024)
        await http.start()
        with pytest.raises(SinkError) as info:
            await http.send(b"{}", {})
        await http.stop()
    finally:
        await runner.cleanup()
    assert info.value.retriable and len(str(info.value)) < 300


def test_every_configurable_sink_type_has_a_builder() -> None:
    """The settings' sink types and the factory's registry are one list (a new sink registers in both)."""
    import dataclasses

    from cspm_stream.delivery.sinks.factory import SINK_TYPES

    (field,) = [f for f in dataclasses.fields(SinkSettings) if f.name == "type"]
    assert set(field.metadata["choices"]) == set(SINK_TYPES)


def test_sink_builders_read_secrets_by_variable_name_only() -> None:
    from cspm_stream.delivery.sinks.factory import build_sink
    from cspm_stream.errors import ConfigError

    conf = SinkSettings(type="webhook", url_env="HOOK_URL", hmac_secret_env="HOOK_KEY")
    with pytest.raises(ConfigError) as info:
        build_sink("w", conf, {"HOOK_URL": "https://h.example/T/secret-path-123456789"})
    assert "HOOK_KEY" in str(info.value) and "secret-path" not in str(info.value)
    with pytest.raises(ConfigError) as info:
        build_sink("w", conf, {"HOOK_URL": "ftp://h.example/secret-path-123456789", "HOOK_KEY": "k"})
    assert "http" in str(info.value) and "secret-path" not in str(info.value)
    sink = build_sink("w", conf, {"HOOK_URL": "https://h.example/T/x", "HOOK_KEY": "k"})
    assert isinstance(sink, WebhookSink)
