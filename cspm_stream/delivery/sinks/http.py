"""The one HTTP delivery path of every HTTP sink (webhook, Slack, and later ones).

Rules it enforces, so a sink cannot forget them:

- **Redirects are never followed.** A 3xx is a failed delivery (retriable, so the
  runner retries and then dead-letters it): following a 307 would re-post a signed
  body to another origin, and a 302 turns the POST into a GET that looks delivered.
  The error names the status, the target host and the ``Location`` host only.
- **No secret in any message.** Errors name ``scheme://host[:port]`` — never the
  path or query, which carry tokens (Slack URLs embed one) — and every text that
  leaves this module (error messages, response excerpts) is scrubbed of the URL, its
  path and query, and every secret the sink registered (HMAC key, header tokens).
- **Bounded.** A response body is read up to ``max_response_bytes``; only a short,
  printable excerpt of it ever reaches an error message.

Outcomes map to :class:`~cspm_stream.errors.SinkError`: 2xx delivered; 3xx, 408,
429, 5xx, timeouts and connection errors retriable; other 4xx permanent.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import aiohttp

from cspm_stream.errors import SinkError

#: bytes of a response body read at most (a receiver cannot make us buffer more)
MAX_RESPONSE_BYTES = 64 * 1024
#: characters of a response body quoted in an error message
EXCERPT_CHARS = 160
_MASK = "***"
#: what an appended request path may hold: API path segments and a query, nothing that changes the origin
_SAFE_PATH = re.compile(r"/[A-Za-z0-9/_.\-~%]*(\?[A-Za-z0-9_.\-~%=&+,:]*)?")


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: what may be shown of a sink URL (no user info, path or query)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = parts.port
    except ValueError:
        return "<invalid url>"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _redirect_target(location: str, url: str) -> str:
    """Where a ``Location`` points, as ``scheme://host[:port]`` ('//host/x' is another host: scheme-relative)."""
    location = location.strip()
    if location.startswith(("//", "\\\\", "/\\", "\\/")):  # browsers read backslashes as slashes
        return url_origin(urlsplit(url).scheme + "://" + location.replace("\\", "/").lstrip("/"))
    return url_origin(location) if "://" in location else "the same host"


class Redactor:
    """Replaces every registered secret string (and the parts of a URL that may carry one) with ``***``."""

    def __init__(self, secrets: Iterable[str | bytes] = ()) -> None:
        self._secrets: set[str] = set()
        for s in secrets:
            self.add(s)

    def add(self, secret: str | bytes) -> None:
        text = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
        if len(text) >= 4:  # shorter strings would mask ordinary words; such a secret is not one
            self._secrets.add(text)

    def add_url(self, url: str) -> None:
        """Register the whole URL, its path, query, fragment and user info (any of them may be a token)."""
        self.add(url)
        try:
            parts = urlsplit(url)
        except ValueError:
            return
        for piece in (parts.path, parts.query, parts.fragment, parts.username or "", parts.password or ""):
            if piece not in ("", "/"):
                self.add(piece)
        # a token-looking path segment or query value alone (Slack: /services/T…/B…/<token>)
        pieces = parts.path.split("/") + [v for _, v in parse_qsl(parts.query, keep_blank_values=True)]
        for piece in pieces:
            if len(piece) >= 20 or (len(piece) >= 8 and any(c.isdigit() for c in piece)):
                self.add(piece)

    def __call__(self, text: str) -> str:
        # longest first, so a secret containing another is masked whole
        for s in sorted(self._secrets, key=len, reverse=True):
            if s in text:
                text = text.replace(s, _MASK)
        return text


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A delivered request's status and (bounded) body, for sinks that read an answer."""

    status: int
    body: bytes
    headers: Mapping[str, str]


def _excerpt(body: bytes) -> str:
    text = body[: EXCERPT_CHARS * 4].decode("utf-8", "replace")
    text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(text.split())[:EXCERPT_CHARS]


class HttpDelivery:
    """One aiohttp session per sink; ``send`` returns the response of a 2xx or raises a scrubbed SinkError.

    ``secrets`` are the strings that must never appear in a message: the URL is always
    added; pass the HMAC key, tokens of ``Authorization`` headers, and so on.
    """

    def __init__(
        self,
        name: str,
        url: str,
        timeout_s: float,
        *,
        secrets: Iterable[str | bytes] = (),
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"sink {name}: url must be http(s)")
        self.name = name
        self.url = url
        self.target = url_origin(url)
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.max_response_bytes = max_response_bytes
        self.redact = Redactor(secrets)
        self.redact.add_url(url)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            # trust_env=False: no proxy or .netrc picked up from the environment
            self._session = aiohttp.ClientSession(timeout=self.timeout, trust_env=False)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _error(self, message: str, *, retriable: bool) -> SinkError:
        return SinkError(self.redact(message), retriable=retriable)

    async def send(
        self,
        body: bytes,
        headers: Mapping[str, str],
        *,
        method: str = "POST",
        path: str = "",
        accept: Collection[int] = (),
    ) -> HttpResponse:
        """Make one request; 2xx → the response, anything else → SinkError (never follows a redirect).

        ``path`` (an API path such as ``/rest/api/2/issue``) is appended to the configured URL:
        a request can only go below the sink's own URL, never to another origin. Statuses in
        ``accept`` (e.g. 404 for "not found") are returned like a 2xx instead of raising.
        """
        if self._session is None:
            raise SinkError(f"sink {self.name} not started", retriable=False)
        url = self.url
        if path:
            if not _SAFE_PATH.fullmatch(path) or ".." in path or "//" in path:
                raise SinkError(f"sink {self.name}: refused request path (not a plain API path)", retriable=False)
            url = self.url.rstrip("/") + path
        where = f"sink {self.name} ({self.target})"
        try:
            async with self._session.request(
                method, url, data=body, headers=dict(headers), allow_redirects=False
            ) as resp:
                data = await resp.content.read(self.max_response_bytes)
                status = resp.status
                if 200 <= status < 300 or status in accept:
                    return HttpResponse(status, data, dict(resp.headers))
                if 300 <= status < 400:
                    to = _redirect_target(resp.headers.get("Location", ""), url)
                    raise self._error(
                        f"HTTP {status} redirect from {where} to {to} refused: redirects are never followed",
                        retriable=True,
                    )
                # 408/429 and 5xx may pass later; other 4xx will not
                retriable = status >= 500 or status in (408, 429)
                raise self._error(f"HTTP {status} from {where}: {_excerpt(data)}", retriable=retriable)
        except TimeoutError:
            raise self._error(f"timeout after {self.timeout.total}s sending to {where}", retriable=True) from None
        except aiohttp.ClientError as exc:
            # aiohttp messages may quote the URL: keep only the class and the scrubbed text
            raise self._error(f"{type(exc).__name__} sending to {where}: {exc}", retriable=True) from None
