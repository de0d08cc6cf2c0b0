"""Who changed it: the :class:`~cspm_stream.models.change.Change` of a CloudTrail record (pure).

The detection stage attaches it to every rescan request a mutating call makes; the ingest stage
copies it onto the snapshot that rescan produces; the posture stage names it in the findings that
snapshot causes. Text is bounded (:data:`MAX_CHARS`, a cut text marked ``…[+N chars truncated]``), any JSON type anywhere reads as absent, and
nothing else of the record (parameters, response) is copied.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.detect.bounded import clip
from cspm_stream.models.change import Change

#: longest text kept per field (a user agent can be long; CloudTrail itself caps it near 1 KB)
MAX_CHARS = 1024


def _s(v: Any) -> str:
    return clip(v, MAX_CHARS) if isinstance(v, str) else ""  # a cut text ends with a visible marker


def change_of(rec: dict[str, Any]) -> Change | None:
    """The change a CloudTrail record describes; None without an ``eventID`` or ``eventName``."""
    event_id, event_name = _s(rec.get("eventID")), _s(rec.get("eventName"))
    if not event_id or not event_name:
        return None
    ident = rec.get("userIdentity")
    ident = ident if isinstance(ident, dict) else {}
    ctx = ident.get("sessionContext")
    issuer = ctx.get("sessionIssuer") if isinstance(ctx, dict) else None
    issuer = issuer if isinstance(issuer, dict) else {}
    account = _s(ident.get("accountId")) or _s(rec.get("recipientAccountId"))
    arn = _s(ident.get("arn"))
    ptype = _s(ident.get("type"))
    if not arn and ptype == "Root" and account:
        arn = f"arn:aws:iam::{account}:root"
    name = _s(ident.get("userName")) or _s(issuer.get("userName")) or (arn.rsplit("/", 1)[-1] if "/" in arn else "")
    if not name and ptype == "Root":
        name = "root"
    return Change(
        event_id=event_id,
        event_name=event_name,
        event_source=_s(rec.get("eventSource")),
        event_time=_s(rec.get("eventTime")),
        principal_arn=arn or _s(ident.get("principalId")) or _s(ident.get("invokedBy")),
        principal_type=ptype,
        principal_name=name,
        account_id=account,
        source_ip=_s(rec.get("sourceIPAddress")),
        user_agent=_s(rec.get("userAgent")),
        session_issuer=_s(issuer.get("arn")),
        invoked_by=_s(ident.get("invokedBy")),
    )


def packed(c: Change) -> dict[str, str]:
    """The JSON-able form stage state keeps (the posture record's ``c``)."""
    return {
        "i": c.event_id,
        "n": c.event_name,
        "s": c.event_source,
        "t": c.event_time,
        "a": c.principal_arn,
        "y": c.principal_type,
        "u": c.principal_name,
        "ac": c.account_id,
        "ip": c.source_ip,
        "ua": c.user_agent,
        "si": c.session_issuer,
        "ib": c.invoked_by,
    }


def unpacked(v: Any) -> Change | None:
    """:func:`packed` read back (anything else: None)."""
    if not isinstance(v, dict) or not isinstance(v.get("i"), str):
        return None
    return Change(
        event_id=_s(v.get("i")),
        event_name=_s(v.get("n")),
        event_source=_s(v.get("s")),
        event_time=_s(v.get("t")),
        principal_arn=_s(v.get("a")),
        principal_type=_s(v.get("y")),
        principal_name=_s(v.get("u")),
        account_id=_s(v.get("ac")),
        source_ip=_s(v.get("ip")),
        user_agent=_s(v.get("ua")),
        session_issuer=_s(v.get("si")),
        invoked_by=_s(v.get("ib")),
    )
