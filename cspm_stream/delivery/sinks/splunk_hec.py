"""Splunk HTTP Event Collector sink: one HEC event per alert, the OCSF finding as the event.

Request shape (``POST <url>``, the HEC event endpoint ``…/services/collector/event``)::

    Authorization: Splunk <token>
    {"time": <finding time, epoch seconds>, "host": "<account id>", "source": "cspm-stream",
     "sourcetype": "ocsf:finding", "index": "<index, when configured>", "event": {…OCSF…}}

The token comes only from the environment (``token_env``) and is masked in every error.
HEC answers 200 ``{"text": "Success", "code": 0}``; a 200 with another code is a
refusal (dead-lettered); 503 (server busy, indexer queue full) and 429 are retried.
"""

from __future__ import annotations

from typing import Any

import orjson

from cspm_stream.delivery.model import Alert
from cspm_stream.delivery.sinks.http import HttpDelivery
from cspm_stream.errors import SinkError

SOURCETYPE = "ocsf:finding"


def hec_event(a: Alert, index: str = "") -> dict[str, Any]:
    """The HEC envelope of one alert."""
    doc: dict[str, Any] = {
        "time": a.time_ms / 1000,
        "host": a.account_id or "cspm-stream",
        "source": "cspm-stream",
        "sourcetype": SOURCETYPE,
        "event": a.finding,
        "fields": {"cspm_state": a.state, "cspm_uid": a.uid},
    }
    if index:
        doc["index"] = index
    return doc


class SplunkHecSink:
    inline = False

    def __init__(self, name: str, url: str, token: str, *, index: str = "", timeout_s: float = 5.0) -> None:
        self.name = name
        self.index = index
        self._auth = f"Splunk {token}"
        self._http = HttpDelivery(name, url, timeout_s, secrets=[token])

    def redact(self, text: str) -> str:
        """``text`` with this sink's URL and token masked."""
        return self._http.redact(text)

    async def start(self) -> None:
        await self._http.start()

    async def send(self, alert: Alert) -> None:
        body = orjson.dumps(hec_event(alert, self.index))
        resp = await self._http.send(body, {"Content-Type": "application/json", "Authorization": self._auth})
        try:
            answer = orjson.loads(resp.body) if resp.body else {}
        except orjson.JSONDecodeError:
            answer = {}
        code = answer.get("code", 0) if isinstance(answer, dict) else 0
        if code not in (0, None):
            text = str(answer.get("text", ""))[:160] if isinstance(answer, dict) else ""
            raise SinkError(
                self.redact(f"sink {self.name}: HEC refused the event: code {code}: {text}"), retriable=False
            )

    async def flush(self) -> None:
        return None

    async def stop(self) -> None:
        await self._http.stop()
