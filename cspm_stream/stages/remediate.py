"""Remediation stage: commands (``remediation``) and approvals (``approvals``) → results.

Decodes either input by its ``schema`` (DecodeError → DLQ by the runtime, and that is
also what happens to an unsigned or badly signed approval), then lets the
:class:`~cspm_stream.remediate.engine.Remediator` decide and act with the
remediator's OWN AWS session (:class:`~cspm_stream.remediate.session.RemediatorSession`,
never the reader's). Emits RemediationResults on ``remediation-results``,
RescanRequests on ``rescan`` and, when the blast-radius cap pauses an account, a
detection finding on ``detections``.

Wiring (``run --role remediate``, ONE worker)::

    parts = build_stage(ctx)          # the handler, on its own RemediatorSession
    ... the runtime drives parts.handler.handle() on remediation and approvals, calls
    ... parts.handler.tick() every tick_interval_s (the sweep: expiries), and
    ... parts.handler.stop() (closes the AWS clients) after its last record
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from cspm_stream.errors import DecodeError
from cspm_stream.models import Approval, RemediationCommand, decode_any
from cspm_stream.remediate.engine import ClientsProvider, Remediator
from cspm_stream.remediate.session import RemediatorSession
from cspm_stream.settings import RemediationSettings, Settings
from cspm_stream.stages.base import Emit, RecordMeta, RoleContext, StageParts
from cspm_stream.timeutil import iso, now_iso, to_ms


class RemediationHandler:
    name = "remediate"
    inputs: tuple[str, ...] = ("remediation", "approvals")
    #: the runtime calls :meth:`tick` this often: unapproved commands expire without traffic too
    tick_interval_s = 30.0
    #: each command is AWS calls: commit every few (one partition, so they stay in order)
    max_batch = 8

    def __init__(
        self, conf: RemediationSettings, provider: ClientsProvider, *, clock: Callable[[], str] = now_iso
    ) -> None:
        self.remediator = Remediator(conf, provider, clock=clock)

    async def handle(
        self, key: bytes | None, value: bytes | None, meta: RecordMeta, state: MutableMapping[str, Any]
    ) -> list[Emit]:
        msg = decode_any(value, (RemediationCommand, Approval))
        if isinstance(msg, RemediationCommand) and msg.expires_at:
            try:  # compared with the clock before anything runs: 'tomorrow' raised a bare ValueError
                to_ms(msg.expires_at)
            except (ValueError, OverflowError):
                raise DecodeError(f"expires_at {msg.expires_at[:40]!r} is not an ISO 8601 time") from None
        # expiries ride on traffic too, so they happen even where no timer calls sweep()
        expired = self.remediator.sweep(state)
        if isinstance(msg, Approval):
            return expired + await self.remediator.on_approval(msg, state)
        return expired + await self.remediator.on_command(msg, state)

    async def stop(self) -> None:
        """Close the remediator's AWS clients (if its provider owns any)."""
        stop = getattr(self.remediator.provider, "stop", None)
        if stop is not None:
            await stop()

    def sweep(self, state: MutableMapping[str, Any]) -> list[Emit]:
        """Expire commands still waiting for an approval past their TTL."""
        return self.remediator.sweep(state)

    def tick(self, state: MutableMapping[str, Any]) -> list[Emit]:
        """The runtime's timer (every ``tick_interval_s``): the sweep."""
        return self.sweep(state)


def build_remediation_stage(settings: Settings) -> tuple[RemediationHandler, RemediatorSession]:
    """Handler plus its (not started) AWS session: ``async with session:`` around the runtime."""
    session = RemediatorSession(settings.remediation, settings.aws)
    return RemediationHandler(settings.remediation, session), session


def build_remediate_handler(settings: Settings) -> RemediationHandler:
    """The handler with its own AWS session (started lazily on first use; closed by ``handler.stop()``)."""
    return RemediationHandler(settings.remediation, RemediatorSession(settings.remediation, settings.aws))


def build_stage(ctx: RoleContext) -> StageParts:
    """Daemon factory (role ``remediate``): the remediator on its OWN AWS session, the context's clock."""
    from cspm_stream.observability.aws_calls import aws_call_hooks

    session = RemediatorSession(ctx.settings.remediation, ctx.settings.aws, event_hooks=aws_call_hooks(ctx.metrics))
    return StageParts(RemediationHandler(ctx.settings.remediation, session, clock=lambda: iso(ctx.clock())))
