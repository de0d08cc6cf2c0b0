"""Correlation windows: group keys, counted values and the window that satisfies a condition.

Pure functions over one correlation's buffer (the engine keeps the buffer in its state).
A buffer entry is ``[t_ms, eventID, ref#, value, eventName, eventSource]``, sorted by
``(t_ms, eventID)``; ``value`` is what a ``value_count`` correlation counts for that
record: ``None``, one text, or a list of distinct texts.

Semantics of list-valued fields (a field is list-valued when the record holds a list
there, or the path crosses one: ``requestParameters.names``,
``requestParameters.instancesSet.items.instanceId``):

- **value_count** counts *every* value: a ``GetParameters`` call naming 10 parameters
  contributes 10 distinct names, and the window holds as many distinct values as all its
  records name together. At most ``threshold + 1`` distinct values of one record are kept
  (more cannot change the verdict of ``gte``/``gt``);
- **group-by**: a record takes part in the group of *each* value (each combination when
  several group-by fields are lists), at most :data:`MAX_GROUPS` groups per record; a
  record with no value for a group-by field takes part in no group;
- values and group-key parts are compared on their first :data:`MAX_VALUE_CHARS`
  characters (an object is compared through its compact JSON text, as rules see it).

A correlation condition is ``gte``/``gt`` (monotone: a window holding more records
satisfies it whenever a smaller one does), which :func:`satisfied` relies on.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import islice, product
from typing import Any

from cspm_stream.detect.fields import Getter, text
from cspm_stream.detect.rules import CorrelationRule, CorrelationType

__all__ = [
    "MAX_GROUPS",
    "MAX_VALUE_CHARS",
    "count_values",
    "counted_value",
    "group_keys",
    "satisfied",
    "satisfying",
    "value_counts",
]

#: the most groups one record takes part in, per correlation
MAX_GROUPS = 32
#: characters of a value or group-key part that count
MAX_VALUE_CHARS = 512


def _distinct(values: list[Any], *, empty: bool = False) -> list[str]:
    """The distinct texts of a field's values in record order (``empty``: keep ``""``)."""
    seen: dict[str, None] = {}
    for v in values:
        t = text(v)
        if t is None or (not t and not empty):
            continue
        seen[t[:MAX_VALUE_CHARS]] = None
    return list(seen)


def group_keys(
    names: Sequence[str],
    getters: Sequence[Getter],
    rec: dict[str, Any],
    scalars: Sequence[Callable[[dict[str, Any]], Any]] = (),
) -> list[str]:
    """The groups ``rec`` takes part in (``[]``: a group-by field has no value); ``["*"]`` without group-by.

    ``scalars`` (the fields' scalar readers, :func:`~cspm_stream.detect.fields.scalar`) take the
    usual case, every field one string, without building value lists; anything else (a list,
    an object, a number, an absent field) is decided by the general path below.
    """
    if not names:
        return ["*"]
    if scalars:
        key = ""
        for i, fast in enumerate(scalars):
            v = fast(rec)
            if v.__class__ is not str:
                break
            if not v:
                return []
            key = f"{names[i]}={v[:MAX_VALUE_CHARS]}" if i == 0 else f"{key}|{names[i]}={v[:MAX_VALUE_CHARS]}"
        else:
            return [key]
    parts: list[str] = []  # one value per field so far (the usual case)
    per_field: list[list[str]] | None = None
    for i, get in enumerate(getters):
        vals = get(rec)
        if len(vals) == 1 and (v := vals[0]).__class__ is str:
            if not v:
                return []
            one = [f"{names[i]}={v[:MAX_VALUE_CHARS]}"]
        else:
            many = _distinct(vals)
            if not many:
                return []
            one = [f"{names[i]}={x}" for x in many[:MAX_GROUPS]]
        if per_field is None and len(one) == 1:
            parts.append(one[0])
            continue
        if per_field is None:
            per_field = [[p] for p in parts]
        per_field.append(one)
    if per_field is None:
        return ["|".join(parts)] if len(parts) > 1 else parts
    return ["|".join(combo) for combo in islice(product(*per_field), MAX_GROUPS)]


def counted_value(get: Getter, rec: dict[str, Any], keep: int) -> str | list[str] | None:
    """What a value_count correlation counts for ``rec``: None, one text, or up to ``keep`` distinct texts."""
    vals = _distinct(get(rec), empty=True)
    if not vals:
        return None
    if len(vals) == 1:
        return vals[0]
    return vals[: max(1, keep)]


def count_values(counts: dict[str, int], value: str | list[str] | None, step: int) -> None:
    """Add ``step`` (1 or -1) to the count of each value a buffer entry holds; drop counts reaching 0."""
    if value is None:
        return
    for v in value if isinstance(value, list) else (value,):
        n = counts.get(v, 0) + step
        if n > 0:
            counts[v] = n
        else:
            counts.pop(v, None)


def value_counts(buf: list[list[Any]]) -> dict[str, int]:
    """How many entries of ``buf`` hold each value (value_count correlations: the buffer's distinct values)."""
    counts: dict[str, int] = {}
    for e in buf:
        count_values(counts, e[3], 1)
    return counts


def satisfied(
    corr: CorrelationRule, buf: list[list[Any]], t_new: int
) -> tuple[list[list[Any]], list[list[Any]]] | None:
    """The earliest window [start, start + timespan] containing ``t_new`` that meets the condition.

    Returns (the window's records, the records that satisfy the condition: the evidence).
    When ``t_new`` is the latest time in the buffer (records in order, the usual case), every
    window containing it runs to the buffer's end, so the windows are nested and only the
    earliest (the largest) needs checking: the condition is monotone.
    """
    span = corr.span_ms
    n = len(buf)
    if n and buf[-1][0] <= t_new:
        i = bisect_left(buf, t_new - span, key=_time)
        window = buf[i:]
        found = satisfying(corr, window)
        return (window, found) if found is not None else None
    j = 0
    for i in range(n):
        start = buf[i][0]
        if start < t_new - span:
            continue
        if start > t_new:
            break
        j = max(j, i)
        while j < n and buf[j][0] <= start + span:
            j += 1
        window = buf[i:j]
        found = satisfying(corr, window)
        if found is not None:
            return window, found
    return None


def satisfying(corr: CorrelationRule, window: list[list[Any]]) -> list[list[Any]] | None:
    """The records of ``window`` that make the condition hold (None if it does not).

    event_count: every record counted; value_count: each record that brought a value not
    seen before in the window; temporal: the first record of each referenced rule;
    temporal_ordered: the ordered chain.
    """
    ct = corr.ctype
    if ct is CorrelationType.EVENT_COUNT:
        return window if corr.op.holds(len(window), corr.threshold) else None
    if ct is CorrelationType.VALUE_COUNT:
        seen: set[str] = set()
        evidence: list[list[Any]] = []
        for e in window:
            v = e[3]
            if v is None:
                continue
            if v.__class__ is list:
                fresh = [x for x in v if x not in seen]
                if fresh:
                    seen.update(fresh)
                    evidence.append(e)
            elif v not in seen:
                seen.add(v)
                evidence.append(e)
        return evidence if corr.op.holds(len(seen), corr.threshold) else None
    if ct is CorrelationType.TEMPORAL:
        firsts: dict[Any, list[Any]] = {}
        for e in window:
            firsts.setdefault(e[2], e)
        return list(firsts.values()) if corr.op.holds(len(firsts), corr.threshold) else None
    chain: list[list[Any]] = []  # temporal_ordered: the referenced rules matched in their order
    for e in window:
        if e[2] == len(chain):
            chain.append(e)
            if len(chain) == len(corr.refs):
                break
    return chain if corr.op.holds(len(chain), corr.threshold) else None


def _time(e: list[Any]) -> int:
    return int(e[0])
