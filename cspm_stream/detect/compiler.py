"""Compile a parsed Sigma rule (pySigma) into a predicate over CloudTrail records.

pySigma parses the YAML, applies the value modifiers and turns the condition
(``and``/``or``/``not``, parentheses, ``1 of sel*``, ``all of them``, ...) into a
tree whose leaves are field/value expressions. This module walks that tree once,
at load time, and builds nested closures; evaluating a record does no parsing.

It also works out which ``eventName``/``eventSource`` values a rule *requires*
(its "pins") and, more generally, the rule's condition projected onto the key
fields (:data:`INDEX_FIELDS` and the derived :data:`KEY_DERIVED`: what must hold of
them for the rule to match at all — prefixes, suffixes, negations included). The
engine evaluates that projection once per distinct combination of key-field values and
caches which rules survive, so a rule is only ever evaluated for records that can match
it, whatever operators its key-field selections use. ``cspm.tools`` is a key field
because it is a function of ``userAgent`` alone (:data:`~cspm_stream.detect.derived.KEYED`):
a rule selecting only a tool name (no eventName) costs nothing on other records.

Placeholders (``field|expand: '%Name%'``) take their values from
``detection.placeholders.Name`` in the settings; a value written ``cidr:10.0.0.0/8``
is matched as a network. A placeholder without configured values fails the rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    Placeholder,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaExpansion,
    SigmaRegularExpression,
    SigmaString,
    SigmaType,
    SpecialChars,
)

from cspm_stream.detect import conditions, derived
from cspm_stream.detect.fields import FieldError, Vocabulary
from cspm_stream.detect.matchers import (
    Predicate,
    Record,
    Unsupported,
    keyword,
    leaf,
    matcher_leaf,
    one_of,
    strings_matcher,
)

Node = ConditionItem | ConditionFieldEqualsValueExpression | ConditionValueExpression
Placeholders = Mapping[str, Sequence[str]]


#: Fields the engine indexes rules by, in order of preference (most selective first).
INDEX_FIELDS: tuple[str, ...] = ("eventName", "eventSource", "userIdentity.type", "errorCode", "eventType")
#: Derived fields the candidate cache keys on too (each a function of one record field: derived.KEYED).
KEY_DERIVED: tuple[str, ...] = tuple(f"{derived.NAMESPACE}.{name}" for name in derived.KEYED)
#: every field a rule's condition is projected onto (decided once per key, never re-checked)
KEY_FIELDS: frozenset[str] = frozenset(INDEX_FIELDS + KEY_DERIVED)


@dataclass(frozen=True, slots=True)
class Compiled:
    predicate: Predicate
    #: for each field of INDEX_FIELDS the rule pins: the lower-cased values a match must have
    pins: dict[str, frozenset[str]]
    #: fields CloudTrail lacks that the rule selects (each selection on them never sees a value)
    warnings: tuple[str, ...] = ()
    #: the condition projected onto INDEX_FIELDS (None: no constraint on them); holds for every match
    key_filter: Predicate | None = None
    #: what is left to check once ``key_filter`` held for the record's key-field values: the
    #: predicate without the key-field selections the projection already decided exactly
    residual: Predicate | None = None
    #: the derived key fields (names without ``cspm.``) the rule selects: the cache key needs them
    key_derived: tuple[str, ...] = ()

    @property
    def event_names(self) -> frozenset[str] | None:
        return self.pins.get("eventName")

    @property
    def event_sources(self) -> frozenset[str] | None:
        return self.pins.get("eventSource")


def compile_rule(
    rule: SigmaRule,
    placeholders: Placeholders,
    extra_fields: frozenset[str] = frozenset(),
    vocab: Vocabulary | None = None,
) -> Compiled:
    """Compile every condition of ``rule`` (several conditions are OR-ed). Raises Unsupported/FieldError.

    ``vocab`` carries the derived-field context and value bound (default: built-in only);
    ``extra_fields`` is used when no ``vocab`` is given.
    """
    trees: list[Node] = []
    for cond in rule.detection.parsed_condition:
        tree = conditions.parsed(cond)  # pySigma's tree, without pyparsing for the usual conditions
        if tree is None:
            raise Unsupported("condition resolves to nothing")
        trees.append(tree)
    v = dataclasses.replace(vocab, warnings=[]) if vocab is not None else Vocabulary(extra=extra_fields)
    c = _Compiler(placeholders, v)
    preds = [c.node(t) for t in trees]
    pred = preds[0] if len(preds) == 1 else _any(preds)
    projected = [c.project(t) for t in trees]
    key_filter = None if any(p is None for p in projected) else _any([p for p in projected if p is not None])
    pinned: dict[str, frozenset[str]] = {}
    for f in INDEX_FIELDS:
        vals = _union([pins(t, f) for t in trees])
        if vals is not None:
            pinned[f] = vals
    residual = c.residual(trees[0]) if len(trees) == 1 and key_filter is not None else pred
    keyed = sorted({f.split(".", 1)[1] for t in trees for f in _fields(t) if f in KEY_DERIVED})
    return Compiled(pred, pinned, tuple(v.warnings), key_filter, residual, tuple(keyed))


def _fields(node: Node) -> list[str]:
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return [node.field]
    if isinstance(node, ConditionAND | ConditionOR | ConditionNOT):
        return [f for a in node.args if a is not None for f in _fields(a)]  # type: ignore[arg-type]
    return []


def _union(sets: list[frozenset[str] | None]) -> frozenset[str] | None:
    if any(s is None for s in sets):
        return None
    out: frozenset[str] = frozenset()
    for s in sets:
        assert s is not None
        out |= s
    return out


def _plain_ci(v: SigmaType) -> str | None:
    """The lower-cased text of a plain case-insensitive string without wildcards, else None."""
    if (
        isinstance(v, SigmaString)
        and not isinstance(v, SigmaCasedString)
        and not v.contains_special()
        and not v.contains_placeholder()
    ):
        return "".join(str(p) for p in v.s).lower()
    return None


def pins(node: Node, field: str) -> frozenset[str] | None:
    """Values of ``field`` that every match must have (case-insensitive), or None if unconstrained."""
    if isinstance(node, ConditionFieldEqualsValueExpression):
        if node.field != field:
            return None
        s = _plain_ci(node.value)
        return frozenset({s}) if s is not None else None
    if isinstance(node, ConditionOR):
        parts = [pins(a, field) for a in node.args if a is not None]
        return _union(parts) if parts else None
    if isinstance(node, ConditionAND):
        best: frozenset[str] | None = None
        for a in node.args:
            p = pins(a, field)  # type: ignore[arg-type]
            if p is not None:
                best = p if best is None else best & p
        return best
    return None


def _all(ps: list[Predicate]) -> Predicate:
    if len(ps) == 1:
        return ps[0]
    if len(ps) == 2:
        a, b = ps
        return lambda r: a(r) and b(r)
    if len(ps) == 3:
        a, b, c = ps
        return lambda r: a(r) and b(r) and c(r)
    tup = tuple(ps)

    def every(r: Record) -> bool:
        for p in tup:
            if not p(r):
                return False
        return True

    return every


def _any(ps: list[Predicate]) -> Predicate:
    if len(ps) == 1:
        return ps[0]
    if len(ps) == 2:
        a, b = ps
        return lambda r: a(r) or b(r)
    tup = tuple(ps)

    def some(r: Record) -> bool:
        for p in tup:
            if p(r):
                return True
        return False

    return some


class _Compiler:
    def __init__(self, placeholders: Placeholders, vocab: Vocabulary) -> None:
        self.placeholders = placeholders
        self.vocab = vocab
        #: id(condition node) -> its predicate: the predicate, the projection and the residual
        #: share leaves (the tree outlives the compile, so ids stay valid)
        self._done: dict[int, Predicate] = {}

    def node(self, node: Node) -> Predicate:
        done = self._done.get(id(node))
        if done is None:
            done = self._done[id(node)] = self._node(node)
        return done

    def _node(self, node: Node) -> Predicate:
        if isinstance(node, ConditionAND):
            # cheap pinned comparisons first: eventName/eventSource equality short-circuits most records
            args = sorted(node.args, key=_cost)  # type: ignore[arg-type]
            return _all([self.node(a) for a in args if a is not None])
        if isinstance(node, ConditionOR):
            return self._or([a for a in node.args if a is not None])
        if isinstance(node, ConditionNOT):
            inner = self.node(node.args[0])  # type: ignore[arg-type]
            return lambda r: not inner(r)
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return self.field(node.field, node.value)
        if isinstance(node, ConditionValueExpression):
            vals = self.expand(node.value)
            return _any([keyword(v, self.vocab.max_chars, self.vocab.clipped) for v in vals])
        raise Unsupported(f"condition element {type(node).__name__} is not supported")

    def project(self, node: Node) -> Predicate | None:
        """The necessary condition ``node`` puts on the key fields alone (None = none).

        Selections on other fields become "true" (anything may match them); a ``not`` is kept
        only when everything under it is on key fields (then it is exact), else it is "true".
        """
        if isinstance(node, ConditionAND):
            parts = [p for a in node.args if a is not None and (p := self.project(a)) is not None]  # type: ignore[arg-type]
            return _all(parts) if parts else None
        if isinstance(node, ConditionOR):
            opts = [self.project(a) for a in node.args if a is not None]  # type: ignore[arg-type]
            if not opts or any(p is None for p in opts):
                return None
            return _any([p for p in opts if p is not None])
        if isinstance(node, ConditionNOT):
            inner_node = node.args[0]
            if _only_index_fields(inner_node):  # type: ignore[arg-type]
                inner = self.node(inner_node)  # type: ignore[arg-type]
                return lambda r: not inner(r)
            return None
        if isinstance(node, ConditionFieldEqualsValueExpression) and node.field in KEY_FIELDS:
            return self.node(node)
        return None

    def residual(self, node: Node) -> Predicate:
        """``node`` without the key-field conjuncts (exactly checked by the key filter already)."""
        if _only_index_fields(node):
            return _true
        if isinstance(node, ConditionAND):
            rest = [a for a in node.args if a is not None and not _only_index_fields(a)]  # type: ignore[arg-type]
            if len(rest) == 1:
                return self.residual(rest[0])  # type: ignore[arg-type]
            return _all([self.residual(a) for a in sorted(rest, key=_cost)])  # type: ignore[arg-type]
        return self.node(node)

    def _or(self, args: list[Node]) -> Predicate:
        by_field: dict[str, set[str]] = {}
        wild: dict[tuple[str, bool], list[SigmaString]] = {}
        rest: list[Node] = []
        for a in args:
            if isinstance(a, ConditionFieldEqualsValueExpression) and (s := _plain_ci(a.value)) is not None:
                by_field.setdefault(a.field, set()).add(s)
            elif isinstance(a, ConditionFieldEqualsValueExpression) and _wildcard(a.value):
                wild.setdefault((a.field, isinstance(a.value, SigmaCasedString)), []).append(a.value)  # type: ignore[arg-type]
            else:
                rest.append(a)
        preds = [one_of(f, frozenset(vals), self.vocab) for f, vals in by_field.items()]
        v = self.vocab
        for (f, cased), strings in wild.items():
            if len(strings) == 1:
                preds.append(leaf(f, strings[0], v))
            else:  # field|contains: [a, b, ...] -> one RE2 alternation instead of one pass per value
                m = strings_matcher(strings, cased, v.max_chars, field=f, sink=v.clipped)
                preds.append(matcher_leaf(f, m, v))
        preds += [self.node(a) for a in rest]
        return _any(preds)

    def field(self, name: str, value: SigmaType) -> Predicate:
        vals = self.expand(value)
        plain = [_plain_ci(v) for v in vals]
        if len(vals) > 1 and all(p is not None for p in plain):
            return one_of(name, frozenset(p for p in plain if p is not None), self.vocab)
        return _any([leaf(name, v, self.vocab) for v in vals])

    def expand(self, value: SigmaType) -> list[SigmaType]:
        """Resolve %placeholders% from settings (values OR-ed)."""
        if isinstance(value, SigmaString) and value.contains_placeholder():
            return self._expand_string(value)
        if isinstance(value, SigmaRegularExpression) and value.contains_placeholder():
            return [
                SigmaRegularExpression(s, value.flags)
                for s in value.regexp.replace_placeholders(self._callback)  # type: ignore[arg-type]
            ]
        if isinstance(value, SigmaExpansion):
            out: list[SigmaType] = []
            for v in value.values:
                out.extend(self.expand(v))
            return [SigmaExpansion(out)] if out else []
        return [value]

    def _values(self, name: str) -> Sequence[str]:
        vals = self.placeholders.get(name)
        if not vals:
            raise Unsupported(f"placeholder %{name}% has no value: set detection.placeholders.{name} in the config")
        return vals

    def _callback(self, p: Placeholder) -> list[str]:
        vals = list(self._values(p.name))
        if any(v.startswith("cidr:") for v in vals):
            raise Unsupported(f"placeholder %{p.name}% has cidr: values but is embedded in a longer string")
        return vals

    def _expand_string(self, s: SigmaString) -> list[SigmaType]:
        parts = [p for p in s.s if p is not SpecialChars.WILDCARD_MULTI]
        if len(parts) == 1 and isinstance(parts[0], Placeholder) and len(s.s) == 1:
            out: list[SigmaType] = []
            for v in self._values(parts[0].name):
                if v.startswith("cidr:"):
                    try:
                        out.append(SigmaCIDRExpression(v.removeprefix("cidr:").strip()))
                    except Exception as exc:  # pySigma raises its own SigmaTypeError
                        raise Unsupported(f"placeholder %{parts[0].name}%: {exc}") from None
                else:
                    out.append(SigmaString(v))
            return out
        return list(s.replace_placeholders(self._callback))  # type: ignore[arg-type]


def _true(rec: Record) -> bool:
    return True


def _wildcard(v: SigmaType) -> bool:
    """A string with wildcards (contains/startswith/endswith/``*``/``?``), nothing else special."""
    return (
        isinstance(v, SigmaString)
        and v.contains_special()
        and not v.contains_placeholder()
        and any(isinstance(p, str) and p for p in v.s)
    )


def _only_index_fields(node: Node) -> bool:
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return node.field in KEY_FIELDS
    if isinstance(node, ConditionAND | ConditionOR | ConditionNOT):
        return all(a is not None and _only_index_fields(a) for a in node.args)  # type: ignore[arg-type]
    return False


def _cost(node: Node) -> int:
    if isinstance(node, ConditionFieldEqualsValueExpression) and node.field in KEY_FIELDS:
        return 0
    if isinstance(node, ConditionOR) and all(
        isinstance(a, ConditionFieldEqualsValueExpression) and a.field in KEY_FIELDS for a in node.args
    ):
        return 0
    if isinstance(node, ConditionNOT):
        return 2
    return 1


__all__ = ["INDEX_FIELDS", "KEY_DERIVED", "KEY_FIELDS", "Compiled", "FieldError", "Unsupported", "compile_rule", "pins"]
