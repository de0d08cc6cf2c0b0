"""Engine state: watermark, eventID memory, detection records and their expiry.

Everything that must survive a restart is kept in the caller's ``state`` mapping
(a changelogged faust Table in the daemon, a dict elsewhere) as small JSON-able
values, so a per-record write stays small whatever the traffic::

    wm|<partition>              watermark (event-time ms), persisted every >= 1 s of progress
    det|<rule>|<group key>      the current detection of (rule, group): uid, window, counts, context
    dev|<rule>|<group key>|<n>  its evidence, in chunks of 32: {"ids": [...], "evd": [OCSF evidence]}
    cor|<rule>|<group key>      correlation buffer {"exp": ms, "b": [[t_ms, eventID, ref#, value, name, source]]}
    reg|<partition>|<minute>|<n>  [key, ...]: det/cor keys due to expire in that minute, chunks of 16
    regn|<partition>|<minute>   the number of those chunks
    sweep|<partition>           the last minute swept

Every value changed is re-assigned (``state[key] = value``), never only mutated in place: the
runtimes rely on it (``DetectHandler.assigns_changes``) to skip snapshotting what they read, and
a test holds the engine to it.

eventIDs already processed are remembered in memory (bounded: ``event_dedup_window_s``
of event time, at most ``MAX_REMEMBERED`` per partition). After a restart, records
at or below the restored watermark may be redeliveries: for them the detection and
correlation evidence is checked, so a redelivered record is never counted twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cspm_stream.detect import findings
from cspm_stream.detect.bounded import MAX_ITEMS, MAX_TEXT_CHARS, clip
from cspm_stream.detect.rules import RuleInfo
from cspm_stream.models import ocsf
from cspm_stream.timeutil import ms_to_iso

if TYPE_CHECKING:
    from cspm_stream.settings.sections import DetectionSettings

State = MutableMapping[str, Any]
Evidence = tuple[str, str, str, str, int]  # eventID, eventName, eventTime, eventSource, t_ms
#: :meth:`Store.admit`: (check the evidence for a redelivery, new watermark, detections a sweep closed)
Admitted = tuple[bool, int, list[dict[str, Any]]]
SWEEP_EVERY_MS = 60_000
MAX_SWEEP_MINUTES = 7 * 24 * 60
MAX_REMEMBERED = 200_000
#: keys per expiry-registration chunk
REG_CHUNK = 16
#: what advance() returns when no sweep ran (shared: callers only read it)
_NOTHING: list[dict[str, Any]] = []
CHUNK = 32


@dataclass(frozen=True, slots=True)
class EngineConfig:
    allowed_lateness_s: int = 900
    dedup_window_s: int = 3600
    event_dedup_window_s: int = 3600
    max_evidence: int = 256
    update_interval_s: int = 60
    #: CPU budget of one record's evaluation in ms (0 = none: offline tools)
    budget_ms: float = 0
    #: longest text copied from a record into a detection (detection.max_text_chars; cut text is marked)
    max_text_chars: int = MAX_TEXT_CHARS

    @classmethod
    def from_settings(cls, d: DetectionSettings, *, budget: bool = True) -> EngineConfig:
        """From the ``detection`` settings section (daemon, ``detect`` and ``rules test`` alike).

        ``budget=False`` leaves the per-record budget off (tests and backtests, where a slow
        machine must not change the verdict).
        """
        return cls(
            d.allowed_lateness_s,
            d.dedup_window_s,
            d.event_dedup_window_s,
            d.max_evidence,
            d.update_interval_s,
            float(getattr(d, "eval_budget_ms", 0)) if budget else 0,
            int(getattr(d, "max_text_chars", MAX_TEXT_CHARS)),
        )


def ocsf_evidence(e: Evidence, limit: int = MAX_TEXT_CHARS) -> dict[str, Any]:
    """One evidence as kept in state and published: each text at most ``limit`` characters (cut = marked)."""
    return {
        "data": {
            "event_id": clip(e[0], limit),
            "event_name": clip(e[1], limit),
            "event_time": clip(e[2], limit),
            "event_source": clip(e[3], limit),
        }
    }


class Store:
    """State operations of one engine (see the module doc for the keys)."""

    def __init__(self, config: EngineConfig, infos: dict[str, RuleInfo]) -> None:
        self.config = config
        self.infos = infos
        self.lateness = config.allowed_lateness_s * 1000
        self.dedup = config.dedup_window_s * 1000
        self.event_dedup = config.event_dedup_window_s * 1000
        self.update_ms = config.update_interval_s * 1000
        self._wm: dict[int, int] = {}
        self._restored: dict[int, int | None] = {}
        self._next_sweep: dict[int, int] = {}
        self._ids: dict[int, dict[str, int]] = {}
        self._order: dict[int, deque[tuple[int, str]]] = {}
        self._wm_keys: dict[int, str] = {}

    # ------------------------------------------------------------------ watermark and eventID memory
    def admit(self, state: State, partition: int, eid: str, t: int, floor: int) -> Admitted | None:
        """Record ``eid`` (event time ``t``) as processed and move the watermark of ``partition`` to at
        least ``t`` and ``floor``; None when ``eid`` is remembered as processed (a duplicate: nothing
        changes).

        Returns whether the record's evidence must be checked (it may be a redelivery: at or below
        the watermark stored when this process first saw the partition, or that another worker
        advanced it to — a rebalance), the new watermark, and the detections closed by a sweep that
        the move ran (a shared empty list when none ran: callers only read it).
        """
        key = self._wm_keys.get(partition)
        if key is None:
            key = self._wm_keys[partition] = f"wm|{partition}"
        stored = state.get(key)
        mem = self._wm.get(partition, 0)
        ids = self._ids.get(partition)
        if partition not in self._restored or (stored is not None and stored > mem):
            self._restored[partition] = int(stored) if stored is not None else None
            ids = None  # the records up to the stored watermark are checked against state instead
        elif ids is not None and eid in ids:
            return None
        wm = mem if stored is None or mem >= stored else int(stored)
        if ids is None:  # (not setdefault: its default would be built for every record)
            ids = self._ids[partition] = {}
            order = self._order[partition] = deque()
        else:
            order = self._order[partition]
        cutoff = wm - self.event_dedup
        if order and (order[0][0] < cutoff or len(order) >= MAX_REMEMBERED):
            while order and (order[0][0] < cutoff or len(order) >= MAX_REMEMBERED):
                ids.pop(order.popleft()[1], None)
        if t >= cutoff:
            ids[eid] = t
            order.append((t, eid))
        restored = self._restored.get(partition)
        check = restored is not None and t <= restored + 1000
        new = t if t > wm else wm
        if floor > new:
            new = floor
        if new > wm:
            return check, new, self.advance(state, partition, new)
        return check, wm, _NOTHING

    def known(self, partition: int, eid: str) -> bool:
        """Whether ``eid`` is remembered as processed (a duplicate); changes nothing."""
        ids = self._ids.get(partition)
        return ids is not None and eid in ids

    def advance(self, state: State, partition: int, wm: int) -> list[dict[str, Any]]:
        self._wm[partition] = wm
        key = self._wm_keys[partition]  # named by admit()
        if wm - int(state.get(key, 0)) >= 1000:
            state[key] = wm
        nxt = self._next_sweep.get(partition)
        if nxt is None:
            self._next_sweep[partition] = wm + SWEEP_EVERY_MS
        elif wm >= nxt:
            self._next_sweep[partition] = wm + SWEEP_EVERY_MS
            return self.sweep(state, partition, wm)
        return _NOTHING

    # ------------------------------------------------------------------ expiry
    def register(self, state: State, partition: int, key: str, expiry: int) -> None:
        minute = expiry // 60_000
        skey = f"sweep|{partition}"
        last = state.get(skey)
        if last is None or minute <= int(last):
            state[skey] = minute - 1  # the sweep pointer never passes a registered minute
        # chunked: a busy minute (thousands of new groups) keeps every write and read small
        nkey = f"regn|{partition}|{minute}"
        n = int(state.get(nkey) or 1)
        rkey = f"reg|{partition}|{minute}|{n - 1}"
        lst = state.get(rkey)
        if lst is not None and len(lst) >= REG_CHUNK:
            n += 1
            state[nkey] = n
            rkey, lst = f"reg|{partition}|{minute}|{n - 1}", None
        state[rkey] = [key] if lst is None else [*lst, key]

    @staticmethod
    def _due(state: State, partition: int, minute: int) -> list[str]:
        """Take (remove and return) the keys registered to expire in ``minute``."""
        n = int(state.pop(f"regn|{partition}|{minute}", None) or 1)
        keys: list[str] = []
        for i in range(n):
            keys.extend(state.pop(f"reg|{partition}|{minute}|{i}", None) or ())
        return keys

    def sweep(self, state: State, partition: int, watermark: int) -> list[dict[str, Any]]:
        """Delete det/cor keys of ``partition`` that expired before ``watermark``.

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
            for key in self._due(state, partition, minute):
                value = state.get(key)
                if value is None:
                    continue
                exp = int(value.get("exp", 0))
                if exp >= watermark:
                    self.register(state, partition, key, exp)
                    continue
                if key.startswith("det|"):
                    if value.get("pe"):
                        f = self.publish(state, value)
                        if f is not None:
                            final.append(f)
                    self._drop_evidence(state, value)
                del state[key]
        if upto > int(last):
            state[skey] = upto
        return final

    # ------------------------------------------------------------------ detections
    def record(
        self,
        state: State,
        partition: int,
        info: RuleInfo,
        group: str,
        rec: dict[str, Any],
        evidence: list[Evidence],
        resources: list[dict[str, Any]],
        *,
        window_start: int,
        check_known: bool,
        truncated: list[str] | None = None,
    ) -> dict[str, Any] | None:
        """Open or update the detection of (rule, group); return the finding to publish, if any.

        ``truncated``: fields of ``rec`` longer than the matchers read (listed in the finding).
        """
        dkey = f"det|{info.id}|{group}"
        det = state.get(dkey)
        ctx = findings.context_of(rec)
        if truncated:
            ctx["tf"] = sorted(set(truncated) | set(det.get("tf", ()) if det is not None else ()))
        if det is not None and abs(window_start - int(det["ws"])) < self.dedup:
            if check_known:
                known = self.known_ids(state, det)
                evidence = [e for e in evidence if e[0] not in known]
                if not evidence:
                    return None  # a redelivered record: nothing new
            det["count"] = int(det["count"]) + len(evidence)
            self._add_evidence(state, det, evidence)
            oldest = evidence[0][4] if len(evidence) == 1 else min(e[4] for e in evidence)
            newest = evidence[0][4] if len(evidence) == 1 else max(e[4] for e in evidence)
            if oldest < det["first"]:
                det["first"] = oldest
            if newest > det["last"]:
                det["last"] = newest
            det.update(ctx)
            for r in resources:
                if r not in det["resources"]:
                    if len(det["resources"]) >= MAX_ITEMS:  # bounded (a scan per repeat): the rest counted
                        det["rtrunc"] = int(det.get("rtrunc", 0)) + 1
                        continue
                    det["resources"].append(r)
            if self.update_ms and newest - int(det.get("le", det["ws"])) < self.update_ms:
                det["pe"] = int(det.get("pe", 0)) + 1  # published later (interval passed, or at close)
                state[dkey] = det
                return None
            det["le"] = newest
            det["pe"] = 0
            state[dkey] = det
            return self._build(state, info, det, ocsf.ACTIVITY_UPDATE)
        if det is not None:
            self._drop_evidence(state, det)  # an old window of the same (rule, group) is replaced
        ws_iso = ms_to_iso(window_start)
        det = {
            "uid": ocsf.finding_uid(info.id, group, ws_iso),
            "rule": info.id,
            "group": group,
            "ws": window_start,
            "ws_iso": ws_iso,
            "exp": window_start + self.dedup + self.lateness,
            "first": min(e[4] for e in evidence),
            "last": max(e[4] for e in evidence),
            "count": len(evidence),
            "le": max(e[4] for e in evidence),
            "pe": 0,
            "nev": 0,
            "nch": 0,
            "resources": list(resources),
            **ctx,
        }
        self._add_evidence(state, det, evidence)
        self.register(state, partition, dkey, det["exp"])
        state[dkey] = det
        return self._build(state, info, det, ocsf.ACTIVITY_CREATE)

    def publish(self, state: State, det: dict[str, Any]) -> dict[str, Any] | None:
        """The update finding of a detection record (for pending repeats)."""
        info = self.infos.get(det["rule"])
        return self._build(state, info, det, ocsf.ACTIVITY_UPDATE) if info is not None else None

    def flush(self, state: State) -> list[dict[str, Any]]:
        """Publish every detection with repeats not yet published (end of an offline run)."""
        out = []
        for key in [k for k in state if k.startswith("det|")]:
            det = state[key]
            if det.get("pe"):
                f = self.publish(state, det)
                det["pe"] = 0
                det["le"] = det["last"]
                state[key] = det
                if f is not None:
                    out.append(f)
        return out

    def known_ids(self, state: State, det: dict[str, Any]) -> set[str]:
        out: set[str] = set()
        for i in range(int(det["nch"])):
            chunk = state.get(f"dev|{det['rule']}|{det['group']}|{i}")
            if chunk:
                out.update(chunk["ids"])
        return out

    def _evidence(self, state: State, det: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
        ids: list[str] = []
        evd: list[dict[str, Any]] = []
        for i in range(int(det["nch"])):
            chunk = state.get(f"dev|{det['rule']}|{det['group']}|{i}")
            if chunk:
                ids.extend(chunk["ids"])
                evd.extend(chunk["evd"])
        return ids, evd

    def _add_evidence(self, state: State, det: dict[str, Any], evidence: list[Evidence]) -> None:
        room = max(self.config.max_evidence - int(det["nev"]), 0)
        if room == 0:
            det["trunc"] = int(det.get("trunc", 0)) + len(evidence)
            return
        kept = evidence[:room]
        if len(evidence) > room:
            det["trunc"] = int(det.get("trunc", 0)) + len(evidence) - room
        base = f"dev|{det['rule']}|{det['group']}|"
        i = 0
        while i < len(kept):
            n = int(det["nev"])
            idx = n // CHUNK
            take = kept[i : i + CHUNK - n % CHUNK]
            chunk = state.get(base + str(idx)) if idx < int(det["nch"]) else None
            chunk = {"ids": [], "evd": []} if chunk is None else chunk
            chunk["ids"].extend(e[0] for e in take)
            chunk["evd"].extend(ocsf_evidence(e, self.config.max_text_chars) for e in take)
            state[base + str(idx)] = chunk
            det["nch"] = max(int(det["nch"]), idx + 1)
            det["nev"] = n + len(take)
            i += len(take)

    def _drop_evidence(self, state: State, det: dict[str, Any]) -> None:
        for i in range(int(det.get("nch", 0))):
            state.pop(f"dev|{det['rule']}|{det['group']}|{i}", None)

    def _build(self, state: State, info: RuleInfo, det: dict[str, Any], activity: int) -> dict[str, Any]:
        ids, evd = self._evidence(state, det)
        return findings.build(info, det, activity, ids, evd, self.config.max_text_chars)
