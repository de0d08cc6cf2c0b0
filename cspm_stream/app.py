"""The roles of the daemon: which stages a process runs and the context they are built from.

:data:`STAGES` names every stage and its factory (``build_stage(ctx)`` at the bottom of
the stage's module); :data:`ROLE_STAGES` says which stages each role runs (``all`` = every
role). Adding a stage is one factory and one line in each table. Nothing runs at import
time; the daemon (:mod:`cspm_stream.daemon`) makes one :class:`RoleContext` per process,
builds the role's stages with :func:`build_role` and hosts them on the batch loop.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import structlog

from cspm_stream.settings import Settings
from cspm_stream.stages.base import RoleContext, StageParts
from cspm_stream.timeutil import now

if TYPE_CHECKING:
    from cspm_stream.kafka import Producer
    from cspm_stream.observability.metrics import Metrics

__all__ = ["ROLES", "ROLE_STAGES", "RoleContext", "build_role", "role_context", "stage_factories", "stages_for_role"]

StageFactory = Callable[[RoleContext], StageParts]


def stage_factories() -> dict[str, StageFactory]:
    """Every stage and its factory."""
    from cspm_stream.external import stage as external
    from cspm_stream.stages import alerts, context, context_router, detect, ingest, posture, remediate

    return {
        "ingest": ingest.build_stage,
        "posture": posture.build_stage,
        "detect": detect.build_stage,
        "context-router": context_router.build_stage,
        "context": context.build_stage,
        "external": external.build_stage,
        "alerts": alerts.build_stage,
        "remediate": remediate.build_stage,
    }


#: the stages each role runs
ROLE_STAGES: dict[str, tuple[str, ...]] = {
    "ingest": ("ingest",),
    "process": ("posture", "detect", "context-router", "context", "external"),
    "alerts": ("alerts",),
    "remediate": ("remediate",),
}
ROLES = (*ROLE_STAGES, "all")


def stages_for_role(role: str) -> tuple[str, ...]:
    """The stage names ``role`` runs, in role-table order."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (one of: {', '.join(ROLES)})")
    roles = list(ROLE_STAGES) if role == "all" else [role]
    return tuple(name for r in roles for name in ROLE_STAGES[r])


def role_context(
    settings: Settings,
    *,
    metrics: Metrics | None = None,
    producer: Producer | None = None,
    clock: Callable[[], Any] = now,
    environ: Mapping[str, str] | None = None,
    log: Any = None,
) -> RoleContext:
    """The context of one process: a fresh registry and an unstarted producer unless given.

    The daemon's producer batches briefly (2 ms linger, 256 KiB batches): every stage's
    outputs, changelog records and dead letters, and the side services' records, share it.
    """
    from cspm_stream.kafka import Producer
    from cspm_stream.observability.metrics import create_metrics

    return RoleContext(
        settings=settings,
        metrics=metrics if metrics is not None else create_metrics(),
        producer=producer if producer is not None else Producer(settings.kafka, linger_ms=2, max_batch_size=256 * 1024),
        clock=clock,
        log=log if log is not None else structlog.get_logger("cspm_stream"),
        environ=os.environ if environ is None else environ,
    )


def build_role(ctx: RoleContext, role: str, only: tuple[str, ...] | None = None) -> list[StageParts]:
    """Build the stages ``role`` runs (``only``: that subset of them, for tests and benchmarks)."""
    names = stages_for_role(role)
    if only is not None:
        unknown = [n for n in only if n not in names]
        if unknown:
            raise ValueError(f"role {role!r} runs no stage {', '.join(unknown)} (it runs: {', '.join(names)})")
        names = tuple(n for n in names if n in only)
    factories = stage_factories()
    return [factories[name](ctx) for name in names]
