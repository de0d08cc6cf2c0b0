"""Compliance framework definitions as the report sees them.

A framework file (``cspm_stream/frameworks/<id>.yaml``, plus any
``policy.framework_dirs``) is ``{id, name, version, requirements: [{id, title,
policies: [policy ids], automated}]}``. The report only needs that shape, so it
reads the files itself with :func:`load_dir` (a thin adapter) and builds from
plain :class:`Framework` values (the pure core).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cspm_stream.errors import DefinitionError


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    title: str = ""
    policies: tuple[str, ...] = ()
    automated: bool = True


@dataclass(frozen=True, slots=True)
class Framework:
    id: str
    name: str = ""
    version: str = ""
    requirements: tuple[Requirement, ...] = field(default_factory=tuple)


def from_dict(data: Any, source: str = "<data>") -> Framework:
    """Validate one framework mapping; DefinitionError names the file, path and reason."""
    if not isinstance(data, dict):
        raise DefinitionError(source, "a framework file must be a mapping")
    fid = data.get("id")
    if not isinstance(fid, str) or not fid:
        raise DefinitionError(source, "must be a non-empty string", path="id")
    reqs_raw = data.get("requirements", [])
    if not isinstance(reqs_raw, list):
        raise DefinitionError(source, "must be a list", path="requirements")
    reqs: list[Requirement] = []
    seen: set[str] = set()
    for i, r in enumerate(reqs_raw):
        where = f"requirements[{i}]"
        if not isinstance(r, dict):
            raise DefinitionError(source, "must be a mapping", path=where)
        rid = r.get("id")
        if not isinstance(rid, str | int | float) or isinstance(rid, bool) or str(rid) == "":
            raise DefinitionError(source, "must be a non-empty string", path=f"{where}.id")
        rid = str(rid)
        if rid in seen:
            raise DefinitionError(source, f"duplicate requirement id {rid!r}", path=f"{where}.id")
        seen.add(rid)
        pols = r.get("policies", []) or []
        if not isinstance(pols, list) or not all(isinstance(p, str) for p in pols):
            raise DefinitionError(source, "must be a list of policy ids", path=f"{where}.policies")
        automated = r.get("automated", True)
        if not isinstance(automated, bool):
            raise DefinitionError(source, "must be true or false", path=f"{where}.automated")
        title = r.get("title", "")
        reqs.append(Requirement(rid, str(title or ""), tuple(pols), automated))
    return Framework(fid, str(data.get("name") or fid), str(data.get("version") or ""), tuple(reqs))


def load_file(path: Path) -> Framework:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(str(path), f"cannot read: {exc}") from None
    fw = from_dict(data, str(path))
    if fw.id != path.stem:
        raise DefinitionError(str(path), f"id {fw.id!r} must equal the file name {path.stem!r}", path="id")
    return fw


def builtin_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "frameworks"


def load_dirs(dirs: Iterable[str | Path], *, builtin: bool = True) -> list[Framework]:
    """Frameworks from the built-in folder (if present) then ``dirs``; a later id replaces an earlier one."""
    folders = ([builtin_dir()] if builtin else []) + [Path(d) for d in dirs]
    by_id: dict[str, Framework] = {}
    for folder in folders:
        if not folder.is_dir():
            if folder == builtin_dir():
                continue
            raise DefinitionError(str(folder), "framework folder does not exist")
        for path in sorted(folder.glob("*.yaml")):
            fw = load_file(path)
            by_id[fw.id] = fw
    return list(by_id.values())
