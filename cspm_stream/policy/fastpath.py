"""Fused leaf predicates for the hottest shapes: a 1- or 2-key path with eq/ne/in/
not-in/absent/present. One closure does the lookup and the test (no getter call,
no operator call); semantics are identical to the general path (tested against it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Predicate = Callable[[Any, Any], bool]


def _kind(op: str, value: Any) -> tuple[str, Any] | None:
    if op in ("absent", "present"):
        return op, None
    if op in ("eq", "ne"):
        if type(value) is str:
            return op + "_str", value
        if type(value) is bool:
            return op + "_bool", value
        if type(value) is int or type(value) is float:
            return op + "_num", value
        return None
    if op in ("lt", "le", "gt", "ge") and (type(value) is int or type(value) is float):
        return op + "_num", value
    if op in ("in", "not-in") and isinstance(value, list) and value and all(type(v) is str for v in value):
        return op.replace("-", "_") + "_str", frozenset(value)
    return None


def fused_leaf(keys: tuple[str, ...], op: str, value: Any) -> Predicate | None:
    """A fused predicate, or None when the shape is not one of the fast ones."""
    k = _kind(op, value)
    if k is None or len(keys) not in (1, 2):
        return None
    kind, val = k
    return (_ONE if len(keys) == 1 else _TWO)[kind](*keys, val)


# Each factory below: the value (None when missing/null/not reachable), then the test.


def _one_factories() -> dict[str, Callable[..., Predicate]]:
    def absent(k0: str, _: Any) -> Predicate:
        return lambda d, c: type(d) is not dict or d.get(k0) is None

    def present(k0: str, _: Any) -> Predicate:
        return lambda d, c: type(d) is dict and d.get(k0) is not None

    def eq_str(k0: str, v: str) -> Predicate:
        return lambda d, c: type(d) is dict and d.get(k0) == v

    def ne_str(k0: str, v: str) -> Predicate:
        return lambda d, c: type(d) is not dict or d.get(k0) != v

    def eq_bool(k0: str, v: bool) -> Predicate:
        return lambda d, c: type(d) is dict and d.get(k0) is v

    def ne_bool(k0: str, v: bool) -> Predicate:
        return lambda d, c: type(d) is not dict or d.get(k0) is not v

    def eq_num(k0: str, v: float) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                a = d.get(k0)
                return (type(a) is int or type(a) is float) and a == v
            return False

        return f

    def ne_num(k0: str, v: float) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                a = d.get(k0)
                return not ((type(a) is int or type(a) is float) and a == v)
            return True

        return f

    def in_str(k0: str, vs: frozenset[str]) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                a = d.get(k0)
                return type(a) is str and a in vs
            return False

        return f

    def not_in_str(k0: str, vs: frozenset[str]) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                a = d.get(k0)
                return not (type(a) is str and a in vs)
            return True

        return f

    def lt_num(k0: str, v: float) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                a = d.get(k0)
                return (type(a) is int or type(a) is float) and a < v
            return False

        return f

    def le_num(k0: str, v: float) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                a = d.get(k0)
                return (type(a) is int or type(a) is float) and a <= v
            return False

        return f

    def gt_num(k0: str, v: float) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                a = d.get(k0)
                return (type(a) is int or type(a) is float) and a > v
            return False

        return f

    def ge_num(k0: str, v: float) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                a = d.get(k0)
                return (type(a) is int or type(a) is float) and a >= v
            return False

        return f

    return locals()


def _two_factories() -> dict[str, Callable[..., Predicate]]:
    def _get(d: Any, k0: str, k1: str) -> Any:  # documentation of the inlined lookup
        if type(d) is dict:
            m = d.get(k0)
            if type(m) is dict:
                return m.get(k1)
        return None

    def absent(k0: str, k1: str, _: Any) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                m = d.get(k0)
                if type(m) is dict:
                    return m.get(k1) is None
            return True

        return f

    def present(k0: str, k1: str, _: Any) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                m = d.get(k0)
                if type(m) is dict:
                    return m.get(k1) is not None
            return False

        return f

    def eq_str(k0: str, k1: str, v: str) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                m = d.get(k0)
                if type(m) is dict:
                    return m.get(k1) == v
            return False

        return f

    def ne_str(k0: str, k1: str, v: str) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                m = d.get(k0)
                if type(m) is dict:
                    return m.get(k1) != v
            return True

        return f

    def eq_bool(k0: str, k1: str, v: bool) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                m = d.get(k0)
                if type(m) is dict:
                    return m.get(k1) is v
            return False

        return f

    def ne_bool(k0: str, k1: str, v: bool) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                m = d.get(k0)
                if type(m) is dict:
                    return m.get(k1) is not v
            return True

        return f

    def eq_num(k0: str, k1: str, v: float) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            a = _get(d, k0, k1)
            return (type(a) is int or type(a) is float) and a == v

        return f

    def ne_num(k0: str, k1: str, v: float) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            a = _get(d, k0, k1)
            return not ((type(a) is int or type(a) is float) and a == v)

        return f

    def in_str(k0: str, k1: str, vs: frozenset[str]) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                m = d.get(k0)
                if type(m) is dict:
                    a = m.get(k1)
                    return type(a) is str and a in vs
            return False

        return f

    def not_in_str(k0: str, k1: str, vs: frozenset[str]) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            if type(d) is dict:
                m = d.get(k0)
                if type(m) is dict:
                    a = m.get(k1)
                    return not (type(a) is str and a in vs)
            return True

        return f

    def lt_num(k0: str, k1: str, v: float) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            a = _get(d, k0, k1)
            return (type(a) is int or type(a) is float) and a < v

        return f

    def le_num(k0: str, k1: str, v: float) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            a = _get(d, k0, k1)
            return (type(a) is int or type(a) is float) and a <= v

        return f

    def gt_num(k0: str, k1: str, v: float) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            a = _get(d, k0, k1)
            return (type(a) is int or type(a) is float) and a > v

        return f

    def ge_num(k0: str, k1: str, v: float) -> Predicate:
        def f(d: Any, c: Any) -> bool:
            a = _get(d, k0, k1)
            return (type(a) is int or type(a) is float) and a >= v

        return f

    out = dict(locals())
    out.pop("_get")
    return out


_ONE = _one_factories()
_TWO = _two_factories()
