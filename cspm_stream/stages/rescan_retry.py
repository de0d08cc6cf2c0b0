"""Eventually-consistent rescans: look again before concluding "deleted" or "unchanged".

AWS read APIs lag their writes: right after ``CreateBucket`` a ``HeadBucket`` may say 404, right
after ``PutBucketPolicy`` a ``GetBucketPolicy`` may return the old document. A rescan made
seconds after an event can therefore see the resource missing, or unchanged. The ingest stage
then looks again ``scan.rescan_retry_s`` after its first look (default 5 s, 30 s, 2 min):

- **missing** at the first look (and the event is not itself a deletion: ``Delete*``,
  ``Terminate*``, ``Deregister*``): no deletion is emitted yet; a later look that finds it emits
  its snapshot (a late change, kind ``appeared``); after the last look it is concluded deleted
  (deletion + tombstone, as before).
- **unchanged** — the snapshot's content hash equals the last one this process emitted for the
  resource, or no earlier hash is known (after a restart): the snapshot is emitted as usual and a
  later look that finds different content emits it (kind ``changed``); after the last look it is
  concluded unchanged. A first look that already shows a change needs no retry.
- a look that fails (throttling, a listing that did not complete), the first one included, is
  retried on the same schedule; a retry that then finds the resource emits it (outcome ``found``).

Pending looks live in the stage state (``retry|<target>``, changelogged with the request that
created them), so a restart resumes them; the runtime's timer (:meth:`RescanRetries.tick`, every
second) starts the due ones on the event loop and applies their outcomes. Metrics:
``cspm_rescan_retries_total{outcome}`` (every retry look: changed, appeared, found, unchanged,
missing, deleted, failed) and ``cspm_rescan_late_changes_total{kind}`` (changed, appeared: what a first
look missed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import structlog

from cspm_stream.models import RescanRequest, ResourceSnapshot, from_dict, to_dict
from cspm_stream.stages.base import Emit

if TYPE_CHECKING:
    from cspm_stream.observability.metrics import Metrics

log = structlog.get_logger("cspm_stream.ingest")
PREFIX = "retry|"
#: event name prefixes whose rescan expects the resource gone (no retry before concluding deleted)
DELETIONS = ("Delete", "Terminate", "Deregister")
#: most content hashes remembered (ARN -> hash of the last snapshot emitted); oldest half dropped beyond
MAX_HASHES = 200_000
#: most retry looks running at once
MAX_CONCURRENT = 8

#: (snapshots found, listing complete) of one look at a request's resource
Look = Callable[[RescanRequest], Awaitable[tuple[list[ResourceSnapshot], bool]]]
#: the deletion records (and state updates) when a resource is concluded deleted
Conclude = Callable[[RescanRequest, MutableMapping[str, Any]], list[Emit]]
#: the record of one snapshot
Render = Callable[[ResourceSnapshot, str], Emit]


@dataclass(slots=True)
class Outcome:
    key: str
    attempt: int
    kind: str  # changed | appeared | found | unchanged | missing | failed
    snaps: list[ResourceSnapshot]


def target_of(req: RescanRequest) -> str:
    return req.arn or f"{req.account_id}|{req.region}|{req.resource_type}|{req.resource_id}"


def is_deletion(req: RescanRequest) -> bool:
    name = req.actor.event_name if req.actor is not None else req.reason.partition(":")[2]
    return name.startswith(DELETIONS)


def hash_of(snaps: Iterable[ResourceSnapshot]) -> str:
    return ",".join(sorted(s.content_hash for s in snaps))


class RescanRetries:
    """The retry schedule of one ingest handler (see the module docstring)."""

    def __init__(
        self,
        schedule: Iterable[float],
        look: Look,
        conclude: Conclude,
        render: Render,
        *,
        clock: Callable[[], float],
        metrics: Metrics | None = None,
    ) -> None:
        self.schedule = tuple(float(x) for x in schedule)
        self._look = look
        self._conclude = conclude
        self._render = render
        self._clock = clock
        self.hashes: dict[str, str] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._done: list[Outcome] = []
        self._keys: set[str] | None = None  # pending keys; None = unknown (rescan the state once)
        self._sem = asyncio.Semaphore(MAX_CONCURRENT)
        self.metrics = metrics

    @property
    def tick_interval_s(self) -> float:
        return 1.0 if self.schedule else 0.0

    def remember(self, snaps: Iterable[ResourceSnapshot]) -> None:
        """Note the content hash of every snapshot emitted (the baseline of later first looks)."""
        for s in snaps:
            if len(self.hashes) >= MAX_HASHES and s.arn not in self.hashes:
                for k in list(self.hashes)[: MAX_HASHES // 2]:
                    del self.hashes[k]
            self.hashes[s.arn] = s.content_hash

    def first_look(
        self, req: RescanRequest, found: list[ResourceSnapshot], missing: bool, state: MutableMapping[str, Any]
    ) -> bool:
        """After a request's first look: schedule the retries it needs. Returns whether a missing
        resource must be concluded deleted now (no retry left, or the event deleted it)."""
        key = PREFIX + target_of(req)
        if not self.schedule or req.attempt:
            return missing
        if missing:
            if is_deletion(req):
                self._drop(state, key)
                return True
            baseline = ""
        elif found:
            baseline = hash_of(found)
            known = ",".join(sorted(self.hashes[s.arn] for s in found if s.arn in self.hashes))
            if known and known != baseline:
                self._drop(state, key)
                return False  # the first look already shows the change
        else:
            baseline = "?"  # the look failed (throttled, listing incomplete): look again too
        now = self._clock()
        state[key] = {"r": to_dict(replace(req, attempt=1)), "t0": now, "h": baseline}
        if self._keys is not None:
            self._keys.add(key)
        return False

    # ------------------------------------------------------------------ the timer
    def tick(self, state: MutableMapping[str, Any]) -> list[Emit]:
        """Apply finished looks, start due ones (called by the runtime every second)."""
        emits = self._apply(state)
        now = self._clock()
        if self._keys is None:
            self._keys = {k for k in list(state) if k.startswith(PREFIX)}
        for key in sorted(self._keys):
            entry = state.get(key)
            if not isinstance(entry, dict):
                self._keys.discard(key)
                continue
            if key in self._running:
                continue
            req = from_dict(entry["r"], RescanRequest)
            n = req.attempt
            if n < 1 or n > len(self.schedule):
                self._drop(state, key)
                continue
            if now >= float(entry["t0"]) + self.schedule[n - 1]:
                self._running[key] = asyncio.ensure_future(self._run(key, req, str(entry.get("h", ""))))
        return emits

    async def _run(self, key: str, req: RescanRequest, baseline: str) -> None:
        try:
            async with self._sem:
                snaps, complete = await self._look(req)
        except Exception as exc:  # a failed look is retried on the schedule, never a conclusion
            log.warning("rescan retry failed", target=key, error=f"{type(exc).__name__}: {exc}"[:300])
            self._done.append(Outcome(key, req.attempt, "failed", []))
            return
        finally:
            self._running.pop(key, None)
        found = [s for s in snaps if s.resource_id != "*"]
        if found:
            h = hash_of(found)
            if baseline == "?":
                kind = "found"  # the first look failed: this is the first view, not a late change
            else:
                kind = "appeared" if not baseline else ("unchanged" if h == baseline else "changed")
        else:
            kind = "missing" if complete else "failed"
        self._done.append(Outcome(key, req.attempt, kind, found))

    def _apply(self, state: MutableMapping[str, Any]) -> list[Emit]:
        done, self._done = self._done, []
        emits: list[Emit] = []
        for o in done:
            entry = state.get(o.key)
            if not isinstance(entry, dict) or entry["r"].get("attempt") != o.attempt:
                continue  # replaced by a newer first look meanwhile
            req = from_dict(entry["r"], RescanRequest)
            last = o.attempt >= len(self.schedule)
            outcome = o.kind
            if o.kind in ("changed", "appeared", "found"):
                for s in o.snaps:
                    s.change = req.actor
                emits.extend(self._render(s, f"rescan-retry:{req.request_id}") for s in o.snaps)
                self.remember(o.snaps)
                if o.kind != "found":
                    self._count_late(o.kind)
                self._drop(state, o.key)
            elif o.kind == "missing" and (last or entry.get("h") not in ("", "?")):
                emits.extend(self._conclude(req, state))  # gone after every look (or gone since it was seen)
                outcome = "deleted"
                self._drop(state, o.key)
            elif last:
                self._drop(state, o.key)  # concluded unchanged (or nothing learnt after every look)
            else:
                state[o.key] = {**entry, "r": to_dict(replace(req, attempt=o.attempt + 1))}
            if self.metrics is not None:
                self.metrics.rescan_retries.labels(outcome=outcome).inc()
        return emits

    def _drop(self, state: MutableMapping[str, Any], key: str) -> None:
        if key in state:
            del state[key]
        if self._keys is not None:
            self._keys.discard(key)

    def _count_late(self, kind: str) -> None:
        if self.metrics is not None:
            self.metrics.rescan_late_changes.labels(kind=kind).inc()
