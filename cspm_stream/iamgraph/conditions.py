"""IAM ``Condition`` blocks in three-valued logic: true, false, or unknown at rest.

A configuration scan knows some request-context keys for a given principal and target
(``aws:PrincipalArn``, ``aws:username``, ``aws:PrincipalTag/*``, ``iam:PassedToService``,
``iam:PermissionsBoundary`` of the target ...): :class:`Context`. A condition on a known key
is decided; one on any other key (source IP, MFA, time, ``sts:ExternalId``) is *unknown*,
and the analysis treats it conservatively — an unknown Allow still allows and an unknown
Deny does not block — and names it in the result (:func:`describe`).

Semantics follow the IAM reference: blocks are ANDed, keys within a block are ANDed, the
values of one key are ORed; negated operators (``StringNotEquals``, ``ArnNotLike`` ...) are
true when no value matches, and true on a missing key; ``...IfExists`` is true on a missing
key; ``Null`` tests presence; ``ForAnyValue:``/``ForAllValues:`` treat the context value as
a set (a missing key: false / true). Operators this module does not decide (numeric, date,
IP address, binary) are unknown unless the key is missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cspm_stream.iamgraph.patterns import Substituted, literal_aware_match, substitute, wildcard_match

#: a condition value: True, False, or None (unknown at rest)
Tri = bool | None

MAX_VALUES = 200  # values per key kept (IAM allows far fewer)


@dataclass(frozen=True, slots=True)
class Clause:
    """One ``operator: {key: values}`` test."""

    operator: str  # as written (for messages)
    base: str  # lowercase, without qualifiers: "stringequals", "arnlike", "bool", "null", ...
    key: str  # lowercase
    values: tuple[str, ...]
    if_exists: bool
    set_op: str  # "", "foranyvalue", "forallvalues"

    def text(self) -> str:
        shown = ", ".join(self.values[:4]) + (" ..." if len(self.values) > 4 else "")
        return f"{self.operator} {self.key} [{shown}]"


def _scalar_text(v: Any) -> str | None:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str | int | float):
        return str(v)
    return None


def compile_condition(raw: Any) -> tuple[Clause, ...]:
    """The clauses of a ``Condition`` object; anything malformed becomes an undecidable clause."""
    if not isinstance(raw, dict):
        return () if raw is None else (Clause("Malformed", "malformed", "", (), False, ""),)
    out: list[Clause] = []
    for op, block in raw.items():
        op_s = str(op)
        low = op_s.lower()
        set_op = ""
        for q in ("foranyvalue:", "forallvalues:"):
            if low.startswith(q):
                set_op = q[:-1]
                low = low[len(q) :]
        if_exists = low.endswith("ifexists")
        if if_exists:
            low = low[: -len("ifexists")]
        if not isinstance(block, dict):
            out.append(Clause(op_s, "malformed", "", (), False, ""))
            continue
        for key, vals in block.items():
            raw_vals = vals if isinstance(vals, list) else [vals]
            texts = [t for t in (_scalar_text(v) for v in raw_vals[:MAX_VALUES]) if t is not None]
            out.append(Clause(op_s, low, str(key).lower(), tuple(texts), if_exists, set_op))
    return tuple(out)


class Context:
    """Known request-context keys (lowercase): a string, a tuple of strings, or None = known absent.

    ``prefixes``: key families fully known (``aws:principaltag/``): a key of the family not
    listed is known to be absent.
    """

    __slots__ = ("_known", "_prefixes", "variables")

    def __init__(self, known: Mapping[str, str | tuple[str, ...] | None], prefixes: tuple[str, ...] = ()) -> None:
        self._known: dict[str, str | tuple[str, ...] | None] = {k.lower(): v for k, v in known.items()}
        self._prefixes = tuple(p.lower() for p in prefixes)
        #: values of policy variables (None: known absent)
        self.variables: Mapping[str, str | None] = _Variables(
            {k: v for k, v in self._known.items() if v is None or isinstance(v, str)}, self._prefixes
        )

    def lookup(self, key: str) -> tuple[bool, tuple[str, ...] | None]:
        """(known?, values or None when known to be absent)."""
        if key in self._known:
            v = self._known[key]
            if v is None:
                return True, None
            return True, (v,) if isinstance(v, str) else v
        if self._prefixes and key.startswith(self._prefixes):
            return True, None
        return False, None

    def with_keys(self, keys: Mapping[str, str | tuple[str, ...] | None], prefixes: tuple[str, ...] = ()) -> Context:
        """This context plus ``keys`` (and key families ``prefixes``)."""
        merged: dict[str, str | tuple[str, ...] | None] = dict(self._known)
        merged.update({k.lower(): v for k, v in keys.items()})
        return Context(merged, self._prefixes + prefixes)


class _Variables(Mapping[str, "str | None"]):
    """Policy-variable values; a key of a fully known family that is not listed is absent (None)."""

    __slots__ = ("_prefixes", "_values")

    def __init__(self, values: dict[str, str | None], prefixes: tuple[str, ...]) -> None:
        self._values = values
        self._prefixes = prefixes

    def __getitem__(self, key: str) -> str | None:
        if key in self._values:
            return self._values[key]
        if self._prefixes and key.startswith(self._prefixes):
            return None
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self._values or (isinstance(key, str) and bool(self._prefixes) and key.startswith(self._prefixes))

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


_STRING = {"stringequals", "stringlike", "stringequalsignorecase", "arnequals", "arnlike"}
_NEGATED = {
    "stringnotequals": "stringequals",
    "stringnotlike": "stringlike",
    "stringnotequalsignorecase": "stringequalsignorecase",
    "arnnotequals": "arnequals",
    "arnnotlike": "arnlike",
}


def _one(base: str, pattern: Substituted, value: str) -> bool:
    if base == "stringequals":
        return pattern.pattern == value if not pattern.unknown else True
    if base == "stringequalsignorecase":
        return pattern.pattern.lower() == value.lower() if not pattern.unknown else True
    # like / arn operators: wildcards
    return literal_aware_match(pattern, value, ignorecase=False)


def _values_match(clause: Clause, base: str, ctx: Context, value: str) -> Tri:
    unknown = False
    for raw in clause.values:
        sub = substitute(raw, ctx.variables)
        if sub.unknown and base in ("stringequals", "stringequalsignorecase"):
            unknown = True
            continue
        if _one(base, sub, value):
            if sub.unknown:
                unknown = True
                continue
            return True
    return None if unknown else False


def evaluate_clause(clause: Clause, ctx: Context) -> Tri:
    """One clause against the known context (None = not decidable at rest)."""
    base = clause.base
    known, values = ctx.lookup(clause.key)
    if not known:
        return None
    if base == "null":
        want_absent = any(v.lower() == "true" for v in clause.values)
        want_present = any(v.lower() == "false" for v in clause.values)
        absent = values is None
        return (want_absent and absent) or (want_present and not absent)
    if values is None:  # the key is known to be missing from the request
        if clause.set_op == "forallvalues":
            return True
        if clause.set_op == "foranyvalue":
            return False
        if clause.if_exists:
            return True
        return base in _NEGATED
    negated = base in _NEGATED
    positive = _NEGATED.get(base, base)
    if positive == "bool":
        wanted = {v.lower() for v in clause.values}
        hit: Tri = any(v.lower() in wanted for v in values)
    elif positive in _STRING:
        results = [_values_match(clause, positive, ctx, v) for v in values]
        if clause.set_op == "forallvalues":
            hit = False if any(r is False for r in results) else (None if any(r is None for r in results) else True)
        else:
            hit = True if any(r is True for r in results) else (None if any(r is None for r in results) else False)
    else:
        return None  # numeric, date, IP, binary: not decided at rest
    if hit is None:
        return None
    return (not hit) if negated else hit


def evaluate(clauses: tuple[Clause, ...], ctx: Context) -> tuple[Tri, tuple[Clause, ...]]:
    """AND of the clauses: (value, the clauses left undecided)."""
    undecided: list[Clause] = []
    for c in clauses:
        if c.base == "malformed":
            undecided.append(c)
            continue
        v = evaluate_clause(c, ctx)
        if v is False:
            return False, ()
        if v is None:
            undecided.append(c)
    return (None, tuple(undecided)) if undecided else (True, ())


def describe(clauses: tuple[Clause, ...]) -> str:
    """The undecided clauses as one line (``StringEquals aws:SourceIp [...] and ...``)."""
    return " and ".join(c.text() for c in clauses)


__all__ = ["Clause", "Context", "Tri", "compile_condition", "describe", "evaluate", "evaluate_clause", "wildcard_match"]
