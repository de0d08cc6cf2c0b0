"""Condition compiler: YAML condition trees → predicates ``(attributes, ctx) -> bool``.

A condition MATCHES NON-COMPLIANT resources (true ⇒ FAIL). Forms::

    {path: A.B[].C, op: <operator>, value: <v>}     see cspm_stream.policy.operators
    {all: [c, ...]}   {any: [c, ...]}   {not: c}
    {any-of: <path to list>, where: c}  {all-of: ...}  {none-of: ...}
    {check: <named check>, args: {...}}              see cspm_stream.policy.checks

Inside ``where`` paths are relative to the list item. ``all-of``/``none-of`` over
an absent or empty list are true (vacuously); ``any-of`` is false. A non-list value
is treated as a one-element list.

Compilation happens once; it validates every operator, value, check and
argument and raises :class:`ConditionError` with the path inside the condition
(``all[1].value``) and the reason. The compiled :class:`Condition` also knows the
top-level attribute paths it reads, so a snapshot error on one of them yields an
ERROR verdict instead of a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cspm_stream.policy.checks import CheckArgError, registry
from cspm_stream.policy.operators import OPERATORS, OperatorValueError
from cspm_stream.policy.paths import MISSING as _MISSING
from cspm_stream.policy.paths import CompiledPath, PathSyntaxError, compile_path

Predicate = Callable[[Any, Any], bool]

BOOLEAN_KEYS = ("all", "any", "not")
LIST_KEYS = ("any-of", "all-of", "none-of")


class ConditionError(ValueError):
    """A condition is invalid: ``where`` is the path inside the condition."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}" if where else reason)


@dataclass(frozen=True, slots=True)
class Condition:
    predicate: Predicate
    #: dotted attribute paths (up to the first list step) read at the top level
    reads: frozenset[str]
    #: named checks used (for listings)
    checks: frozenset[str]
    #: uses ``now`` (age-days-*): must be re-evaluated even when the resource is unchanged
    time_dependent: bool = False


def compile_condition(src: Any, where: str = "condition") -> Condition:
    """Compile a condition tree; raises ConditionError naming the path and reason."""
    c = _Compiler()
    pred = c.node(src, where, relative=False)
    return Condition(pred, frozenset(c.reads), frozenset(c.checks), c.time_dependent)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


class _Compiler:
    def __init__(self) -> None:
        self.reads: set[str] = set()
        self.checks: set[str] = set()
        self.time_dependent = False

    def _path(self, text: Any, where: str, relative: bool) -> CompiledPath:
        if not isinstance(text, str):
            raise ConditionError(where, "path must be a string")
        try:
            p = compile_path(text)
        except PathSyntaxError as exc:
            raise ConditionError(where, str(exc)) from None
        if not relative and p.context_root is None:
            self.reads.add(p.attribute_path)
        return p

    def node(self, src: Any, where: str, relative: bool) -> Predicate:
        if not isinstance(src, dict) or not src:
            raise ConditionError(where, "a condition must be a non-empty mapping")
        keys = set(src)
        if "op" in keys or "path" in keys:
            return self.leaf(src, where, relative)
        if "check" in keys:
            return self.check(src, where, relative)
        for k in LIST_KEYS:
            if k in keys:
                return self.list_node(k, src, where, relative)
        if len(keys) != 1:
            raise ConditionError(where, f"expected exactly one of all/any/not, got keys {sorted(map(str, keys))}")
        (k,) = keys
        if k not in BOOLEAN_KEYS:
            allowed = "path/op/value, all, any, not, any-of/all-of/none-of + where, check + args"
            raise ConditionError(where, f"unknown condition key {k!r} (allowed: {allowed})")
        if k == "not":
            inner = self.node(src["not"], _join(where, "not"), relative)
            return lambda d, c: not inner(d, c)
        items = src[k]
        if not isinstance(items, list) or not items:
            raise ConditionError(_join(where, k), "must be a non-empty list of conditions")
        preds = tuple(self.node(x, f"{_join(where, k)}[{i}]", relative) for i, x in enumerate(items))
        return _all(preds) if k == "all" else _any(preds)

    def leaf(self, src: dict[str, Any], where: str, relative: bool) -> Predicate:
        extra = set(src) - {"path", "op", "value"}
        if extra:
            raise ConditionError(where, f"unknown key(s) {sorted(map(str, extra))} in a path/op condition")
        if "path" not in src:
            raise ConditionError(where, "missing 'path'")
        if "op" not in src:
            raise ConditionError(where, "missing 'op'")
        opname = src["op"]
        op = OPERATORS.get(opname) if isinstance(opname, str) else None
        if op is None:
            raise ConditionError(_join(where, "op"), f"unknown operator {opname!r} (known: {', '.join(OPERATORS)})")
        if op.needs_value and "value" not in src:
            raise ConditionError(where, f"operator {op.name} needs a 'value'")
        if not op.needs_value and "value" in src:
            raise ConditionError(_join(where, "value"), f"operator {op.name} takes no value")
        path = self._path(src["path"], _join(where, "path"), relative)
        if op.name.startswith("age-"):
            self.time_dependent = True
        value = src.get("value")
        try:
            test = op.compile(value)
            positive = OPERATORS[op.positive].compile(value) if op.mode == "negated" else test
        except OperatorValueError as exc:
            raise ConditionError(_join(where, "value"), f"{op.name}: {exc}") from None
        get = path.get
        if not path.projection or op.mode == "whole":

            def leaf(d: Any, c: Any) -> bool:
                return test(get(d, c), c)

            return leaf
        if op.mode == "scalar":

            def any_elem(d: Any, c: Any) -> bool:
                v = get(d, c)
                if type(v) is not list:
                    return False
                for x in v:
                    if test(x, c):
                        return True
                return False

            return any_elem

        def no_elem(d: Any, c: Any) -> bool:
            v = get(d, c)
            if type(v) is not list:
                return True
            for x in v:
                if positive(x, c):
                    return False
            return True

        return no_elem

    def list_node(self, kind: str, src: dict[str, Any], where: str, relative: bool) -> Predicate:
        extra = set(src) - {kind, "where"}
        if extra:
            raise ConditionError(where, f"unknown key(s) {sorted(map(str, extra))} next to {kind!r}")
        if "where" not in src:
            raise ConditionError(where, f"{kind} needs a 'where' condition")
        path = self._path(src[kind], _join(where, kind), relative)
        inner = self.node(src["where"], _join(where, "where"), relative=True)
        get = path.get

        def items(d: Any, c: Any) -> list[Any]:
            v = get(d, c)
            if type(v) is list:
                return v
            if v is None or v is _MISSING:
                return []
            return [v]

        if kind == "any-of":

            def any_of(d: Any, c: Any) -> bool:
                for x in items(d, c):
                    if inner(x, c):
                        return True
                return False

            return any_of
        if kind == "all-of":

            def all_of(d: Any, c: Any) -> bool:
                for x in items(d, c):
                    if not inner(x, c):
                        return False
                return True

            return all_of

        def none_of(d: Any, c: Any) -> bool:
            for x in items(d, c):
                if inner(x, c):
                    return False
            return True

        return none_of

    def check(self, src: dict[str, Any], where: str, relative: bool) -> Predicate:
        extra = set(src) - {"check", "args"}
        if extra:
            raise ConditionError(where, f"unknown key(s) {sorted(map(str, extra))} next to 'check'")
        name = src["check"]
        checks = registry()
        chk = checks.get(name) if isinstance(name, str) else None
        if chk is None:
            raise ConditionError(_join(where, "check"), f"unknown check {name!r} (known: {', '.join(sorted(checks))})")
        try:
            compiled = chk.compile(src.get("args"))
        except CheckArgError as exc:
            raise ConditionError(_join(_join(where, "args"), exc.arg), exc.reason) from None
        self.checks.add(chk.name)
        if not relative:
            for p in compiled.paths:
                if p.context_root is None:
                    self.reads.add(p.attribute_path)
        return compiled.predicate


def _all(preds: tuple[Predicate, ...]) -> Predicate:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda d, c: a(d, c) and b(d, c)

    def all_(d: Any, c: Any) -> bool:
        for p in preds:
            if not p(d, c):
                return False
        return True

    return all_


def _any(preds: tuple[Predicate, ...]) -> Predicate:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda d, c: a(d, c) or b(d, c)

    def any_(d: Any, c: Any) -> bool:
        for p in preds:
            if p(d, c):
                return True
        return False

    return any_
