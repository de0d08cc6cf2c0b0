"""Posture stage: inventory snapshots → compliance findings (transitions only).

Consumes ``inventory`` (key = ARN): a ``ResourceSnapshot``, a ``ResourceDeleted``
or a tombstone (value None). Keeps, per ARN, in ``state`` (JSON-able)::

    {"h": content hash (+ failed attributes), "o": observed_at ms,
     "m": "type|region|account|mutelist fingerprint|fingerprint of the type's policies",
     "g": tags as one JSON string (absent when untagged; a dict in records written before),
     "p": {policy_id: FindingState.to_json()},        # every check that does not pass: a
                                                      # "status|verdict|first|last|detail" string
                                                      # (an object if muted)
     "ok": "<mask>|<first>"}   # the passing checks: a hex bit mask over the type's policy ids
                               # in sorted order, and the epoch ms of the first passing
                               # evaluation (absent when nothing passes)
                                                      # or {"del": true, "o": ms} after a deletion

A passing check costs one bit: a security group's 37 policies, most of them passing, are a
few failing strings and one short string, not 37 dictionary entries; the record's small
fields share one string too (100,000 resources: ``bench.report``). Records written with
separate ``t``/``r``/``a``/``mf``/``pf`` keys still load. A mask is read only under the
policy fingerprint it was written with: after a release that changes a type's policies, each
passing check is emitted as PASSED once more (the same state again; harmless on a compacted
topic, never alerted).

Every policy of the type is tracked, passing ones included, and ``findings`` receives
only lifecycle transitions (see :mod:`cspm_stream.policy.lifecycle`) as OCSF Compliance
Findings keyed by the deterministic finding uid: the first evaluation of a check
(PASSED, NEW, ERROR or SUPPRESSED), then each change of status. So the compacted topic
holds every check's current outcome while a scan of an unchanged account emits nothing.
When the resource is deleted each of its checks gets a last record flagged
``unmapped.resource_deleted`` (open ones as RESOLVED).

Idempotence (restart / replay / at-least-once redelivery emit no duplicate transitions):
a snapshot older than the stored ``o`` is ignored; an unchanged one (same hash, same
mutelist, no mute expired) only re-evaluates time-dependent policies (``age-days-*``),
which are evaluated at the snapshot's ``observed_at`` and so give the same verdicts.
Policies are evaluated at ``observed_at``; mutes and their expiry use the wall clock.
:meth:`PostureHandler.tick` re-applies a changed mutelist and expired mutes without a
rescan, and purges old deletion markers; the runtime calls it on a timer.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, MutableMapping
from typing import Any, NamedTuple

import orjson
import structlog

from cspm_stream.detect.actor import packed, unpacked
from cspm_stream.errors import DecodeError
from cspm_stream.external import posture_join
from cspm_stream.external.model import ExternalFinding
from cspm_stream.models.codec import decode_any, dumps
from cspm_stream.models.enums import FindingStatus, Verdict
from cspm_stream.models.inventory import ResourceDeleted, ResourceSnapshot
from cspm_stream.models.ocsf import COMPLIANCE_FINDING, SCHEMA_BY_CLASS
from cspm_stream.policy.catalog import Catalog, catalog_from_settings
from cspm_stream.policy.engine import PolicyEngine, Result, context_for, evaluate_policy
from cspm_stream.policy.lifecycle import FindingState, MuteInfo, Transition, resolve_deleted, step
from cspm_stream.policy.model import Policy
from cspm_stream.policy.mutelist import EMPTY, Mutelist, MutelistSource, Subject
from cspm_stream.policy.ocsf import ResourceRef, build_compliance_finding, finding_uid
from cspm_stream.policy.operators import epoch_seconds
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit, RecordMeta, RoleContext, StageParts, headers_for

FINDING_SCHEMA = SCHEMA_BY_CLASS[COMPLIANCE_FINDING]
log = structlog.get_logger("cspm_stream.posture")
#: deletion markers are kept this long (longer than the topic's delete.retention.ms)
DELETED_MARKER_TTL_MS = 7 * 24 * 3600 * 1000


def _ms(iso: str, what: str) -> int:
    t = epoch_seconds(iso)
    if t is None:
        raise DecodeError(f"{what}: {iso!r} is not an ISO 8601 time")
    return int(t * 1000)


class PostureHandler:
    """Evaluate every policy of a resource's type and emit lifecycle transitions."""

    name = "posture"
    #: ``external-findings``: other products' posture-like findings, keyed like inventory (see
    #: :mod:`cspm_stream.external.posture_join`: one problem, one record with every source listed)
    inputs: tuple[str, ...] = ("inventory", "external-findings")

    def __init__(
        self,
        catalog: Catalog,
        mutelist: MutelistSource | Mutelist | None = None,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.catalog = catalog
        self.engine: PolicyEngine = catalog.engine()
        self._mutes = mutelist
        self._clock = clock
        self._monotonic = monotonic
        self._reported_error: str | None = None
        self._ticked_fp: str | None = None  # mutelist fingerprint of the last tick
        self._next_expiry = float("inf")  # earliest mute expiry among tracked findings
        self._time_dependent: dict[str, tuple[Policy, ...]] = {
            t: tuple(p for p in ps if p.condition.time_dependent) for t, ps in self.engine.by_type.items()
        }
        #: per resource type, a fingerprint of its policies: a deploy that adds or
        #: changes policies re-evaluates unchanged resources
        self._policy_fp: dict[str, str] = {
            t: hashlib.blake2b(
                orjson.dumps(
                    [[p.id, p.severity.value, p.condition_source] for p in ps],
                    option=orjson.OPT_SORT_KEYS,
                    default=str,
                ),
                digest_size=8,
            ).hexdigest()
            for t, ps in self.engine.by_type.items()
        }
        #: per resource type, bit index of each policy id (sorted) in a record's "ok" mask
        self._bits: dict[str, dict[str, int]] = {
            t: {pid: i for i, pid in enumerate(sorted(p.id for p in ps))} for t, ps in self.engine.by_type.items()
        }

    # ------------------------------------------------------------------ inputs

    def mutelist(self) -> Mutelist:
        m = self._mutes
        if m is None:
            return EMPTY
        if isinstance(m, Mutelist):
            return m
        current = m.get(self._monotonic())
        err = getattr(m, "last_error", None)
        if err is not None and str(err) != self._reported_error:
            # a broken edit keeps the previous mutelist: say so, once per distinct error
            log.warning("mutelist-invalid-kept-previous", error=str(err), mutes=len(current))
        self._reported_error = str(err) if err is not None else None
        return current

    async def handle(
        self, key: bytes | None, value: bytes | None, meta: RecordMeta, state: MutableMapping[str, Any]
    ) -> list[Emit]:
        if value is None:
            if not key:
                raise DecodeError("tombstone without a key")
            try:
                arn = key.decode("utf-8")
            except UnicodeDecodeError:
                raise DecodeError("tombstone key is not UTF-8") from None
            when = meta.timestamp_ms if meta.timestamp_ms is not None else int(self._clock() * 1000)
            return self.deleted(arn, when, state, authoritative=True)
        msg = decode_any(value, (ResourceSnapshot, ResourceDeleted, ExternalFinding))
        pending = self.auto_tick(state)
        if isinstance(msg, ExternalFinding):
            return pending + posture_join.apply(self, msg, state, int(self._clock() * 1000))
        if isinstance(msg, ResourceDeleted):
            return pending + self.deleted(msg.arn, _ms(msg.observed_at, "observed_at"), state)
        return pending + self.snapshot(msg, state)

    def auto_tick(self, state: MutableMapping[str, Any]) -> list[Emit]:
        """Run :meth:`tick` when due: the mutelist changed since the last tick (also the
        first message after a start) or a mute has expired. This gives hot reload and
        expiry without a rescan even when the runtime has no timer; a timer calling
        :meth:`tick` only makes it prompter on an idle inventory topic."""
        if self.mutelist().fingerprint == self._ticked_fp and self._clock() < self._next_expiry:
            return []
        return self.tick(state)

    # ------------------------------------------------------------------ core

    def snapshot(self, snap: ResourceSnapshot, state: MutableMapping[str, Any]) -> list[Emit]:
        obs_ms = _ms(snap.observed_at, "observed_at")
        rec: dict[str, Any] | None = state.get(snap.arn)
        if rec is None and not self.engine.for_type(snap.resource_type):
            return []  # no policy for this type: nothing to track
        if rec is not None and rec.get("o", 0) > obs_ms:
            return []  # older than what we already evaluated (replay / reordering)
        if rec is not None and rec.get("del"):
            if rec.get("o", 0) >= obs_ms:
                return []
            rec = None  # re-created after a deletion
        ml = self.mutelist()
        now_ts = self._clock()
        h = snap.content_hash + ("|" + ",".join(sorted(e.attribute for e in snap.errors)) if snap.errors else "")
        policies: tuple[Policy, ...] | None = None  # None = all of the type
        pfp = self._policy_fp.get(snap.resource_type, "")
        meta = _meta(rec) if rec is not None else None
        if rec is not None and meta is not None and rec.get("h") == h and meta.pf == pfp:
            policies = self._time_dependent.get(snap.resource_type, ())
            if not policies and meta.mf == ml.fingerprint and not _expiry_due(rec, now_ts):
                return []
        emits: list[Emit] = []
        new_rec: dict[str, Any] = {
            "h": h,
            "o": obs_ms,
            "m": _meta_str(Meta(snap.resource_type, snap.region, snap.account_id, ml.fingerprint, pfp)),
            **_tags_field(snap.tags),
            "p": dict(rec.get("p", {})) if rec is not None else {},
        }
        self._unpack(rec, snap.resource_type, into=new_rec)
        # who changed it: the records a content change causes name the change's actor (when an event
        # caused it); records of an unchanged resource name the last known one as "last changed by"
        change = last = None
        if rec is None or rec.get("h") != h:
            change = snap.change
            if change is not None:
                new_rec["c"] = packed(change)
        elif "c" in rec:
            new_rec["c"] = rec["c"]
            last = unpacked(rec["c"])
        ext = posture_join.sources_of(state, snap.arn)
        ref = ResourceRef(
            snap.arn, snap.resource_type, snap.region, snap.account_id, dict(snap.tags), change, last, ext
        )
        if policies is None:
            results = self.engine.evaluate(snap, now_ts=obs_ms / 1000.0)
            # policies removed from the catalog since: no longer evaluated, forget them
            current = {r.policy.id for r in results}
            for gone in [pid for pid in new_rec["p"] if pid not in current]:
                del new_rec["p"][gone]
        else:
            ctx = context_for(snap, obs_ms / 1000.0)
            failed = frozenset(e.attribute for e in snap.errors)
            results = [evaluate_policy(p, snap.attributes, ctx, failed) for p in policies]
            # unchanged resource: the other policies keep their verdicts, mutes are re-applied
            evaluated = {p.id for p in policies}
            results += self._stored_results(new_rec, evaluated)
        for res in results:
            self._apply(res.policy, res.verdict, res.detail, ref, new_rec, ml, now_ts, obs_ms, emits)
        _pack(new_rec)
        if rec != new_rec:
            state[snap.arn] = new_rec
        return emits

    def _stored_results(self, rec: dict[str, Any], skip: set[str]) -> list[Result]:
        out: list[Result] = []
        for pid, raw in rec["p"].items():
            pol = self.engine.policies.get(pid)
            if pol is None or pid in skip:
                continue
            fs = FindingState.from_json(raw)
            if fs.is_open:
                out.append(Result(pol, fs.verdict, fs.detail))
        return out

    def _apply(
        self,
        policy: Policy,
        verdict: Verdict,
        detail: str,
        ref: ResourceRef,
        rec: dict[str, Any],
        ml: Mutelist,
        now_ts: float,
        when_ms: int,
        emits: list[Emit],
    ) -> None:
        raw = rec["p"].get(policy.id)
        bit = self._bits.get(ref.resource_type, {}).get(policy.id)
        mask = int(rec.get("ok", 0))
        if raw is not None:
            prev: FindingState | None = FindingState.from_json(raw)
        elif bit is not None and mask >> bit & 1:
            ft = int(rec.get("ft", when_ms))
            prev = FindingState(FindingStatus.PASSED, Verdict.PASS, ft, ft)
        else:
            prev = None
        mute: MuteInfo | None = None
        if verdict is not Verdict.PASS and len(ml):
            subj = Subject(policy.id, ref.arn, ref.account_id, ref.region, ref.resource_type, ref.tags)
            m = ml.match(subj, now_ts)
            if m is not None:
                mute = MuteInfo(m.id, m.reason, m.expires_ts)
                if m.expires_ts is not None:
                    self._next_expiry = min(self._next_expiry, m.expires_ts)
        new, tr = step(prev, verdict, mute, when_ms, detail)
        if new is not None and new.status is FindingStatus.PASSED and bit is not None:
            rec["p"].pop(policy.id, None)
            rec["ok"] = mask | (1 << bit)
            rec.setdefault("ft", new.first_seen)
        else:
            if bit is not None and mask >> bit & 1:
                rec["ok"] = mask & ~(1 << bit)
            if new is None:
                rec["p"].pop(policy.id, None)
            else:
                rec["p"][policy.id] = new.to_json()
        if tr is not None and new is not None:
            emits.append(self.finding_emit(policy, ref, new, tr, when_ms))

    def finding_emit(
        self, policy: Policy, ref: ResourceRef, st: FindingState, tr: Transition, when_ms: int, *, deleted: bool = False
    ) -> Emit:
        """The ``findings`` record of one check in state ``st`` after transition ``tr`` (also used by the
        external-findings join, which restates our checks)."""
        finding = build_compliance_finding(
            policy=policy,
            resource=ref,
            status=st.status,
            verdict=st.verdict,
            activity_id=tr.activity_id,
            first_seen_ms=st.first_seen,
            last_seen_ms=st.last_seen,
            time_ms=when_ms,
            compliance=self.catalog.compliance(policy.id),
            mute_reason=st.mute_reason,
            detail=st.detail,
            resource_deleted=deleted,
        )
        uid = finding_uid(policy.id, ref.arn)
        return Emit("findings", uid, dumps(finding), headers_for(FINDING_SCHEMA, state=st.status.value))

    def deleted(
        self, arn: str, when_ms: int, state: MutableMapping[str, Any], *, authoritative: bool = False
    ) -> list[Emit]:
        """The resource is gone: every check gets its last record (open ones resolve) and a
        deletion marker is left.
        A tombstone is ``authoritative`` (the compacted topic says the key is gone); a
        ResourceDeleted older than the snapshot we hold is ignored (re-created since)."""
        rec: dict[str, Any] | None = state.get(arn)
        if rec is None or rec.get("del"):
            return []
        when_ms = max(when_ms, int(rec.get("o", 0))) if authoritative else when_ms
        if rec.get("o", 0) > when_ms:
            return []  # a deletion older than the snapshot we hold (re-created since)
        emits: list[Emit] = []
        meta = _meta(rec)
        ext = posture_join.sources_of(state, arn)
        ref = ResourceRef(arn, meta.t, meta.r, meta.a, _tags(rec), None, unpacked(rec.get("c")), ext)
        checks = {pid: FindingState.from_json(raw) for pid, raw in rec.get("p", {}).items()}
        passes: dict[str, Any] = {}
        self._unpack(rec, ref.resource_type, into=passes)
        mask = int(passes.get("ok", 0))
        if mask:
            ft = int(passes.get("ft", when_ms))
            for pid, i in self._bits.get(ref.resource_type, {}).items():
                if mask >> i & 1:
                    checks.setdefault(pid, FindingState(FindingStatus.PASSED, Verdict.PASS, ft, ft))
        for pid, fs in sorted(checks.items()):
            pol = self.engine.policies.get(pid)
            new, tr = resolve_deleted(fs, when_ms)
            if pol is not None and new is not None and tr is not None:
                emits.append(self.finding_emit(pol, ref, new, tr, when_ms, deleted=True))
        state[arn] = {"del": True, "o": when_ms}
        return emits

    def tick(self, state: MutableMapping[str, Any]) -> list[Emit]:
        """Re-apply the mutelist (changed file, expired mutes) without a rescan and purge
        old deletion markers. Safe to call often: unchanged records are skipped."""
        ml = self.mutelist()
        now_ts = self._clock()
        now_ms = int(now_ts * 1000)
        emits: list[Emit] = []
        self._ticked_fp = ml.fingerprint
        self._next_expiry = float("inf")
        for arn in list(state.keys()):
            rec = state.get(arn)
            if not isinstance(rec, dict):
                continue
            if rec.get("del"):
                if now_ms - int(rec.get("o", 0)) > DELETED_MARKER_TTL_MS:
                    del state[arn]
                continue
            meta = _meta(rec)
            if meta.mf == ml.fingerprint and not _expiry_due(rec, now_ts):
                self._note_expiries(rec)
                continue
            new_rec = {
                "h": rec.get("h", ""),
                "o": rec.get("o", 0),
                "m": _meta_str(meta._replace(mf=ml.fingerprint)),
                **_tags_field(_tags(rec)),
                "p": dict(rec.get("p", {})),
            }
            if "c" in rec:
                new_rec["c"] = rec["c"]
            ext = posture_join.sources_of(state, arn)
            last = unpacked(rec.get("c"))
            ref = ResourceRef(arn, meta.t, meta.r, meta.a, _tags(rec), None, last, ext)
            self._unpack(rec, ref.resource_type, into=new_rec)
            for res in self._stored_results(new_rec, set()):
                self._apply(res.policy, res.verdict, res.detail, ref, new_rec, ml, now_ts, now_ms, emits)
            _pack(new_rec)
            state[arn] = new_rec
        return emits

    def current(
        self, arn: str, policy_id: str, state: MutableMapping[str, Any]
    ) -> tuple[ResourceRef, FindingState | None] | None:
        """The resource as we hold it and our current state of one of its checks (None: never
        evaluated); None when we hold no record of it (or it was deleted). What a join with another
        product's finding about the same resource reads (:mod:`cspm_stream.external.posture_join`)."""
        rec = state.get(arn)
        if not isinstance(rec, dict) or rec.get("del"):
            return None
        meta = _meta(rec)
        ref = ResourceRef(arn, meta.t, meta.r, meta.a, _tags(rec), None, unpacked(rec.get("c")))
        raw = (rec.get("p") or {}).get(policy_id)
        if raw is not None:
            return ref, FindingState.from_json(raw)
        passes: dict[str, Any] = {}
        self._unpack(rec, meta.t, into=passes)
        bit = self._bits.get(meta.t, {}).get(policy_id)
        if bit is not None and int(passes.get("ok", 0)) >> bit & 1:
            ft = int(passes.get("ft", 0))
            return ref, FindingState(FindingStatus.PASSED, Verdict.PASS, ft, ft)
        return ref, None

    def _unpack(self, rec: dict[str, Any] | None, resource_type: str, *, into: dict[str, Any]) -> None:
        """Set ``into["ok"]`` (the int mask of passing checks) and ``into["ft"]`` from a stored record's
        ``"ok"`` string, if it was written under the type's current policy fingerprint (else no passes)."""
        into.pop("ok", None)
        into.pop("ft", None)
        ok = rec.get("ok") if rec is not None else None
        if not isinstance(ok, str) or rec is None or _meta(rec).pf != self._policy_fp.get(resource_type):
            return
        mask, _, first = ok.partition("|")
        try:
            into["ok"], into["ft"] = int(mask, 16), int(first)
        except ValueError:
            return

    def _note_expiries(self, rec: dict[str, Any]) -> None:
        for raw in rec.get("p", {}).values():
            x = raw.get("x") if isinstance(raw, dict) else None  # only a muted state (an object) expires
            if x is not None and x < self._next_expiry:
                self._next_expiry = x


class Meta(NamedTuple):
    """A record's small fields, stored as one ``"m"`` string."""

    t: str  # resource type
    r: str  # region
    a: str  # account
    mf: str  # mutelist fingerprint
    pf: str  # fingerprint of the type's policies


def _meta(rec: dict[str, Any]) -> Meta:
    m = rec.get("m")
    if isinstance(m, str):
        parts = m.split("|", 4)
        parts += [""] * (5 - len(parts))
        return Meta(*parts)
    # a record written before the fields were packed
    return Meta(*(str(rec.get(k) or "") for k in ("t", "r", "a", "mf", "pf")))


def _meta_str(m: Meta) -> str:
    return "|".join(m)


def _tags_field(tags: dict[str, str]) -> dict[str, str]:
    """A record's ``"g"``: the tags as one JSON string (a dict of a resource's tags costs ~450 bytes
    of objects, the string a fifth of it), nothing when there are none."""
    return {"g": orjson.dumps(tags).decode()} if tags else {}


def _tags(rec: dict[str, Any]) -> dict[str, str]:
    """A record's tags (a JSON string, or a dict in records written before)."""
    g = rec.get("g")
    if isinstance(g, str):
        try:
            g = orjson.loads(g)
        except orjson.JSONDecodeError:
            return {}
    return {str(k): str(v) for k, v in g.items()} if isinstance(g, dict) else {}


def _pack(rec: dict[str, Any]) -> None:
    """The working ``"ok"`` mask and ``"ft"`` of a record back into its stored ``"ok"`` string."""
    mask = int(rec.pop("ok", 0))
    first = rec.pop("ft", None)
    if mask:
        rec["ok"] = f"{mask:x}|{first}"


def _expiry_due(rec: dict[str, Any], now_ts: float) -> bool:
    for raw in rec.get("p", {}).values():
        x = raw.get("x") if isinstance(raw, dict) else None  # only a muted state (an object) expires
        if x is not None and now_ts >= x:
            return True
    return False


def build_handler(settings: Settings, *, clock: Callable[[], float] = time.time) -> PostureHandler:
    """The posture stage from settings: built-in + configured policies and frameworks,
    and the mutelist file (strictly validated at start, then hot-reloaded)."""
    catalog = catalog_from_settings(settings.policy)
    source = MutelistSource(settings.policy.mutelist_file, settings.policy.mutelist_reload_s)
    source.load()
    return PostureHandler(catalog, source, clock=clock)


def build_stage(ctx: RoleContext) -> StageParts:
    """Daemon factory (role ``process``): the posture handler on the context's clock."""
    return StageParts(build_handler(ctx.settings, clock=ctx.time))
