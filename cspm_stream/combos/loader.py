"""Load combination files (``cspm_stream/catalog/combinations/*.yaml``); errors name file, path, reason.

File format::

    id: toxic_...                      # = file stem
    title / description / rationale: text
    severity: critical                 # higher than every part's policy (a contract test holds it)
    anchor: aws.ec2.instance           # the resource the combined finding is about
    parts:
    - name: public_ip
      via: self                        # a relation name, or a list of them
      policies: [ec2_instance_no_public_ip]   # any one failing makes the part hold
    remediation: {text: ..., references: [...]}
    tests:                             # at least one pass and one fail
    - name: ...
      expect: fail
      anchor: <arn>
      resources: [{type: ..., arn: ..., attributes: {...}}]
      failing: [[policy_id, arn], ...]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cspm_stream import catalog
from cspm_stream.combos.model import Combination, CombinationTest, Part, graph_of
from cspm_stream.combos.relations import RELATIONS
from cspm_stream.errors import DefinitionError
from cspm_stream.models.enums import Severity
from cspm_stream.policy.model import Remediation
from cspm_stream.policy.yamlio import YamlReadError, read_yaml

ID_RE = re.compile(r"toxic_[a-z0-9_]{3,120}")
KEYS = ("id", "title", "description", "rationale", "severity", "anchor", "parts", "remediation", "tests")
SEVERITIES = ("low", "medium", "high", "critical")


def builtin_dir() -> Path:
    return catalog.ROOT / "combinations"


def _err(file: str, path: str, reason: str) -> DefinitionError:
    return DefinitionError(file, reason, path=path)


def _text(doc: dict[str, Any], key: str, file: str) -> str:
    v = doc.get(key)
    if not isinstance(v, str) or not v.strip():
        raise _err(file, key, "required text missing")
    return v.strip()


def _strs(v: Any, file: str, path: str) -> tuple[str, ...]:
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, list) or not items or not all(isinstance(x, str) and x for x in items):
        raise _err(file, path, "must be a non-empty string or list of strings")
    return tuple(items)


def parse(raw: Any, file: str, *, stem: str | None = None) -> Combination:
    if not isinstance(raw, dict):
        raise _err(file, "", "must be a mapping")
    unknown = sorted(set(map(str, raw)) - set(KEYS))
    if unknown:
        raise _err(file, unknown[0], f"unknown field (allowed: {', '.join(KEYS)})")
    cid = raw.get("id")
    if not isinstance(cid, str) or not ID_RE.fullmatch(cid):
        raise _err(file, "id", f"{cid!r} must match {ID_RE.pattern}")
    if stem is not None and cid != stem:
        raise _err(file, "id", f"{cid!r} must equal the file name stem {stem!r}")
    sev = raw.get("severity")
    if not isinstance(sev, str) or sev.lower() not in SEVERITIES:
        raise _err(file, "severity", f"{sev!r} is not one of {', '.join(SEVERITIES)}")
    anchor = raw.get("anchor")
    if not isinstance(anchor, str) or not re.fullmatch(r"aws\.[a-z0-9_]+\.[a-z0-9_]+", anchor):
        raise _err(file, "anchor", f"{anchor!r} must be a resource type (aws.<service>.<type>)")
    parts_raw = raw.get("parts")
    if not isinstance(parts_raw, list) or len(parts_raw) < 2:
        raise _err(file, "parts", "a combination needs at least two parts")
    parts: list[Part] = []
    for i, p in enumerate(parts_raw):
        where = f"parts[{i}]"
        if not isinstance(p, dict) or set(map(str, p)) - {"name", "via", "policies"}:
            raise _err(file, where, "must be a mapping of name, via, policies")
        name = p.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,60}", name):
            raise _err(file, f"{where}.name", f"{name!r} must be lowercase snake case")
        via = _strs(p.get("via"), file, f"{where}.via")
        for rel in via:
            r = RELATIONS.get(rel)
            if r is None:
                raise _err(file, f"{where}.via", f"unknown relation {rel!r} (known: {', '.join(sorted(RELATIONS))})")
            if r.anchor is not None and r.anchor != anchor:
                raise _err(file, f"{where}.via", f"relation {rel!r} applies to {r.anchor} anchors, not {anchor}")
        parts.append(Part(name, via, frozenset(_strs(p.get("policies"), file, f"{where}.policies"))))
    if len({p.name for p in parts}) != len(parts):
        raise _err(file, "parts", "part names must be unique")
    rem = raw.get("remediation")
    if not isinstance(rem, dict) or not isinstance(rem.get("text"), str):
        raise _err(file, "remediation.text", "required text missing")
    refs = rem.get("references") or []
    if not isinstance(refs, list) or not all(isinstance(r, str) and r.startswith("https://") for r in refs):
        raise _err(file, "remediation.references", "must be a list of https URLs")
    combo = Combination(
        id=cid,
        title=_text(raw, "title", file),
        description=_text(raw, "description", file),
        rationale=_text(raw, "rationale", file),
        severity=Severity.parse(sev),
        anchor=anchor,
        parts=tuple(parts),
        remediation=Remediation(text=rem["text"].strip(), references=tuple(refs)),
        source=file,
        tests=_tests(raw.get("tests"), file),
    )
    kinds = {t.expect for t in combo.tests}
    if not {"pass", "fail"} <= kinds:
        raise _err(file, "tests", "needs at least one 'pass' and one 'fail' test")
    return combo


def _tests(raw: Any, file: str) -> tuple[CombinationTest, ...]:
    if not isinstance(raw, list):
        raise _err(file, "tests", "must be a list")
    out: list[CombinationTest] = []
    for i, t in enumerate(raw):
        where = f"tests[{i}]"
        if not isinstance(t, dict):
            raise _err(file, where, "must be a mapping")
        if t.get("expect") not in ("pass", "fail"):
            raise _err(file, f"{where}.expect", "must be 'pass' or 'fail'")
        resources = []
        for j, r in enumerate(t.get("resources") or []):
            if not isinstance(r, dict) or not isinstance(r.get("type"), str) or not isinstance(r.get("arn"), str):
                raise _err(file, f"{where}.resources[{j}]", "needs type and arn")
            attrs = r.get("attributes") or {}
            if not isinstance(attrs, dict):
                raise _err(file, f"{where}.resources[{j}].attributes", "must be a mapping")
            resources.append((r["type"], r["arn"], attrs))
        failing = []
        for j, f in enumerate(t.get("failing") or []):
            if not (isinstance(f, list) and len(f) == 2 and all(isinstance(x, str) for x in f)):
                raise _err(file, f"{where}.failing[{j}]", "must be [policy_id, arn]")
            failing.append((f[0], f[1]))
        name, anchor = t.get("name"), t.get("anchor")
        if not isinstance(name, str) or not isinstance(anchor, str):
            raise _err(file, where, "needs name and anchor")
        out.append(CombinationTest(name, t["expect"], anchor, tuple(resources), tuple(failing)))
    return tuple(out)


def load_file(path: Path) -> Combination:
    try:
        raw = read_yaml(path)
    except YamlReadError as exc:
        raise _err(str(path), "", str(exc)) from None
    return parse(raw, str(path), stem=path.stem)


def load(dirs: Iterable[str | Path] | None = None) -> list[Combination]:
    """Every combination under ``dirs`` (default: the built-ins); ids must be unique."""
    out: list[Combination] = []
    seen: dict[str, str] = {}
    for d in dirs if dirs is not None else [builtin_dir()]:
        p = Path(d)
        files = [p] if p.is_file() else sorted(p.glob("*.yaml")) if p.is_dir() else []
        for f in files:
            c = load_file(f)
            if c.id in seen:
                raise _err(str(f), "id", f"{c.id!r} is also defined in {seen[c.id]}")
            seen[c.id] = str(f)
            out.append(c)
    return out


def check_policies(combos: Iterable[Combination], known: Iterable[str]) -> list[DefinitionError]:
    """Parts must name existing policies (a typo would silently never hold)."""
    have = set(known)
    errs = []
    for c in combos:
        for i, part in enumerate(c.parts):
            for pid in sorted(part.policies - have):
                errs.append(_err(c.source, f"parts[{i}].policies", f"unknown policy id {pid!r}"))
    return errs


def run_test(c: Combination, t: CombinationTest) -> tuple[bool, str]:
    """(passed?, the outcome's detail)."""
    out = c.evaluate(t.anchor, graph_of(t.resources, t.failing))
    got = "fail" if out.holds else "pass"
    return got == t.expect, f"expected {t.expect}, got {got}: {out.detail()}"
