"""PagerDuty sink: Events API v2 ``trigger`` and ``resolve`` with ``dedup_key`` = finding uid.

Every state of a finding goes to the same PagerDuty alert: ``new``, ``failing``,
``error`` and a repeated detection (``updated``) **trigger** (PagerDuty folds a repeat
into the open alert), ``resolved``, ``suppressed`` and ``passed`` **resolve** it. The
routing key comes only from the environment (``routing_key_env``) and is masked in every
error; delivery is :class:`~cspm_stream.delivery.sinks.http.HttpDelivery` (no
redirects; 429 and 5xx retried, other 4xx dead-lettered at once).

Request shape (``POST <url>``, default ``https://events.pagerduty.com/v2/enqueue``)::

    {"routing_key": "...", "event_action": "trigger", "dedup_key": "<uid>",
     "payload": {"summary", "source", "severity": critical|error|warning|info,
                 "timestamp", "component", "group", "class", "custom_details"},
     "client": "cspm-stream"}
    {"routing_key": "...", "event_action": "resolve", "dedup_key": "<uid>"}
"""

from __future__ import annotations

from typing import Any

import orjson

from cspm_stream.delivery.model import Alert
from cspm_stream.delivery.sinks.http import HttpDelivery
from cspm_stream.models import FindingStatus, Severity
from cspm_stream.timeutil import ms_to_iso

#: alert states that close the PagerDuty alert
RESOLVING = frozenset({FindingStatus.RESOLVED.value, FindingStatus.SUPPRESSED.value, FindingStatus.PASSED.value})

_SEVERITY = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "info",
    Severity.INFORMATIONAL: "info",
    Severity.UNKNOWN: "info",
}


def event(a: Alert, routing_key: str) -> dict[str, Any]:
    """The Events API v2 body for one alert."""
    if a.state in RESOLVING:
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": a.uid}
    kind = "compliance" if a.is_compliance else "detection"
    details: dict[str, Any] = {
        "uid": a.uid,
        "state": a.state,
        "kind": kind,
        "account": a.account_id,
        "region": a.region,
        "resources": list(a.resources[:10]),
    }
    if a.frameworks:
        details["frameworks"] = list(a.frameworks[:10])
    runbook = a.unmapped.get("runbook")
    if isinstance(runbook, str) and runbook:
        details["runbook"] = runbook[:1000]
    summary = f"[{a.severity.label}] {a.title or a.control} — {a.account_id or '-'} {a.region}".strip()
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": a.uid,
        "payload": {
            "summary": summary[:1024],
            "source": (a.resource_arn or f"aws account {a.account_id}")[:255],
            "severity": _SEVERITY[a.severity],
            "timestamp": ms_to_iso(a.time_ms),
            "component": (a.resource_types[0] if a.resource_types else kind)[:255],
            "group": a.account_id or "-",
            "class": (a.control or kind)[:255],
            "custom_details": details,
        },
        "client": "cspm-stream",
    }


class PagerDutySink:
    inline = False

    def __init__(self, name: str, url: str, routing_key: str, *, timeout_s: float = 5.0) -> None:
        self.name = name
        self._key = routing_key
        self._http = HttpDelivery(name, url, timeout_s, secrets=[routing_key])

    def redact(self, text: str) -> str:
        """``text`` with this sink's URL and routing key masked."""
        return self._http.redact(text)

    async def start(self) -> None:
        await self._http.start()

    async def send(self, alert: Alert) -> None:
        body = orjson.dumps(event(alert, self._key))
        await self._http.send(body, {"Content-Type": "application/json"})

    async def flush(self) -> None:
        return None

    async def stop(self) -> None:
        await self._http.stop()
