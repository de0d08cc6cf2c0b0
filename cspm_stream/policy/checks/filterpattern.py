"""CloudWatch Logs JSON filter patterns: parse, evaluate on an event, and sample what a pattern matches.

A CIS monitoring control asks for a metric filter that matches the events of its pattern. Comparing
the pattern's text (as Prowler does, and as this package once did) passes traps: the CIS clauses
joined with ``&&`` instead of ``||`` match no event at all, a ``!=`` turns one alternative into
"everything but"; and it fails equivalent patterns written another way. Here a filter counts when it
*matches every event the reference pattern matches*, sampled once per alternative of the reference
(:func:`samples`), and *not an ordinary call the reference leaves out* (:func:`counter_sample`): a
broader filter still alarms on those events and counts; a narrower or broken one does not, nor a
catch-all (``$.eventName != X`` matches every call: its alarm would fire on anything).

The grammar is the documented JSON form: ``{ SELECTOR OP VALUE }`` terms — ``$.a.b[0]`` selectors;
``=`` / ``!=`` on strings (quoted or bare, ``*`` a wildcard) and numbers, ``<``, ``>``, ``<=``, ``>=``
on numbers; ``IS NULL``, ``IS TRUE``, ``IS FALSE``, ``NOT EXISTS`` — joined by ``&&`` (binding
tighter) and ``||`` with parentheses. Anything else (space-delimited or regex patterns, a malformed
one) does not parse and never counts. Patterns are bounded (CloudWatch allows 1,024 characters;
:data:`MAX_PATTERN` here) and the parser is linear, recursion bounded by :data:`MAX_DEPTH`.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_PATTERN", "Pattern", "counter_sample", "matches", "parse", "samples"]

MAX_PATTERN = 4096
MAX_DEPTH = 32
MAX_ALTERNATIVES = 256
_MISSING: Any = object()

#: what a sampled event holds besides what the reference pattern sets: an ordinary successful call
BASE_EVENT: dict[str, Any] = {
    "eventVersion": "1.08",
    "eventSource": "cspm-sample.amazonaws.com",
    "eventName": "CspmSampleCall",
    "eventType": "AwsApiCall",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "203.0.113.10",
    "userAgent": "aws-cli/2.15.0",
    "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/sample", "accountId": "111122223333"},
    "recipientAccountId": "111122223333",
}


@dataclass(frozen=True)
class Term:
    path: tuple[str | int, ...]
    op: str  # = != < > <= >= null true false absent
    value: Any = None


#: a parsed pattern: ("or", [...]) | ("and", [...]) | Term
Pattern = Any


class _Bad(ValueError):
    pass


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "(){}":
            out.append(c)
            i += 1
        elif text.startswith(("&&", "||", "!=", "<=", ">="), i):
            out.append(text[i : i + 2])
            i += 2
        elif c in "=<>":
            out.append(c)
            i += 1
        elif c == '"':
            j, buf = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise _Bad("unterminated string")
            out.append('"' + "".join(buf))  # a leading quote marks a quoted string
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '(){}&|=!<>"':
                j += 1
            if j == i:
                raise _Bad(f"unexpected {c!r}")
            out.append(text[i:j])
            i = j
    return out


def _selector(tok: str) -> tuple[str | int, ...]:
    if not tok.startswith("$"):
        raise _Bad("selector must start with $")
    parts: list[str | int] = []
    rest = tok[1:]
    while rest:
        if rest[0] == ".":
            j = 1
            while j < len(rest) and rest[j] not in ".[":
                j += 1
            name = rest[1:j]
            if not name:
                raise _Bad("empty selector part")
            parts.append(name)
            rest = rest[j:]
        elif rest[0] == "[":
            j = rest.find("]")
            if j < 0 or not rest[1:j].isdigit():
                raise _Bad("bad index")
            parts.append(int(rest[1:j]))
            rest = rest[j + 1 :]
        else:
            raise _Bad("bad selector")
    if not parts:
        raise _Bad("empty selector")
    return tuple(parts)


def _number(tok: str) -> float | None:
    try:
        return float(tok)
    except ValueError:
        return None


class _Parser:
    def __init__(self, toks: list[str]) -> None:
        self.toks, self.i = toks, 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str:
        t = self.peek()
        if t is None:
            raise _Bad("unexpected end")
        self.i += 1
        return t

    def expr(self, depth: int) -> Pattern:
        if depth > MAX_DEPTH:
            raise _Bad("nested too deep")
        parts = [self.conj(depth)]
        while self.peek() == "||":
            self.take()
            parts.append(self.conj(depth))
        return parts[0] if len(parts) == 1 else ("or", parts)

    def conj(self, depth: int) -> Pattern:
        parts = [self.unary(depth)]
        while self.peek() == "&&":
            self.take()
            parts.append(self.unary(depth))
        return parts[0] if len(parts) == 1 else ("and", parts)

    def unary(self, depth: int) -> Pattern:
        if self.peek() == "(":
            self.take()
            inner = self.expr(depth + 1)
            if self.take() != ")":
                raise _Bad("missing )")
            return inner
        path = _selector(self.take())
        op = self.take()
        if op in ("=", "!=", "<", ">", "<=", ">="):
            raw = self.take()
            if raw in ("(", ")", "{", "}", "&&", "||"):
                raise _Bad("missing value")
            if raw.startswith('"'):
                return Term(path, op, raw[1:])
            num = _number(raw)
            if op not in ("=", "!=") and num is None:
                raise _Bad("numeric comparison needs a number")
            return Term(path, op, raw if num is None or op in ("=", "!=") else num)
        if op.upper() == "IS":
            what = self.take().upper()
            if what not in ("NULL", "TRUE", "FALSE"):
                raise _Bad("IS NULL|TRUE|FALSE")
            return Term(path, what.lower())
        if op.upper() == "NOT" and self.take().upper() == "EXISTS":
            return Term(path, "absent")
        raise _Bad(f"unknown operator {op!r}")


def parse(text: Any) -> Pattern | None:
    """The pattern's tree, or None when it is not a JSON filter pattern this grammar reads."""
    if not isinstance(text, str) or len(text) > MAX_PATTERN:
        return None
    try:
        toks = _tokens(text)
        if len(toks) < 2 or toks[0] != "{" or toks[-1] != "}":
            return None
        p = _Parser(toks[1:-1])
        tree = p.expr(0)
        if p.peek() is not None:
            return None
        return tree
    except _Bad:
        return None


def _get(event: Any, path: tuple[str | int, ...]) -> Any:
    cur = event
    for part in path:
        if isinstance(part, int):
            if type(cur) is not list or part >= len(cur):
                return _MISSING
            cur = cur[part]
        else:
            if type(cur) is not dict or part not in cur:
                return _MISSING
            cur = cur[part]
    return cur


def _glob(value: str, pattern: str) -> bool:
    if "*" not in pattern:
        return value == pattern
    pieces = pattern.split("*")
    if not value.startswith(pieces[0]) or not value.endswith(pieces[-1]):
        return False
    pos, end = len(pieces[0]), len(value) - len(pieces[-1])
    if pos > end:
        return False
    for piece in pieces[1:-1]:
        k = value.find(piece, pos, end)
        if k < 0:
            return False
        pos = k + len(piece)
    return True


def _equals(v: Any, want: Any) -> bool:
    if isinstance(v, bool):
        return str(want).lower() == ("true" if v else "false")
    if isinstance(v, int | float):
        num = _number(str(want))
        return num is not None and float(v) == num
    if isinstance(v, str):
        return _glob(v, str(want))
    return False


def _term(t: Term, event: Any) -> bool:
    v = _get(event, t.path)
    if t.op == "absent":
        return v is _MISSING
    if v is _MISSING:
        return False
    if t.op == "=":
        return _equals(v, t.value)
    if t.op == "!=":
        return not _equals(v, t.value)
    if t.op == "null":
        return v is None
    if t.op in ("true", "false"):
        return v is (t.op == "true")
    if not isinstance(v, int | float) or isinstance(v, bool):
        return False
    x, y = float(v), float(t.value)
    if t.op == "<":
        return x < y
    if t.op == ">":
        return x > y
    return x <= y if t.op == "<=" else x >= y


def matches(tree: Pattern, event: Any) -> bool:
    """Does the parsed pattern match the (JSON) event?"""
    if isinstance(tree, Term):
        return _term(tree, event)
    kind, parts = tree
    if kind == "and":
        return all(matches(p, event) for p in parts)
    return any(matches(p, event) for p in parts)


def _dnf(tree: Pattern) -> list[list[Term]]:
    if isinstance(tree, Term):
        return [[tree]]
    kind, parts = tree
    if kind == "or":
        out: list[list[Term]] = []
        for p in parts:
            out.extend(_dnf(p))
            if len(out) > MAX_ALTERNATIVES:
                raise _Bad("too many alternatives")
        return out
    combos: list[list[Term]] = [[]]
    for p in parts:
        combos = [a + b for a, b in itertools.product(combos, _dnf(p))]
        if len(combos) > MAX_ALTERNATIVES:
            raise _Bad("too many alternatives")
    return combos


def _set(event: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    cur: Any = event
    for part in path[:-1]:
        if isinstance(part, int) or type(cur) is not dict:
            return
        nxt = cur.get(part)
        if type(nxt) is not dict:
            nxt = cur[part] = {}
        cur = nxt
    last = path[-1]
    if type(cur) is dict and isinstance(last, str):
        if value is _MISSING:
            cur.pop(last, None)
        else:
            cur[last] = value


def samples(reference: Pattern, base: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One event per alternative of ``reference`` (its disjunctive normal form), each matching it:
    :data:`BASE_EVENT` (updated with ``base``) with the alternative's terms made true."""
    start = copy.deepcopy(BASE_EVENT)
    for k, v in (base or {}).items():
        start[k] = copy.deepcopy(v)
    out: list[dict[str, Any]] = []
    for alt in _dnf(reference):
        ev = copy.deepcopy(start)
        for t in alt:
            if t.op == "=":
                _set(ev, t.path, str(t.value).replace("*", "X") if isinstance(t.value, str) else t.value)
            elif t.op == "absent":
                _set(ev, t.path, _MISSING)
            elif t.op == "null":
                _set(ev, t.path, None)
            elif t.op in ("true", "false"):
                _set(ev, t.path, t.op == "true")
            elif t.op in ("<", "<="):
                _set(ev, t.path, t.value - 1)
            elif t.op in (">", ">="):
                _set(ev, t.path, t.value + 1)
        for t in alt:  # != last: another term of the alternative may have set the field
            if t.op == "!=" and not _term(t, ev):
                _set(ev, t.path, "cspm-other-value")
        if matches(reference, ev):  # an alternative that contradicts itself has no event
            out.append(ev)
    return out


def counter_sample(reference: Pattern, base: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """An ordinary successful call (:data:`BASE_EVENT` updated with ``base``) the reference does not
    match, or None when it does."""
    ev = copy.deepcopy(BASE_EVENT)
    for k, v in (base or {}).items():
        ev[k] = copy.deepcopy(v)
    return None if matches(reference, ev) else ev
