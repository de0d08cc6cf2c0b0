"""Render the documented default config (``config/cspm.yaml``) from the settings schema.

``python -m cspm_stream.settings.docs > config/cspm.yaml``; a test checks the file
stays in sync with the schema (every key present, documented, and loadable).
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from typing import Any

import yaml

from cspm_stream.settings.loader import Secret, env_name


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _plain(v: Any) -> Any:
    if isinstance(v, Secret):
        return ""
    if isinstance(v, enum.Enum):
        return v.value
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: _plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def render(cls: type[Any], indent: int = 0, prefix: str = "") -> list[str]:
    lines: list[str] = []
    hints = typing.get_type_hints(cls)
    pad = "  " * indent
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        doc = f.metadata.get("doc", "")
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            lines.append(f"{pad}# {doc}")
            lines.append(f"{pad}{f.name}:")
            lines.extend(render(tp, indent + 1, key))  # type: ignore[arg-type]
            continue
        extra = []
        if "choices" in f.metadata:
            extra.append("one of: " + ", ".join(f.metadata["choices"]))
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            extra.append("one of: " + ", ".join(str(m.value) for m in tp))
        if "min" in f.metadata:
            extra.append(f"min {f.metadata['min']}")
        extra.append(f"env {env_name(key)}")
        lines.append(f"{pad}# {doc} ({'; '.join(extra)})")
        if f.metadata.get("env_only"):
            lines.append(f"{pad}# {f.name}: set only through {env_name(key)}")
            continue
        dumped = yaml.safe_dump({f.name: _plain(_default(f))}, default_flow_style=False, sort_keys=False).rstrip()
        for ln in dumped.splitlines():
            lines.append(pad + ln)
    return lines


def main() -> None:
    from cspm_stream.settings import Settings

    print("# cspm_stream configuration. Every key is optional; shown with its default.")
    print("# Environment overrides: CSPM_<SECTION>_<KEY> (lists comma-separated). Unknown keys are errors.")
    print("# Secrets are read from the environment only and never logged.")
    print("\n".join(render(Settings)))


if __name__ == "__main__":
    main()
