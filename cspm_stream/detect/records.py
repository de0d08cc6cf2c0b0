"""What the engine accepts as a CloudTrail record: safe coercion, or rejection with the reason.

CloudTrail writes strings where the engine reads identity fields; a forged, corrupted or
re-encoded record may carry any JSON type anywhere. Before evaluation,
:func:`normalize` looks at every field the engine itself reads (rules read any field
through the type-agnostic resolution of :mod:`cspm_stream.detect.fields`):

- ``eventID`` must be a non-empty string (a number is taken as its decimal text);
- ``eventTime`` must be an ISO 8601 string (the caller may pass the time instead);
- the scalar fields :data:`SCALARS` and the identity fields :data:`IDENTITY_SCALARS`
  (``userIdentity.*``, ``userIdentity.sessionContext.sessionIssuer.*``): a string or
  null is kept; a number or boolean is evaluated as its JSON text (``7``, ``true``);
  a list or an object is rejected (no single value could be chosen safely);
- ``userIdentity``, its ``sessionContext`` and ``sessionIssuer`` must be objects (or null);
- an empty ``errorCode`` (how some exports write a call that succeeded) is dropped: the
  call did not fail, and ``errorCode|exists`` must not say it did.

A rejection raises :class:`RecordRejected` (a :class:`~cspm_stream.errors.DecodeError`)
naming the field and the type found: the daemon dead-letters the record with that reason
and the original bytes, ``cspm-stream detect`` reports it with the file and line and goes
on. The record given is never modified: a coerced copy is returned when needed.

The engine checks in two steps: :func:`normalize_keys` on every record (identity, time and
the fields the rule index reads: ``eventName``, ``eventSource``, ``errorCode``,
``userIdentity.type``), and the full :func:`normalize` only for a record that matched a rule
or names a mutating call (before anything is emitted from it). A record that matches nothing
was evaluated by the type-agnostic matchers and produces nothing, whatever its other fields hold.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.errors import DecodeError

__all__ = [
    "IDENTITY_SCALARS",
    "KEY_SCALARS",
    "MAX_FUTURE_S",
    "SCALARS",
    "RecordRejected",
    "normalize",
    "normalize_keys",
]

#: how far ahead of the wall clock an event time may be (clock skew): a record further ahead is
#: refused (daemon and ``detect``) before it can advance the engine's watermark, which never moves
#: back — one record dated 9999 would make every later record late and silence the correlations
MAX_FUTURE_S = 300

#: top-level fields the engine reads as text (index, dedup, findings, rescans, partition key)
SCALARS: tuple[str, ...] = (
    "eventName",
    "eventSource",
    "errorCode",
    "awsRegion",
    "recipientAccountId",
    "sourceIPAddress",
    "userAgent",
    "eventType",
)
#: the top-level fields the rule index reads on every record
KEY_SCALARS: tuple[str, ...] = ("eventName", "eventSource", "errorCode", "eventType")
#: userIdentity (and sessionIssuer) fields the engine reads as text
IDENTITY_SCALARS: tuple[str, ...] = ("type", "arn", "accountId", "principalId", "userName", "invokedBy", "accessKeyId")
ISSUER_SCALARS: tuple[str, ...] = ("type", "arn", "accountId", "principalId", "userName")

_JSON_NAMES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
}


class RecordRejected(DecodeError, ValueError):
    """A record the engine cannot evaluate safely; the reason names the field and what it held."""


def _kind(v: Any) -> str:
    return _JSON_NAMES.get(type(v), type(v).__name__)


def _scalar_text(v: Any) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    return repr(v) if isinstance(v, float) else str(v)


def _fix_scalars(obj: dict[str, Any], keys: tuple[str, ...], where: str) -> dict[str, Any] | None:
    """A copy of ``obj`` with number/bool scalars as text (None if nothing to fix); raises on list/object."""
    fixed: dict[str, Any] | None = None
    for k in keys:
        v = obj.get(k)
        if v is None or v.__class__ is str:
            continue
        if isinstance(v, bool | int | float):
            if fixed is None:
                fixed = dict(obj)
            fixed[k] = _scalar_text(v)
            continue
        raise RecordRejected(f"{where}{k} is {_kind(v)}; expected a string")
    return fixed


def _object(v: Any, where: str) -> dict[str, Any] | None:
    if v is None or v.__class__ is dict:
        return v  # type: ignore[no-any-return]
    raise RecordRejected(f"{where} is {_kind(v)}; expected an object")


def normalize_keys(rec: Any, *, need_time: bool = True) -> dict[str, Any]:
    """Check (or coerce) identity, time and the index fields only; see the module doc."""
    if rec.__class__ is dict:
        get = rec.get
        eid = get("eventID")
        if eid.__class__ is str and eid and (not need_time or get("eventTime").__class__ is str):
            for k in KEY_SCALARS:
                v = get(k)
                if v is not None and v.__class__ is not str:
                    break
            else:
                ident = get("userIdentity")
                if get("errorCode") == "":
                    pass  # an empty errorCode is no error: dropped by _normalize
                elif ident is None:
                    return rec  # type: ignore[no-any-return]
                elif ident.__class__ is dict:
                    v = ident.get("type")
                    if v is None or v.__class__ is str:
                        return rec  # type: ignore[no-any-return]
    return _normalize(rec, need_time, keys_only=True)


def normalize(rec: Any, *, need_time: bool = True) -> dict[str, Any]:
    """The record to evaluate (``rec`` itself when nothing needs coercion); raises :class:`RecordRejected`."""
    if _clean(rec, need_time):
        return rec  # type: ignore[no-any-return]
    return _normalize(rec, need_time)


def _clean(rec: Any, need_time: bool) -> bool:
    """The common case, checked fast: every field the engine reads already has the right type."""
    if rec.__class__ is not dict:
        return False
    get = rec.get
    eid = get("eventID")
    if eid.__class__ is not str or not eid or (need_time and get("eventTime").__class__ is not str):
        return False
    for k in SCALARS:
        v = get(k)
        if v is not None and v.__class__ is not str:
            return False
    if get("errorCode") == "":
        return False
    ident = get("userIdentity")
    if ident is None:
        return True
    if ident.__class__ is not dict:
        return False
    iget = ident.get
    for k in IDENTITY_SCALARS:
        v = iget(k)
        if v is not None and v.__class__ is not str:
            return False
    ctx = iget("sessionContext")
    if ctx is None:
        return True
    if ctx.__class__ is not dict:
        return False
    iss = ctx.get("sessionIssuer")
    if iss is None:
        return True
    if iss.__class__ is not dict:
        return False
    for k in ISSUER_SCALARS:
        v = iss.get(k)
        if v is not None and v.__class__ is not str:
            return False
    return True


def _normalize(rec: Any, need_time: bool, *, keys_only: bool = False) -> dict[str, Any]:
    if rec.__class__ is not dict:
        raise RecordRejected(f"record is {_kind(rec)}; expected an object")
    out: dict[str, Any] = rec
    eid = rec.get("eventID")
    if eid.__class__ is not str or not eid:
        if isinstance(eid, int) and not isinstance(eid, bool):
            out = dict(out)
            out["eventID"] = str(eid)
        elif eid is None or eid == "":
            raise RecordRejected("record has no eventID")
        else:
            raise RecordRejected(f"eventID is {_kind(eid)}; expected a string")
    if need_time:
        et = rec.get("eventTime")
        if et.__class__ is not str:
            raise RecordRejected(
                "record has no eventTime" if et is None else f"eventTime is {_kind(et)}; expected an ISO 8601 string"
            )
    top = _fix_scalars(out, KEY_SCALARS if keys_only else SCALARS, "")
    if top is not None:
        out = top
    if out.get("errorCode") == "":  # exports (Athena, data lakes) write a call that succeeded so
        out = dict(out) if out is rec else out
        del out["errorCode"]
    ident = _object(out.get("userIdentity"), "userIdentity")
    if ident is not None and keys_only:
        new_type = _fix_scalars(ident, ("type",), "userIdentity.")
        if new_type is not None:
            out = dict(out) if out is rec else out
            out["userIdentity"] = new_type
        return out
    if ident is not None:
        new_ident = _fix_scalars(ident, IDENTITY_SCALARS, "userIdentity.")
        ctx = _object(ident.get("sessionContext"), "userIdentity.sessionContext")
        if ctx is not None:
            iss = _object(ctx.get("sessionIssuer"), "userIdentity.sessionContext.sessionIssuer")
            if iss is not None:
                new_iss = _fix_scalars(iss, ISSUER_SCALARS, "userIdentity.sessionContext.sessionIssuer.")
                if new_iss is not None:
                    new_ident = new_ident if new_ident is not None else dict(ident)
                    new_ident["sessionContext"] = {**ctx, "sessionIssuer": new_iss}
        if new_ident is not None:
            out = dict(out) if out is rec else out
            out["userIdentity"] = new_ident
    return out
