"""A record dated far in the future cannot blind the daemon's detection.

The engine's watermark (the highest event time seen on a partition, kept in the stage's
state) never moves back. One record dated 9999 on the ``activity`` topic made every later
record of its partition "late", so no correlation there could fire again. The detect stage
refuses an event time more than ``MAX_FUTURE_S`` ahead of its clock (a dead letter naming
why) before the engine sees it.
"""

from __future__ import annotations

from typing import Any

import pytest

from cspm_stream.detect.engine import DetectionEngine
from cspm_stream.detect.records import MAX_FUTURE_S
from cspm_stream.errors import DecodeError
from cspm_stream.models import ActivityRecord, ActivitySource, dumps
from cspm_stream.stages.base import RecordMeta
from cspm_stream.stages.detect import DetectHandler
from cspm_stream.timeutil import ms_to_iso
from tests.unit.detect.helpers import ev, rules

T0 = 1767225600000  # 2026-01-01T00:00:00Z
META = RecordMeta(topic="cspm.activity", partition=0, offset=0)
PAIR = """
title: Console login failure
id: 10000000-0000-4000-8000-000000000001
name: login_failed
logsource: {product: aws, service: cloudtrail}
detection:
    sel: {eventName: ConsoleLogin, errorMessage: Failed authentication}
    condition: sel
---
title: Repeated login failures
id: 20000000-0000-4000-8000-000000000002
level: high
correlation:
    type: event_count
    rules: [login_failed]
    group-by: [sourceIPAddress]
    timespan: 5m
    condition: {gte: 3}
"""


def _value(name: str, sec: float, eid: str, **kw: Any) -> bytes:
    rec = ev(name, "signin.amazonaws.com", event_time=ms_to_iso(int(T0 + sec * 1000)), event_id=eid, **kw)
    return dumps(ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, ms_to_iso(T0)))


def _handler(now_s: float) -> DetectHandler:
    return DetectHandler(DetectionEngine(rules(PAIR)), clock=lambda: ms_to_iso(T0), wall_s=lambda: now_s)


async def _correlations(h: DetectHandler, state: dict[str, Any]) -> int:
    found = 0
    for i in range(3):
        emits = await h.handle(
            b"k", _value("ConsoleLogin", 10 + i, f"f{i}", errorMessage="Failed authentication"), META, state
        )
        found += sum(1 for e in emits if e.topic == "detections")
    return found


async def test_a_far_future_record_is_refused_and_correlations_still_fire() -> None:
    h = _handler(T0 / 1000 + 60)
    state: dict[str, Any] = {}
    # the activity's event_time (the engine's clock for the record) dated 9999; without the
    # bound this record is accepted and the three failures below correlate to nothing
    future = _value("GetCallerIdentity", 0, "poison").replace(ms_to_iso(T0).encode()[:10], b"9999-12-31", 1)
    with pytest.raises(DecodeError, match=r"ahead of the clock"):
        await h.handle(b"k", future, META, state)
    assert await _correlations(h, state) == 1


@pytest.mark.parametrize(("ahead_s", "refused"), [(MAX_FUTURE_S - 5, False), (MAX_FUTURE_S + 5, True)])
async def test_clock_skew_is_tolerated_up_to_the_bound(ahead_s: float, refused: bool) -> None:
    h = _handler(T0 / 1000)
    value = _value("GetCallerIdentity", ahead_s, "skewed")
    if refused:
        with pytest.raises(DecodeError, match="ahead of the clock"):
            await h.handle(b"k", value, META, {})
    else:
        assert await h.handle(b"k", value, META, {}) == []
