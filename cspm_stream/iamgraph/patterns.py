"""IAM wildcard matching and policy variables (pure, linear time).

IAM patterns know two wildcards, ``*`` (any run, ``/`` and ``:`` included) and ``?`` (one
character). Actions match case-insensitively, resource ARNs case-sensitively. The common
shapes (``*``, a literal, ``prefix*``) never reach a regex; the rest are RE2 globs
(:func:`cspm_stream.safe_regex.glob`), so a hostile pattern costs linear time.

Policy variables (``${aws:username}``) are substituted per principal before matching
(:func:`substitute`); a variable whose value is not known at rest matches anything and the
match is reported as depending on it (:class:`Substituted` ``unknown``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from cspm_stream import safe_regex

#: the escapes IAM defines inside ``${...}``
_LITERALS = {"*": "\x00STAR\x00", "?": "\x00QMARK\x00", "$": "$"}


@lru_cache(maxsize=65536)
def _compiled(pattern: str, ignorecase: bool) -> safe_regex.LinearRegex:
    return safe_regex.glob(pattern, ignorecase=ignorecase)


def wildcard_match(pattern: str, value: str, *, ignorecase: bool) -> bool:
    """Does IAM ``pattern`` (``*``, ``?``) match the whole of ``value``?"""
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignorecase else pattern == value
    if pattern.endswith("*") and "*" not in pattern[:-1] and "?" not in pattern:
        head = pattern[:-1]
        return value.lower().startswith(head.lower()) if ignorecase else value.startswith(head)
    return _compiled(pattern, ignorecase).fullmatch(value)


@lru_cache(maxsize=131072)
def action_match(pattern: str, action: str) -> bool:
    """An Action/NotAction entry against a lowercase ``service:name`` action."""
    return wildcard_match(pattern.lower(), action, ignorecase=False)


@dataclass(frozen=True, slots=True)
class Substituted:
    """A pattern with its policy variables replaced; ``unknown``: variables left as ``*``;
    ``impossible``: a variable known to be absent from the request (the pattern matches nothing)."""

    pattern: str
    unknown: tuple[str, ...] = ()
    impossible: bool = False


def substitute(pattern: str, values: Mapping[str, str | None]) -> Substituted:
    """Replace ``${key}`` (and ``${key, 'default'}``) with ``values[key.lower()]``.

    ``${*}``, ``${?}`` and ``${$}`` are the literal characters. A key mapped to None is known
    to be absent from the request: without a default the pattern matches nothing. A key not
    in ``values`` (unknown at rest) becomes ``*`` and is named in ``unknown``.
    """
    if "${" not in pattern:
        return Substituted(pattern)
    out: list[str] = []
    unknown: list[str] = []
    impossible = False
    i = 0
    n = len(pattern)
    while i < n:
        j = pattern.find("${", i)
        if j < 0:
            out.append(pattern[i:])
            break
        k = pattern.find("}", j + 2)
        if k < 0:
            out.append(pattern[i:])
            break
        out.append(pattern[i:j])
        body = pattern[j + 2 : k]
        i = k + 1
        if body in _LITERALS:
            out.append(_LITERALS[body])
            continue
        name, _, default = body.partition(",")
        name = name.strip()
        known = name.lower() in values
        value = values.get(name.lower())
        if value is None:
            d = default.strip()
            if len(d) >= 2 and d[0] == d[-1] == "'":
                value = d[1:-1]
        if value is None and known:
            impossible = True
            out.append("*")
        elif value is None:
            out.append("*")
            unknown.append("${" + name + "}")
        else:
            out.append(value.replace("*", _LITERALS["*"]).replace("?", _LITERALS["?"]))
    text = "".join(out)
    return Substituted(text, tuple(unknown), impossible)


def literal_aware_match(sub: Substituted, value: str, *, ignorecase: bool) -> bool:
    """Match a substituted pattern whose literal ``*``/``?`` (from ``${*}`` or a value) stay literal."""
    p = sub.pattern
    if sub.impossible:
        return False
    if "\x00" not in p:
        return wildcard_match(p, value, ignorecase=ignorecase)
    # literal wildcard characters: escape them for the glob, then match
    parts = []
    for piece in p.split("\x00"):
        if piece == "STAR":
            parts.append("[*]")
        elif piece == "QMARK":
            parts.append("[?]")
        else:
            parts.append(piece.replace("[", "[[]"))
    rx = safe_regex.glob("".join(parts), ignorecase=ignorecase, classes=True)
    return rx.fullmatch(value)
