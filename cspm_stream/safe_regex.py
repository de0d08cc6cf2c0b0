"""Linear-time regular expressions (RE2) for everything that matches untrusted text.

Rules (Sigma ``|re``, wildcards), posture policies (``matches``-style operators) and
configuration globs match text that an attacker may write: a CloudTrail field, a tag,
a policy document. Python's ``re`` backtracks, so a pattern such as ``(a+)+$`` takes
exponential time on a 40-character value. RE2 guarantees time linear in the text,
at the price of refusing what needs backtracking (backreferences, lookaround,
atomic groups, possessive quantifiers): :func:`compile` raises :class:`RegexError`
naming the construct, and loaders turn that into a load error naming the file and
the rule.

Semantics kept from Python/PCRE: ``search`` finds the pattern anywhere, ``fullmatch``
anchors both ends; flags are the inline ``(?i)``, ``(?m)`` and ``(?s)``; ``\\Z`` means
end of text. Differences to know: ``\\d``, ``\\w`` and ``\\s`` are ASCII classes in
RE2 (Unicode in Python ``re``) and case folding is Unicode simple folding.

>>> rx = compile(r"(a+)+$")
>>> rx.search("a" * 40 + "!")
False
>>> compile("admin", ignorecase=True).search("role/MyAdminRole")
True
>>> glob("arn:aws:iam::*:role/terraform-*").fullmatch("arn:aws:iam::123456789012:role/terraform-ci")
True
"""

from __future__ import annotations

from typing import Any

import re2
from re2 import _re2  # type: ignore[attr-defined]  # the low-level engine: no match objects, no offset decoding

__all__ = ["LinearRegex", "RegexError", "compile", "escape", "glob", "re2_object"]

_UNANCHORED: Any = _re2.RE2.Anchor.UNANCHORED
_BOTH: Any = _re2.RE2.Anchor.ANCHOR_BOTH
_NULL = (-1, -1)

#: RE2 error fragments → what the rule writer used (RE2's own message follows)
_HINTS = (
    ("(?=", "lookahead"),
    ("(?!", "negative lookahead"),
    ("(?<=", "lookbehind"),
    ("(?<!", "negative lookbehind"),
    ("(?>", "an atomic group"),
    ("(?P=", "a named backreference"),
)


class RegexError(ValueError):
    """A pattern the linear-time engine cannot compile; the message says why."""


#: texts up to this long have their verdicts remembered (field values repeat: ARNs, agents, names)
MEMO_TEXT = 160
MEMO_ENTRIES = 512


class LinearRegex:
    """A compiled RE2 pattern with boolean ``search``/``fullmatch`` over str.

    Verdicts on short texts are remembered (at most :data:`MEMO_ENTRIES` per pattern and
    mode, then forgotten at once), so a value that recurs — the same role ARN, user agent or
    event name on many records — costs one dictionary lookup after its first evaluation.
    """

    __slots__ = ("_full", "_re", "_search", "pattern")

    def __init__(self, pattern: str, compiled: Any) -> None:
        self.pattern = pattern
        self._re = compiled
        self._search: dict[str, bool] = {}
        self._full: dict[str, bool] = {}

    def search(self, text: str) -> bool:
        """True if the pattern occurs anywhere in ``text``."""
        memo = self._search
        hit = memo.get(text)
        if hit is not None:
            return hit
        b = text.encode("utf-8", "surrogatepass")
        found = bool(self._re.Match(_UNANCHORED, b, 0, len(b))[0] != _NULL)
        if len(text) <= MEMO_TEXT:
            if len(memo) >= MEMO_ENTRIES:
                memo.clear()
            memo[text] = found
        return found

    def fullmatch(self, text: str) -> bool:
        """True if the whole of ``text`` matches."""
        memo = self._full
        hit = memo.get(text)
        if hit is not None:
            return hit
        b = text.encode("utf-8", "surrogatepass")
        found = bool(self._re.Match(_BOTH, b, 0, len(b))[0] != _NULL)
        if len(text) <= MEMO_TEXT:
            if len(memo) >= MEMO_ENTRIES:
                memo.clear()
            memo[text] = found
        return found

    def __repr__(self) -> str:
        return f"LinearRegex({self.pattern!r})"


def _translate(pattern: str) -> str:
    r"""Python/PCRE spellings RE2 lacks: ``\Z`` (end of text) becomes ``\z``."""
    if "\\Z" not in pattern:
        return pattern
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append("\\z" if nxt == "Z" else c + nxt)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _explain(pattern: str, reason: str) -> str:
    for frag, what in _HINTS:
        if frag in pattern:
            return f"uses {what}, which a linear-time engine (RE2) cannot evaluate ({reason})"
    if "invalid escape sequence: \\" in reason and any(f"\\{d}" in pattern for d in "123456789"):
        return f"uses a backreference, which a linear-time engine (RE2) cannot evaluate ({reason})"
    if "bad repetition operator: ++" in reason or "bad repetition operator: *+" in reason:
        return f"uses a possessive quantifier, which RE2 does not support ({reason})"
    return f"not a valid RE2 pattern: {reason}"


_COMPILED: dict[tuple[str, bool, bool, bool], LinearRegex] = {}


def compile(pattern: str, *, ignorecase: bool = False, multiline: bool = False, dotall: bool = False) -> LinearRegex:
    """Compile ``pattern`` for linear-time matching; raise :class:`RegexError` if RE2 cannot.

    The same pattern with the same flags gives the same object (rules sharing a pattern share
    its remembered verdicts).
    """
    if not isinstance(pattern, str):
        raise RegexError(f"pattern must be text, not {type(pattern).__name__}")
    key = (pattern, ignorecase, multiline, dotall)
    known = _COMPILED.get(key)
    if known is not None:
        return known
    rx = _compile(pattern, ignorecase, multiline, dotall)
    if len(_COMPILED) >= 10_000:
        _COMPILED.clear()
    _COMPILED[key] = rx
    return rx


def _compile(pattern: str, ignorecase: bool, multiline: bool, dotall: bool) -> LinearRegex:
    flags = ("i" if ignorecase else "") + ("m" if multiline else "") + ("s" if dotall else "")
    source = (f"(?{flags})" if flags else "") + _translate(pattern)
    opts = re2.Options()
    opts.never_capture = True  # only "does it match" is asked: the fastest RE2 path
    opts.log_errors = False
    try:
        compiled = _re2.RE2(source.encode("utf-8", "surrogatepass"), opts)
    except Exception as exc:  # pybind11 surfaces RE2 failures as its own error type
        raise RegexError(_explain(pattern, str(exc))) from None
    if not compiled.ok():
        err = compiled.error()
        raise RegexError(_explain(pattern, err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err)))
    return LinearRegex(pattern, compiled)


def escape(literal: str) -> str:
    """``literal`` with every RE2 metacharacter escaped."""
    return re2.escape(literal)


def glob(pattern: str, *, ignorecase: bool = True, classes: bool = False) -> LinearRegex:
    """A shell-style glob as RE2, matched with :meth:`LinearRegex.fullmatch`.

    ``*`` is any run, ``?`` one character; with ``classes`` (fnmatch's full syntax) ``[seq]``
    and ``[!seq]`` are character classes too (an unclosed ``[`` is literal). Nothing else is special.
    """
    parts: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        elif ch == "[" and classes:
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                parts.append(escape("["))
                continue
            body = pattern[i:j]
            i = j + 1
            neg = body.startswith("!")
            body = body[1:] if neg else body
            items = "".join("\\" + c if c in "\\]^[" else c for c in body)
            parts.append(f"[{'^' if neg else ''}{items}]")
        else:
            parts.append(escape(ch))
    return compile("".join(parts), ignorecase=ignorecase, dotall=True)


def re2_object(pattern: str, *, ignorecase: bool = False, multiline: bool = False, dotall: bool = False) -> Any:
    """The ``re``-like RE2 object of the ``re2`` package for ``pattern`` (validated by :func:`compile`).

    For libraries that want a ``re.Pattern`` look-alike (pySigma validates rule regexes
    with one); RE2's own error logging to stderr is off.
    """
    compile(pattern, ignorecase=ignorecase, multiline=multiline, dotall=dotall)
    flags = ("i" if ignorecase else "") + ("m" if multiline else "") + ("s" if dotall else "")
    opts = re2.Options()
    opts.log_errors = False
    return re2.compile((f"(?{flags})" if flags else "") + _translate(pattern), opts)
