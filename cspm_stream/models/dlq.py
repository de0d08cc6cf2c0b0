"""Dead-letter records: the error and the original bytes, losing nothing."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import ClassVar

from cspm_stream.models.codec import message


@message("dlq.v1")
@dataclass(slots=True)
class DeadLetter:
    """A message some stage could not process. ``original_b64`` is the exact input.

    Dead letters may be large (base64 of an oversize input): the DLQ topic allows
    ``MAX_BYTES`` per record, more than any input topic, so nothing is cut.
    """

    MAX_BYTES: ClassVar[int] = 24 * 1024 * 1024

    stage: str
    reason: str
    error_type: str
    at: str
    original_b64: str
    original_size: int
    source_topic: str = ""
    partition: int = -1
    offset: int = -1
    key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        stage: str,
        reason: str,
        error_type: str,
        at: str,
        original: bytes | None,
        source_topic: str = "",
        partition: int = -1,
        offset: int = -1,
        key: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> DeadLetter:
        raw = original or b""
        if isinstance(key, bytes):
            try:
                key_s: str | None = key.decode("utf-8")
            except UnicodeDecodeError:
                key_s = "b64:" + base64.b64encode(key).decode()
        else:
            key_s = key
        return cls(
            stage=stage,
            reason=reason[:2000],
            error_type=error_type,
            at=at,
            original_b64=base64.b64encode(raw).decode("ascii"),
            original_size=len(raw),
            source_topic=source_topic,
            partition=partition,
            offset=offset,
            key=key_s,
            headers=headers or {},
        )

    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)
