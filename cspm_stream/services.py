"""Side services of a role that belong to no single stage (objects with async start()/stop()).

| role      | services                                                              |
|-----------|-----------------------------------------------------------------------|
| process   | self-monitoring (blind spots: no CloudTrail / no completed scan)      |
| every role| web: /metrics, /healthz, /readyz on 127.0.0.1 (unless web.enabled is false) |

A stage's own services (ingest: scheduler and CloudTrail sources; alerts: delivery sinks)
come with the stage from its factory (:class:`~cspm_stream.stages.base.StageParts`).
Imports are per role, so a process never loads what it does not run.
"""

from __future__ import annotations

from collections.abc import Callable

from cspm_stream.stages.base import RoleContext, Service


def _roles(role: str) -> set[str]:
    return {"ingest", "process", "alerts", "remediate"} if role == "all" else {role}


def role_services(ctx: RoleContext, role: str) -> list[tuple[str, Service]]:
    """The role's side services (``all``: those of every role)."""
    out: list[tuple[str, Service]] = []
    if "process" in _roles(role):
        from cspm_stream.observability.blindspot_service import build_monitor_service

        out.append(("monitor", build_monitor_service(ctx)))
    return out


def web_service(ctx: RoleContext, ready: Callable[[], bool]) -> Service | None:
    """The health and metrics listener serving the context's registry (None when ``web.enabled`` is false)."""
    from cspm_stream.observability.web import build_web_service

    return build_web_service(ctx, ready)
