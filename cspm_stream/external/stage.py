"""Factories: the ``external`` stage (role ``process``) and the external sources (role ``ingest``).

With no external source configured (``external.*`` all off) the stage still runs but joins
nothing: no rule is mapped, so our detections are not re-keyed.
"""

from __future__ import annotations

from cspm_stream.external.mapping import Equivalents
from cspm_stream.external.threats import ExternalHandler, ThreatJoin
from cspm_stream.stages.base import RoleContext, Service, StageParts


def build_stage(ctx: RoleContext) -> StageParts:
    """Daemon factory (role ``process``): the threat join on the context's clock."""
    from cspm_stream.external.service import equivalents_from_settings

    ext = ctx.settings.external
    eq = equivalents_from_settings(ctx.settings, with_controls=False) if ext.enabled else Equivalents()
    join = ThreatJoin(eq, window_s=ext.join_window_s, hold_s=ext.hold_s, retention_s=ext.retention_s)
    return StageParts(ExternalHandler(join, clock=ctx.time))


def sources_service(ctx: RoleContext) -> Service | None:
    """The pollers and event sources of role ``ingest``, or None when none is configured."""
    if not ctx.settings.external.enabled:
        return None
    from cspm_stream.external.service import ExternalSources

    return ExternalSources(ctx.settings, ctx.producer, metrics=ctx.metrics)
