"""IAM/resource policy document helpers shared by the named checks (pure)."""

from __future__ import annotations

import urllib.parse
from functools import lru_cache
from typing import Any

import orjson

from cspm_stream import safe_regex


def as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    if isinstance(v, list):
        return v
    return [v]


@lru_cache(maxsize=16384)
def _parse_doc_text(text: str) -> Any:
    for candidate in (text, urllib.parse.unquote(text)):
        try:
            return orjson.loads(candidate)
        except orjson.JSONDecodeError:
            continue
    return None


def statements(doc: Any) -> list[dict[str, Any]]:
    """The statements of a policy document (dict, or JSON text as a fallback)."""
    if isinstance(doc, str):
        doc = _parse_doc_text(doc)
    if not isinstance(doc, dict):
        return []
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, dict)]


@lru_cache(maxsize=16384)
def _iglob(pattern: str) -> safe_regex.LinearRegex:
    return safe_regex.glob(pattern, ignorecase=True)


def iam_match(pattern: str, value: str) -> bool:
    """IAM-style case-insensitive wildcard match (``*`` and ``?`` only, as IAM defines; RE2, linear time)."""
    return _iglob(pattern).fullmatch(value)


def is_allow(st: dict[str, Any]) -> bool:
    return str(st.get("Effect", "")).lower() == "allow"


def is_deny(st: dict[str, Any]) -> bool:
    return str(st.get("Effect", "")).lower() == "deny"


def grants_action(st: dict[str, Any], action: str) -> bool:
    """Does the statement's Action/NotAction cover ``action``?"""
    if "NotAction" in st:
        return not any(isinstance(p, str) and iam_match(p, action) for p in as_list(st["NotAction"]))
    return any(isinstance(p, str) and iam_match(p, action) for p in as_list(st.get("Action")))


def all_actions(st: dict[str, Any]) -> bool:
    """Action is ``*`` or ``*:*`` (every action of every service)."""
    if "NotAction" in st:
        return False
    return any(p in ("*", "*:*") for p in as_list(st.get("Action")))


#: a resource pattern every ARN matches: ``arn:*``, ``arn:aws:*``, ``arn:aws:*:*:*:*``
_ANY_ARN = safe_regex.compile(r"arn:\*(?::\*)*|arn:aws[a-z-]*(?::\*)+", ignorecase=True)


def all_resources(st: dict[str, Any]) -> bool:
    """Resource ``*`` or an ARN pattern matching every ARN (or a NotResource, which leaves nearly everything)."""
    if "NotResource" in st:
        return True
    return any(isinstance(p, str) and (p == "*" or _ANY_ARN.fullmatch(p)) for p in as_list(st.get("Resource")))


def resource_covers(st: dict[str, Any], resource: str) -> bool:
    if "NotResource" in st:
        return not any(isinstance(p, str) and iam_match(p, resource) for p in as_list(st["NotResource"]))
    return any(isinstance(p, str) and iam_match(p, resource) for p in as_list(st.get("Resource")))


def has_condition(st: dict[str, Any]) -> bool:
    c = st.get("Condition")
    return isinstance(c, dict) and bool(c)
