"""Attribute paths, compiled once into getter closures.

Grammar (documented for policy authors)::

    path     := segment ("." segment)*
    segment  := name ("[]" | "[" int "]")*
    name     := bare | '"' anything-but-quote '"'

* ``A.B`` reads key ``B`` of the object at key ``A``.
* ``A[]`` flattens the list at ``A``: the path then yields a *list* (a projection),
  and later segments apply to each element (elements lacking them are dropped).
  ``A[].B[]`` flattens one more level.
* ``A[0]`` indexes a list (negative indexes count from the end).
* Quote names containing dots: ``Tags."aws:cloudformation:stack-name"``.
* A path starting with ``$`` reads the snapshot itself rather than its
  attributes: ``$tags`` (the tag map, e.g. ``$tags.env``), ``$region``,
  ``$account_id``, ``$resource_id``, ``$arn``, ``$resource_type``.

A missing key, a non-object where an object is needed, or a bad index yields
:data:`MISSING` ("absent"). Evaluation never raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


#: The value of an absent path.
MISSING: Final[Any] = _Missing()

#: ``$`` roots a path may start with, read from the evaluation context.
CONTEXT_ROOTS: Final = ("tags", "region", "account_id", "resource_id", "arn", "resource_type")

_SEG = re.compile(r'(?:"(?P<q>[^"]*)"|(?P<n>[^.\[\]"]+))(?P<sfx>(?:\[-?\d*\])*)')
_SFX = re.compile(r"\[(-?\d*)\]")


class PathSyntaxError(ValueError):
    """The path text does not follow the grammar."""


@dataclass(frozen=True, slots=True)
class Step:
    kind: str  # "key" | "flat" | "index"
    key: str = ""
    index: int = 0


@dataclass(frozen=True, slots=True)
class CompiledPath:
    """A parsed path and its getter. ``get(doc, ctx)`` returns a value or MISSING."""

    text: str
    steps: tuple[Step, ...]
    context_root: str | None  # "tags", "region", ... when the path starts with "$"
    projection: bool  # contains "[]": the value is a list of element values
    get: Callable[[Any, Any], Any]

    @property
    def root(self) -> str | None:
        """The top-level attribute key this path reads (None for ``$`` paths)."""
        if self.context_root is not None or not self.steps or self.steps[0].kind != "key":
            return None
        return self.steps[0].key

    @property
    def attribute_path(self) -> str:
        """Dotted key prefix up to the first list step (used to match snapshot errors)."""
        keys: list[str] = []
        for s in self.steps:
            if s.kind != "key":
                break
            keys.append(s.key)
        return ".".join(keys)


def parse(text: str) -> tuple[str | None, tuple[Step, ...]]:
    """Split a path into steps; raises PathSyntaxError saying where it is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise PathSyntaxError("path must be a non-empty string")
    src = text.strip()
    context_root: str | None = None
    if src.startswith("$"):
        head, _, rest = src[1:].partition(".")
        if head not in CONTEXT_ROOTS:
            raise PathSyntaxError(f"unknown context root ${head} (use one of: ${', $'.join(CONTEXT_ROOTS)})")
        context_root = head
        if head != "tags" and rest:
            raise PathSyntaxError(f"${head} is a string and has no sub-keys")
        src = rest
        if not src:
            return context_root, ()
    steps: list[Step] = []
    pos = 0
    while True:
        m = _SEG.match(src, pos)
        if m is None:
            raise PathSyntaxError(f"bad segment at character {pos + 1} of {text!r}")
        name = m.group("q") if m.group("q") is not None else m.group("n")
        steps.append(Step("key", key=name))
        for sm in _SFX.finditer(m.group("sfx")):
            if sm.group(1) == "":
                steps.append(Step("flat"))
            else:
                steps.append(Step("index", index=int(sm.group(1))))
        pos = m.end()
        if pos == len(src):
            break
        if src[pos] != ".":
            raise PathSyntaxError(f"expected '.' at character {pos + 1} of {text!r}")
        pos += 1
    return context_root, tuple(steps)


def _ctx_getter(root: str) -> Callable[[Any, Any], Any]:
    def get(doc: Any, ctx: Any) -> Any:
        return getattr(ctx, root)

    return get


def _walk(steps: tuple[Step, ...]) -> Callable[[Any, Any], Any]:
    """Getter ``(doc, ctx)`` over a document for the given steps (ctx unused)."""
    if all(s.kind == "key" for s in steps):
        keys = tuple(s.key for s in steps)
        if len(keys) == 1:
            (k0,) = keys

            def get1(doc: Any, ctx: Any = None) -> Any:
                if type(doc) is dict:
                    return doc.get(k0, MISSING)
                return MISSING

            return get1
        if len(keys) == 2:
            k0, k1 = keys

            def get2(doc: Any, ctx: Any = None) -> Any:
                if type(doc) is dict:
                    v = doc.get(k0, MISSING)
                    if type(v) is dict:
                        return v.get(k1, MISSING)
                return MISSING

            return get2

        def getn(doc: Any, ctx: Any = None) -> Any:
            v = doc
            for k in keys:
                if type(v) is not dict:
                    return MISSING
                v = v.get(k, MISSING)
                if v is MISSING:
                    return MISSING
            return v

        return getn

    def general(doc: Any, ctx: Any = None) -> Any:
        return _eval_steps(doc, steps, 0)

    return general


def _eval_steps(doc: Any, steps: tuple[Step, ...], start: int) -> Any:
    v = doc
    for i in range(start, len(steps)):
        s = steps[i]
        if s.kind == "key":
            if not isinstance(v, dict):
                return MISSING
            v = v.get(s.key, MISSING)
            if v is MISSING:
                return MISSING
        elif s.kind == "index":
            if not isinstance(v, list):
                return MISSING
            try:
                v = v[s.index]
            except IndexError:
                return MISSING
        else:  # flat
            if not isinstance(v, list):
                return MISSING
            rest = steps[i + 1 :]
            out: list[Any] = []
            if not rest:
                return list(v)
            # a following "flat" flattens one more level of nesting
            nested_flat = rest[0].kind == "flat"
            for item in v:
                r = _eval_steps(item, steps, i + 1)
                if r is MISSING:
                    continue
                if nested_flat or _is_projection(rest):
                    if isinstance(r, list):
                        out.extend(r)
                    else:
                        out.append(r)
                else:
                    out.append(r)
            return out
    return v


def _is_projection(steps: tuple[Step, ...]) -> bool:
    return any(s.kind == "flat" for s in steps)


def compile_path(text: str) -> CompiledPath:
    """Parse and build the getter. Raises PathSyntaxError."""
    context_root, steps = parse(text)
    getter: Callable[[Any, Any], Any]
    if context_root is not None:
        root_name = context_root
        base = _ctx_getter(context_root)
        if not steps:
            getter = base
        else:
            walk = _walk(steps)

            def getter(doc: Any, ctx: Any) -> Any:
                return walk(getattr(ctx, root_name), ctx)

    else:
        getter = _walk(steps)

    return CompiledPath(
        text=text,
        steps=steps,
        context_root=context_root,
        projection=_is_projection(steps),
        get=getter,
    )
