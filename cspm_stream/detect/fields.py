"""The CloudTrail field vocabulary that rules may use, and compiled field access.

Rules name fields by dotted path into a CloudTrail record (``userIdentity.arn``,
``requestParameters.bucketName``). The first segment should be one of
:data:`CLOUDTRAIL_FIELDS` (or ``detection.extra_fields``). A field CloudTrail does not
have (``status``) loads with a *warning* naming it: that selection can never see a
value (it behaves as an absent field), which ``rules validate`` reports. A case typo of
a real field (``eventname``) is an error. Below an *object* field (``requestParameters``,
``responseElements``, ``userIdentity``, ...) any sub-path is accepted, because those
shapes vary per API. A path below a *scalar* field (``eventName.x``) is an error.
``cspm.<name>`` names a derived field (:mod:`cspm_stream.detect.derived`); an unknown
``cspm.`` name is an error.

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
from dataclasses import dataclass, field
from typing import Any

import orjson

from cspm_stream.detect import derived

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


class UnknownField(FieldError):
    """A top-level field CloudTrail records lack: a warning for rules (the field is always absent)."""


_CHECKED: dict[tuple[str, frozenset[str]], tuple[str, ...]] = {}


def check_field(path: str, extra: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Validate a dotted path against the vocabulary (plus ``extra`` top-level fields); return its segments.

    Raises :class:`UnknownField` for a top-level field CloudTrail lacks (callers that accept it
    with a warning catch that subclass) and :class:`FieldError` for a malformed path. Valid
    paths are remembered (rules name the same fields over and over).
    """
    if path.__class__ is str:
        done = _CHECKED.get((path, extra))
        if done is not None:
            return done
    parts = _check_field(path, extra)
    if len(_CHECKED) < 65_536:
        _CHECKED[(path, extra)] = parts
    return parts


def _check_field(path: str, extra: frozenset[str]) -> tuple[str, ...]:
    if not isinstance(path, str) or not path or path.startswith(".") or path.endswith(".") or ".." in path:
        raise FieldError(f"field {path!r} is not a dotted CloudTrail path")
    parts = tuple(path.split("."))
    if parts[0] == derived.NAMESPACE:
        names = derived.public_fields()
        if len(parts) != 2 or parts[1] not in names:
            raise FieldError(f"unknown derived field {path!r} (known: {', '.join('cspm.' + n for n in names)})")
        return parts
    kind = CLOUDTRAIL_FIELDS.get(parts[0]) or ("object" if parts[0] in extra else None)
    if kind is None:
        close = [f for f in CLOUDTRAIL_FIELDS if f.lower() == parts[0].lower()]
        if close:  # a case typo of a real field is an error, not a silent never-match
            raise FieldError(f"unknown CloudTrail field {parts[0]!r} (did you mean {close[0]!r}?)")
        raise UnknownField(
            f"unknown CloudTrail field {parts[0]!r}: CloudTrail records have no such field, so this selection"
            " never sees a value (list it in detection.extra_fields if your records are enriched with it)"
        )
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


#: default bound on the characters of one value a matcher looks at (detection.max_field_chars)
MAX_FIELD_CHARS = 64 * 1024


@dataclass
class Vocabulary:
    """What compiled rules resolve field names against: CloudTrail, extra fields, derived fields.

    ``warnings`` collects, per compile, the unknown fields accepted as always-absent.
    ``max_chars`` bounds how much of one value a matcher reads (longer values are cut there;
    the engine lists such fields in the detection).
    """

    extra: frozenset[str] = frozenset()
    deriver: derived.Deriver | None = None
    max_chars: int = MAX_FIELD_CHARS
    warnings: list[str] = field(default_factory=list)
    #: fields whose value a matcher cut at ``max_chars`` while evaluating the current record
    #: (shared by every rule compiled with this vocabulary; the engine clears it per record)
    clipped: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.deriver is None:
            self.deriver = derived.Deriver()

    def parts(self, path: str) -> tuple[str, ...] | None:
        """Segments of ``path``; None (with a warning recorded) for a field CloudTrail lacks."""
        try:
            return check_field(path, self.extra)
        except UnknownField as exc:
            msg = str(exc) if "." not in path else f"field {path!r}: {exc}"
            if msg not in self.warnings:
                self.warnings.append(msg)
            return None

    def getter(self, path: str) -> Getter:
        parts = self.parts(path)
        if parts is None:
            return _absent_list
        if parts[0] == derived.NAMESPACE:
            return self._derived_getter(parts[1])
        return getter(parts)

    def scalar(self, path: str) -> Callable[[dict[str, Any]], Any]:
        parts = self.parts(path)
        if parts is None:
            return _absent
        if parts[0] == derived.NAMESPACE:
            value = self._deriver().value
            name = parts[1]

            def der(rec: dict[str, Any]) -> Any:
                v = value(rec, name)
                if v is None:
                    return _MISSING
                return COMPLEX if v.__class__ is list or v.__class__ is dict else v

            return der
        return scalar(parts)

    def _deriver(self) -> derived.Deriver:
        assert self.deriver is not None
        return self.deriver

    def _derived_getter(self, name: str) -> Getter:
        value = self._deriver().value

        def get(rec: dict[str, Any]) -> list[Any]:
            v = value(rec, name)
            if v is None:
                return []
            if isinstance(v, list):
                out: list[Any] = []
                _flatten_into(v, out)
                return out
            return [v]

        return get


def _absent_list(rec: dict[str, Any]) -> list[Any]:
    return []


def _absent(rec: dict[str, Any]) -> Any:
    return _MISSING


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
