"""The CloudTrail field vocabulary that rules may use, and compiled field access.

Rules name fields by dotted path into a CloudTrail record (``userIdentity.arn``,
``requestParameters.bucketName``). The first segment must be one of
:data:`CLOUDTRAIL_FIELDS`; a typo such as ``eventname`` or a field CloudTrail does
not have (``status``) fails at load with the reason. Below an *object* field
(``requestParameters``, ``responseElements``, ``userIdentity``, ...) any sub-path is
accepted, because those shapes vary per API. A path below a *scalar* field
(``eventName.x``) is an error.

Resolution semantics (documented for rule writers):

- a missing key, or a ``null`` on the way, resolves to nothing (the field is *absent*);
- a list on the way is flattened: ``requestParameters.ipPermissions.items.ipRanges``
  yields every element, and a value matches if *any* element matches;
- a value that is an object or list at the end of the path is compared through its
  compact JSON text (sorted keys) and through every string nested inside it (so
  ``requestParameters|contains: Suspended`` works, and a quoted ``"s3:GetObject"``
  is found inside a policy document held as a JSON string);
- booleans compare as ``true``/``false``, numbers through their decimal text, except
  for the numeric ``lt/lte/gt/gte`` modifiers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

#: Top-level CloudTrail record fields → "object" (free sub-paths) or "scalar".
CLOUDTRAIL_FIELDS: dict[str, str] = {
    "eventVersion": "scalar",
    "userIdentity": "object",
    "eventTime": "scalar",
    "eventSource": "scalar",
    "eventName": "scalar",
    "awsRegion": "scalar",
    "sourceIPAddress": "scalar",
    "userAgent": "scalar",
    "errorCode": "scalar",
    "errorMessage": "scalar",
    "requestParameters": "object",
    "responseElements": "object",
    "additionalEventData": "object",
    "serviceEventDetails": "object",
    "requestID": "scalar",
    "eventID": "scalar",
    "readOnly": "scalar",
    "resources": "object",
    "eventType": "scalar",
    "apiVersion": "scalar",
    "managementEvent": "scalar",
    "recipientAccountId": "scalar",
    "sharedEventID": "scalar",
    "vpcEndpointId": "scalar",
    "vpcEndpointAccountId": "scalar",
    "eventCategory": "scalar",
    "tlsDetails": "object",
    "sessionCredentialFromConsole": "scalar",
    "edgeDeviceDetails": "object",
    "insightDetails": "object",
    "addendum": "object",
}


class FieldError(ValueError):
    """A rule names a field outside the vocabulary."""


def check_field(path: str, extra: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Validate a dotted path against the vocabulary (plus ``extra`` top-level fields); return its segments."""
    if not path or path.startswith(".") or path.endswith(".") or ".." in path:
        raise FieldError(f"field {path!r} is not a dotted CloudTrail path")
    parts = tuple(path.split("."))
    kind = CLOUDTRAIL_FIELDS.get(parts[0]) or ("object" if parts[0] in extra else None)
    if kind is None:
        close = [f for f in CLOUDTRAIL_FIELDS if f.lower() == parts[0].lower()]
        hint = (
            f" (did you mean {close[0]!r}?)"
            if close
            else ": CloudTrail records have no such field, so the rule could never match"
            " (list it in detection.extra_fields if your records are enriched with it)"
        )
        raise FieldError(f"unknown CloudTrail field {parts[0]!r}{hint}")
    if kind == "scalar" and len(parts) > 1:
        raise FieldError(f"field {parts[0]!r} is a scalar; {path!r} has no sub-fields")
    return parts


_MISSING: Any = object()


def _flatten_into(value: Any, out: list[Any]) -> None:
    if isinstance(value, list):
        for v in value:
            _flatten_into(v, out)
    else:
        out.append(value)


Getter = Callable[[dict[str, Any]], list[Any]]


def getter(parts: tuple[str, ...]) -> Getter:
    """Compile a path into a function returning the list of leaf values (``[]`` = absent).

    ``None`` leaves are kept (a field present with ``null``); lists are flattened.
    """
    if len(parts) == 1:
        (k,) = parts

        def get1(rec: dict[str, Any]) -> list[Any]:
            v = rec.get(k, _MISSING)
            if v is _MISSING:
                return []
            if isinstance(v, list):
                out: list[Any] = []
                _flatten_into(v, out)
                return out
            return [v]

        return get1
    if len(parts) == 2:
        k1, k2 = parts

        def get2(rec: dict[str, Any]) -> list[Any]:
            v = rec.get(k1)
            if isinstance(v, dict):
                w = v.get(k2, _MISSING)
                if w is _MISSING:
                    return []
                if isinstance(w, list):
                    out: list[Any] = []
                    _flatten_into(w, out)
                    return out
                return [w]
            if isinstance(v, list):
                return _walk([v], parts[1:])
            return []

        return get2

    def getn(rec: dict[str, Any]) -> list[Any]:
        return _walk([rec], parts)

    return getn


#: :func:`scalar` results: the path is absent / crosses a list or ends on an object (use :func:`getter`).
MISSING: Any = _MISSING
COMPLEX: Any = object()


def scalar(parts: tuple[str, ...]) -> Callable[[dict[str, Any]], Any]:
    """Fast access to the common case: the path leads through objects to one scalar (or None).

    Returns the value, :data:`MISSING`, or :data:`COMPLEX` when a list is crossed or the leaf
    is an object/list (the caller then falls back to :func:`getter`).
    """
    if len(parts) == 1:
        (k,) = parts

        def one(rec: dict[str, Any]) -> Any:
            v = rec.get(k, _MISSING)
            return COMPLEX if v.__class__ is dict or v.__class__ is list else v

        return one
    if len(parts) == 2:
        k1, k2 = parts

        def two(rec: dict[str, Any]) -> Any:
            d = rec.get(k1)
            if d.__class__ is dict:
                v = d.get(k2, _MISSING)
                return COMPLEX if v.__class__ is dict or v.__class__ is list else v
            return COMPLEX if d.__class__ is list else _MISSING

        return two

    def many(rec: dict[str, Any]) -> Any:
        cur: Any = rec
        for k in parts:
            if cur.__class__ is dict:
                cur = cur.get(k, _MISSING)
                if cur is _MISSING:
                    return _MISSING
            elif cur.__class__ is list:
                return COMPLEX
            else:
                return _MISSING
        return COMPLEX if cur.__class__ is dict or cur.__class__ is list else cur

    return many


def _walk(nodes: list[Any], parts: tuple[str, ...]) -> list[Any]:
    for i, key in enumerate(parts):
        nxt: list[Any] = []
        last = i == len(parts) - 1
        stack = list(nodes)
        while stack:
            node = stack.pop(0)
            if isinstance(node, list):
                stack[0:0] = node
                continue
            if not isinstance(node, dict) or key not in node:
                continue
            v = node[key]
            if last:
                _flatten_into(v, nxt)
            elif v is not None:
                nxt.append(v)
        nodes = nxt
    return nodes


def text(value: Any) -> str | None:
    """The text a Sigma string value is compared with (``None`` for null)."""
    if isinstance(value, str):
        return value
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")


def strings_in(value: Any) -> list[Any]:
    """What an object/list value is matched through: its JSON text, then every string inside it.

    A rule's ``requestParameters|contains: '"s3:GetObject"'`` then also finds text inside a
    nested JSON document (IAM policy documents are JSON strings inside requestParameters).
    Scalars are returned as they are.
    """
    if not isinstance(value, dict | list):
        return [value]
    out: list[Any] = [text(value)]
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            out.append(node)
    return out


def first_text(rec: dict[str, Any], path: str) -> str | None:
    """Convenience for adapters: the first leaf of ``path`` as text (no validation)."""
    vals = _walk([rec], tuple(path.split(".")))
    for v in vals:
        t = text(v)
        if t:
            return t
    return None
