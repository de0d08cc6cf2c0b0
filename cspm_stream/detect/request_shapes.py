"""What a CloudTrail request asks for, beyond one field: the logic behind some ``cspm.*`` fields.

Pure functions over one record, used by :mod:`cspm_stream.detect.derived` (which registers
them as ``cspm.public_policy``, ``cspm.batch_size``, ``cspm.lifecycle_expiration_days`` and
``cspm.foreign_resource_accounts``). Every function accepts any JSON type anywhere and is
bounded: a hostile record cannot make it slow.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cspm_stream.timeutil import parse_iso

Record = dict[str, Any]

#: at most this many nodes of requestParameters are looked at
WALK_NODES = 20_000
#: policy documents held as text longer than this are not parsed (AWS caps them far lower)
POLICY_TEXT_MAX = 128 * 1024
#: at most this many entries of ``resources`` are looked at
RESOURCES_MAX = 256


def walk_request(rec: Record) -> Iterable[Any]:
    """Every node of ``requestParameters`` (at most :data:`WALK_NODES`)."""
    rp = rec.get("requestParameters")
    if not isinstance(rp, dict | list):
        return
    stack: list[Any] = [rp]
    seen = 0
    while stack and seen < WALK_NODES:
        node = stack.pop()
        seen += 1
        yield node
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def policy_docs(rec: Record) -> Iterable[Any]:
    """Policy documents in the request: objects with a ``Statement``, or text holding one."""
    for node in walk_request(rec):
        if isinstance(node, dict) and "Statement" in node:
            yield node
        elif isinstance(node, str) and len(node) <= POLICY_TEXT_MAX and "Statement" in node:
            yield node  # JSON (or URL-encoded JSON) text: parsed by the policy helpers


def public_policy(rec: Record) -> bool:
    """A policy document in the request grants access to everyone.

    The posture check ``resource_policy_public`` decides (one analysis for posture and
    detection): an Allow to ``*``/``{"AWS": "*"}``/``arn:aws:iam::*:root`` or a NotPrincipal,
    without a narrowing condition, not cancelled by a Deny.
    """
    from cspm_stream.policy.checks.resource_policy import policy_is_public  # a heavy package: load on use

    return any(policy_is_public(doc) for doc in policy_docs(rec))


def batch_size(rec: Record) -> int | None:
    """The length of the longest list in ``requestParameters`` (None when there is none)."""
    sizes = [len(node) for node in walk_request(rec) if isinstance(node, list)]
    return max(sizes) if sizes else None


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().isdigit() and len(v.strip()) < 10:
        return int(v.strip())
    return None


def _days_until(date: Any, event_time: Any) -> int | None:
    if not isinstance(date, str) or not isinstance(event_time, str) or len(date) > 64:
        return None
    try:
        delta = parse_iso(date) - parse_iso(event_time)
    except (ValueError, TypeError):
        return None
    return max(0, delta.days)


def lifecycle_expiration_days(rec: Record) -> list[int] | None:
    """Days after which the *enabled* rules of a ``PutBucketLifecycle`` request delete data.

    Per enabled rule: ``Expiration.Days``; ``Expiration.Date`` as days from the event time
    (0 when already past: everything in scope goes at once); and
    ``NoncurrentVersionExpiration.NoncurrentDays`` (old versions, what undoes a ransomware
    overwrite). Disabled rules and transitions do not count.
    """
    rp = rec.get("requestParameters")
    conf = rp.get("LifecycleConfiguration") if isinstance(rp, dict) else None
    rules = conf.get("Rule") if isinstance(conf, dict) else None
    out: list[int] = []
    for r in (rules if isinstance(rules, list) else [rules])[:1000]:
        if not isinstance(r, dict):
            continue
        status = r.get("Status")
        if not isinstance(status, str) or status.lower() != "enabled":
            continue
        exp = r.get("Expiration")
        if isinstance(exp, dict):
            for days in (_int(exp.get("Days")), _days_until(exp.get("Date"), rec.get("eventTime"))):
                if days is not None:
                    out.append(days)
        nce = r.get("NoncurrentVersionExpiration")
        if isinstance(nce, dict) and (days := _int(nce.get("NoncurrentDays"))) is not None:
            out.append(days)
    return sorted(out) or None


def resource_accounts(rec: Record) -> set[str]:
    """Account ids named by the record's ``resources`` (``accountId``, and the account of each ARN)."""
    res = rec.get("resources")
    found: set[str] = set()
    if not isinstance(res, list):
        return found
    for r in res[:RESOURCES_MAX]:
        if not isinstance(r, dict):
            continue
        acct = r.get("accountId")
        if isinstance(acct, str) and len(acct) == 12 and acct.isdigit():
            found.add(acct)
        for key in ("ARN", "arn"):
            arn = r.get(key)
            if isinstance(arn, str) and arn.startswith("arn:"):
                parts = arn.split(":", 5)
                if len(parts) > 4 and len(parts[4]) == 12 and parts[4].isdigit():
                    found.add(parts[4])
    return found
