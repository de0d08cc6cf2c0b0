"""Bounded text in detections: what a CloudTrail record can put into a detection is capped (pure).

Every string copied from a record into a detection (evidence fields, the actor, source IP and
user agent, resource ids and types, the group key, event ids, truncated field names) is cut to
``detection.max_text_chars`` characters; a cut string ends with a visible marker saying how much
was dropped (``…[+1048000 chars truncated]``) and still fits the limit. Lists a record can
grow (resources, truncated fields) keep at most :data:`MAX_ITEMS` entries, the rest counted.

:func:`detection_bytes` is the last guard before Kafka: the serialised detection never exceeds
the detections topic's ``max.message.bytes`` (less room for key and headers) — evidences are
resources and field names shortened to :data:`FEW` (counted), then evidences dropped from the end
(counted in ``unmapped.evidence_truncated``), then every string clipped to :data:`LAST_RESORT_CHARS`; nothing raises.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.models.codec import dumps
from cspm_stream.topics import BY_NAME

#: default of ``detection.max_text_chars`` (an IAM ARN is at most 2,048 characters)
MAX_TEXT_CHARS = 2048
#: most resources / truncated field names listed in one detection
MAX_ITEMS = 100
#: what a serialised detection may take: the topic's limit less room for the key and headers
MAX_DETECTION_BYTES = BY_NAME["detections"].max_message_bytes - 64 * 1024
LAST_RESORT_CHARS = 256
#: list entries kept by the last guard (resources, truncated field names)
FEW = 10


def clip(s: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``s`` if it fits ``limit`` characters, else its start and a marker naming how much was cut (≤ ``limit``)."""
    if len(s) <= limit:
        return s
    keep = max(limit - len(f"…[+{len(s)} chars truncated]"), 0)  # len(s) has at least the digits of any cut
    return s[:keep] + f"…[+{len(s) - keep} chars truncated]"


def text(v: Any, limit: int = MAX_TEXT_CHARS) -> str:
    """A record value as bounded text: a string clipped, a number or boolean as its JSON text, anything else ''."""
    if isinstance(v, str):
        return clip(v, limit)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return clip(str(v), limit)
    return ""


def _clip_all(v: Any, limit: int) -> Any:
    if isinstance(v, str):
        return clip(v, limit)
    if isinstance(v, dict):
        return {clip(str(k), limit): _clip_all(x, limit) for k, x in v.items()}
    if isinstance(v, list):
        return [_clip_all(x, limit) for x in v]
    return v


def detection_bytes(f: dict[str, Any], max_bytes: int = MAX_DETECTION_BYTES) -> bytes:
    """The serialised detection, made to fit ``max_bytes`` if it does not (see the module doc)."""
    data = dumps(f)
    if len(data) <= max_bytes:
        return data
    f = dict(f)
    unmapped = dict(f.get("unmapped") or {})
    f["unmapped"] = unmapped
    unmapped["oversize_bytes"] = len(data)
    resources = f.get("resources")
    if isinstance(resources, list) and len(resources) > FEW:
        f["resources"] = resources[:FEW]
        unmapped["resources_truncated"] = int(unmapped.get("resources_truncated") or 0) + len(resources) - FEW
    if isinstance(unmapped.get("truncated_fields"), list):
        unmapped["truncated_fields"] = unmapped["truncated_fields"][:FEW]
    data = dumps(f)
    evidences = list(f.get("evidences") or [])
    ids = list(unmapped.get("event_ids") or [])  # parallel to the evidences
    before = int(unmapped.get("evidence_truncated") or 0)
    dropped = 0
    while len(data) > max_bytes and evidences:
        keep = len(evidences) // 2
        dropped += len(evidences) - keep
        evidences = evidences[:keep]
        f["evidences"] = evidences
        unmapped["event_ids"] = ids[:keep]
        unmapped["evidence_truncated"] = before + dropped
        data = dumps(f)
    if len(data) > max_bytes:
        data = dumps(_clip_all(f, LAST_RESORT_CHARS))
    return data
