"""Slack-compatible incoming webhook: a short, readable message per alert."""

from __future__ import annotations

from typing import Any

import orjson

from cspm_stream.delivery.model import Alert
from cspm_stream.delivery.sinks.http import HttpDelivery
from cspm_stream.models import Severity

_ICON = {
    Severity.CRITICAL: ":red_circle:",
    Severity.HIGH: ":large_orange_circle:",
    Severity.MEDIUM: ":large_yellow_circle:",
    Severity.LOW: ":large_blue_circle:",
    Severity.INFORMATIONAL: ":white_circle:",
    Severity.UNKNOWN: ":white_circle:",
}


def who_changed(a: Alert) -> str:
    """``*Changed by:* <principal> from <ip> (<call> at <time>)`` when the finding names the change
    that caused it (``unmapped.changed_by``, else ``last_changed_by``); ``""`` otherwise."""
    c = a.unmapped.get("changed_by") or a.unmapped.get("last_changed_by")
    if not isinstance(c, dict) or not c.get("principal_arn"):
        return ""
    label = "Changed by" if "changed_by" in a.unmapped else "Last changed by"
    ip = f" from {c.get('source_ip')}" if c.get("source_ip") else ""
    return f"*{label}:* `{c['principal_arn']}`{ip} ({c.get('event_name', '')} at {c.get('event_time', '')})"[:400]


def slack_message(a: Alert) -> dict[str, Any]:
    """``{"text", "blocks"}``: a one-line summary plus the key facts."""
    kind = "Compliance" if a.is_compliance else "Detection"
    head = f"{_ICON[a.severity]} *[{a.severity.label}] {a.title or a.control}* ({kind}, {a.state})"
    facts = [f"*Account:* {a.account_id}  *Region:* {a.region or '-'}"]
    if a.resources:
        facts.append(
            "*Resource:* `" + a.resources[0] + "`" + (f" (+{len(a.resources) - 1})" if len(a.resources) > 1 else "")
        )
    facts.append(f"*{'Policy' if a.is_compliance else 'Rule'}:* `{a.control}`")
    who = who_changed(a)
    if who:
        facts.append(who)
    sources = a.unmapped.get("sources")
    if isinstance(sources, list) and sources:
        names = [str(x.get("product", "")) for x in sources[:8] if isinstance(x, dict)]
        facts.append("*Reported by:* " + ", ".join(n for n in names if n))
    if a.frameworks:
        facts.append("*Frameworks:* " + ", ".join(a.frameworks[:6]))
    rem = a.finding.get("remediation")
    if isinstance(rem, dict) and rem.get("desc"):
        facts.append("*Fix:* " + str(rem["desc"])[:300])
    runbook = a.unmapped.get("runbook")
    if runbook:
        facts.append(f"*Runbook:* {runbook}")
    body = "\n".join(facts)
    return {
        "text": f"[{a.severity.label}] {a.title or a.control} — {a.account_id}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": head}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"uid `{a.uid}`"}]},
        ],
    }


class SlackSink:
    inline = False

    def __init__(self, name: str, url: str, *, timeout_s: float = 5.0) -> None:
        self.name = name
        self._http = HttpDelivery(name, url, timeout_s)

    def redact(self, text: str) -> str:
        """``text`` with this sink's URL (which embeds a token) masked."""
        return self._http.redact(text)

    async def start(self) -> None:
        await self._http.start()

    async def send(self, alert: Alert) -> None:
        await self._http.send(orjson.dumps(slack_message(alert)), {"Content-Type": "application/json"})

    async def flush(self) -> None:
        return None

    async def stop(self) -> None:
        await self._http.stop()
