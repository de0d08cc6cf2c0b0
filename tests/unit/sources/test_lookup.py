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


def test_window_first_after_checkpoint_and_catch_up() -> None:
    assert window(Checkpoint(), T0, 600) == (T0 - dt.timedelta(minutes=10), T0)
    cp = Checkpoint(queried_until="2026-01-01T00:50:00Z")
    assert window(cp, T0, 600) == (dt.datetime(2026, 1, 1, 0, 40, tzinfo=dt.UTC), T0)
    # after a 5-hour outage: bounded windows (lookback + max_window), ending before now
    old = Checkpoint(queried_until="2025-12-31T20:00:00Z")
    start, end = window(old, T0, 600, max_window_s=3600)
    assert start == dt.datetime(2025, 12, 31, 19, 50, tzinfo=dt.UTC)
    assert end == dt.datetime(2025, 12, 31, 21, 0, tzinfo=dt.UTC) < T0


def test_advance_dedups_and_prunes() -> None:
    a = cloudtrail_record("A", event_id="a", event_time="2026-01-01T00:00:00Z")
    b = cloudtrail_record("B", event_id="b", event_time="2026-01-01T00:30:00Z")
    until = dt.datetime(2026, 1, 1, 0, 35, tzinfo=dt.UTC)
    fresh, cp = advance(Checkpoint(), [b, a], lookback_s=600, queried_until=until)
    assert fresh == [b, a]
    # "a" is older than queried_until - lookback: pruned from the seen set
    assert cp.last_event_time == "2026-01-01T00:30:00.000Z" and set(cp.seen_ids) == {"b"}
    assert cp.queried_until == "2026-01-01T00:35:00.000Z"
    c = cloudtrail_record("C", event_id="c", event_time="2026-01-01T00:29:00Z")  # late arrival
    fresh2, cp2 = advance(cp, [c, b], lookback_s=600, queried_until=until)
    assert fresh2 == [c]
    assert set(cp2.seen_ids) == {"b", "c"} and cp2.last_event_time == cp.last_event_time
    bad = cloudtrail_record("D", event_id="d", event_time="yesterday")
    (err,), _ = advance(cp2, [bad], 600)
    assert isinstance(err, RecordError) and "invalid eventTime" in err.reason
    # an empty window still moves the cursor
    _, cp3 = advance(cp2, [], 600, queried_until=until + dt.timedelta(hours=1))
    assert cp3.queried_until == "2026-01-01T01:35:00.000Z" and cp3.seen_ids == {}


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
    MappingCheckpoints(m).save("k", Checkpoint("t", queried_until="u"))
    assert m == {"k": {"queried_until": "u", "last_event_time": "t", "seen_ids": {}}}
    assert MappingCheckpoints(m).load("k") == Checkpoint("t", {}, "u")
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


async def test_poller_catches_up_window_by_window() -> None:
    from typing import Any

    from cspm_stream.sources.lookup import LookupEventsPoller

    windows: list[tuple[dt.datetime, dt.datetime]] = []

    class Client:
        async def lookup_events(self, **kw: Any) -> dict[str, Any]:
            windows.append((kw["StartTime"], kw["EndTime"]))
            return {"Events": []}

    class Prod:
        async def send_many(self, emits: Any) -> None:
            raise AssertionError("nothing to produce")

    async def no_sleep(_: float) -> None:
        return None

    store = MappingCheckpoints({"1|r": Checkpoint(queried_until="2025-12-31T22:00:00Z").to_json()})
    p = LookupEventsPoller(
        Client(),
        "1",
        "r",
        Prod(),
        store,
        lookback_s=600,
        max_window_s=3600,
        limiter=RateLimiter(2.0, monotonic=lambda: 0.0, sleep=no_sleep),
        clock=lambda: T0,
    )
    rounds = 0
    while True:
        await p.poll_once()
        rounds += 1
        if p.caught_up:
            break
    assert rounds == 3
    assert [e for _, e in windows] == [
        dt.datetime(2025, 12, 31, 23, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC),
        T0,
    ]
    assert store.load("1|r").queried_until == "2026-01-01T01:00:00.000Z"
