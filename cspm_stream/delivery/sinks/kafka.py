"""Kafka sink for SIEMs: OCSF JSON (or ASFF) on the alerts topic, key = finding uid.

Headers carry class, severity and account so Splunk Connect for Kafka or
Elastic's Kafka input can route without parsing the body. The sink does no I/O:
``send`` buffers :class:`~cspm_stream.stages.base.Emit` records that the alert
handler returns, so they are produced (acks=all) by the runtime with the
handler's offset commit.
"""

from __future__ import annotations

import orjson

from cspm_stream.delivery.asff import to_asff
from cspm_stream.delivery.model import Alert
from cspm_stream.stages.base import Emit, headers_for

ALERTS_TOPIC = "alerts"


def alert_headers(a: Alert, schema: str) -> dict[str, str]:
    return headers_for(
        schema,
        **{
            "class_uid": str(a.class_uid),
            "severity": a.severity.label,
            "account": a.account_id,
            "state": a.state,
        },
    )


class KafkaSink:
    """OCSF JSON to ``topic`` (logical name, default ``alerts``); ``fmt="asff"`` for Security Hub."""

    inline = True

    def __init__(self, name: str, *, topic: str = "", fmt: str = "ocsf") -> None:
        self.name = name
        self.topic = topic or ALERTS_TOPIC
        self.fmt = fmt
        self._pending: list[Emit] = []

    async def start(self) -> None:
        return None

    async def send(self, alert: Alert) -> None:
        self._pending.append(self.render(alert))

    def render(self, alert: Alert) -> Emit:
        if self.fmt == "asff":
            value = orjson.dumps(to_asff(alert))
            return Emit(self.topic, alert.uid, value, alert_headers(alert, "asff.2018-10-08"))
        schema = str(alert.finding.get("schema", ""))
        # the finding's own bytes: SIEMs get exactly what the producer wrote
        return Emit(self.topic, alert.uid, alert.raw, alert_headers(alert, schema))

    def drain(self) -> list[Emit]:
        out, self._pending = self._pending, []
        return out

    async def flush(self) -> None:
        return None

    async def stop(self) -> None:
        self._pending.clear()
