"""Compliance framework files: requirements mapped to policy ids (data, reviewed like code).

``cspm_stream/catalog/frameworks/<framework-id>.yaml``::

    {id, name, version, description?,
     requirements: [{id, title, description?, policies: [ids], automated: bool}]}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cspm_stream import catalog
from cspm_stream.errors import DefinitionError
from cspm_stream.policy.loader import policy_files
from cspm_stream.policy.model import Framework, Policy, Requirement
from cspm_stream.policy.yamlio import YamlReadError, read_yaml

_FW_KEYS = ("id", "name", "version", "description", "url", "requirements")
_REQ_KEYS = ("id", "title", "description", "section", "policies", "automated")


class FrameworkError(DefinitionError):
    """A framework file is invalid (file, path, reason)."""


def builtin_framework_dir() -> Path:
    return catalog.frameworks_dir()


def parse_framework(raw: Any, file: str, *, stem: str | None = None) -> Framework:
    def err(path: str, reason: str) -> FrameworkError:
        return FrameworkError(file, reason, path=path)

    if not isinstance(raw, dict):
        raise err("", "a framework file must be a mapping")
    unknown = sorted(set(map(str, raw)) - set(_FW_KEYS))
    if unknown:
        raise err(unknown[0], f"unknown field (allowed: {', '.join(_FW_KEYS)})")
    for key in ("id", "name", "version"):
        if not isinstance(raw.get(key), str | int | float) or not str(raw.get(key)).strip():
            raise err(key, "required string field missing")
    fid = str(raw["id"])
    if stem is not None and fid != stem:
        raise err("id", f"{fid!r} must equal the file name stem {stem!r}")
    reqs_raw = raw.get("requirements")
    if not isinstance(reqs_raw, list) or not reqs_raw:
        raise err("requirements", "must be a non-empty list")
    reqs: list[Requirement] = []
    seen: set[str] = set()
    for i, r in enumerate(reqs_raw):
        where = f"requirements[{i}]"
        if not isinstance(r, dict):
            raise err(where, "must be a mapping")
        unknown = sorted(set(map(str, r)) - set(_REQ_KEYS))
        if unknown:
            raise err(f"{where}.{unknown[0]}", f"unknown field (allowed: {', '.join(_REQ_KEYS)})")
        rid = r.get("id")
        if not isinstance(rid, str | int | float) or not str(rid).strip():
            raise err(f"{where}.id", "required string field missing")
        rid = str(rid)
        if rid in seen:
            raise err(f"{where}.id", f"duplicate requirement id {rid!r}")
        seen.add(rid)
        title = r.get("title")
        if not isinstance(title, str) or not title.strip():
            raise err(f"{where}.title", "required string field missing")
        pols = r.get("policies") or []
        if not isinstance(pols, list) or not all(isinstance(p, str) and p for p in pols):
            raise err(f"{where}.policies", "must be a list of policy ids")
        automated = r.get("automated", True)
        if not isinstance(automated, bool):
            raise err(f"{where}.automated", "must be true or false")
        desc = r.get("description") or ""
        reqs.append(
            Requirement(id=rid, title=title.strip(), policies=tuple(pols), automated=automated, description=str(desc))
        )
    return Framework(
        id=fid,
        name=str(raw["name"]),
        version=str(raw["version"]),
        requirements=tuple(reqs),
        source=file,
        description=str(raw.get("description") or ""),
    )


def load_frameworks(dirs: Iterable[str | Path], *, errors: list[DefinitionError] | None = None) -> list[Framework]:
    out: list[Framework] = []
    seen: dict[str, str] = {}
    for f in policy_files(dirs):
        try:
            try:
                raw = read_yaml(f)
            except YamlReadError as exc:
                raise FrameworkError(str(f), str(exc)) from None
            fw = parse_framework(raw, str(f), stem=f.stem)
            if fw.id in seen:
                raise FrameworkError(str(f), f"duplicate framework id {fw.id!r} (also in {seen[fw.id]})", path="id")
        except DefinitionError as exc:
            if errors is None:
                raise
            errors.append(exc)
            continue
        seen[fw.id] = str(f)
        out.append(fw)
    return out


def check_references(frameworks: Iterable[Framework], policy_ids: Iterable[str]) -> list[FrameworkError]:
    """One error per framework reference to a policy id that does not exist."""
    known = set(policy_ids)
    errs: list[FrameworkError] = []
    for fw in frameworks:
        for i, req in enumerate(fw.requirements):
            for j, pid in enumerate(req.policies):
                if pid not in known:
                    errs.append(
                        FrameworkError(fw.source, f"unknown policy id {pid!r}", path=f"requirements[{i}].policies[{j}]")
                    )
    return errs


def mapping(frameworks: Iterable[Framework], policies: Mapping[str, Policy]) -> dict[str, list[tuple[str, str]]]:
    """policy id → [(framework id, requirement id)], from framework files plus each
    policy's own ``compliance`` map (deduplicated, in order)."""
    out: dict[str, list[tuple[str, str]]] = {pid: [] for pid in policies}
    for fw in frameworks:
        for req in fw.requirements:
            for pid in req.policies:
                lst = out.setdefault(pid, [])
                if (fw.id, req.id) not in lst:
                    lst.append((fw.id, req.id))
    for pid, pol in policies.items():
        for fid, reqs in pol.compliance.items():
            for rid in reqs:
                if (fid, rid) not in out[pid]:
                    out[pid].append((fid, rid))
    return out
