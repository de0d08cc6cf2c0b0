"""Webhook sink: HTTP POST of the OCSF JSON, signed with HMAC-SHA256.

The receiver verifies ``X-Cspm-Signature: sha256=<hex>`` where hex is
HMAC-SHA256(secret, raw request body). ``X-Cspm-Alert-Id`` carries the finding
uid so a receiver can drop the duplicates that at-least-once retries may cause.
"""

from __future__ import annotations

import hashlib
import hmac

import aiohttp

from cspm_stream.delivery.model import Alert
from cspm_stream.errors import SinkError

SIGNATURE_HEADER = "X-Cspm-Signature"


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Constant-time check of a signature header (for receivers and tests)."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


class HttpPoster:
    """Owns one aiohttp session; maps HTTP outcomes to retriable or final SinkErrors."""

    def __init__(self, name: str, url: str, timeout_s: float) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"sink {name}: url must be http(s)")
        self.name = name
        self.url = url
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)

    async def post(self, body: bytes, headers: dict[str, str]) -> None:
        if self._session is None:
            raise SinkError(f"sink {self.name} not started", retriable=False)
        try:
            async with self._session.post(self.url, data=body, headers=headers) as resp:
                if resp.status < 300:
                    await resp.read()
                    return
                text = (await resp.text(errors="replace"))[:200]
                # 408/429 and 5xx may pass later; other 4xx will not
                retriable = resp.status >= 500 or resp.status in (408, 429)
                raise SinkError(f"HTTP {resp.status} from {self.name}: {text}", retriable=retriable)
        except TimeoutError as exc:
            raise SinkError(f"timeout after {self.timeout.total}s posting to {self.name}", retriable=True) from exc
        except aiohttp.ClientError as exc:
            raise SinkError(f"{type(exc).__name__} posting to {self.name}: {exc}", retriable=True) from exc

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class WebhookSink:
    """POST each alert's OCSF JSON; sign it when a secret is configured."""

    inline = False

    def __init__(self, name: str, url: str, *, timeout_s: float = 5.0, secret: bytes = b"") -> None:
        self.name = name
        self._http = HttpPoster(name, url, timeout_s)
        self._secret = secret

    async def start(self) -> None:
        await self._http.start()

    async def send(self, alert: Alert) -> None:
        body = alert.raw
        headers = {"Content-Type": "application/json", "X-Cspm-Alert-Id": alert.uid}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        await self._http.post(body, headers)

    async def flush(self) -> None:
        return None

    async def stop(self) -> None:
        await self._http.stop()
