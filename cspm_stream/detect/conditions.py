"""Sigma condition strings parsed without pyparsing, into the trees pySigma builds.

pySigma parses ``selection and not 1 of filter_*`` with a pyparsing ``infix_notation``
grammar: correct, but a large share of loading a rule pack (each distinct condition string
costs about a millisecond, and every rule then deep-copies the cached tree). Conditions in
practice are a handful of identifiers joined by ``and``/``or``/``not``, parentheses and
``1 of``/``any of``/``all of`` selectors, so this module reads that language with a small
precedence-climbing parser and builds *the same* pySigma objects (``ConditionAND`` and friends,
same nesting: ``a and b and c`` is one three-argument ``and``, a parenthesised group stays a
node of its own, ``not`` binds tightest, then ``and``, then ``or``).

Anything outside that conservative subset (another character, an identifier pyparsing would
split, a malformed expression) is not guessed at: :func:`parsed` hands the condition to pySigma,
which parses it or raises its own error. A test holds the two parsers to equal trees over every
condition of the built-in and vendored SigmaHQ packs and over randomly generated ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionIdentifier,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionSelector,
    SigmaCondition,
)

__all__ = ["parsed", "recipe"]

#: a token: a parenthesis or a word (pySigma's identifier characters plus ``*`` for selector patterns)
_TOKEN = re.compile(r"\s*(?:([()])|([A-Za-z0-9_*-]+))", re.ASCII)
_IDENTIFIER = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)
_PATTERN = re.compile(r"[A-Za-z0-9*_]+", re.ASCII)
_QUANTIFIERS = frozenset({"1", "any", "all"})
_OPERATORS = frozenset({"and", "or", "not"})

#: a parsed condition as nested tuples: ("id", name) | ("sel", quantifier, pattern) | (op, [args])
Recipe = tuple[Any, ...]
_MEMO: dict[str, Recipe | None] = {}
_MEMO_MAX = 4096


class _Unsure(Exception):
    """Outside the subset read here: pySigma decides."""


def recipe(condition: str) -> Recipe | None:
    """The tree of ``condition`` as nested tuples, or None when pySigma must parse it."""
    hit = _MEMO.get(condition, False)
    if hit is not False:
        return hit  # type: ignore[return-value]
    try:
        out: Recipe | None = _Parser(_tokens(condition)).parse()
    except _Unsure:
        out = None
    if len(_MEMO) >= _MEMO_MAX:
        _MEMO.clear()
    _MEMO[condition] = out
    return out


def build(r: Recipe) -> ConditionItem:
    """Fresh pySigma condition objects for ``r`` (postprocessing mutates them: never shared)."""
    kind = r[0]
    if kind == "id":
        return ConditionIdentifier([r[1]])
    if kind == "sel":
        return ConditionSelector([r[1], r[2]])
    args = [build(a) for a in r[1]]
    if kind == "not":
        return ConditionNOT(args)  # type: ignore[arg-type]
    if kind == "and":
        return ConditionAND(args)  # type: ignore[arg-type]
    return ConditionOR(args)  # type: ignore[arg-type]


def parsed(cond: SigmaCondition) -> Any:
    """``cond.parsed`` (the postprocessed condition tree), built by this module when it can."""
    r = recipe(cond.condition) if isinstance(cond.condition, str) else None
    if r is None:
        return cond.parsed
    return build(r).postprocess(cond.detections, source=cond.source)


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos, end = 0, len(text)
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos:].strip():
                raise _Unsure  # another character: pySigma reports it (or parses what we do not)
            break
        out.append(m.group(1) or m.group(2))
        pos = m.end()
    if not out:
        raise _Unsure
    return out


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.t = tokens
        self.i = 0

    def parse(self) -> Recipe:
        r = self._or()
        if self.i != len(self.t):
            raise _Unsure
        return r

    def _peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def _or(self) -> Recipe:
        return self._chain("or", self._and)

    def _and(self) -> Recipe:
        return self._chain("and", self._not)

    def _chain(self, op: str, operand: Callable[[], Recipe]) -> Recipe:
        """``operand (op operand)*`` as one n-ary node (pyparsing's flat groups), or the operand alone."""
        args = [operand()]
        while self._peek() == op:
            self.i += 1
            args.append(operand())
        return args[0] if len(args) == 1 else (op, args)

    def _not(self) -> Recipe:
        if self._peek() == "not":
            self.i += 1
            return ("not", [self._not()])
        return self._atom()

    def _atom(self) -> Recipe:
        tok = self._peek()
        if tok is None or tok == ")" or tok in _OPERATORS:
            raise _Unsure
        self.i += 1
        if tok == "(":
            r = self._or()
            if self._peek() != ")":
                raise _Unsure
            self.i += 1
            return r
        if tok in _QUANTIFIERS and self._peek() == "of":
            pattern = self.t[self.i + 1] if self.i + 1 < len(self.t) else None
            if pattern is None or not _PATTERN.fullmatch(pattern) or pattern in _OPERATORS:
                raise _Unsure
            self.i += 2
            return ("sel", tok, pattern)
        if not _IDENTIFIER.fullmatch(tok):
            raise _Unsure  # e.g. "sel*" outside a selector: pyparsing would split it
        return ("id", tok)
