"""Operator registry: the ``op:`` names a condition leaf may use.

Each operator is registered under the exact string policies use, declares the
JSON schema of its ``value`` and compiles that value once into a test
``(actual, ctx) -> bool``. ``actual`` is a value or :data:`~.paths.MISSING`.

Semantics (documented for policy authors):

* ``absent``/``present``: absent means missing *or null* (the inventory stores a
  legitimately "not configured" detail as null). ``empty``: absent, ``""``, ``[]``
  or ``{}``; ``not-empty`` the opposite.
* ``eq``/``ne``: equality; booleans never equal numbers. An absent value is
  ``ne`` anything. ``in``/``not-in``: membership in the ``value`` list.
* ``contains``/``not-contains``: substring of a string, element of a list, key of
  an object. ``regex`` searches the string (anchor with ``^…$``) on RE2, in time
  linear in the value (no backreferences or lookaround: such a pattern fails the
  policy at load); ``glob`` is a case-sensitive shell glob over the whole string
  (``*``, ``?``, ``[seq]``, ``[!seq]``), also on RE2.
* ``lt le gt ge``: numbers with numbers, strings with strings; anything else is false.
* ``age-days-gt N`` / ``age-days-lt N``: the attribute is an ISO 8601 time (or epoch
  seconds) older / younger than N days at evaluation time ``now``.
* ``expires-within-days N``: the attribute is an ISO 8601 time (or epoch seconds) less than
  N days after ``now`` — past times included (a certificate expiring in 3 days or expired last week).
* ``cidr-contains V``: the attribute (a CIDR or an address) contains network V
  (V may be a list: any). ``len-eq/len-gt/len-lt``: length of a list, string or object.
* On a projection path (``A[].B``) the scalar operators (eq in regex glob lt le gt
  ge age-* cidr-contains) hold when ANY element satisfies them, and ``ne``/``not-in``
  hold when NO element is equal/in; the others see the projected list as a whole.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cspm_stream import safe_regex
from cspm_stream.policy.paths import MISSING

Test = Callable[[Any, Any], bool]

_NUMBER = {"type": "number"}
_ANY: dict[str, Any] = {}


class OperatorValueError(ValueError):
    """The ``value`` given to an operator is not acceptable."""


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    #: "scalar": existential over projections; "negated": universal negation over
    #: projections; "whole": sees the value as is
    mode: str
    needs_value: bool
    value_schema: dict[str, Any]
    compile: Callable[[Any], Test]
    #: for "negated" operators: the positive operator name
    positive: str = ""
    doc: str = ""


OPERATORS: dict[str, Operator] = {}


def register(op: Operator) -> Operator:
    if op.name in OPERATORS:
        raise RuntimeError(f"operator {op.name} registered twice")
    OPERATORS[op.name] = op
    return op


def _is_num(v: Any) -> bool:
    return type(v) is int or type(v) is float  # type(True) is bool, never int


def equal(a: Any, b: Any) -> bool:
    """Equality where booleans never equal numbers (``True != 1``)."""
    if (type(a) is bool) != (type(b) is bool):
        return False
    return bool(a == b)


# ---------------------------------------------------------------- presence


def _c_absent(_: Any) -> Test:
    return lambda a, ctx: a is MISSING or a is None


def _c_present(_: Any) -> Test:
    return lambda a, ctx: a is not MISSING and a is not None


def _empty(a: Any) -> bool:
    return a is MISSING or a is None or ((type(a) is str or type(a) is list or type(a) is dict) and not a)


def _c_empty(_: Any) -> Test:
    return lambda a, ctx: _empty(a)


def _c_not_empty(_: Any) -> Test:
    return lambda a, ctx: not _empty(a)


# ---------------------------------------------------------------- equality


def _c_eq(value: Any) -> Test:
    if type(value) is bool:
        return lambda a, ctx: a is value
    if type(value) is str:
        return lambda a, ctx: a == value  # str == non-str is False
    return lambda a, ctx: a is not MISSING and equal(a, value)


def _c_ne(value: Any) -> Test:
    eq = _c_eq(value)
    return lambda a, ctx: not eq(a, ctx)


def _c_in(value: Any) -> Test:
    if not isinstance(value, list):
        raise OperatorValueError("value must be a list")
    bools = {v for v in value if type(v) is bool}
    hashable: set[Any] = set()
    other: list[Any] = []
    for v in value:
        if type(v) is bool:
            continue
        if isinstance(v, str | int | float) or v is None:
            hashable.add(v)
        else:
            other.append(v)
    frozen = frozenset(hashable)
    fbools = frozenset(bools)

    def test(a: Any, ctx: Any) -> bool:
        if a is MISSING:
            return False
        if type(a) is bool:
            return a in fbools
        if type(a) is str or type(a) is int or type(a) is float or a is None:
            return a in frozen
        return any(equal(a, v) for v in other)

    return test


def _c_not_in(value: Any) -> Test:
    pos = _c_in(value)
    return lambda a, ctx: not pos(a, ctx)


def _c_contains(value: Any) -> Test:
    def test(a: Any, ctx: Any) -> bool:
        t = type(a)
        if t is list:
            return any(equal(x, value) for x in a)
        if t is str:
            return type(value) is str and value in a
        if t is dict:
            return type(value) is str and value in a
        return False

    return test


def _c_not_contains(value: Any) -> Test:
    pos = _c_contains(value)
    return lambda a, ctx: not pos(a, ctx)


# ---------------------------------------------------------------- patterns


def _c_regex(value: Any) -> Test:
    if not isinstance(value, str):
        raise OperatorValueError("value must be a regular expression string")
    try:
        rx = safe_regex.compile(value)
    except safe_regex.RegexError as exc:
        raise OperatorValueError(f"invalid regular expression {value!r}: {exc}") from None
    search = rx.search
    return lambda a, ctx: type(a) is str and search(a)


def glob_to_regex(pattern: str) -> safe_regex.LinearRegex:
    """A case-sensitive shell glob (fnmatch syntax) as a linear-time whole-string matcher (``.fullmatch``)."""
    return safe_regex.glob(pattern, ignorecase=False, classes=True)


def _c_glob(value: Any) -> Test:
    if not isinstance(value, str):
        raise OperatorValueError("value must be a glob string")
    match = glob_to_regex(value).fullmatch
    return lambda a, ctx: type(a) is str and match(a)


# ---------------------------------------------------------------- ordering


def _ordering(cmp: Callable[[Any, Any], bool]) -> Callable[[Any], Test]:
    def compile_(value: Any) -> Test:
        if _is_num(value):
            return lambda a, ctx: (type(a) is int or type(a) is float) and cmp(a, value)
        if isinstance(value, str):
            return lambda a, ctx: type(a) is str and cmp(a, value)
        raise OperatorValueError("value must be a number or a string")

    return compile_


# ---------------------------------------------------------------- time


@lru_cache(maxsize=65536)
def _epoch_of_iso(text: str) -> float | None:
    s = text.strip()
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    try:
        t = dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


def epoch_seconds(a: Any) -> float | None:
    """Epoch seconds of an ISO 8601 string or a number; None when not a time."""
    if type(a) is str:
        return _epoch_of_iso(a)
    if _is_num(a):
        return float(a)
    return None


def _age(older: bool) -> Callable[[Any], Test]:
    def compile_(value: Any) -> Test:
        if not _is_num(value) or value < 0:
            raise OperatorValueError("value must be a non-negative number of days")
        secs = float(value) * 86400.0

        def test(a: Any, ctx: Any) -> bool:
            t = epoch_seconds(a)
            if t is None:
                return False
            age = ctx.now_ts - t
            return bool(age > secs) if older else bool(age < secs)

        return test

    return compile_


def _expires_within(value: Any) -> Test:
    if not _is_num(value) or value < 0:
        raise OperatorValueError("value must be a non-negative number of days")
    secs = float(value) * 86400.0

    def test(a: Any, ctx: Any) -> bool:
        t = epoch_seconds(a)
        return t is not None and t - ctx.now_ts < secs

    return test


# ---------------------------------------------------------------- networks

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=65536)
def network(text: str) -> Network | None:
    """``ipaddress`` network of a CIDR or address string (host bits allowed); None if invalid."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _c_cidr_contains(value: Any) -> Test:
    raw = value if isinstance(value, list) else [value]
    nets: list[Network] = []
    for v in raw:
        if not isinstance(v, str):
            raise OperatorValueError("value must be a CIDR string or a list of them")
        n = network(v)
        if n is None:
            raise OperatorValueError(f"{v!r} is not a CIDR or IP address")
        nets.append(n)
    wanted = tuple(nets)

    def test(a: Any, ctx: Any) -> bool:
        if type(a) is not str:
            return False
        have = network(a)
        if have is None:
            return False
        return any(w.version == have.version and w.subnet_of(have) for w in wanted)  # type: ignore[arg-type]

    return test


# ---------------------------------------------------------------- length


def _length(cmp: Callable[[int, int], bool]) -> Callable[[Any], Test]:
    def compile_(value: Any) -> Test:
        if type(value) is not int or value < 0:
            raise OperatorValueError("value must be a non-negative integer")

        def test(a: Any, ctx: Any) -> bool:
            t = type(a)
            if t is list or t is str or t is dict:
                return cmp(len(a), value)
            return False

        return test

    return compile_


def _install() -> None:
    S = "scalar"
    W = "whole"
    N = "negated"
    str_or_num = {"type": ["number", "string"]}
    days = {"type": "number", "minimum": 0}
    cidrs = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}
    length = {"type": "integer", "minimum": 0}
    for op in (
        Operator("eq", S, True, _ANY, _c_eq, doc="equal"),
        Operator("ne", N, True, _ANY, _c_ne, positive="eq", doc="not equal (absent is not equal)"),
        Operator("in", S, True, {"type": "array"}, _c_in, doc="one of the listed values"),
        Operator("not-in", N, True, {"type": "array"}, _c_not_in, positive="in", doc="none of the listed values"),
        Operator("contains", W, True, _ANY, _c_contains, doc="substring / list element / object key"),
        Operator("not-contains", W, True, _ANY, _c_not_contains, doc="negation of contains"),
        Operator("regex", S, True, {"type": "string"}, _c_regex, doc="RE2 (linear-time) search on a string"),
        Operator("glob", S, True, {"type": "string"}, _c_glob, doc="shell glob over the whole string"),
        Operator("lt", S, True, str_or_num, _ordering(operator.lt), doc="less than"),
        Operator("le", S, True, str_or_num, _ordering(operator.le), doc="less or equal"),
        Operator("gt", S, True, str_or_num, _ordering(operator.gt), doc="greater than"),
        Operator("ge", S, True, str_or_num, _ordering(operator.ge), doc="greater or equal"),
        Operator("age-days-gt", S, True, days, _age(True), doc="ISO time older than N days"),
        Operator("age-days-lt", S, True, days, _age(False), doc="ISO time younger than N days"),
        Operator(
            "expires-within-days", S, True, days, _expires_within, doc="ISO time less than N days from now (or past)"
        ),
        Operator("cidr-contains", S, True, cidrs, _c_cidr_contains, doc="CIDR contains the value network"),
        Operator("absent", W, False, _ANY, _c_absent, doc="missing or null"),
        Operator("present", W, False, _ANY, _c_present, doc="present and not null"),
        Operator("empty", W, False, _ANY, _c_empty, doc="absent, null, '', [] or {}"),
        Operator("not-empty", W, False, _ANY, _c_not_empty, doc="negation of empty"),
        Operator("len-eq", W, True, length, _length(lambda a, b: a == b), doc="length equal"),
        Operator("len-gt", W, True, length, _length(lambda a, b: a > b), doc="length greater than"),
        Operator("len-lt", W, True, length, _length(lambda a, b: a < b), doc="length less than"),
    ):
        register(op)


_install()
