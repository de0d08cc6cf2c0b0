"""CloudTrail ``LookupEvents`` poller, one per account and region, with a checkpoint.

Each poll asks for the window ``[queried_until - lookback, min(now, start + max_window)]``
(CloudTrail makes events visible to LookupEvents minutes late, so a window that starts
exactly where the previous one ended would miss late arrivals), pages through it (50
events per call), removes the events already produced (``seen_ids``), produces the rest,
and only after Kafka acknowledged them saves the new checkpoint (``queried_until`` = the
window's end). A crash before the save replays the window (duplicates only; the detector
dedups by ``eventID``). After a long outage the poller catches up window by window
(bounded memory), without waiting ``interval_s`` between them. The first poll of a new
checkpoint starts ``lookback`` before now (no historical backfill: use ``detect --events``).

Calls go through a :class:`RateLimiter` (LookupEvents allows 2 requests per second per
account and region); ``ThrottlingException`` is retried with backoff a bounded number
of times, then the poll fails loudly and the next one retries the same window.

Checkpoint value per ``"<account>|<region>"`` (JSON-able)::

    {"queried_until": "2026-01-01T00:10:00.000Z", "last_event_time": "2026-01-01T00:09:30.000Z",
     "seen_ids": {"<eventID>": "<eventTime>", ...}}

stored by :class:`JsonFileCheckpoints` (atomic rewrite of one small file) or any
``MutableMapping`` (:class:`MappingCheckpoints`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson
import structlog
from botocore.exceptions import ClientError

from cspm_stream.models.enums import ActivitySource
from cspm_stream.sources.emits import EmitProducer, count_produced, emits_for_items
from cspm_stream.sources.files import Item, RecordError, split_payload
from cspm_stream.stages.base import Emit
from cspm_stream.timeutil import iso, now, parse_iso

if TYPE_CHECKING:
    from cspm_stream.observability.metrics import Metrics

log = structlog.get_logger(__name__)

STAGE = "source.lookup-events"
_THROTTLED = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"})


# -- checkpoints --------------------------------------------------------------------------------
@dataclass
class Checkpoint:
    last_event_time: str | None = None
    seen_ids: dict[str, str] = field(default_factory=dict)
    queried_until: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "queried_until": self.queried_until,
            "last_event_time": self.last_event_time,
            "seen_ids": dict(self.seen_ids),
        }

    @classmethod
    def from_json(cls, v: Any) -> Checkpoint:
        if not isinstance(v, dict):
            return cls()
        seen = v.get("seen_ids") or {}
        return cls(
            v.get("last_event_time"),
            {str(k): str(t) for k, t in seen.items()} if isinstance(seen, dict) else {},
            v.get("queried_until"),
        )


class CheckpointStore(Protocol):
    def load(self, key: str) -> Checkpoint: ...
    def save(self, key: str, cp: Checkpoint) -> None: ...


class MappingCheckpoints:
    """Checkpoints in a caller-owned mapping (a dict in tests, a faust table, ...)."""

    def __init__(self, mapping: MutableMapping[str, Any]) -> None:
        self.mapping = mapping

    def load(self, key: str) -> Checkpoint:
        return Checkpoint.from_json(self.mapping.get(key))

    def save(self, key: str, cp: Checkpoint) -> None:
        self.mapping[key] = cp.to_json()


class JsonFileCheckpoints(MappingCheckpoints):
    """Checkpoints in one JSON file, rewritten atomically (temp file + rename) on each save."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        data: dict[str, Any] = {}
        if self.path.exists():
            loaded = orjson.loads(self.path.read_bytes() or b"{}")
            if not isinstance(loaded, dict):
                raise ValueError(f"{self.path}: checkpoint file must hold a JSON object")
            data = loaded
        super().__init__(data)

    def save(self, key: str, cp: Checkpoint) -> None:
        super().save(key, cp)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_bytes(orjson.dumps(self.mapping, option=orjson.OPT_SORT_KEYS))
        os.replace(tmp, self.path)


# -- pure core ----------------------------------------------------------------------------------
def window(
    cp: Checkpoint, at: dt.datetime, lookback_s: int, max_window_s: int = 3600
) -> tuple[dt.datetime, dt.datetime]:
    """The [start, end] to query at time ``at`` (``end < at`` while catching up)."""
    back = dt.timedelta(seconds=lookback_s)
    if cp.queried_until:
        start = min(parse_iso(cp.queried_until), at) - back
    else:
        start = at - back
    return start, min(at, start + back + dt.timedelta(seconds=max_window_s))


def parse_events(events: list[dict[str, Any]], source: str) -> list[Item]:
    """LookupEvents ``Events`` → records (the ``CloudTrailEvent`` JSON string of each)."""
    out: list[Item] = []
    for i, ev in enumerate(events):
        raw = ev.get("CloudTrailEvent")
        if not isinstance(raw, str):
            out.append(
                RecordError(source, "event has no CloudTrailEvent string", orjson.dumps(ev, default=str), index=i)
            )
            continue
        out.extend(split_payload(raw.encode("utf-8"), f"{source}[{ev.get('EventId', i)}]"))
    return out


def advance(
    cp: Checkpoint, items: list[Item], lookback_s: int, queried_until: dt.datetime | None = None
) -> tuple[list[Item], Checkpoint]:
    """Drop already-seen records; the checkpoint after producing the rest (pure).

    ``queried_until`` is the end of the window just read; seen ids are kept for events
    newer than ``queried_until - lookback`` (the next window re-reads that far back).
    """
    fresh: list[Item] = []
    seen = dict(cp.seen_ids)
    latest = parse_iso(cp.last_event_time) if cp.last_event_time else None
    for it in items:
        if isinstance(it, RecordError):
            fresh.append(it)
            continue
        eid = str(it["eventID"])
        if eid in seen:
            continue
        t_s = str(it.get("eventTime") or "")
        try:
            t = parse_iso(t_s)
        except ValueError:
            fresh.append(RecordError(STAGE, f"record {eid} has an invalid eventTime {t_s!r}", orjson.dumps(it)))
            continue
        seen[eid] = iso(t)
        fresh.append(it)
        latest = t if latest is None or t > latest else latest
    until = iso(queried_until) if queried_until is not None else cp.queried_until
    ref = queried_until or latest
    if ref is None:
        return fresh, Checkpoint(None, seen, until)
    horizon = ref - dt.timedelta(seconds=lookback_s)
    kept = {k: v for k, v in seen.items() if parse_iso(v) >= horizon}
    return fresh, Checkpoint(iso(latest) if latest else None, kept, until)


# -- adapters -----------------------------------------------------------------------------------
class RateLimiter:
    """At most ``rate`` acquisitions per second (evenly spaced), shared by one poller's calls."""

    def __init__(
        self,
        rate: float,
        *,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self._mono = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._lock = asyncio.Lock()

    def _now(self) -> float:
        return self._mono() if self._mono else asyncio.get_running_loop().time()

    async def acquire(self) -> None:
        async with self._lock:
            t = self._now()
            if t < self._next:
                await self._sleep(self._next - t)
                t = self._next
            self._next = t + self.interval


class LookupEventsPoller:
    """Polls one account+region. ``client`` is an aiobotocore CloudTrail client for that region."""

    def __init__(
        self,
        client: Any,
        account_id: str,
        region: str,
        producer: EmitProducer,
        store: CheckpointStore,
        *,
        lookback_s: int = 900,
        interval_s: float = 60.0,
        max_window_s: int = 3600,
        limiter: RateLimiter | None = None,
        max_throttle_retries: int = 5,
        clock: Callable[[], dt.datetime] = now,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self.account_id = account_id
        self.region = region
        self.producer = producer
        self.store = store
        self.lookback_s = lookback_s
        self.interval_s = interval_s
        self.max_window_s = max_window_s
        self.caught_up = True
        self.limiter = limiter or RateLimiter(2.0)
        self.max_throttle_retries = max_throttle_retries
        self.clock = clock
        self.metrics = metrics
        self.calls = 0
        self.throttled = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def key(self) -> str:
        return f"{self.account_id}|{self.region}"

    async def poll_once(self) -> int:
        """One window: returns the number of records produced (dead letters not counted)."""
        at = self.clock()
        cp = self.store.load(self.key)
        start, end = window(cp, at, self.lookback_s, self.max_window_s)
        events = await self._fetch(start, end)
        items = parse_events(events, f"lookup-events:{self.key}")
        fresh, new_cp = advance(cp, items, self.lookback_s, queried_until=end)
        emits: list[Emit] = emits_for_items(
            fresh, source=ActivitySource.LOOKUP_EVENTS, stage=STAGE, received_at=iso(at), trace_id=self.key
        )
        if emits:
            await self.producer.send_many(emits)
            count_produced(self.metrics, STAGE, f"lookup-events:{self.key}", emits)
        # only now, after every record was acknowledged, does the checkpoint move
        self.store.save(self.key, new_cp)
        self.caught_up = end >= at
        return sum(1 for e in emits if e.topic == "activity")

    async def _fetch(self, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"StartTime": start, "EndTime": end, "MaxResults": 50}
            if token:
                params["NextToken"] = token
            resp = await self._call(params)
            events.extend(resp.get("Events", []))
            token = resp.get("NextToken")
            if not token:
                return events

    async def _call(self, params: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(self.max_throttle_retries + 1):
            await self.limiter.acquire()
            self.calls += 1
            try:
                resp: dict[str, Any] = await self.client.lookup_events(**params)
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if self.metrics is not None:
                    self.metrics.aws_call("cloudtrail", "LookupEvents", code or "Unknown")
                if code not in _THROTTLED or attempt == self.max_throttle_retries:
                    raise
                self.throttled += 1
                await asyncio.sleep(min(0.5 * 2**attempt, 8.0))
            else:
                if self.metrics is not None:
                    self.metrics.aws_call("cloudtrail", "LookupEvents")
                return resp
        raise AssertionError("unreachable")

    async def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name=f"lookup-events:{self.key}")

    async def stop(self) -> None:
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()  # safe: the checkpoint only moves after an acknowledged produce
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                n = await self.poll_once()
                log.debug("lookup_events.polled", account=self.account_id, region=self.region, records=n)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # boundary: log, keep the checkpoint, retry next interval
                log.error("lookup_events.poll_failed", account=self.account_id, region=self.region, error=repr(exc))
                self.caught_up = True
            if not self.caught_up:
                continue  # catching up after an outage: next window right away (the limiter paces calls)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)
