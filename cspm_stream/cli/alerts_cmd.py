"""``cspm-stream alerts test --sink NAME``: send one synthetic alert through a configured sink.

How an operator checks a webhook, Slack, Kafka, file or any later sink before relying
on it: the sink is built from the configuration exactly as the daemon builds it, and one
OCSF Detection Finding (informational, ``unmapped.test = true``, rule
``cspm_stream_alert_test``) goes through it — routes are bypassed. Exit 0 only when the
sink accepted it (HTTP 2xx, a broker acknowledgement, a written line); 3 with the reason
(secrets masked) when it did not, 4 when the Kafka sink's topic is missing, 2 for an
unknown sink or a configuration problem. ``--attempts`` retries retriable failures.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from cspm_stream.errors import SinkError, TopicError, UsageError

TEST_RULE = "cspm_stream_alert_test"


def register(sub: Any) -> None:
    p = sub.add_parser("alerts", help="check alert sinks: send one synthetic alert through a configured sink")
    asub = p.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    t = asub.add_parser(
        "test",
        help="send one synthetic alert through --sink; exit 0 only when it was delivered",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    t.add_argument("--sink", required=True, metavar="NAME", help="a key of alerts.sinks")
    t.add_argument("--attempts", type=int, default=1, metavar="N", help="tries for retriable failures (default 1)")
    t.set_defaults(func=_test)


def synthetic_finding(sink: str, now_ms: int) -> dict[str, Any]:
    """An OCSF Detection Finding that says what it is: informational, marked as a test, unique per run."""
    from cspm_stream.models import Severity, ocsf

    uid = ocsf.finding_uid(TEST_RULE, sink, str(now_ms))
    f = ocsf.envelope(
        class_uid=ocsf.DETECTION_FINDING,
        activity_id=ocsf.ACTIVITY_CREATE,
        severity=Severity.INFORMATIONAL,
        time_ms=now_ms,
        uid=uid,
        title="cspm-stream test alert (not a real detection)",
        desc=f"Sent by 'cspm-stream alerts test --sink {sink}' to check that this sink delivers.",
        status_id=1,
        account_id="000000000000",
        region="",
    )
    f["finding_info"]["analytic"] = {"uid": TEST_RULE, "name": "alerts test", "type_id": 1, "type": "Rule"}
    f["unmapped"] = {"rule_id": TEST_RULE, "test": True, "sink": sink}
    return f


def _test(args: argparse.Namespace) -> int:
    from cspm_stream import settings as settings_mod

    s = settings_mod.load(args.config)
    if args.sink not in s.alerts.sinks:
        have = ", ".join(sorted(s.alerts.sinks)) or "none"
        raise UsageError(f"no sink named {args.sink!r} in alerts.sinks (configured: {have})")
    if args.attempts < 1:
        raise UsageError("--attempts must be >= 1")
    where = asyncio.run(_send(s, args.sink, args.attempts))
    print(f"alerts test: delivered one test alert through sink {args.sink} ({where})", file=sys.stderr)
    return 0


async def _send(s: Any, name: str, attempts: int) -> str:
    from cspm_stream.delivery.model import alert_from_bytes
    from cspm_stream.delivery.sinks.factory import build_sink
    from cspm_stream.delivery.sinks.kafka import KafkaSink
    from cspm_stream.models import dumps

    conf = s.alerts.sinks[name]
    sink = build_sink(name, conf)
    alert = alert_from_bytes(dumps(synthetic_finding(name, int(time.time() * 1000))))
    if isinstance(sink, KafkaSink):
        return await _send_kafka(s, sink, alert)
    await sink.start()
    try:
        for attempt in range(1, attempts + 1):
            try:
                await sink.send(alert)
                await sink.flush()
                return f"{conf.type} {conf.path}".rstrip()
            except SinkError as exc:
                if not exc.retriable or attempt == attempts:
                    raise SinkError(f"not delivered through sink {name}: {exc}", retriable=exc.retriable) from None
                await asyncio.sleep(min(conf.backoff_max_s, conf.backoff_s * 2 ** (attempt - 1)))
    finally:
        await sink.stop()
    raise AssertionError("unreachable")  # pragma: no cover


async def _send_kafka(s: Any, sink: Any, alert: Any) -> str:
    from aiokafka.errors import KafkaError

    from cspm_stream.kafka import Producer
    from cspm_stream.topic_admin import admin_client

    emit = sink.render(alert)
    topic = s.kafka.topic(emit.topic)
    admin = await admin_client(s.kafka)
    try:
        exists = topic in set(await admin.list_topics())
    finally:
        await admin.close()
    if not exists:
        raise TopicError(
            f"topic {topic} of sink {sink.name} does not exist: create it with 'cspm-stream topics create'"
        )
    try:
        async with Producer(s.kafka, request_timeout_ms=int(s.kafka.request_timeout_s * 1000)) as producer:
            md = await producer.send(emit)
    except KafkaError as exc:
        raise SinkError(f"not delivered through sink {sink.name}: {type(exc).__name__}: {exc}") from None
    return f"kafka {topic} partition {md.partition} offset {md.offset}"
