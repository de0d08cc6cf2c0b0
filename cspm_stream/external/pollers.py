"""Pollers of external findings, one per (product, account, region), with checkpoints.

Each poll reads the findings updated in ``[checkpoint - overlap, now]`` (the first one
``[now - lookback, now]``), drops those already read in the same version (``seen``), normalises
the rest (:mod:`~cspm_stream.external.asff`, ``guardduty``, ``accessanalyzer``), produces them —
posture-like findings to ``external-findings`` keyed by resource ARN, threat findings to
``external-threats`` keyed by subject, a finding that cannot be normalised to the dead-letter
topic with the reason and its original JSON — and only after Kafka acknowledged everything saves
the checkpoint (:mod:`~cspm_stream.external.checkpoints`). A failed call ends the poll without
moving the checkpoint; the next interval retries the same window.

- Security Hub: ``GetFindings`` filtered on ``UpdatedAt``, oldest first; findings of a product
  this process also polls directly (GuardDuty, Access Analyzer) are skipped, so one finding never
  arrives by two paths with two ids.
- GuardDuty: every detector (``ListDetectors``); ``ListFindings`` on ``updatedAt`` then
  ``GetFindings`` 50 ids at a time; one checkpoint per detector.
- Access Analyzer: every ACTIVE analyzer (``ListAnalyzers``); external-access analyzers through
  ``ListFindings``, unused- and internal-access analyzers through ``ListFindingsV2``; the listing
  has no time filter, so findings not updated since the checkpoint are dropped here.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import structlog

from cspm_stream.errors import DecodeError
from cspm_stream.external import model as m
from cspm_stream.external.accessanalyzer import from_access_analyzer
from cspm_stream.external.asff import from_asff, is_ours, product_of
from cspm_stream.external.checkpoints import MAX_SEEN, CheckpointStore
from cspm_stream.external.guardduty import from_guardduty
from cspm_stream.external.mapping import Equivalents
from cspm_stream.models.codec import dumps
from cspm_stream.sources.emits import EmitProducer, count_produced, dead_letter_emit
from cspm_stream.stages.base import Emit, headers_for
from cspm_stream.timeutil import iso, now, parse_iso

if TYPE_CHECKING:
    from cspm_stream.observability.metrics import Metrics

log = structlog.get_logger("cspm_stream.external")
SCHEMA = "external-finding.v1"
#: records produced per send (a large first poll is streamed, not held whole)
CHUNK = 500


@dataclass(frozen=True)
class PollOptions:
    interval_s: float = 300.0
    lookback_s: int = 86400
    overlap_s: int = 300
    #: products whose findings Security Hub also forwards but this process polls directly
    skip_products: frozenset[str] = frozenset()


def finding_emit(ext: m.ExternalFinding) -> Emit:
    """The record of one normalised finding on its topic (see the module docstring)."""
    if ext.kind == m.DETECTION:
        return Emit("external-threats", ext.subject, dumps(ext), headers_for(SCHEMA, ext.uid[:200]))
    return Emit("external-findings", ext.resource_arn, dumps(ext), headers_for(SCHEMA, ext.uid[:200]))


def refused_emit(stage: str, reason: str, raw: Any, at: str) -> Emit:
    return dead_letter_emit(
        stage=stage,
        reason=reason[:500],
        error_type="DecodeError",
        at=at,
        original=orjson.dumps(raw, default=str),
    )


class FindingPoller:
    """Base of the three pollers: the loop, the window, the checkpoint and the produce."""

    service = ""

    def __init__(
        self,
        client: Any,
        account_id: str,
        region: str,
        producer: EmitProducer,
        store: CheckpointStore,
        *,
        opts: PollOptions = PollOptions(),
        eq: Equivalents | None = None,
        clock: Callable[[], dt.datetime] = now,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self.account_id = account_id
        self.region = region
        self.producer = producer
        self.store = store
        self.opts = opts
        self.eq = eq
        self.clock = clock
        self.metrics = metrics
        self.produced = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def stage(self) -> str:
        return f"source.external.{self.service}"

    @property
    def key(self) -> str:
        return f"{self.service}|{self.account_id}|{self.region}"

    def window(self, cp: dict[str, Any], at: dt.datetime) -> dt.datetime:
        since = cp.get("since")
        if since:
            try:
                return min(parse_iso(since), at) - dt.timedelta(seconds=self.opts.overlap_s)
            except ValueError:
                pass
        return at - dt.timedelta(seconds=self.opts.lookback_s)

    async def poll_once(self) -> int:
        """One poll of every checkpoint this poller keeps; returns the findings produced."""
        total = 0
        async for key, raw_items in self.batches():
            total += await self._consume(key, raw_items)
        return total

    def batches(self) -> AsyncIterator[tuple[str, AsyncIterator[Any]]]:
        raise NotImplementedError

    def normalise(self, raw: Any, key: str) -> m.ExternalFinding | None:
        raise NotImplementedError

    async def _consume(self, key: str, raw_items: AsyncIterator[Any]) -> int:
        at = self.clock()
        cp = self.store.load(key)
        start = self.window(cp, at)
        seen = dict(cp.get("seen") or {})
        pending: list[Emit] = []
        produced = 0
        async for raw in raw_items:
            try:
                ext = self.normalise(raw, key)
            except DecodeError as exc:
                pending.append(refused_emit(self.stage, f"{key}: {exc}", raw, iso(at)))
                ext = None
            if ext is not None:
                if ext.updated_at and seen.get(ext.uid) == ext.updated_at:
                    continue
                if ext.updated_at and ext.updated_at < iso(start):
                    continue  # not updated since the window began (listings without a time filter)
                seen[ext.uid] = ext.updated_at
                pending.append(finding_emit(ext))
                produced += 1
            if len(pending) >= CHUNK:
                await self._send(pending, key)
                pending = []
        if pending:
            await self._send(pending, key)
        horizon = iso(at - dt.timedelta(seconds=self.opts.overlap_s))
        kept = dict(sorted(((k, v) for k, v in seen.items() if v >= horizon), key=lambda kv: kv[1])[-MAX_SEEN:])
        # only now, with every record acknowledged, does the checkpoint move
        await self.store.save(key, {"since": iso(at), "seen": kept})
        self.produced += produced
        return produced

    async def _send(self, emits: list[Emit], key: str) -> None:
        await self.producer.send_many(emits)
        count_produced(self.metrics, self.stage, key, emits)

    def _call(self, op: str, code: str | None = None) -> None:
        if self.metrics is not None:
            self.metrics.aws_call(self.service, op, code)

    async def call(self, op: str, **params: Any) -> dict[str, Any]:
        method = getattr(self.client, _snake(op))
        try:
            resp: dict[str, Any] = await method(**params)
        except Exception as exc:
            code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", "")) or type(exc).__name__
            self._call(op, code)
            raise
        self._call(op)
        return resp

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name=f"external:{self.key}")

    async def stop(self) -> None:
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()  # safe: a checkpoint only moves after an acknowledged produce
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                n = await self.poll_once()
                log.debug("external.polled", poller=self.key, findings=n)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # boundary: keep the checkpoint, retry next interval
                code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", "")) or type(exc).__name__
                log.error("external.poll_failed", poller=self.key, error=code, detail=str(exc)[:300])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.opts.interval_s)


def _snake(op: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_")


class SecurityHubPoller(FindingPoller):
    service = "securityhub"

    async def batches(self) -> AsyncIterator[tuple[str, AsyncIterator[Any]]]:  # type: ignore[override]
        yield self.key, self._findings()

    async def _findings(self) -> AsyncIterator[Any]:
        at = self.clock()
        start = self.window(self.store.load(self.key), at)
        params: dict[str, Any] = {
            "Filters": {"UpdatedAt": [{"Start": iso(start), "End": iso(at)}]},
            "SortCriteria": [{"Field": "UpdatedAt", "SortOrder": "asc"}],
            "MaxResults": 100,
        }
        while True:
            resp = await self.call("GetFindings", **params)
            for f in resp.get("Findings") or []:
                yield f
            token = resp.get("NextToken")
            if not token:
                return
            params["NextToken"] = token

    def normalise(self, raw: Any, key: str) -> m.ExternalFinding | None:
        if isinstance(raw, dict) and (product_of(raw)[0] in self.opts.skip_products or is_ours(raw)):
            return None
        return from_asff(raw, via=m.SECURITYHUB, eq=self.eq)


class GuardDutyPoller(FindingPoller):
    service = "guardduty"

    async def batches(self) -> AsyncIterator[tuple[str, AsyncIterator[Any]]]:  # type: ignore[override]
        detectors: list[str] = []
        params: dict[str, Any] = {}
        while True:
            resp = await self.call("ListDetectors", **params)
            detectors += [str(d) for d in resp.get("DetectorIds") or []]
            if not resp.get("NextToken"):
                break
            params["NextToken"] = resp["NextToken"]
        for det in detectors:
            key = f"{self.key}|{det}"
            yield key, self._findings(det, key)

    async def _findings(self, detector: str, key: str) -> AsyncIterator[Any]:
        start = self.window(self.store.load(key), self.clock())
        params: dict[str, Any] = {
            "DetectorId": detector,
            "FindingCriteria": {"Criterion": {"updatedAt": {"GreaterThanOrEqual": int(start.timestamp() * 1000)}}},
            "SortCriteria": {"AttributeName": "updatedAt", "OrderBy": "ASC"},
            "MaxResults": 50,
        }
        while True:
            resp = await self.call("ListFindings", **params)
            ids = [str(i) for i in resp.get("FindingIds") or []]
            for i in range(0, len(ids), 50):
                got = await self.call("GetFindings", DetectorId=detector, FindingIds=ids[i : i + 50])
                for f in got.get("Findings") or []:
                    yield f
            token = resp.get("NextToken")
            if not token:
                return
            params["NextToken"] = token

    def normalise(self, raw: Any, key: str) -> m.ExternalFinding | None:
        return from_guardduty(raw, via=m.GUARDDUTY, eq=self.eq)


class AccessAnalyzerPoller(FindingPoller):
    service = "accessanalyzer"

    async def batches(self) -> AsyncIterator[tuple[str, AsyncIterator[Any]]]:  # type: ignore[override]
        analyzers: list[tuple[str, str]] = []
        params: dict[str, Any] = {}
        while True:
            resp = await self.call("ListAnalyzers", **params)
            for a in resp.get("analyzers") or []:
                if isinstance(a, dict) and a.get("status") == "ACTIVE" and a.get("arn"):
                    analyzers.append((str(a["arn"]), str(a.get("type", ""))))
            if not resp.get("nextToken"):
                break
            params["nextToken"] = resp["nextToken"]
        for arn, kind in analyzers:
            op = "ListFindings" if kind in ("ACCOUNT", "ORGANIZATION") else "ListFindingsV2"
            yield f"{self.key}|{arn}", self._findings(arn, op)

    async def _findings(self, analyzer: str, op: str) -> AsyncIterator[Any]:
        params: dict[str, Any] = {"analyzerArn": analyzer, "maxResults": 100}
        while True:
            resp = await self.call(op, **params)
            for f in resp.get("findings") or []:
                yield f
            token = resp.get("nextToken")
            if not token:
                return
            params["nextToken"] = token

    def normalise(self, raw: Any, key: str) -> m.ExternalFinding | None:
        analyzer = key.split("|", 3)[3]
        return from_access_analyzer(raw, analyzer_arn=analyzer, region=self.region)
