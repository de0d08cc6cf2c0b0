"""Compliance framework files: requirements mapped to policy ids (data, reviewed like code).

``cspm_stream/catalog/frameworks/<framework-id>.yaml``::

    {id, name, version, url?, description?,
     source?: {standard, url?, requirements?, mappings?: [str]},
     review?: {by, date, method, notes?},
     requirements: [{id, title, section?, assessment?: automated|manual, automated?: bool,
                     policies?: [ids], description?, rationale?}]}

A requirement is automated exactly when it lists policies (``automated`` may be left out and is
then derived); every error names the file, the path and the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from cspm_stream import catalog
from cspm_stream.errors import DefinitionError
from cspm_stream.policy.loader import policy_files
from cspm_stream.policy.model import Framework, FrameworkOrigin, Policy, Requirement, Review
from cspm_stream.policy.yamlio import YamlReadError, read_yaml

_FW_KEYS = ("id", "name", "version", "description", "url", "source", "review", "requirements")
_REQ_KEYS = ("id", "title", "description", "section", "assessment", "automated", "policies", "rationale")
_SOURCE_KEYS = ("standard", "url", "requirements", "mappings")
_REVIEW_KEYS = ("by", "date", "method", "notes")
_ASSESSMENTS = ("automated", "manual")


class FrameworkError(DefinitionError):
    """A framework file is invalid (file, path, reason)."""


_Err = Callable[[str, str], FrameworkError]


def builtin_framework_dir() -> Path:
    return catalog.frameworks_dir()


def _text(v: Any) -> str | None:
    """A scalar as text (YAML reads ``1.10`` as a float and dates as dates), or None."""
    if isinstance(v, bool) or v is None or isinstance(v, list | dict):
        return None
    out = str(v).strip()
    return out or None


def _block(raw: Any, key: str, keys: tuple[str, ...], err: _Err) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise err(key, "must be a mapping")
    unknown = sorted(set(map(str, raw)) - set(keys))
    if unknown:
        raise err(f"{key}.{unknown[0]}", f"unknown field (allowed: {', '.join(keys)})")
    return raw


def _origin(raw: Any, err: _Err) -> FrameworkOrigin | None:
    b = _block(raw, "source", _SOURCE_KEYS, err)
    if b is None:
        return None
    standard = _text(b.get("standard"))
    if standard is None:
        raise err("source.standard", "required string field missing")
    for key in ("url", "requirements"):
        if key in b and _text(b[key]) is None:
            raise err(f"source.{key}", "must be a non-empty string")
    mappings = b.get("mappings") or []
    if not isinstance(mappings, list) or not all(_text(m) for m in mappings):
        raise err("source.mappings", "must be a list of strings")
    return FrameworkOrigin(
        standard=standard,
        url=_text(b.get("url")) or "",
        requirements=_text(b.get("requirements")) or "",
        mappings=tuple(str(_text(m)) for m in mappings),
    )


def _review(raw: Any, err: _Err) -> Review | None:
    b = _block(raw, "review", _REVIEW_KEYS, err)
    if b is None:
        return None
    vals: dict[str, str] = {}
    for key in ("by", "date", "method"):
        v = _text(b.get(key))
        if v is None:
            raise err(f"review.{key}", "required string field missing")
        vals[key] = v
    if "notes" in b and _text(b["notes"]) is None:
        raise err("review.notes", "must be a non-empty string")
    return Review(vals["by"], vals["date"], vals["method"], _text(b.get("notes")) or "")


def _requirement(r: Any, where: str, err: _Err) -> Requirement:
    if not isinstance(r, dict):
        raise err(where, "must be a mapping")
    unknown = sorted(set(map(str, r)) - set(_REQ_KEYS))
    if unknown:
        raise err(f"{where}.{unknown[0]}", f"unknown field (allowed: {', '.join(_REQ_KEYS)})")
    rid = _text(r.get("id"))
    if rid is None:
        raise err(f"{where}.id", "required string field missing")
    title = r.get("title")
    if not isinstance(title, str) or not title.strip():
        raise err(f"{where}.title", "required string field missing")
    pols = r.get("policies")
    if pols is None:
        pols = []
    if not isinstance(pols, list) or not all(isinstance(p, str) and p for p in pols):
        raise err(f"{where}.policies", "must be a list of policy ids")
    if len(set(pols)) != len(pols):
        dup = next(p for i, p in enumerate(pols) if p in pols[:i])
        raise err(f"{where}.policies", f"policy id {dup!r} listed twice")
    automated = r.get("automated", bool(pols))
    if not isinstance(automated, bool):
        raise err(f"{where}.automated", "must be true or false")
    if automated and not pols:
        raise err(f"{where}.automated", "an automated requirement lists the policies that evaluate it")
    if pols and not automated:
        raise err(f"{where}.automated", "a requirement with policies is automated (automated: true)")
    assessment = r.get("assessment", "")
    if assessment != "" and assessment not in _ASSESSMENTS:
        raise err(f"{where}.assessment", f"must be one of {', '.join(_ASSESSMENTS)}")
    texts: dict[str, str] = {}
    for key in ("description", "section", "rationale"):
        v = r.get(key)
        if v is not None and not isinstance(v, str | int | float):
            raise err(f"{where}.{key}", "must be a string")
        texts[key] = "" if v is None else str(v).strip()
    return Requirement(
        id=rid,
        title=title.strip(),
        policies=tuple(pols),
        automated=automated,
        description=texts["description"],
        section=texts["section"],
        rationale=texts["rationale"],
        assessment=str(assessment),
    )


def parse_framework(raw: Any, file: str, *, stem: str | None = None) -> Framework:
    def err(path: str, reason: str) -> FrameworkError:
        return FrameworkError(file, reason, path=path)

    if not isinstance(raw, dict):
        raise err("", "a framework file must be a mapping")
    unknown = sorted(set(map(str, raw)) - set(_FW_KEYS))
    if unknown:
        raise err(unknown[0], f"unknown field (allowed: {', '.join(_FW_KEYS)})")
    for key in ("id", "name", "version"):
        if _text(raw.get(key)) is None:
            raise err(key, "required string field missing")
    fid = str(_text(raw["id"]))
    if stem is not None and fid != stem:
        raise err("id", f"{fid!r} must equal the file name stem {stem!r}")
    for key in ("description", "url"):
        if raw.get(key) is not None and not isinstance(raw.get(key), str):
            raise err(key, "must be a string")
    origin = _origin(raw.get("source"), err)
    review = _review(raw.get("review"), err)
    reqs_raw = raw.get("requirements")
    if not isinstance(reqs_raw, list) or not reqs_raw:
        raise err("requirements", "must be a non-empty list")
    reqs: list[Requirement] = []
    seen: set[str] = set()
    for i, r in enumerate(reqs_raw):
        req = _requirement(r, f"requirements[{i}]", err)
        if req.id in seen:
            raise err(f"requirements[{i}].id", f"duplicate requirement id {req.id!r}")
        seen.add(req.id)
        reqs.append(req)
    return Framework(
        id=fid,
        name=str(_text(raw["name"])),
        version=str(_text(raw["version"])),
        requirements=tuple(reqs),
        source=file,
        description=str(raw.get("description") or "").strip(),
        url=str(raw.get("url") or "").strip(),
        origin=origin,
        review=review,
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
