"""Side services per role: objects with async start()/stop() run next to the faust agents.

Each factory is resolved lazily so a role never imports what it does not run.
"""

from __future__ import annotations

import importlib
from typing import Any

from cspm_stream.settings import Settings

#: role → ("name", "module:factory(settings) -> object with start/stop or None")
ROLE_SERVICES: dict[str, tuple[tuple[str, str], ...]] = {
    "ingest": (
        ("scheduler", "cspm_stream.pipeline.ingest:build_scheduler_service"),
        ("cloudtrail", "cspm_stream.sources.runner:build_sources_service"),
    ),
    "process": (),
    "alerts": (("sinks", "cspm_stream.pipeline.alerts:build_sink_service"),),
    "remediate": (),
}
COMMON: tuple[tuple[str, str], ...] = (("web", "cspm_stream.observability.web:build_web_service"),)


def for_role(settings: Settings, role: str) -> list[tuple[str, Any]]:
    roles = list(ROLE_SERVICES) if role == "all" else [role]
    refs = [ref for r in roles for ref in ROLE_SERVICES[r]] + list(COMMON)
    out: list[tuple[str, Any]] = []
    for name, ref in refs:
        mod_name, fn = ref.split(":")
        try:
            module = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:
                continue  # that part is not built into this install
            raise
        factory = getattr(module, fn, None)
        if factory is None:
            continue
        obj = factory(settings)
        if obj is not None:
            out.append((name, obj))
    return out
