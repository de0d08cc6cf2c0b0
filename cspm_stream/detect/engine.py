"""The detection engine: CloudTrail records in, OCSF detections and rescan targets out.

Pure: no I/O and no clock. Time is the record's ``eventTime`` (event time); the
watermark is the highest event time seen on the partition (or a higher one the
caller passes). State that must survive a restart lives in the ``state`` mapping
the caller provides (a faust Table in the daemon, a dict elsewhere); see
:mod:`cspm_stream.detect.store` for its keys.

Semantics:

- a record whose eventID was already seen (within ``event_dedup_window_s`` of event
  time) is dropped; after a restart a redelivered record is never counted twice by a
  correlation or a detection, whose evidence is checked;
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

Hostile input (see :mod:`cspm_stream.detect.records`): a record whose identity or index
fields hold lists or objects is rejected with :class:`~cspm_stream.detect.records.RecordRejected`
naming the field (every field the engine reads is checked before a record that matched or
names a mutating call produces anything); numbers and booleans are evaluated as their text. Matchers read at most
the rule set's ``max_field_chars`` of a value (``detection.max_field_chars``); a detection
lists the fields a matcher had to cut while evaluating its record in
``unmapped.truncated_fields``. With ``budget_ms`` set, a record whose evaluation takes
longer raises :class:`BudgetExceeded` (checked between rules: each rule is linear-time
on bounded values) so the runtime dead-letters it and the stream moves on.
"""

from __future__ import annotations

import time
from bisect import bisect_left, insort
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cspm_stream.detect import derived
from cspm_stream.detect.bounded import MAX_ITEMS
from cspm_stream.detect.compiler import INDEX_FIELDS
from cspm_stream.detect.records import RecordRejected, normalize, normalize_keys
from cspm_stream.detect.rescan import RescanMap, RescanTarget, ResourceSpec
from cspm_stream.detect.rules import CorrelationRule, CorrelationType, DetectionRule, RuleInfo, RuleSet
from cspm_stream.detect.store import EngineConfig, Evidence, State, Store
from cspm_stream.detect.windows import count_values, counted_value, group_keys, satisfied, value_counts
from cspm_stream.errors import CspmError
from cspm_stream.models.activity import principal_key
from cspm_stream.timeutil import ms_to_iso, to_ms

__all__ = ["BudgetExceeded", "DetectionEngine", "EngineConfig", "Outcome", "Prepared", "RecordRejected", "State"]


class BudgetExceeded(CspmError):
    """Evaluating one record took longer than ``EngineConfig.budget_ms`` (the record is dead-lettered)."""


_CANDIDATE_CACHE_MAX = 50_000
#: a key whose texts are longer together is not remembered (real names are short; junk must not fill memory)
_KEY_CHARS_MAX = 512


@dataclass(slots=True)
class Outcome:
    """What one record produced."""

    findings: list[dict[str, Any]] = field(default_factory=list)
    rescans: list[RescanTarget] = field(default_factory=list)
    duplicate: bool = False
    late: bool = False
    matched: list[str] = field(default_factory=list)  # ids of rules whose predicate matched
    shadow: list[str] = field(default_factory=list)  # ids of shadow rules that matched (or fired), not alerted


#: :meth:`DetectionEngine.prepare` -> :meth:`DetectionEngine.apply`: (the record, None when it matched
#: nothing and names no mutating call; eventID; event time ms; rules whose predicate held; rescan specs
#: of its call; fields a matcher had to cut, sorted)
Prepared = tuple[dict[str, Any] | None, str, int, list[DetectionRule], tuple[ResourceSpec, ...], list[str]]
_NO_HITS: list[DetectionRule] = []  # shared: never changed
_NO_FIELDS: list[str] = []  # shared: never changed
#: what most records produce, and a duplicate (shared: callers only read an Outcome)
_QUIET = Outcome()
_DUPLICATE = Outcome(duplicate=True)


class DetectionEngine:
    """Evaluates records against a loaded :class:`RuleSet`; see the module doc for semantics."""

    def __init__(
        self,
        rules: RuleSet,
        config: EngineConfig | None = None,
        rescan_map: RescanMap | None = None,
        *,
        force_generate: frozenset[str] = frozenset(),
        shadow: frozenset[str] = frozenset(),
        on_match: Callable[[RuleInfo, bool], None] | None = None,
    ) -> None:
        """``shadow``: rule ids/names evaluated and counted but never alerted (as is ``status: shadow``);
        ``on_match(info, shadow)`` is called for every rule match and every correlation that fires
        (metrics). ``force_generate`` rules generate their own detections and are never shadow.
        """
        self.rules = rules
        self.on_match = on_match
        #: rule id -> evaluated in shadow (counted, never alerted)
        self.shadow: dict[str, bool] = {
            i.id: i.id not in force_generate and (i.status == "shadow" or bool({i.id, i.name} & shadow))
            for i in rules.infos()
        }
        #: (rule id, "live" | "shadow") -> matches (rules) or fires (correlations)
        self.match_counts: dict[tuple[str, str], int] = {}
        self.config = config or EngineConfig()
        self.rescan_map = rescan_map
        self._lateness = self.config.allowed_lateness_s * 1000
        self.store = Store(self.config, {i.id: i for i in rules.infos()})
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
        self._cache: dict[tuple[Any, ...], tuple[tuple[DetectionRule, ...], tuple[ResourceSpec, ...]]] = {}
        #: derived key fields some indexed rule selects: (name, source field, key function)
        used = {n for r in rules.rules for n in r.compiled.key_derived}
        keyed: dict[Any, tuple[str, str, Any]] = {}  # one entry per key function (fields may share one)
        for n in sorted(used):
            src, fn = derived.KEYED[n]
            keyed.setdefault(fn, (n, src, fn))
        self._keyed = tuple(keyed.values())
        self._budget = self.config.budget_ms / 1000.0
        self._clipped = rules.clipped
        self.stats = {"records": 0, "duplicates": 0, "late": 0, "findings": 0, "rescans": 0, "over_budget": 0}

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
        """Evaluate one CloudTrail record: :meth:`prepare` then :meth:`apply`.

        Raises :class:`RecordRejected` for a record that cannot be evaluated safely (no
        eventID/eventTime, identity fields holding lists or objects) and
        :class:`BudgetExceeded` when evaluation overruns ``budget_ms``.
        """
        return self.apply(
            self.prepare(rec, event_time_ms=event_time_ms),
            state,
            partition=partition,
            principal=principal,
            watermark_ms=watermark_ms,
        )

    def prepare(self, rec: dict[str, Any], *, event_time_ms: int | None = None) -> Prepared:
        """The half of :meth:`process` that reads the record alone (no state): field checks, the
        rule index and the rules' predicates. What it returns is for :meth:`apply`.

        A bulk caller may prepare records as they are read (while they are in the CPU's cache) and
        apply them later, in event-time order: a record that matched nothing and names no mutating
        call is carried as its eventID and time alone. Raises as :meth:`process` does; a record that
        raised leaves no trace.
        """
        # the key fields are read once, here, for the type check (normalize_keys' fast path, inlined)
        # and for the rule index; any other shape takes normalize_keys (which coerces or rejects)
        eid: str
        if rec.__class__ is dict:
            get = rec.get
            eid = get("eventID")  # type: ignore[assignment]  # a str once the check below holds
            name = get("eventName")
            source = get("eventSource")
            err = get("errorCode")
            etype = get("eventType")
            ident = get("userIdentity")
            itype = ident.get("type") if ident.__class__ is dict else None
            fast = (
                eid.__class__ is str
                and eid
                and (event_time_ms is not None or get("eventTime").__class__ is str)
                and (name is None or name.__class__ is str)
                and (source is None or source.__class__ is str)
                and (err is None or (err.__class__ is str and err != ""))
                and (etype is None or etype.__class__ is str)
                and (ident is None or ident.__class__ is dict)
                and (itype is None or itype.__class__ is str)
            )
        else:
            fast = False
        if not fast:
            rec = normalize_keys(rec, need_time=event_time_ms is None)
            get = rec.get
            eid, name, source, err = rec["eventID"], get("eventName"), get("eventSource"), get("errorCode")
            etype = get("eventType")
            ident = get("userIdentity")
            itype = ident.get("type") if ident.__class__ is dict else None
        if event_time_ms is None:
            try:
                event_time_ms = to_ms(rec["eventTime"])
            except ValueError:
                raise RecordRejected(f"eventTime {rec['eventTime'][:64]!r} is not an ISO 8601 time") from None
        cands, specs = self._lookup(rec, name, source, itype, err, etype)
        hits = self._match(rec, cands) if cands else _NO_HITS
        if hits or specs:  # it will produce output: every field checked
            # the fields a matcher had to cut are read now: the next record's evaluation resets them
            cut = sorted(self._clipped) if self._clipped else _NO_FIELDS
            return (normalize(rec, need_time=False), eid, event_time_ms, hits, specs, cut)
        return (None, eid, event_time_ms, _NO_HITS, specs, _NO_FIELDS)

    def apply(
        self,
        prepared: Prepared,
        state: State,
        *,
        partition: int = 0,
        principal: str | None = None,
        watermark_ms: int | None = None,
    ) -> Outcome:
        """The half of :meth:`process` that reads and changes ``state``: duplicates, the watermark,
        detections and correlations. ``prepared`` comes from :meth:`prepare` of this engine."""
        rec, eid, t, hits, specs, truncated = prepared
        stats = self.stats
        stats["records"] += 1
        admitted = self.store.admit(state, partition, eid, t, watermark_ms or 0)
        if admitted is None:
            stats["duplicates"] += 1
            return _DUPLICATE
        check_known, new_wm, swept = admitted
        found = self._live(swept) if swept else []
        late = t < new_wm - self._lateness
        if late:
            stats["late"] += 1
        if rec is None:  # matched nothing, names no mutating call
            if not (found or late):
                return _QUIET
            stats["findings"] += len(found)
            return Outcome(found, [], False, late, [], [])
        targets = self.rescan_map.targets_of(rec, specs) if specs else []  # type: ignore[union-attr]
        out = Outcome(found, targets, False, late, [], [])
        if not hits:
            stats["findings"] += len(found)
            stats["rescans"] += len(targets)
            return out
        resources: list[dict[str, Any]] | None = None
        group = principal or ""
        for rule in hits:
            rid = rule.info.id
            if self.shadow[rid]:
                self._count(rule.info, True)
                out.shadow.append(rid)
                continue
            self._count(rule.info, False)
            out.matched.append(rid)
            if self._generate[rid]:
                if resources is None:
                    resources = self._resources(rec, targets)
                    group = group or principal_key(rec)  # single-event detections group by the principal
                f = self.store.record(
                    state,
                    partition,
                    rule.info,
                    group,
                    rec,
                    [_evidence(rec, eid, t)],
                    resources,
                    window_start=t,
                    check_known=check_known,
                    truncated=list(truncated),
                )
                if f is not None:
                    out.findings.append(f)
            if not late:
                for corr in rule.feeds:
                    for f in self._correlate(
                        state, partition, corr, rule, rec, eid, t, new_wm, targets, check_known, truncated
                    ):
                        if self.shadow[corr.info.id]:
                            self._count(corr.info, True)
                            out.shadow.append(corr.info.id)
                        else:
                            self._count(corr.info, False)
                            out.findings.append(f)
        self.stats["findings"] += len(out.findings)
        self.stats["rescans"] += len(out.rescans)
        return out

    def _match(self, rec: dict[str, Any], cands: tuple[DetectionRule, ...]) -> list[DetectionRule]:
        """The candidate rules whose predicate holds, within the budget.

        Candidates come from :meth:`_candidates`, whose key filter already decided the rule's
        key-field selections exactly, so only the rest (``residual``) is evaluated here.
        The wall clock (cheap) is read around the evaluation; when it ran over, the record is
        evaluated again on the thread's CPU clock, rule by rule, so a process descheduled by a
        busy machine is not mistaken for an expensive record: only CPU time over the budget
        raises :class:`BudgetExceeded` (each rule is linear-time on bounded values, so one rule
        cannot run away between two checks).
        """
        if self._clipped:
            self._clipped.clear()
        # plain loops: a record has a few candidates, and a comprehension costs a call of its own
        hits: list[DetectionRule] = []
        budget = self._budget
        if not budget:
            for r in cands:
                if r.residual(rec):
                    hits.append(r)
            return hits
        started = time.perf_counter()
        for r in cands:
            if r.residual(rec):  # each is linear in bounded values
                hits.append(r)
        if time.perf_counter() - started <= budget:
            return hits
        cpu = time.thread_time
        started = cpu()
        hits = []
        for r in cands:
            if r.residual(rec):
                hits.append(r)
            if cpu() - started > budget:
                self.stats["over_budget"] += 1
                raise BudgetExceeded(
                    f"evaluation took over {self.config.budget_ms:g} ms of CPU (detection.eval_budget_ms);"
                    f" stopped at rule {r.info.id}"
                )
        return hits

    # ------------------------------------------------------------------ rule index
    def _candidates(self, rec: dict[str, Any]) -> tuple[tuple[DetectionRule, ...], tuple[ResourceSpec, ...]]:
        """The rules that can match ``rec`` and the rescan specs of its call, remembered per key.

        The key is the index fields' values plus the derived key fields' (:data:`derived.KEYED`);
        both answers are functions of the key alone (the rescan table reads eventSource,
        eventName and whether errorCode is set).
        """
        ident = rec.get("userIdentity")
        return self._lookup(
            rec,
            rec.get("eventName"),
            rec.get("eventSource"),
            ident.get("type") if ident.__class__ is dict else None,
            rec.get("errorCode"),
            rec.get("eventType"),
        )

    def _lookup(
        self, rec: dict[str, Any], name: Any, source: Any, itype: Any, err: Any, etype: Any
    ) -> tuple[tuple[DetectionRule, ...], tuple[ResourceSpec, ...]]:
        """:meth:`_candidates` given the index fields' values (read once by :meth:`process`)."""
        keyed = self._keyed
        key: tuple[Any, ...]
        if len(keyed) == 3:  # the built-in pack: cspm.console, cspm.ec2_credentials + cspm.person, cspm.tools
            key = (name, source, itype, err, etype, keyed[0][2](rec), keyed[1][2](rec), keyed[2][2](rec))
        else:
            key = (name, source, itype, err, etype, *(fn(rec) for _, _, fn in keyed))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        lst: list[DetectionRule] = []
        n = len(INDEX_FIELDS)
        for f, v in zip(INDEX_FIELDS, key[:n], strict=True):
            if isinstance(v, str):
                lst.extend(self._index[f].get(v.lower(), ()))
        lst.extend(self._generic)
        # each rule's condition projected onto the key fields decides, once per key, if it can match
        probe: dict[str, Any] = {k: v for k, v in (("eventName", key[0]), ("eventSource", key[1])) if v is not None}
        if key[2] is not None:
            probe["userIdentity"] = {"type": key[2]}
        if key[3] is not None:
            probe["errorCode"] = key[3]
        if key[4] is not None:
            probe["eventType"] = key[4]
        for _, src, _ in keyed:  # the same source value gives the same derived value
            if (v := rec.get(src)) is not None:
                probe[src] = v
        cands = tuple(r for r in lst if r.compiled.key_filter is None or r.compiled.key_filter(probe))
        specs = self.rescan_map.specs(rec) if self.rescan_map is not None else ()
        hit = (cands, specs)
        if sum(len(v) for v in key[:n] if v.__class__ is str) <= _KEY_CHARS_MAX:  # junk values are not kept
            if len(self._cache) >= _CANDIDATE_CACHE_MAX:
                self._cache.clear()
            self._cache[key] = hit
        return hit

    def _count(self, info: RuleInfo, shadow: bool) -> None:
        key = (info.id, "shadow" if shadow else "live")
        self.match_counts[key] = self.match_counts.get(key, 0) + 1
        if self.on_match is not None:
            self.on_match(info, shadow)

    def candidate_count(self, rec: dict[str, Any]) -> int:
        """How many rules the index selects for ``rec`` (for tests and benchmarks)."""
        return len(self._candidates(rec)[0])

    def flush(self, state: State) -> list[dict[str, Any]]:
        """Publish every detection with repeats not yet published (end of an offline run)."""
        return self._live(self.store.flush(state))

    def sweep(self, state: State, partition: int, watermark: int) -> list[dict[str, Any]]:
        """Expire state of ``partition`` older than ``watermark`` (also run as the watermark advances)."""
        return self._live(self.store.sweep(state, partition, watermark))

    def _live(self, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drop the final updates of shadow correlations (their detections are never published)."""
        if not found:
            return found
        return [f for f in found if not self.shadow.get(f["unmapped"]["rule_id"], False)]

    def _resources(self, rec: dict[str, Any], targets: list[RescanTarget]) -> list[dict[str, Any]]:
        out = [{"uid": tg.arn or tg.resource_id, "type": tg.resource_type} for tg in targets]
        listed = rec.get("resources") if not out else None
        if isinstance(listed, list):  # any other JSON type: no resources named
            for r in listed[:MAX_ITEMS]:
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
        targets: list[RescanTarget],
        check_known: bool,
        truncated: list[str],
    ) -> list[dict[str, Any]]:
        """Feed one matching record to ``corr`` in each of its groups (see :mod:`~cspm_stream.detect.windows`)."""
        rid = rule.info.id
        groups = group_keys(corr.group_by, corr.group_getters[rid], rec, corr.group_scalars.get(rid, ()))
        if not groups:
            return []  # nothing to join on: the record cannot take part in this correlation
        value = None
        if corr.value_getters:
            value = counted_value(corr.value_getters[rid], rec, int(corr.threshold) + 1)
        entry = [
            t,
            eid,
            corr.refs.index(rid),
            value,
            str(rec.get("eventName") or ""),
            str(rec.get("eventSource") or ""),
        ]
        out = []
        for group in groups:
            f = self._window(state, partition, corr, group, entry, rec, wm, targets, check_known, truncated)
            if f is not None:
                out.append(f)
        return out

    def _window(
        self,
        state: State,
        partition: int,
        corr: CorrelationRule,
        group: str,
        entry: list[Any],
        rec: dict[str, Any],
        wm: int,
        targets: list[RescanTarget],
        check_known: bool,
        truncated: list[str],
    ) -> dict[str, Any] | None:
        t, eid = entry[0], entry[1]
        ckey = f"cor|{corr.info.id}|{group}"
        held = state.get(ckey)
        buf: list[list[Any]] = held["b"] if held else []
        if check_known:  # a possible redelivery (eventIDs seen since the restart are dropped upstream)
            if any(e[1] == eid for e in buf):
                return None  # still buffered from before the restart
            det = state.get(f"det|{corr.info.id}|{group}")
            if det is not None and eid in self.store.known_ids(state, det):
                return None  # consumed by a window that already fired
        # value_count: how many buffered records hold each value, kept with the buffer (rebuilt for a
        # buffer stored without it), so the distinct count of the buffer is known without a scan
        counted = corr.ctype is CorrelationType.VALUE_COUNT
        values: dict[str, int] | None = None
        if counted:
            values = held.get("v") if held else None
            if values is None:
                values = value_counts(buf)
        cutoff = wm - self._lateness - corr.span_ms
        if buf and buf[0][0] < cutoff:  # sorted by time: drop the expired head
            cut = bisect_left(buf, cutoff, key=_time)
            if values is not None:
                for e in buf[:cut]:
                    count_values(values, e[3], -1)
            buf = buf[cut:]
        if not buf or buf[-1][0] < t or (buf[-1][0] == t and buf[-1][1] < eid):
            buf.append(list(entry))  # in order: the usual case
        else:
            insort(buf, list(entry), key=_order)
        # every count a condition takes is at most the buffer's (a window is part of it): a buffer with
        # too few records, or too few distinct values, cannot hold a satisfying window (gte/gt only)
        if values is not None:
            count_values(values, entry[3], 1)
            possible = corr.op.holds(len(values), corr.threshold)
        else:
            possible = corr.op.holds(len(buf), corr.threshold)
        found = satisfied(corr, buf, t) if possible else None
        finding = None
        if found is not None:
            window, evidence_entries = found
            ids = {e[1] for e in window}
            buf = [e for e in buf if e[1] not in ids]  # the whole window is consumed
            if values is not None:
                values = value_counts(buf)
            evidence: list[Evidence] = [(e[1], e[4], ms_to_iso(e[0]), e[5], e[0]) for e in evidence_entries]
            finding = self.store.record(  # what the detection names is worked out only when one fires
                state,
                partition,
                corr.info,
                group,
                rec,
                evidence,
                self._resources(rec, targets),
                window_start=window[0][0],
                check_known=True,
                truncated=list(truncated),
            )
        if buf:
            exp = buf[-1][0] + corr.span_ms + self._lateness
            state[ckey] = {"exp": exp, "b": buf} if values is None else {"exp": exp, "b": buf, "v": values}
            if not held:
                self.store.register(state, partition, ckey, exp)
        elif held:
            del state[ckey]
        return finding


def _time(e: list[Any]) -> int:
    return int(e[0])


def _order(e: list[Any]) -> tuple[int, str]:
    return (e[0], e[1])


def _evidence(rec: dict[str, Any], eid: str, t: int) -> Evidence:
    """(eventID, eventName, eventTime, eventSource, t_ms)."""
    return (
        eid,
        str(rec.get("eventName") or ""),
        str(rec.get("eventTime") or ms_to_iso(t)),
        str(rec.get("eventSource") or ""),
        t,
    )
