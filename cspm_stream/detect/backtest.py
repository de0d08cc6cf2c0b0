"""Backtest: replay recorded CloudTrail records through rules and count what they would have raised.

Pure: records in (with the partition they came from), per-rule tallies out; nothing is
emitted anywhere. Every rule is evaluated as if live and generating (shadow status,
``generate: false`` and ``detection.shadow_rules`` are ignored), so the numbers say what
enabling the rule would do:

- ``matches``: records the rule's selection matched (for a correlation: times it fired);
- ``detections``: distinct detections (finding uids) it would have opened — repeats within
  the dedup window update one detection, as in the daemon;
- ``samples``: the first few matching records (time, event, actor, source address, eventID).

Records the engine refuses (wrong JSON types, no eventTime) are counted as skipped with
their reason; duplicates (same eventID) are dropped as in the daemon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cspm_stream.detect.engine import BudgetExceeded, DetectionEngine, EngineConfig, RecordRejected
from cspm_stream.detect.rescan import RescanMap
from cspm_stream.detect.rules import RuleInfo, RuleSet


@dataclass
class RuleHits:
    info: RuleInfo
    matches: int = 0
    detections: set[str] = field(default_factory=set)
    samples: list[dict[str, str]] = field(default_factory=list)


@dataclass
class BacktestReport:
    records: int = 0
    duplicates: int = 0
    skipped: int = 0
    first_time: str = ""
    last_time: str = ""
    rules: dict[str, RuleHits] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)  # skip reason -> count (first 50 distinct)

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "first_event_time": self.first_time,
            "last_event_time": self.last_time,
            "skip_reasons": self.reasons,
            "rules": [
                {
                    "id": h.info.id,
                    "title": h.info.title,
                    "level": h.info.level,
                    "kind": h.info.kind,
                    "status": h.info.status,
                    "matches": h.matches,
                    "detections": len(h.detections),
                    "samples": h.samples,
                }
                for h in self.ranked()
            ],
        }

    def ranked(self) -> list[RuleHits]:
        return sorted(self.rules.values(), key=lambda h: (-h.matches, h.info.title))


def _sample(rec: dict[str, Any]) -> dict[str, str]:
    ident = rec.get("userIdentity")
    ident = ident if isinstance(ident, dict) else {}
    return {
        "eventTime": str(rec.get("eventTime") or ""),
        "eventName": str(rec.get("eventName") or ""),
        "actor": str(ident.get("arn") or ident.get("type") or ""),
        "sourceIPAddress": str(rec.get("sourceIPAddress") or ""),
        "eventID": str(rec.get("eventID") or ""),
    }


class Backtest:
    """Feed records with :meth:`add`; read :attr:`report`. See the module doc."""

    def __init__(
        self,
        rules: RuleSet,
        config: EngineConfig | None = None,
        rescan_map: RescanMap | None = None,
        *,
        samples: int = 3,
    ) -> None:
        every = frozenset(i.id for i in rules.infos())
        self.engine = DetectionEngine(rules, config or EngineConfig(), rescan_map, force_generate=every)
        self.samples = samples
        self.report = BacktestReport(rules={i.id: RuleHits(i) for i in rules.infos()})
        self._state: dict[str, Any] = {}

    def add(self, rec: dict[str, Any], partition: int = 0) -> None:
        rep = self.report
        try:
            out = self.engine.process(rec, self._state, partition=partition)
        except (RecordRejected, BudgetExceeded) as exc:
            rep.skipped += 1
            reason = str(exc)
            if reason in rep.reasons or len(rep.reasons) < 50:
                rep.reasons[reason] = rep.reasons.get(reason, 0) + 1
            return
        rep.records += 1
        if out.duplicate:
            rep.duplicates += 1
            return
        t = str(rec.get("eventTime") or "")
        if t and (not rep.first_time or t < rep.first_time):
            rep.first_time = t
        if t > rep.last_time:
            rep.last_time = t
        for rid in out.matched:
            hits = rep.rules[rid]
            if len(hits.samples) < self.samples:
                hits.samples.append(_sample(rec))
        self._findings(out.findings, rec)

    def finish(self) -> BacktestReport:
        """Fold the detections still pending (end of the replay) and return the report."""
        self._findings(self.engine.flush(self._state), None)
        for (rid, _status), n in self.engine.match_counts.items():
            self.report.rules[rid].matches += n
        return self.report

    def _findings(self, found: list[dict[str, Any]], rec: dict[str, Any] | None) -> None:
        for f in found:
            hits = self.report.rules.get(f["unmapped"]["rule_id"])
            if hits is None:
                continue
            uid = f["finding_info"]["uid"]
            if hits.info.kind == "correlation" and rec is not None and uid not in hits.detections:
                if len(hits.samples) < self.samples:
                    hits.samples.append(_sample(rec))  # the record that completed the correlation
            hits.detections.add(uid)
