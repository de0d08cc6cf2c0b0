from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cspm_stream.sources.files import RecordError
from cspm_stream.sources.lookup import (
    Checkpoint,
    JsonFileCheckpoints,
    MappingCheckpoints,
    RateLimiter,
    advance,
    parse_events,
    window,
)
from cspm_stream.testing import cloudtrail_record

T0 = dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.UTC)


def test_window_first_and_after_checkpoint() -> None:
    assert window(Checkpoint(), T0, 600) == (T0 - dt.timedelta(minutes=10), T0)
    cp = Checkpoint("2026-01-01T00:50:00Z")
    assert window(cp, T0, 600) == (dt.datetime(2026, 1, 1, 0, 40, tzinfo=dt.UTC), T0)


def test_advance_dedups_and_prunes() -> None:
    a = cloudtrail_record("A", event_id="a", event_time="2026-01-01T00:00:00Z")
    b = cloudtrail_record("B", event_id="b", event_time="2026-01-01T00:30:00Z")
    fresh, cp = advance(Checkpoint(), [b, a], lookback_s=600)
    assert fresh == [b, a]
    # "a" is older than last - lookback: pruned from the seen set
    assert cp.last_event_time == "2026-01-01T00:30:00.000Z" and set(cp.seen_ids) == {"b"}
    c = cloudtrail_record("C", event_id="c", event_time="2026-01-01T00:29:00Z")  # late arrival
    fresh2, cp2 = advance(cp, [c, b], lookback_s=600)
    assert fresh2 == [c]
    assert set(cp2.seen_ids) == {"b", "c"} and cp2.last_event_time == cp.last_event_time
    bad = cloudtrail_record("D", event_id="d", event_time="yesterday")
    (err,), _ = advance(cp2, [bad], 600)
    assert isinstance(err, RecordError) and "invalid eventTime" in err.reason


def test_parse_events_bad_entries() -> None:
    items = parse_events([{"EventId": "x"}, {"EventId": "y", "CloudTrailEvent": "{oops"}], "acct|r")
    assert all(isinstance(i, RecordError) for i in items)
    assert "no CloudTrailEvent" in items[0].reason  # type: ignore[union-attr]


def test_checkpoint_stores(tmp_path: Path) -> None:
    p = tmp_path / "cp" / "c.json"
    s = JsonFileCheckpoints(p)
    assert s.load("k") == Checkpoint()
    s.save("k", Checkpoint("2026-01-01T00:00:00.000Z", {"e": "2026-01-01T00:00:00.000Z"}))
    assert JsonFileCheckpoints(p).load("k").seen_ids == {"e": "2026-01-01T00:00:00.000Z"}
    m: dict[str, object] = {}
    MappingCheckpoints(m).save("k", Checkpoint("t"))
    assert m == {"k": {"last_event_time": "t", "seen_ids": {}}}
    p.write_text("[]")
    with pytest.raises(ValueError, match="JSON object"):
        JsonFileCheckpoints(p)


async def test_rate_limiter_spaces_calls() -> None:
    clock = [100.0]
    slept: list[float] = []

    async def sleep(d: float) -> None:
        slept.append(d)
        clock[0] += d

    lim = RateLimiter(2.0, monotonic=lambda: clock[0], sleep=sleep)
    for _ in range(3):
        await lim.acquire()
    assert slept == [0.5, 0.5]
    clock[0] += 5
    await lim.acquire()
    assert slept == [0.5, 0.5]
