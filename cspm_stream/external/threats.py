"""The ``external`` stage: threat findings of other products joined with our detections.

One problem, one alert. A GuardDuty finding whose type is the same issue as some of our rules
(``mapping.yaml``) and one of our detections of those rules for the same actor (the *subject*:
account + IAM user / role / root, see :func:`~cspm_stream.external._common.subject_of_arn`) within
``external.join_window_s`` of each other are one problem: the external finding becomes an
**update of our detection** (same uid, activity 2) listing both sources, never a second new alert.

Inputs (co-partitioned):

- ``external-threats`` (key = subject): :class:`ExternalFinding` records of ``kind`` detection
  (from the pollers and the EventBridge source), and :class:`OurDetection` notes;
- ``detections`` (key = our detection uid): our own detections; one whose rule has an external
  equivalent is re-keyed by its subject as an :class:`OurDetection` note on ``external-threats``
  (so both sides of the join meet on one partition). Records this stage wrote are skipped.

Order does not matter. Our detection first: the external finding arriving later joins it at once.
External first: it is **held** up to ``external.hold_s`` waiting for ours (CloudTrail through S3
arrives minutes late); ours arriving in time joins it; otherwise it is emitted as its own
detection when the hold ends (:meth:`ExternalHandler.tick`). A finding with no equivalent rule is
emitted at once (uid from its own id, so a finding read twice — from GuardDuty and from Security
Hub — is one record). An archived finding never emitted before is not emitted (its owner muted
it); a later version of one already emitted is emitted as an update.

State per subject (``t|<subject>``, JSON)::

    {"o": [[uid, rule_id, time_ms, first_ms, title, severity], ...],      # our recent detections
     "x": {external uid: {"u": updated_at, "t": event time ms, "s": when we last saw it (ms),
                          "j": joined uid, "e": 1 emitted alone / 0 archived and never emitted,
                          "due": hold end ms, "f": the held finding}}}

Our detections older (event time) than ``external.retention_s``, and external findings not seen
for that long, are dropped on the next touch and by the tick.
"""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog

from cspm_stream.errors import DecodeError
from cspm_stream.external._common import subject_of_arn
from cspm_stream.external.mapping import Equivalents
from cspm_stream.external.model import DETECTION, ExternalFinding, OurDetection, clip
from cspm_stream.external.ocsf import detection_record, ms
from cspm_stream.external.sources import OURS
from cspm_stream.models import ocsf
from cspm_stream.models.codec import decode_any, dumps, from_dict, loads_object, to_dict
from cspm_stream.stages.base import Emit, RecordMeta, headers_for

log = structlog.get_logger("cspm_stream.external")
DETECTION_SCHEMA = ocsf.SCHEMA_BY_CLASS[ocsf.DETECTION_FINDING]
NOTE_TOPIC = "external-threats"
#: most of our detections remembered per subject (the newest are kept)
MAX_OURS = 64
#: most external findings remembered per subject
MAX_EXTERNAL = 256


def note_of(finding: dict[str, Any], mapped: frozenset[str]) -> OurDetection | None:
    """The re-keying note for one of our detections whose rule has an external equivalent, else None
    (records the join itself wrote, external products' records and unmapped rules are skipped)."""
    unmapped = finding.get("unmapped")
    meta = finding.get("metadata")
    fi = finding.get("finding_info")
    if not isinstance(unmapped, dict) or not isinstance(meta, dict) or not isinstance(fi, dict):
        return None
    product = meta.get("product")
    if not isinstance(product, dict) or product.get("name") != OURS or "sources" in unmapped:
        return None
    rule = unmapped.get("rule_id")
    if not isinstance(rule, str) or rule not in mapped:
        return None
    actor = finding.get("actor")
    user = actor.get("user") if isinstance(actor, dict) else None
    account = (finding.get("cloud") or {}).get("account") if isinstance(finding.get("cloud"), dict) else None
    acct = str(account.get("uid", "")) if isinstance(account, dict) else ""
    arn = str(user.get("uid", "")) if isinstance(user, dict) else ""
    subject = subject_of_arn(acct, arn)
    last, first = fi.get("last_seen_time"), fi.get("first_seen_time")
    if not subject or not isinstance(last, int) or not isinstance(fi.get("uid"), str):
        return None
    sev = finding.get("severity_id")
    return OurDetection(
        uid=fi["uid"],
        rule_id=rule,
        subject=subject,
        time_ms=last,
        first_ms=first if isinstance(first, int) else last,
        title=str(fi.get("title", ""))[:1024],
        severity=sev if isinstance(sev, int) and 0 <= sev <= 6 else 0,
        account_id=acct,
        region=str((finding.get("cloud") or {}).get("region", "")),
    )


class ThreatJoin:
    """The pure join (state in, emits out; times are arguments)."""

    def __init__(self, eq: Equivalents, *, window_s: float, hold_s: float, retention_s: float) -> None:
        self.eq = eq
        self.mapped = eq.mapped_rules()
        self.window_ms = int(window_s * 1000)
        self.hold_ms = int(hold_s * 1000)
        self.retention_ms = int(max(retention_s, window_s) * 1000)

    # ------------------------------------------------------------------ inputs
    def on_external(self, ext: ExternalFinding, state: MutableMapping[str, Any], now_ms: int) -> list[Emit]:
        if ext.kind != DETECTION:
            raise DecodeError(f"external finding {ext.uid[:100]} is not a threat finding (kind {ext.kind!r})")
        key = f"t|{ext.subject or ext.account_id + '|' + ext.uid}"
        rec = self._load(state, key, now_ms)
        t = ms(ext.last_seen, ms(ext.updated_at, now_ms))
        prev = rec["x"].get(ext.uid)
        if prev is not None and str(prev.get("u", "")) >= ext.updated_at:
            return []  # the same version again (another path, a replay)
        entry: dict[str, Any] = {"u": ext.updated_at, "t": t, "s": now_ms}
        emits: list[Emit] = []
        rules = set(ext.rules or ())
        joined = str(prev.get("j", "")) if prev else ""
        match = self._match_ours(rec, rules, t) if rules and not joined else None
        if joined or match is not None:
            ours = match or self._ours_by_uid(rec, joined) or {"uid": joined}
            entry["j"] = ours["uid"]
            emits.append(self._emit(ext, ours))
        elif prev is not None and prev.get("e") == 1:
            entry["e"] = 1
            emits.append(self._emit(ext, None, activity=ocsf.ACTIVITY_UPDATE))
        elif rules and self.hold_ms > 0 and (prev is None or "e" not in prev):
            due = int(prev["due"]) if prev and prev.get("due") else now_ms + self.hold_ms
            entry.update(due=due, f=to_dict(ext))
        elif ext.suppressed:
            entry["e"] = 0  # archived by its owner before we ever alerted: remembered, not emitted
        else:
            entry["e"] = 1
            emits.append(self._emit(ext, None, activity=ocsf.ACTIVITY_CREATE))
        rec["x"][ext.uid] = entry
        self._store(state, key, rec)
        return emits

    def on_ours(self, note: OurDetection, state: MutableMapping[str, Any], now_ms: int) -> list[Emit]:
        key = f"t|{note.subject}"
        rec = self._load(state, key, now_ms)
        ours = [o for o in rec["o"] if o[0] != note.uid]
        ours.append([note.uid, note.rule_id, note.time_ms, note.first_ms, note.title, note.severity])
        rec["o"] = sorted(ours, key=lambda o: int(o[2]))[-MAX_OURS:]
        emits: list[Emit] = []
        for uid, entry in rec["x"].items():
            held = entry.get("f")
            if not isinstance(held, dict) or entry.get("j"):
                continue
            ext = from_dict(held, ExternalFinding)
            if note.rule_id in (ext.rules or ()) and abs(int(entry["t"]) - note.time_ms) <= self.window_ms:
                ref = self._ours_by_uid(rec, note.uid)
                assert ref is not None
                emits.append(self._emit(ext, ref))
                rec["x"][uid] = {"u": entry["u"], "t": entry["t"], "s": now_ms, "j": note.uid}
        self._store(state, key, rec)
        return emits

    def due(self, state: MutableMapping[str, Any], now_ms: int) -> list[Emit]:
        """Held findings whose hold ended are emitted alone; old entries are dropped."""
        emits: list[Emit] = []
        for key in [k for k in list(state) if k.startswith("t|")]:
            rec = state.get(key)
            if not isinstance(rec, dict):
                continue
            rec = self._load(state, key, now_ms)
            changed = False
            for uid, entry in list(rec["x"].items()):
                held = entry.get("f")
                if isinstance(held, dict) and int(entry.get("due", 0)) <= now_ms:
                    ext = from_dict(held, ExternalFinding)
                    done = {"u": entry["u"], "t": entry["t"], "s": now_ms, "e": 0 if ext.suppressed else 1}
                    if not ext.suppressed:
                        emits.append(self._emit(ext, None, activity=ocsf.ACTIVITY_CREATE))
                    rec["x"][uid] = done
                    changed = True
            if changed or state.get(key) != rec:
                self._store(state, key, rec)
        return emits

    # ------------------------------------------------------------------ helpers
    def _match_ours(self, rec: dict[str, Any], rules: set[str], t: int) -> dict[str, Any] | None:
        best: list[Any] | None = None
        for o in rec["o"]:
            if o[1] in rules and abs(int(o[2]) - t) <= self.window_ms:
                if best is None or abs(int(o[2]) - t) < abs(int(best[2]) - t):
                    best = o
        return _ours(best) if best is not None else None

    @staticmethod
    def _ours_by_uid(rec: dict[str, Any], uid: str) -> dict[str, Any] | None:
        for o in rec["o"]:
            if o[0] == uid:
                return _ours(o)
        return None

    def _emit(self, ext: ExternalFinding, ours: dict[str, Any] | None, activity: int = ocsf.ACTIVITY_UPDATE) -> Emit:
        if ours is not None:
            f = detection_record(ext, activity_id=ocsf.ACTIVITY_UPDATE, uid=str(ours["uid"]), ours=ours)
        else:
            f = detection_record(ext, activity_id=activity)
        uid = f["finding_info"]["uid"]
        return Emit("detections", uid, dumps(f), headers_for(DETECTION_SCHEMA, trace_id=ext.uid[:200]))

    def _load(self, state: MutableMapping[str, Any], key: str, now_ms: int) -> dict[str, Any]:
        raw = state.get(key)
        rec: dict[str, Any] = {"o": [], "x": {}}
        if isinstance(raw, dict):
            horizon = now_ms - self.retention_ms
            rec["o"] = [o for o in raw.get("o", []) if isinstance(o, list) and len(o) == 6 and int(o[2]) >= horizon]
            rec["x"] = {
                k: dict(v)
                for k, v in (raw.get("x") or {}).items()
                if isinstance(v, dict) and (v.get("f") is not None or int(v.get("s", 0)) >= horizon)
            }
        return rec

    @staticmethod
    def _store(state: MutableMapping[str, Any], key: str, rec: dict[str, Any]) -> None:
        if len(rec["x"]) > MAX_EXTERNAL:
            keep = sorted(rec["x"].items(), key=lambda kv: int(kv[1].get("s", 0)))[-MAX_EXTERNAL:]
            rec["x"] = dict(keep)
        if rec["o"] or rec["x"]:
            state[key] = rec
        elif key in state:
            del state[key]


def _ours(o: list[Any]) -> dict[str, Any]:
    return {"uid": o[0], "rule_id": o[1], "time_ms": o[2], "first_ms": o[3], "title": o[4], "severity": o[5]}


class ExternalHandler:
    """The stage handler (see the module docstring); ``clock`` gives Unix seconds."""

    name = "external"
    inputs: tuple[str, ...] = (NOTE_TOPIC, "detections")
    #: the runtime calls :meth:`tick` this often (holds end on time without traffic)
    tick_interval_s = 5.0

    def __init__(self, join: ThreatJoin, *, clock: Callable[[], float] = time.time) -> None:
        self.join = join
        self._clock = clock

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def handle(
        self, key: bytes | None, value: bytes | None, meta: RecordMeta, state: MutableMapping[str, Any]
    ) -> list[Emit]:
        obj = loads_object(value)
        if obj.get("schema") == DETECTION_SCHEMA:
            # a detection this stage cannot read is dead-lettered here too, mapped rule or not
            note = note_of(ocsf.validate(obj), self.join.mapped)
            if note is None:
                return []
            return [Emit(NOTE_TOPIC, note.subject, dumps(note), headers_for("external-ours.v1", note.uid))]
        msg = decode_any(value, (ExternalFinding, OurDetection))
        now = self._now_ms()
        if isinstance(msg, OurDetection):
            msg.title, msg.uid, msg.rule_id = msg.title[:1024], msg.uid[:256], msg.rule_id[:256]
            msg.subject = msg.subject[:1024]
            return self.join.on_ours(msg, state, now)
        return self.join.on_external(clip(msg), state, now)

    def tick(self, state: MutableMapping[str, Any]) -> list[Emit]:
        return self.join.due(state, self._now_ms())
