"""Webhook sink: HTTP POST of the OCSF JSON, signed with HMAC-SHA256.

The receiver verifies ``X-Cspm-Signature: sha256=<hex>`` where hex is
HMAC-SHA256(secret, raw request body). ``X-Cspm-Alert-Id`` carries the finding
uid so a receiver can drop the duplicates that at-least-once retries may cause.
Delivery (no redirects, scrubbed errors) is :class:`~cspm_stream.delivery.sinks.http.HttpDelivery`.
"""

from __future__ import annotations

import hashlib
import hmac

from cspm_stream.delivery.model import Alert
from cspm_stream.delivery.sinks.http import HttpDelivery

SIGNATURE_HEADER = "X-Cspm-Signature"


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Constant-time check of a signature header (for receivers and tests)."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


class WebhookSink:
    """POST each alert's OCSF JSON; sign it when a secret is configured."""

    inline = False

    def __init__(self, name: str, url: str, *, timeout_s: float = 5.0, secret: bytes = b"") -> None:
        self.name = name
        self._http = HttpDelivery(name, url, timeout_s, secrets=[secret] if secret else [])
        self._secret = secret

    def redact(self, text: str) -> str:
        """``text`` with this sink's URL and secret masked."""
        return self._http.redact(text)

    async def start(self) -> None:
        await self._http.start()

    async def send(self, alert: Alert) -> None:
        body = alert.raw
        headers = {"Content-Type": "application/json", "X-Cspm-Alert-Id": alert.uid}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        await self._http.send(body, headers)

    async def flush(self) -> None:
        return None

    async def stop(self) -> None:
        await self._http.stop()
