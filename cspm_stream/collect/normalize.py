"""Make AWS responses plain JSON: datetimes → ISO 8601, bytes dropped, policy strings parsed."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from typing import Any

from cspm_stream.timeutil import iso


def plain(value: Any) -> Any:
    """Recursively convert a botocore response into JSON-able plain data."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return iso(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    if hasattr(value, "read"):  # streaming body: never kept
        return None
    return value


def parse_policy(doc: Any) -> Any:
    """A policy document as a dict, whether JSON text, URL-encoded JSON or already parsed.

    Text that is not JSON is returned unchanged (so a policy can still see it).
    """
    if doc is None or isinstance(doc, dict | list):
        return doc
    if not isinstance(doc, str):
        return doc
    text = doc.strip()
    if text.startswith("%7B") or text.startswith("%7b"):
        text = urllib.parse.unquote(text)
    try:
        return json.loads(text)
    except ValueError:
        try:
            return json.loads(urllib.parse.unquote(text))
        except ValueError:
            return doc
