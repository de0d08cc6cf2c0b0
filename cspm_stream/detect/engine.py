"""The detection engine: CloudTrail records in, OCSF detections and rescan targets out.

Pure: no I/O and no clock. Time is the record's ``eventTime`` (event time); the
watermark is the highest event time seen on the partition (or a higher one the
caller passes). Everything that must survive a restart lives in the ``state``
mapping the caller provides (a faust Table in the daemon, a dict elsewhere),
as JSON-able values under these keys::

    wm|<partition>              watermark (event-time ms), persisted every >= 1 s of progress
    seen|<principal>|<10 s>     {eventID: 1}: eventIDs already processed (at-least-once dedup)
    cor|<rule>|<group key>      {"exp": ms, "b": [[t_ms, eventID, ref#, value, name, source], ...]}
    det|<rule>|<group key>      the current detection of (rule, group): uid, window, count, evidence, exp
    reg|<partition>|<minute>    [key, ...]: keys due to expire in that minute (swept as the watermark passes)
    sweep|<partition>           the last minute swept

No value grows with the traffic of the partition (only with one principal's
10-second burst, one correlation window, or one detection's evidence cap), so
a changelogged table writes small records.

Semantics:

- a record whose eventID was already seen (within ``event_dedup_window_s`` of event
  time) is dropped; a duplicate is also never counted twice by a correlation or a
  detection, whose evidence lists are checked;
- single-event rules fire on every matching record, however late; a rule referenced
  only by correlations with ``generate: false`` does not fire on its own;
- correlations count records whose event time is at least ``watermark - allowed
  lateness``; windows are sliding, of the rule's ``timespan``, and a late or
  out-of-order record is placed by its event time. When a window satisfies the
  condition its records are consumed (the next alert needs new records);
- detection identity is ``finding_uid(rule id, group key, window start)``; a repeat
  of the same (rule, group) within ``dedup_window_s`` of the window start updates
  that detection (activity 2, count and last_seen bumped, evidence appended up to
  ``max_evidence``) instead of opening a new one. Single-event rules group by the
  principal (the partition key);
- an update is published at most once per ``update_interval_s`` of event time per
  detection (0 = every repeat); repeats in between are folded into the next update,
  and a detection closing with unpublished repeats publishes its final update when
  the sweep removes it (or on :meth:`DetectionEngine.flush`).
"""

from __future__ import annotations

from bisect import insort
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from cspm_stream.detect import findings
from cspm_stream.detect.compiler import INDEX_FIELDS
from cspm_stream.detect.fields import text
from cspm_stream.detect.rescan import RescanMap, RescanTarget
from cspm_stream.detect.rules import CorrelationRule, CorrelationType, DetectionRule, RuleInfo, RuleSet
from cspm_stream.models import ocsf
from cspm_stream.models.activity import principal_key
from cspm_stream.timeutil import ms_to_iso, to_ms

State = MutableMapping[str, Any]
SWEEP_EVERY_MS = 60_000
SEEN_BUCKET_MS = 10_000
MAX_SWEEP_MINUTES = 7 * 24 * 60
_CANDIDATE_CACHE_MAX = 50_000


@dataclass(frozen=True, slots=True)
class EngineConfig:
    allowed_lateness_s: int = 900
    dedup_window_s: int = 3600
    event_dedup_window_s: int = 3600
    max_evidence: int = 256
    update_interval_s: int = 60


@dataclass(slots=True)
class Outcome:
    """What one record produced."""

    findings: list[dict[str, Any]] = field(default_factory=list)
    rescans: list[RescanTarget] = field(default_factory=list)
    duplicate: bool = False
    late: bool = False
    matched: list[str] = field(default_factory=list)  # ids of rules whose predicate matched


class DetectionEngine:
    """Evaluates records against a loaded :class:`RuleSet`; see the module doc for semantics."""

    def __init__(
        self,
        rules: RuleSet,
        config: EngineConfig | None = None,
        rescan_map: RescanMap | None = None,
        *,
        force_generate: frozenset[str] = frozenset(),
    ) -> None:
        self.rules = rules
        self.config = config or EngineConfig()
        self.rescan_map = rescan_map
        self._lateness = self.config.allowed_lateness_s * 1000
        self._dedup = self.config.dedup_window_s * 1000
        self._event_dedup = self.config.event_dedup_window_s * 1000
        self._update_ms = self.config.update_interval_s * 1000
        self._infos = {i.id: i for i in rules.infos()}
        self._generate = {r.info.id: (r.generate or r.info.id in force_generate) for r in rules.rules}
        #: per index field (see compiler.INDEX_FIELDS): lower-cased value -> rules pinned to it
        self._index: dict[str, dict[str, list[DetectionRule]]] = {f: {} for f in INDEX_FIELDS}
        self._generic: list[DetectionRule] = []
        for r in rules.rules:
            if not self._generate[r.info.id] and not r.feeds:
                continue  # neither fires nor feeds anything
            for f in INDEX_FIELDS:
                vals = r.compiled.pins.get(f)
                if vals is not None:
                    for v in vals:
                        self._index[f].setdefault(v, []).append(r)
                    break
            else:
                self._generic.append(r)
        self._cache: dict[tuple[Any, ...], tuple[DetectionRule, ...]] = {}
        self._wm: dict[int, int] = {}
        self._next_sweep: dict[int, int] = {}
        self.stats = {"records": 0, "duplicates": 0, "late": 0, "findings": 0, "rescans": 0}

    # ------------------------------------------------------------------ entry point
    def process(
        self,
        rec: dict[str, Any],
        state: State,
        *,
        partition: int = 0,
        principal: str | None = None,
        event_time_ms: int | None = None,
        watermark_ms: int | None = None,
    ) -> Outcome:
        """Evaluate one CloudTrail record. Raises ValueError for a record without eventID/eventTime."""
        eid = rec.get("eventID")
        if not eid:
            raise ValueError("record has no eventID")
        eid = str(eid)
        if event_time_ms is None:
            et = rec.get("eventTime")
            if not isinstance(et, str):
                raise ValueError("record has no eventTime")
            event_time_ms = to_ms(et)
        t = event_time_ms
        if principal is None:
            principal = principal_key(rec)
        self.stats["records"] += 1
        out = Outcome()
        wm = self._watermark(state, partition)
        seen = self._seen(state, partition, principal, eid, t, wm)
        if seen is None:
            self.stats["duplicates"] += 1
            out.duplicate = True
            return out
        new_wm = max(wm, t, watermark_ms or 0)
        if new_wm > wm:
            out.findings.extend(self._advance(state, partition, new_wm))
        late = t < new_wm - self._lateness
        if late:
            self.stats["late"] += 1
            out.late = True
        targets = self.rescan_map.targets(rec) if self.rescan_map is not None else []
        out.rescans = targets
        resources: list[dict[str, Any]] | None = None
        for rule in self._candidates(rec):
            if not rule.compiled.predicate(rec):
                continue
            out.matched.append(rule.info.id)
            if resources is None:
                resources = self._resources(rec, targets)
            if self._generate[rule.info.id]:
                f = self._record_detection(
                    state,
                    partition,
                    rule.info,
                    principal,
                    rec,
                    [_evidence(rec, eid, t)],
                    resources,
                    window_start=t,
                    check_known=not seen,
                )
                if f is not None:
                    out.findings.append(f)
            if not late:
                for corr in rule.feeds:
                    f = self._correlate(state, partition, corr, rule, rec, eid, t, new_wm, resources)
                    if f is not None:
                        out.findings.append(f)
        self.stats["findings"] += len(out.findings)
        self.stats["rescans"] += len(out.rescans)
        return out

    # ------------------------------------------------------------------ rule index
    def _candidates(self, rec: dict[str, Any]) -> tuple[DetectionRule, ...]:
        ident = rec.get("userIdentity")
        key = (
            rec.get("eventName"),
            rec.get("eventSource"),
            ident.get("type") if isinstance(ident, dict) else None,
            rec.get("errorCode"),
        )
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        lst: list[DetectionRule] = []
        for f, v in zip(INDEX_FIELDS, key, strict=True):
            if isinstance(v, str):
                lst.extend(self._index[f].get(v.lower(), ()))
        lst.extend(self._generic)
        hit = tuple(lst)
        if len(self._cache) >= _CANDIDATE_CACHE_MAX:
            self._cache.clear()
        if all(isinstance(v, str | None) for v in key):
            self._cache[key] = hit
        return hit

    def candidate_count(self, rec: dict[str, Any]) -> int:
        """How many rules the index selects for ``rec`` (for tests and benchmarks)."""
        return len(self._candidates(rec))

    # ------------------------------------------------------------------ watermark, dedup, expiry
    def _watermark(self, state: State, partition: int) -> int:
        mem = self._wm.get(partition, 0)
        stored = state.get(f"wm|{partition}", 0)
        return mem if mem >= stored else int(stored)

    def _advance(self, state: State, partition: int, wm: int) -> list[dict[str, Any]]:
        self._wm[partition] = wm
        key = f"wm|{partition}"
        if wm - int(state.get(key, 0)) >= 1000:
            state[key] = wm
        nxt = self._next_sweep.get(partition)
        if nxt is None:
            self._next_sweep[partition] = wm + SWEEP_EVERY_MS
        elif wm >= nxt:
            self._next_sweep[partition] = wm + SWEEP_EVERY_MS
            return self.sweep(state, partition, wm)
        return []

    def _register(self, state: State, partition: int, key: str, expiry: int) -> None:
        minute = expiry // 60_000
        skey = f"sweep|{partition}"
        last = state.get(skey)
        if last is None or minute <= int(last):
            state[skey] = minute - 1  # the sweep pointer never passes a registered minute
        rkey = f"reg|{partition}|{minute}"
        lst = state.get(rkey)
        lst = [key] if lst is None else [*lst, key]
        state[rkey] = lst

    def _expiry(self, key: str, value: Any) -> int:
        if key.startswith("seen|"):
            return (int(key.rsplit("|", 1)[1]) + 1) * SEEN_BUCKET_MS + self._event_dedup
        if isinstance(value, dict) and "exp" in value:
            return int(value["exp"])
        return 0

    def sweep(self, state: State, partition: int, watermark: int) -> list[dict[str, Any]]:
        """Delete the keys of ``partition`` that expired before ``watermark``.

        A closing detection with repeats not yet published yields its final update.
        """
        skey = f"sweep|{partition}"
        last = state.get(skey)
        if last is None:
            return []
        upto = watermark // 60_000 - 1
        start = max(int(last) + 1, upto - MAX_SWEEP_MINUTES)
        final: list[dict[str, Any]] = []
        for minute in range(start, upto + 1):
            keys = state.pop(f"reg|{partition}|{minute}", None)
            for key in keys or ():
                value = state.get(key)
                if value is None:
                    continue
                exp = self._expiry(key, value)
                if exp >= watermark:
                    self._register(state, partition, key, exp)
                    continue
                if key.startswith("det|") and value.get("pe"):
                    f = self._publish(value)
                    if f is not None:
                        final.append(f)
                del state[key]
        if upto > int(last):
            state[skey] = upto
        return final

    def flush(self, state: State) -> list[dict[str, Any]]:
        """Publish every detection with repeats not yet published (end of an offline run)."""
        out = []
        for key in [k for k in state if k.startswith("det|")]:
            det = state[key]
            if det.get("pe"):
                f = self._publish(det)
                det["pe"] = 0
                det["le"] = det["last"]
                state[key] = det
                if f is not None:
                    out.append(f)
        return out

    def _publish(self, det: dict[str, Any]) -> dict[str, Any] | None:
        info = self._infos.get(det["rule"])
        return findings.build(info, det, ocsf.ACTIVITY_UPDATE) if info is not None else None

    def _seen(self, state: State, partition: int, principal: str, eid: str, t: int, wm: int) -> bool | None:
        """None = a duplicate; True = remembered now; False = too old to remember (not a known duplicate)."""
        bucket_no = t // SEEN_BUCKET_MS
        skey = f"seen|{principal}|{bucket_no}"
        bucket = state.get(skey)
        if bucket is not None and eid in bucket:
            return None
        if t < wm - self._event_dedup:
            return False  # downstream evidence checks still apply
        if bucket is None:
            bucket = {}
            self._register(state, partition, skey, (bucket_no + 1) * SEEN_BUCKET_MS + self._event_dedup)
        bucket[eid] = 1
        state[skey] = bucket
        return True

    # ------------------------------------------------------------------ detections
    def _record_detection(
        self,
        state: State,
        partition: int,
        info: RuleInfo,
        group: str,
        rec: dict[str, Any],
        evidence: list[tuple[str, str, str, str, int]],
        resources: list[dict[str, Any]],
        *,
        window_start: int,
        check_known: bool,
    ) -> dict[str, Any] | None:
        """Open or update the detection of (rule, group); evidence = (id, name, time, source, t_ms)."""
        dkey = f"det|{info.id}|{group}"
        det = state.get(dkey)
        ws = window_start
        ctx = findings.context_of(rec)
        if det is not None and abs(ws - int(det["ws"])) < self._dedup:
            if check_known:  # the record is too old for the eventID memory: look in the evidence
                known = set(det["ids"])
                evidence = [e for e in evidence if e[0] not in known]
                if not evidence:
                    return None  # a redelivered record: nothing new
            det["count"] = int(det["count"]) + len(evidence)
            room = max(self.config.max_evidence - len(det["ids"]), 0)
            kept = evidence[:room]
            det["ids"].extend(e[0] for e in kept)
            det["evd"].extend(_ocsf_evidence(e) for e in kept)
            if len(evidence) > room:
                det["trunc"] = int(det.get("trunc", 0)) + len(evidence) - room
            det["first"] = min(int(det["first"]), min(e[4] for e in evidence))
            det["last"] = max(int(det["last"]), max(e[4] for e in evidence))
            det.update(ctx)
            for r in resources:
                if r not in det["resources"]:
                    det["resources"].append(r)
            newest = max(e[4] for e in evidence)
            if self._update_ms and newest - int(det.get("le", det["ws"])) < self._update_ms:
                det["pe"] = int(det.get("pe", 0)) + 1  # published later (interval passed, or at close)
                state[dkey] = det
                return None
            det["le"] = newest
            det["pe"] = 0
            activity = ocsf.ACTIVITY_UPDATE
        else:
            ws_iso = ms_to_iso(ws)
            kept = evidence[: self.config.max_evidence]
            det = {
                "uid": ocsf.finding_uid(info.id, group, ws_iso),
                "rule": info.id,
                "group": group,
                "ws": ws,
                "ws_iso": ws_iso,
                "exp": ws + self._dedup + self._lateness,
                "first": min(e[4] for e in evidence),
                "last": max(e[4] for e in evidence),
                "count": len(evidence),
                "le": max(e[4] for e in evidence),
                "pe": 0,
                "ids": [e[0] for e in kept],
                "evd": [_ocsf_evidence(e) for e in kept],
                "resources": list(resources),
                **ctx,
            }
            if len(evidence) > len(kept):
                det["trunc"] = len(evidence) - len(kept)
            activity = ocsf.ACTIVITY_CREATE
            self._register(state, partition, dkey, det["exp"])
        state[dkey] = det
        return findings.build(info, det, activity)

    def _resources(self, rec: dict[str, Any], targets: list[RescanTarget]) -> list[dict[str, Any]]:
        out = [{"uid": tg.arn or tg.resource_id, "type": tg.resource_type} for tg in targets]
        if not out:
            for r in rec.get("resources") or []:
                if isinstance(r, dict) and r.get("ARN"):
                    out.append({"uid": str(r["ARN"]), "type": str(r.get("type") or "")})
        return out

    # ------------------------------------------------------------------ correlations
    def _correlate(
        self,
        state: State,
        partition: int,
        corr: CorrelationRule,
        rule: DetectionRule,
        rec: dict[str, Any],
        eid: str,
        t: int,
        wm: int,
        resources: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        rid = rule.info.id
        parts = []
        for name, get in zip(corr.group_by, corr.group_getters[rid], strict=True):
            vals = [x for v in get(rec) if (x := text(v)) is not None]
            parts.append(f"{name}={vals[0] if vals else ''}")
        group = "|".join(parts) if parts else "*"
        ckey = f"cor|{corr.info.id}|{group}"
        held = state.get(ckey)
        buf: list[list[Any]] = held["b"] if held else []
        if any(e[1] == eid for e in buf):
            return None
        value = None
        if corr.value_getters:
            vals = [x for v in corr.value_getters[rid](rec) if (x := text(v)) is not None]
            value = vals[0] if vals else None
        cutoff = wm - self._lateness - corr.span_ms
        buf = [e for e in buf if e[0] >= cutoff]
        entry = [
            t,
            eid,
            corr.refs.index(rid),
            value,
            str(rec.get("eventName") or ""),
            str(rec.get("eventSource") or ""),
        ]
        insort(buf, entry, key=lambda e: (e[0], e[1]))
        window = _satisfied(corr, buf, t)
        finding = None
        if window is not None:
            ids = {e[1] for e in window}
            buf = [e for e in buf if e[1] not in ids]
            evidence = [(e[1], e[4], ms_to_iso(e[0]), e[5], e[0]) for e in window]
            finding = self._record_detection(
                state,
                partition,
                corr.info,
                group,
                rec,
                evidence,
                resources,
                window_start=window[0][0],
                check_known=True,
            )
        if buf:
            exp = buf[-1][0] + corr.span_ms + self._lateness
            state[ckey] = {"exp": exp, "b": buf}
            if not held:
                self._register(state, partition, ckey, exp)
        elif held:
            del state[ckey]
        return finding


def _evidence(rec: dict[str, Any], eid: str, t: int) -> tuple[str, str, str, str, int]:
    """(eventID, eventName, eventTime, eventSource, t_ms)."""
    return (
        eid,
        str(rec.get("eventName") or ""),
        str(rec.get("eventTime") or ms_to_iso(t)),
        str(rec.get("eventSource") or ""),
        t,
    )


def _ocsf_evidence(e: tuple[str, str, str, str, int]) -> dict[str, Any]:
    return {"data": {"event_id": e[0], "event_name": e[1], "event_time": e[2], "event_source": e[3]}}


def _satisfied(corr: CorrelationRule, buf: list[list[Any]], t_new: int) -> list[list[Any]] | None:
    """The earliest window [start, start + timespan] containing ``t_new`` that meets the condition."""
    span = corr.span_ms
    n = len(buf)
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
        if _holds(corr, window):
            return window
    return None


def _holds(corr: CorrelationRule, window: list[list[Any]]) -> bool:
    ct = corr.ctype
    if ct is CorrelationType.EVENT_COUNT:
        return corr.op.holds(len(window), corr.threshold)
    if ct is CorrelationType.VALUE_COUNT:
        return corr.op.holds(len({e[3] for e in window if e[3] is not None}), corr.threshold)
    if ct is CorrelationType.TEMPORAL:
        return corr.op.holds(len({e[2] for e in window}), corr.threshold)
    want = 0  # temporal_ordered: the referenced rules matched in their order
    for e in window:
        if e[2] == want:
            want += 1
            if want == len(corr.refs):
                break
    return corr.op.holds(want, corr.threshold)
