"""Time helpers. The core takes times as arguments; only adapters call :func:`now_iso`."""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def now_iso() -> str:
    return iso(now())


def iso(t: dt.datetime) -> str:
    """``2026-11-28T16:21:00.123Z`` (milliseconds, UTC, Z suffix)."""
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_iso(s: str) -> dt.datetime:
    """Parse CloudTrail/ISO 8601 timestamps (``Z`` or offset); naive means UTC."""
    t = dt.datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


#: to_ms's memo (second-resolution ``...Z`` times); callers in a hot loop may read it before calling
MS_MEMO: dict[str, int] = {}


def to_ms(s: str) -> int:
    """Epoch milliseconds of an ISO timestamp (OCSF ``time`` fields).

    Second-resolution ``...Z`` times (CloudTrail's ``eventTime``) are cached: a busy stream
    carries thousands of records per distinct second.
    """
    ms = MS_MEMO.get(s)
    if ms is not None:
        return ms
    ms = int(parse_iso(s).timestamp() * 1000)
    if len(s) == 20 and s[19] == "Z":
        if len(MS_MEMO) >= 4096:
            MS_MEMO.clear()
        MS_MEMO[s] = ms
    return ms


def ms_to_iso(ms: int) -> str:
    return iso(dt.datetime.fromtimestamp(ms / 1000, UTC))
