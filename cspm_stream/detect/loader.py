"""Load Sigma rule files (SigmaHQ layout) into a :class:`~cspm_stream.detect.rules.RuleSet`.

A folder is searched recursively for ``*.yml``/``*.yaml``; ``*.tests.yml`` files
(rule examples) are skipped. A file may hold several YAML documents (a
correlation rule next to the rules it references). Every document that fails —
invalid YAML, a Sigma error, an unknown CloudTrail field, an unsupported modifier
or value, a placeholder without configured values, a log source that is not AWS
CloudTrail, a duplicate id, a correlation referencing an unknown rule, a regular
expression RE2 cannot run, a file that is not UTF-8 — becomes a
:class:`~cspm_stream.detect.rules.LoadError` naming the file and the reason; the
other rules still load. A rule selecting a field CloudTrail records lack loads, with a
warning naming the field (``RuleSet.warnings``): that selection never sees a value.

Rule identity: the Sigma ``id`` (UUID) if present, else its ``name``, else the
file stem. Custom attribute ``runbook`` (a line telling the responder what to do
first) is carried into findings. ``level`` maps to the finding severity
(missing level = medium).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import yaml
from sigma.correlations import SigmaCorrelationCondition, SigmaCorrelationConditionOperator, SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.policy import SigmaPolicy
from sigma.policy.regex_engine import RegexEngine, RegexPattern
from sigma.rule import SigmaRule

from cspm_stream import safe_regex, strict_yaml
from cspm_stream.detect.bounded import clip
from cspm_stream.detect.compiler import Placeholders, compile_rule
from cspm_stream.detect.fields import FieldError, Vocabulary
from cspm_stream.detect.matchers import Unsupported
from cspm_stream.detect.mitre import parse_tags
from cspm_stream.detect.rules import (
    CorrelationRule,
    CorrelationType,
    DetectionRule,
    LoadError,
    Op,
    RuleInfo,
    RuleSet,
)
from cspm_stream.models.enums import Severity

TEST_SUFFIXES = (".tests.yml", ".tests.yaml")


class LinearRegexEngine(RegexEngine):
    """pySigma's regex check on our RE2 wrapper: a pattern RE2 cannot run fails with the reason, quietly."""

    def compile(self, pattern: str, flags: int = 0) -> RegexPattern:
        import re

        return cast(
            RegexPattern,
            safe_regex.re2_object(
                pattern,
                ignorecase=bool(flags & re.IGNORECASE),
                multiline=bool(flags & re.MULTILINE),
                dotall=bool(flags & re.DOTALL),
            ),
        )

    @property
    def error(self) -> type[Exception]:
        return safe_regex.RegexError


#: the pySigma policy rules are parsed under: linear-time regexes, no template vars, no external sources
POLICY = SigmaPolicy(regex_engine=LinearRegexEngine())
#: longest rule title accepted: the Sigma specification's limit, checked before pySigma so that
#: correlations are held to it too (every detection of the rule carries its title)
MAX_TITLE_CHARS = 256


def rule_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every rule file under ``paths`` (files kept as given, folders searched), sorted, tests excluded."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = [f for f in p.rglob("*") if f.suffix in (".yml", ".yaml") and f.is_file()]
            out.extend(sorted(f for f in found if not f.name.endswith(TEST_SUFFIXES)))
        else:
            out.append(p)
    return out


def load_paths(
    paths: Iterable[str | Path],
    placeholders: Placeholders | None = None,
    extra_fields: Iterable[str] = (),
    *,
    vocab: Vocabulary | None = None,
) -> RuleSet:
    """Load every rule under ``paths``. Never raises for a bad rule: see ``RuleSet.errors``.

    ``vocab`` (derived-field settings, value bound) defaults to the built-in vocabulary
    with ``extra_fields``.
    """
    docs: list[tuple[str, int, Any]] = []
    errors: list[LoadError] = []
    for f in rule_files(paths):
        try:  # a regular file of bounded size only (a FIFO or /dev/zero would block or never end)
            text = strict_yaml.read_text(f)
        except strict_yaml.ReadError as exc:
            errors.append(LoadError(str(f), "", f"{exc}: rule files must be UTF-8 regular files"))
            continue
        try:
            loaded = [d for d in strict_yaml.load_all(text) if d is not None]
        except yaml.YAMLError as exc:
            errors.append(LoadError(str(f), "", f"invalid YAML: {strict_yaml.problem(exc)}"))
            continue
        if strict_yaml.too_many_nodes(loaded):
            errors.append(
                LoadError(str(f), "", f"more than {strict_yaml.MAX_NODES} values once YAML aliases are expanded")
            )
            continue
        docs.extend((str(f), i, d) for i, d in enumerate(loaded))
    return load_documents(docs, placeholders or {}, errors, frozenset(extra_fields), vocab=vocab)


def load_documents(
    docs: Sequence[tuple[str, int, Any]],
    placeholders: Placeholders,
    errors: list[LoadError] | None = None,
    extra_fields: frozenset[str] = frozenset(),
    *,
    vocab: Vocabulary | None = None,
) -> RuleSet:
    """Load parsed YAML documents ``(file, index in file, document)``."""
    vocab = vocab or Vocabulary(extra=extra_fields)
    rs = RuleSet(errors=list(errors or []), max_field_chars=vocab.max_chars, clipped=vocab.clipped)
    by_ref: dict[str, DetectionRule] = {}
    seen_ids: dict[str, str] = {}
    corr_docs: list[tuple[str, int, dict[str, Any], SigmaCorrelationRule]] = []
    multi = {f for f, i, _ in docs if i > 0}
    for file, idx, doc in docs:
        label = _label(doc)
        if not isinstance(doc, dict):
            rs.errors.append(LoadError(file, label, "a rule document must be a YAML mapping"))
            continue
        if "action" in doc:
            rs.errors.append(LoadError(file, label, "Sigma v1 multi-document 'action' collections are not supported"))
            continue
        if "filter" in doc and "detection" not in doc:
            rs.errors.append(LoadError(file, label, "Sigma meta-filters are not supported"))
            continue
        title = doc.get("title")
        if isinstance(title, str) and len(title) > MAX_TITLE_CHARS:  # every detection of the rule carries it
            rs.errors.append(LoadError(file, label, f"title longer than {MAX_TITLE_CHARS} characters"))
            continue
        shadow = isinstance(doc.get("status"), str) and doc["status"].strip().lower() == "shadow"
        if shadow:  # our status for rules tried before they page; pySigma knows only Sigma's statuses
            doc = {k: v for k, v in doc.items() if k != "status"}
        try:
            if "correlation" in doc:
                corr = SigmaCorrelationRule.from_dict(doc)
                corr_docs.append((file, idx, {**doc, "status": "shadow"} if shadow else doc, corr))
                continue
            rule = SigmaRule.from_dict(doc, policy=POLICY)
            _check_logsource(rule)
            compiled = compile_rule(rule, placeholders, vocab=vocab)
        except (SigmaError, Unsupported, FieldError) as exc:
            rs.errors.append(LoadError(file, label, _reason(exc)))
            continue
        except Exception as exc:  # pySigma raises plain errors on some malformed input
            rs.errors.append(LoadError(file, label, f"{type(exc).__name__}: {exc}"))
            continue
        info = _info(rule, doc, file, idx, file in multi, "rule", shadow=shadow)
        if info.id in seen_ids:
            rs.errors.append(LoadError(file, label, f"duplicate rule id {info.id} (first in {seen_ids[info.id]})"))
            continue
        seen_ids[info.id] = file
        rs.warnings.extend(LoadError(file, label, w) for w in compiled.warnings)
        dr = DetectionRule(info=info, compiled=compiled)
        rs.rules.append(dr)
        for ref in {info.id, info.name or "", str(rule.id or "")} - {""}:
            by_ref.setdefault(ref, dr)
    generate_off: set[str] = set()
    generate_on: set[str] = set()
    for file, idx, doc, corr in corr_docs:
        label = _label(doc)
        cvocab = dataclasses.replace(vocab, warnings=[])
        try:
            cr = _correlation(corr, doc, file, idx, file in multi, by_ref, cvocab)
        except (Unsupported, FieldError) as exc:
            rs.errors.append(LoadError(file, label, _reason(exc)))
            continue
        if cr.info.id in seen_ids:
            rs.errors.append(
                LoadError(file, label, f"duplicate rule id {cr.info.id} (first in {seen_ids[cr.info.id]})")
            )
            continue
        seen_ids[cr.info.id] = file
        rs.warnings.extend(LoadError(file, label, w) for w in cvocab.warnings)
        rs.correlations.append(cr)
        for rid in cr.refs:
            (generate_on if corr.generate else generate_off).add(rid)
    by_id = {r.info.id: r for r in rs.rules}
    for cr in rs.correlations:
        for rid in cr.refs:
            by_id[rid].feeds.append(cr)
    for rid in generate_off - generate_on:
        by_id[rid].generate = False
    return rs


def _label(doc: Any) -> str:
    if isinstance(doc, dict):
        return clip(str(doc.get("title") or doc.get("name") or doc.get("id") or ""), MAX_TITLE_CHARS)
    return ""


def _reason(exc: Exception) -> str:
    msg = str(exc).strip() or type(exc).__name__
    return msg


def _check_logsource(rule: SigmaRule) -> None:
    ls = rule.logsource
    product = (ls.product or "").lower()
    service = (ls.service or "").lower()
    if product not in ("", "aws") or service not in ("", "cloudtrail"):
        raise Unsupported(f"log source product={ls.product} service={ls.service} is not AWS CloudTrail")


_LEVELS = {
    "informational": Severity.INFORMATIONAL,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}


def _info(
    rule: SigmaRule | SigmaCorrelationRule,
    doc: Mapping[str, Any],
    file: str,
    idx: int,
    multi: bool,
    kind: str,
    *,
    shadow: bool = False,
) -> RuleInfo:
    rid = str(rule.id) if rule.id is not None else (rule.name or Path(file).stem + (f"#{idx}" if multi else ""))
    level = str(rule.level).lower() if rule.level is not None else "medium"
    tactics, techniques = parse_tags([str(t) for t in rule.tags])
    runbook = doc.get("runbook")
    return RuleInfo(
        id=rid,
        title=rule.title or rid,
        description=(rule.description or "").strip(),
        severity=_LEVELS.get(level, Severity.MEDIUM),
        level=level,
        tactics=tuple(tactics),
        techniques=tuple(techniques),
        runbook=str(runbook).strip() if runbook else "",
        file=file,
        name=rule.name,
        status="shadow" if shadow else (str(rule.status).lower() if rule.status is not None else ""),
        kind=kind,
        references=tuple(str(r) for r in rule.references),
    )


def _correlation(
    corr: SigmaCorrelationRule,
    doc: Mapping[str, Any],
    file: str,
    idx: int,
    multi: bool,
    by_ref: Mapping[str, DetectionRule],
    vocab: Vocabulary,
) -> CorrelationRule:
    try:
        ctype = CorrelationType(str(corr.type))
    except ValueError:
        raise Unsupported(
            f"correlation type {corr.type} is not supported (supported: {', '.join(t.value for t in CorrelationType)})"
        ) from None
    cond = corr.condition
    if not isinstance(cond, SigmaCorrelationCondition):
        raise Unsupported("extended (boolean) correlation conditions are not supported")
    refs: list[str] = []
    for ref in corr.rules or []:
        target = by_ref.get(ref.reference)
        if target is None:
            raise Unsupported(
                f"references rule {ref.reference!r}, which is not loaded "
                "(unknown, failed, or a correlation: chaining is not supported)"
            )
        if target.info.id not in refs:
            refs.append(target.info.id)
    if not refs:
        raise Unsupported("correlation references no rules")
    raw_cond = (doc.get("correlation") or {}).get("condition")
    temporal = ctype in (CorrelationType.TEMPORAL, CorrelationType.TEMPORAL_ORDERED)
    if temporal and raw_cond is None:
        op, threshold = Op.GTE, float(len(refs))
    else:
        opname = cond.op
        if opname is SigmaCorrelationConditionOperator.GTE:
            op = Op.GTE
        elif opname is SigmaCorrelationConditionOperator.GT:
            op = Op.GT
        else:
            raise Unsupported(
                f"correlation condition '{opname.name.lower()}' is not supported: only gte/gt "
                "fire on arrival (lt/lte/eq/neq need window-close evaluation)"
            )
        threshold = float(cond.count)
    group_by = tuple(corr.group_by or ())
    aliases = {a.alias: a for a in corr.aliases}
    group_getters = {}
    group_scalars = {}
    for rid in refs:
        gets = []
        fast = []
        for g in group_by:
            fname = g
            if g in aliases:
                mapped = {
                    by_ref[r.reference].info.id: f for r, f in aliases[g].mapping.items() if r.reference in by_ref
                }
                if rid not in mapped:
                    raise Unsupported(f"alias {g!r} has no field for rule {rid}")
                fname = mapped[rid]
            gets.append(vocab.getter(fname))
            fast.append(vocab.scalar(fname))
        group_getters[rid] = tuple(gets)
        group_scalars[rid] = tuple(fast)
    value_getters = {}
    value_field = None
    if ctype is CorrelationType.VALUE_COUNT:
        fref = cond.fieldref
        if isinstance(fref, list):
            if len(fref) != 1:
                raise Unsupported("value_count over several fields is not supported")
            fref = fref[0]
        if not fref:
            raise Unsupported("value_count needs condition.field")
        value_field = str(fref)
        for rid in refs:
            fname = value_field
            if value_field in aliases:
                mapped = {
                    by_ref[r.reference].info.id: f
                    for r, f in aliases[value_field].mapping.items()
                    if r.reference in by_ref
                }
                fname = mapped.get(rid, value_field)
            value_getters[rid] = vocab.getter(fname)
    return CorrelationRule(
        info=_info(corr, doc, file, idx, multi, "correlation", shadow=doc.get("status") == "shadow"),
        ctype=ctype,
        refs=tuple(refs),
        group_by=group_by,
        group_getters=group_getters,
        span_ms=int(corr.timespan.seconds) * 1000,
        op=op,
        threshold=threshold,
        value_getters=value_getters,
        value_field=value_field,
        group_scalars=group_scalars,
    )
