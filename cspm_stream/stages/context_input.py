"""The context stage's input contract: one record per fact, keyed by AWS account id.

The router (:mod:`cspm_stream.stages.context_router`) turns ``inventory``, ``findings`` and
``scan-status`` records into :class:`ContextInput` values on the ``context`` topic, keyed by
account so every fact about one account reaches the partition that holds its graph. The
context stage (:mod:`cspm_stream.stages.context`) reads only these.

``kind``:

* ``resource`` — a snapshot of a type the context stage uses: ``arn``, ``resource_type``,
  ``attributes`` (the IAM types' attributes, or a relation projection), ``tags``, ``scan_id``;
* ``deleted`` — the resource ``arn`` is gone (a ``ResourceDeleted`` or an inventory tombstone);
* ``finding`` — policy ``policy_id`` on ``arn`` is now ``failing`` (true) or not;
* ``scan`` — a scan job of ``service`` finished (``scan_id``, ``complete``);
* ``tick`` — a timer record (no account), every ``context.tick_s``: accounts of this partition
  whose IAM state changed and settled are analysed now.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

import structlog

from cspm_stream.models.codec import dumps, message
from cspm_stream.stages.base import RoleContext, headers_for

SCHEMA = "context-input.v1"
log = structlog.get_logger("cspm_stream.context")
KINDS = ("resource", "deleted", "finding", "scan", "tick")
ACCOUNT_RE = re.compile(r"[0-9]{12}")


@message(SCHEMA)
@dataclass(slots=True)
class ContextInput:
    kind: str
    account_id: str = ""
    arn: str = ""
    resource_type: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    region: str = ""
    scan_id: str = ""
    policy_id: str = ""
    failing: bool = False
    service: str = ""
    complete: bool = False


class Ticker:
    """Writes a ``tick`` record to every partition of ``context`` every ``interval_s`` seconds (``context.tick_s``).

    Ticks travel as records (not the runtime's timer) so that the work they trigger runs on the
    partition that owns each account: the keys it creates are changelogged where that account's
    state lives, and the analysis may await a worker thread."""

    def __init__(self, ctx: RoleContext, interval_s: float) -> None:
        from cspm_stream.topics import partitions_of

        self._ctx = ctx
        self.interval_s = interval_s
        self._topic = ctx.settings.kafka.topic("context")
        self._partitions = partitions_of(ctx.settings.kafka, "context")
        self._task: asyncio.Task[None] | None = None
        self._value = dumps(ContextInput(kind="tick"))
        self._headers = [(k, v.encode()) for k, v in headers_for(SCHEMA).items()]

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="context-ticker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                producer = self._ctx.producer.raw
                for p in range(self._partitions):
                    await producer.send(self._topic, self._value, key=None, partition=p, headers=self._headers)
            except Exception as exc:  # a missed tick is retried at the next one
                log.warning("context tick not sent", error=f"{type(exc).__name__}: {exc}")
