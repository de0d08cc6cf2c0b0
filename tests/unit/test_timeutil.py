"""Time helpers: the per-second cache of CloudTrail eventTime conversions agrees with parsing."""

from __future__ import annotations

import datetime as dt

from cspm_stream import timeutil


def test_to_ms_cached_and_uncached_agree() -> None:
    for s in ("2026-01-01T00:00:01Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:01.250Z", "2026-01-01T01:00:01+01:00"):
        want = int(dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)
        assert timeutil.to_ms(s) == want
    assert timeutil.to_ms("2026-01-01T00:00:01Z") == timeutil.to_ms("2026-01-01T01:00:01+01:00")
    assert "2026-01-01T00:00:01Z" in timeutil.MS_MEMO and "2026-01-01T00:00:01.250Z" not in timeutil.MS_MEMO
