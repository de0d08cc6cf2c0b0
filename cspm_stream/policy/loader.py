"""Load and validate policy files. Errors name the file, the path inside it and the reason.

Built-ins live in ``cspm_stream/catalog/policies/<service>/<id>.yaml`` (``id`` == file stem);
users add folders through ``policy.policy_dirs``. Every file is validated
against the schema generated from the registries (see :mod:`.schema`) and its
condition is compiled once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cspm_stream import catalog
from cspm_stream.errors import PolicyError
from cspm_stream.models.enums import Severity, Verdict
from cspm_stream.policy.compiler import ConditionError, compile_condition
from cspm_stream.policy.model import Policy, PolicyTest, Related, Remediation, SeeAlso
from cspm_stream.policy.schema import (
    POLICY_ID_RE,
    PROWLER_CHECK_RE,
    RESOURCE_TYPE_RE,
    SECURITYHUB_CONTROL_RE,
    SEVERITIES,
    TOP_LEVEL_KEYS,
    WIRE_TESTS,
    known_actions,
)
from cspm_stream.policy.yamlio import YamlReadError, read_yaml

_TEST_KEYS = ("name", "expect", "attributes", "tags", "errors", "now", "region", "account_id")


def builtin_policy_dir() -> Path:
    return catalog.policies_dir()


def policy_files(dirs: Iterable[str | Path]) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` below the folders (sorted, recursive); a path that is not a folder is
    kept as given, so one that does not exist (a typo in ``policy.policy_dirs``) fails to read, naming
    itself, instead of loading nothing without a word."""
    out: list[Path] = []
    for d in dirs:
        p = Path(d)
        if not p.is_dir():
            out.append(p)
            continue
        out.extend(sorted(x for x in p.rglob("*") if x.suffix in (".yaml", ".yml") and x.is_file()))
    return out


#: longest policy title, other texts (description, rationale, remediation), and list items (ids, URLs)
TITLE_CHARS = 512
TEXT_CHARS = 16 * 1024
ITEM_CHARS = 2048
MAX_ITEMS = 1000


class _V:
    """Validation helpers bound to one file."""

    def __init__(self, file: str) -> None:
        self.file = file

    def err(self, path: str, reason: str) -> PolicyError:
        return PolicyError(self.file, reason, path=path)

    def str_(self, obj: dict[str, Any], key: str, path: str, *, required: bool = True, empty: bool = False) -> str:
        if key not in obj or obj[key] is None:
            if required:
                raise self.err(f"{path}{key}", "required field missing")
            return ""
        v = obj[key]
        if not isinstance(v, str):
            raise self.err(f"{path}{key}", f"must be a string, got {type(v).__name__}")
        limit = TITLE_CHARS if key == "title" else TEXT_CHARS
        if len(v) > limit:  # every finding of the policy carries its texts (topic records are bounded)
            raise self.err(f"{path}{key}", f"longer than {limit} characters")
        if not empty and required and not v.strip():
            raise self.err(f"{path}{key}", "must not be empty")
        return v.strip()

    def strs(self, v: Any, path: str) -> tuple[str, ...]:
        if v is None:
            return ()
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
            raise self.err(path, "must be a list of non-empty strings")
        if len(v) > MAX_ITEMS or any(len(x) > ITEM_CHARS for x in v):
            raise self.err(path, f"at most {MAX_ITEMS} strings of at most {ITEM_CHARS} characters")
        return tuple(v)

    def mapping(self, v: Any, path: str) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise self.err(path, f"must be a mapping, got {type(v).__name__}")
        return v


def parse_policy(raw: Any, file: str, *, stem: str | None = None, strict: bool = True) -> Policy:
    """Validate and compile one policy document. ``strict`` (built-ins) requires
    description, rationale, remediation text and at least one pass and one fail test."""
    v = _V(file)
    doc = v.mapping(raw, "")
    unknown = sorted(set(map(str, doc)) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise v.err(unknown[0], f"unknown field (allowed: {', '.join(TOP_LEVEL_KEYS)})")
    pid = v.str_(doc, "id", "")
    if not POLICY_ID_RE.fullmatch(pid):
        raise v.err("id", f"{pid!r} must match {POLICY_ID_RE.pattern}")
    if stem is not None and pid != stem:
        raise v.err("id", f"{pid!r} must equal the file name stem {stem!r}")
    title = v.str_(doc, "title", "")
    description = v.str_(doc, "description", "", required=strict)
    rationale = v.str_(doc, "rationale", "", required=strict)
    sev_raw = doc.get("severity")
    if not isinstance(sev_raw, str) or sev_raw.strip().lower() not in SEVERITIES:
        raise v.err("severity", f"{sev_raw!r} is not one of {', '.join(SEVERITIES)}")
    severity = Severity.parse(sev_raw)
    rtype = v.str_(doc, "resource_type", "")
    if not RESOURCE_TYPE_RE.fullmatch(rtype):
        raise v.err("resource_type", f"{rtype!r} must look like aws.<service>.<type> (lowercase snake)")
    if "condition" not in doc:
        raise v.err("condition", "required field missing")
    try:
        condition = compile_condition(doc["condition"], "condition")
    except ConditionError as exc:
        raise v.err(exc.where, exc.reason) from None
    wire = doc.get("wire_test")
    if wire is not None and wire not in WIRE_TESTS:
        raise v.err("wire_test", f"{wire!r} is not one of {', '.join(WIRE_TESTS)}")
    remediation = _remediation(v, doc.get("remediation"), strict)
    related = _related(v, doc.get("related"))
    compliance = _compliance(v, doc.get("compliance"))
    tests = _tests(v, doc.get("tests"), strict)
    return Policy(
        id=pid,
        title=title,
        description=description,
        rationale=rationale,
        severity=severity,
        resource_type=rtype,
        condition=condition,
        condition_source=doc["condition"],
        remediation=remediation,
        related=related,
        compliance=compliance,
        tests=tests,
        source=file,
    )


def _remediation(v: _V, raw: Any, strict: bool) -> Remediation:
    if raw is None:
        if strict:
            raise v.err("remediation", "required field missing")
        return Remediation()
    m = v.mapping(raw, "remediation")
    unknown = sorted(set(map(str, m)) - {"text", "references", "action"})
    if unknown:
        raise v.err(f"remediation.{unknown[0]}", "unknown field (allowed: text, references, action)")
    text = v.str_(m, "text", "remediation.", required=strict)
    refs = v.strs(m.get("references"), "remediation.references")
    for i, r in enumerate(refs):
        if not re.match(r"^https?://", r):
            raise v.err(f"remediation.references[{i}]", f"{r!r} is not an http(s) URL")
    action = m.get("action")
    if action is not None:
        actions = known_actions()
        if not isinstance(action, str) or action not in actions:
            raise v.err("remediation.action", f"{action!r} is not a known action ({', '.join(sorted(actions))})")
    return Remediation(text=text, references=refs, action=action)


def _related(v: _V, raw: Any) -> Related:
    if raw is None:
        return Related()
    m = v.mapping(raw, "related")
    unknown = sorted(set(map(str, m)) - {"prowler", "securityhub", "see_also"})
    if unknown:
        raise v.err(f"related.{unknown[0]}", "unknown field (allowed: prowler, securityhub, see_also)")
    exact = _related_ids(v, m, "related.")
    wider: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    if m.get("see_also") is not None:
        sa = v.mapping(m["see_also"], "related.see_also")
        unknown = sorted(set(map(str, sa)) - {"prowler", "securityhub"})
        if unknown:
            raise v.err(f"related.see_also.{unknown[0]}", "unknown field (allowed: prowler, securityhub)")
        wider = _related_ids(v, sa, "related.see_also.")
        for kind, ex, wi in zip(("prowler", "securityhub"), exact, wider, strict=True):
            both = sorted(set(ex) & set(wi))
            if both:
                raise v.err(f"related.see_also.{kind}", f"{both[0]!r} is also listed as an exact equivalent")
    return Related(prowler=exact[0], securityhub=exact[1], see_also=SeeAlso(prowler=wider[0], securityhub=wider[1]))


def _related_ids(v: _V, m: dict[str, Any], where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(Prowler check ids, Security Hub control ids) of one related/see_also mapping, shapes checked."""
    out: list[tuple[str, ...]] = []
    for kind, pattern in (("prowler", PROWLER_CHECK_RE), ("securityhub", SECURITYHUB_CONTROL_RE)):
        ids = v.strs(m.get(kind), f"{where}{kind}")
        for i, x in enumerate(ids):
            if not pattern.fullmatch(x):
                raise v.err(f"{where}{kind}[{i}]", f"{x!r} must match {pattern.pattern}")
        if len(set(ids)) != len(ids):
            raise v.err(f"{where}{kind}", "lists an id twice")
        out.append(ids)
    return out[0], out[1]


def _compliance(v: _V, raw: Any) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    m = v.mapping(raw, "compliance")
    out: dict[str, tuple[str, ...]] = {}
    for fw, reqs in m.items():
        if not isinstance(fw, str) or not fw:
            raise v.err("compliance", "framework ids must be strings")
        out[fw] = v.strs(reqs, f"compliance.{fw}")
    return out


def _tests(v: _V, raw: Any, strict: bool) -> tuple[PolicyTest, ...]:
    if raw is None:
        if strict:
            raise v.err("tests", "required: at least one 'pass' and one 'fail' example")
        return ()
    if not isinstance(raw, list):
        raise v.err("tests", "must be a list")
    out: list[PolicyTest] = []
    names: set[str] = set()
    for i, t in enumerate(raw):
        where = f"tests[{i}]"
        m = v.mapping(t, where)
        unknown = sorted(set(map(str, m)) - set(_TEST_KEYS))
        if unknown:
            raise v.err(f"{where}.{unknown[0]}", f"unknown field (allowed: {', '.join(_TEST_KEYS)})")
        name = v.str_(m, "name", f"{where}.")
        if name in names:
            raise v.err(f"{where}.name", f"duplicate test name {name!r}")
        names.add(name)
        expect = m.get("expect")
        if expect not in {x.value for x in Verdict}:
            raise v.err(f"{where}.expect", f"{expect!r} is not one of pass, fail, error")
        attrs = v.mapping(m.get("attributes", {}) if m.get("attributes") is not None else {}, f"{where}.attributes")
        tags = m.get("tags") or {}
        if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(x, str) for k, x in tags.items()):
            raise v.err(f"{where}.tags", "must map strings to strings")
        errors: list[tuple[str, str, str]] = []
        for j, e in enumerate(m.get("errors") or []):
            em = v.mapping(e, f"{where}.errors[{j}]")
            errors.append(
                (
                    v.str_(em, "attribute", f"{where}.errors[{j}]."),
                    v.str_(em, "code", f"{where}.errors[{j}].", required=False) or "AccessDenied",
                    v.str_(em, "message", f"{where}.errors[{j}].", required=False),
                )
            )
        now = m.get("now")
        if now is not None and not isinstance(now, str):
            raise v.err(f"{where}.now", "must be an ISO 8601 string")
        out.append(
            PolicyTest(
                name=name,
                expect=str(expect),
                attributes=attrs,
                tags=dict(tags),
                errors=tuple(errors),
                now=now,
                region=v.str_(m, "region", f"{where}.", required=False) or "us-east-1",
                account_id=v.str_(m, "account_id", f"{where}.", required=False) or "123456789012",
            )
        )
    if strict:
        kinds = {t.expect for t in out}
        for need in ("pass", "fail"):
            if need not in kinds:
                raise v.err("tests", f"needs at least one test with expect: {need}")
    return tuple(out)


def load_policy_file(path: Path, *, strict: bool = True) -> Policy:
    file = str(path)
    try:
        raw = read_yaml(path)
    except YamlReadError as exc:
        raise PolicyError(file, str(exc)) from None
    return parse_policy(raw, file, stem=path.stem, strict=strict)


def load_policies(
    dirs: Iterable[str | Path],
    *,
    strict: bool | None = None,
    errors: list[PolicyError] | None = None,
) -> list[Policy]:
    """Load every policy below ``dirs``. With ``errors`` given, invalid files are
    collected there and skipped; otherwise the first invalid file raises.
    ``strict=None``: strict for built-ins, lenient for user folders."""
    out: list[Policy] = []
    seen: dict[str, str] = {}
    builtin = builtin_policy_dir()
    for f in policy_files(dirs):
        try:
            is_strict = strict if strict is not None else f.resolve().is_relative_to(builtin)
            pol = load_policy_file(f, strict=is_strict)
            if pol.id in seen:
                raise PolicyError(str(f), f"duplicate policy id {pol.id!r} (also in {seen[pol.id]})", path="id")
        except PolicyError as exc:
            if errors is None:
                raise
            errors.append(exc)
            continue
        seen[pol.id] = str(f)
        out.append(pol)
    return out
