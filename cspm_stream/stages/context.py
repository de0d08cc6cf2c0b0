"""Context stage: per-account graph → privilege-escalation and toxic-combination findings.

Reads ``context`` (key = account id, fed by :mod:`cspm_stream.stages.context_router` from
``inventory``, ``findings`` and ``scan-status``), so one account's graph lives on one
partition; keeps its state as described in :mod:`cspm_stream.stages.context_state`; emits
OCSF compliance findings on ``findings`` with their own policy ids and lifecycle
(:mod:`cspm_stream.stages.context_findings`).

**IAM.** Every IAM fact marks the account dirty. The analysis (:mod:`cspm_stream.iamgraph`,
seconds for thousands of principals, run in a worker thread) runs once the account's IAM
state has *settled*: no IAM change for ``context.settle_s`` (5 s), and the full scan it belongs
to reported done on ``scan-status`` (or ``context.max_wait_s``, 15 minutes, passed). It is checked
on every record and on ``tick`` records, which :class:`Ticker` writes to every partition of
``context`` every ``context.tick_s`` (5 s) — so a lone rescan is analysed within seconds, and a
full scan once, at its end, never on half an account. Each user and role becomes a derived
record (``aws.iam.principal``) evaluated by the catalog's policies of that type
(``iam_privilege_escalation_path``, ``iam_principal_effective_admin``); principals no longer
present resolve.

**Combinations.** Each failing-check change, relation change or deletion re-evaluates exactly
the (combination, anchor) pairs it can affect (relations followed backwards), at once; a
combination holds when every part has a failing check and resolves as soon as one part stops
failing. Its finding lists the parts (``unmapped.parts``: part, policy id, resource, finding uid).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

import structlog

from cspm_stream.combos import PROJECTIONS as RELATION_TYPES
from cspm_stream.combos import Combination, check_policies, load, project
from cspm_stream.errors import DecodeError
from cspm_stream.iamgraph import EXCLUDED, IAM_TYPES, PRINCIPAL_TYPE, Resource, analyse, principal_attributes
from cspm_stream.iamgraph.model import USER
from cspm_stream.models.codec import decode_any
from cspm_stream.models.enums import Verdict
from cspm_stream.policy.catalog import Catalog, dirs_for
from cspm_stream.policy.engine import evaluate_policy
from cspm_stream.policy.frameworks import load_frameworks
from cspm_stream.policy.loader import load_policies, policy_files
from cspm_stream.policy.model import EvalContext, Policy
from cspm_stream.policy.mutelist import EMPTY, Mutelist, MutelistSource
from cspm_stream.policy.ocsf import ResourceRef
from cspm_stream.settings import PolicySettings, Settings
from cspm_stream.stages.base import Emit, RecordMeta, RoleContext, StageParts
from cspm_stream.stages.context_findings import Findings
from cspm_stream.stages.context_input import ACCOUNT_RE, KINDS, ContextInput, Ticker
from cspm_stream.stages.context_state import (
    Account,
    accounts_key,
    failing_key,
    iam_key,
    meta_key,
    rebuild,
    rel_key,
)

log = structlog.get_logger("cspm_stream.context")

#: the scan jobs whose completion may complete an account's IAM state
IAM_SERVICES = frozenset({"iam", "organizations", "lambda", "glue"})
GLOBAL = "global"


class ContextHandler:
    """The ``context`` stage (input ``context``)."""

    name = "context"
    inputs: tuple[str, ...] = ("context",)
    assigns_changes = True

    def __init__(
        self,
        catalog: Catalog,
        combinations: Iterable[Combination],
        *,
        mutelist: MutelistSource | Mutelist | None = None,
        clock: Callable[[], float] = time.time,
        settle_s: float = 5.0,
        max_wait_s: float = 900.0,
        in_thread: bool = True,
        known_policies: Iterable[str] | None = None,
    ) -> None:
        self.catalog = catalog
        self.combinations = list(combinations)
        errs = check_policies(self.combinations, catalog.policies if known_policies is None else known_policies)
        if errs:
            raise errs[0]
        self.principal_policies: list[Policy] = sorted(
            (p for p in catalog.policies.values() if p.resource_type == PRINCIPAL_TYPE), key=lambda p: p.id
        )
        self._by_policy: dict[str, list[Combination]] = {}
        for c in self.combinations:
            for pid in c.policies:
                self._by_policy.setdefault(pid, []).append(c)
        self._mutes = mutelist
        self._clock = clock
        self._settle_ms = int(settle_s * 1000)
        self._max_wait_ms = int(max_wait_s * 1000)
        self._in_thread = in_thread
        self._accounts: dict[str, Account] = {}
        self._built = False
        self.findings = Findings(catalog.compliance, self.mutelist)

    def mutelist(self) -> Mutelist:
        m = self._mutes
        if m is None:
            return EMPTY
        if isinstance(m, Mutelist):
            return m
        return m.get(time.monotonic())

    # ------------------------------------------------------------------ mirror
    def _account(self, state: MutableMapping[str, Any], acct: str) -> Account:
        meta = state.get(meta_key(acct))
        version = int(meta.get("v", 0)) if isinstance(meta, dict) else 0
        found = self._accounts.get(acct)
        if found is not None and found.version == version:
            return found
        if version or not self._built:  # state we do not mirror (restored, or changes discarded)
            self._accounts = rebuild(state)
            self._built = True
        found = self._accounts.get(acct)
        if found is None or found.version != version:
            found = self._accounts[acct] = Account(acct, version)
        return found

    # ------------------------------------------------------------------ records
    async def handle(
        self, key: bytes | None, value: bytes | None, meta: RecordMeta, state: MutableMapping[str, Any]
    ) -> list[Emit]:
        msg = decode_any(value, (ContextInput,))
        if msg.kind not in KINDS:
            raise DecodeError(f"kind {msg.kind!r} is not one of {', '.join(KINDS)}")
        now_ms = int(self._clock() * 1000)
        if msg.kind == "tick":
            return await self.tick_partition(meta.partition, state, now_ms)
        if not ACCOUNT_RE.fullmatch(msg.account_id):
            raise DecodeError(f"account_id {msg.account_id[:40]!r} is not a 12-digit id")
        acc = self._account(state, msg.account_id)
        m: dict[str, Any] = dict(state.get(meta_key(acc.id)) or {})
        moved = m.get("p") != meta.partition
        if moved:
            m["p"] = meta.partition
            listed = list(state.get(accounts_key(meta.partition)) or [])
            if acc.id not in listed:
                state[accounts_key(meta.partition)] = sorted([*listed, acc.id])
        touched: set[tuple[str, str]] = set()
        if msg.kind == "resource":
            self._resource(state, acc, m, msg, now_ms, touched)
        elif msg.kind == "deleted":
            emits = self._deleted(state, acc, m, msg.arn, now_ms, touched)
        elif msg.kind == "finding":
            if not acc.graph.fail(msg.arn, msg.policy_id, msg.failing) and not moved and not self._iam_due(m, now_ms):
                return []  # nothing changed (most findings): no state write at all
            self._store_failing(state, acc, msg.arn)
            touched |= self._reaching(acc, msg.arn, msg.policy_id)
        elif msg.kind == "scan" and msg.service == "iam" and msg.scan_id and msg.scan_id == m.get("scan"):
            m["scan_done"] = True
        emits = emits if msg.kind == "deleted" else []
        if self._iam_due(m, now_ms):
            emits += await self._analyse(state, acc, m, now_ms, touched)
        emits += self._combinations(state, acc, touched, now_ms)
        self._save(state, acc, m)
        return emits

    async def tick_partition(self, partition: int, state: MutableMapping[str, Any], now_ms: int) -> list[Emit]:
        """Analyse the accounts of ``partition`` whose IAM state changed and settled."""
        emits: list[Emit] = []
        for acct in list(state.get(accounts_key(partition)) or []):
            if not isinstance(acct, str) or not ACCOUNT_RE.fullmatch(acct):
                continue
            m = dict(state.get(meta_key(acct)) or {})
            if not self._iam_due(m, now_ms):
                continue
            acc = self._account(state, acct)
            touched: set[tuple[str, str]] = set()
            emits += await self._analyse(state, acc, m, now_ms, touched)
            emits += self._combinations(state, acc, touched, now_ms)
            self._save(state, acc, m)
        return emits

    def _save(self, state: MutableMapping[str, Any], acc: Account, m: dict[str, Any]) -> None:
        m["v"] = int(m.get("v", 0)) + 1
        state[meta_key(acc.id)] = m
        acc.version = m["v"]

    # ------------------------------------------------------------------ facts
    def _resource(
        self,
        state: MutableMapping[str, Any],
        acc: Account,
        m: dict[str, Any],
        msg: ContextInput,
        now_ms: int,
        touched: set[tuple[str, str]],
    ) -> None:
        arn, rtype = msg.arn, msg.resource_type
        if not arn:
            raise DecodeError("resource record without an arn")
        if rtype in IAM_TYPES:
            value = {"t": rtype, "a": msg.attributes, "g": dict(msg.tags)}
            key = iam_key(acc.id, arn)
            if state.get(key) != value:
                state[key] = value
                acc.iam.add(arn)
                self._dirty(m, now_ms)
            if msg.scan_id and not msg.scan_id.startswith("rescan-") and rtype.startswith("aws.iam."):
                if m.get("scan") != msg.scan_id:
                    m["scan"], m["scan_done"] = msg.scan_id, False
        if rtype in RELATION_TYPES:
            proj = project(rtype, msg.attributes)  # whatever the topic carried: strings only
            key = rel_key(acc.id, arn)
            old = state.get(key)
            value = {"t": rtype, "a": proj}
            if old != value:
                touched |= self._reaching(acc, arn, None)
                state[key] = value
                acc.graph.upsert(arn, rtype, proj)
                touched |= self._reaching(acc, arn, None)

    def _deleted(
        self,
        state: MutableMapping[str, Any],
        acc: Account,
        m: dict[str, Any],
        arn: str,
        now_ms: int,
        touched: set[tuple[str, str]],
    ) -> list[Emit]:
        emits: list[Emit] = []
        if arn in acc.iam:
            state.pop(iam_key(acc.id, arn), None)
            acc.iam.discard(arn)
            self._dirty(m, now_ms)
        if acc.graph.resource(arn) is not None:
            touched |= self._reaching(acc, arn, None)
            state.pop(rel_key(acc.id, arn), None)
            acc.graph.remove(arn)
        for c in self.combinations:  # the anchor is gone: its combinations close
            if arn in acc.states.get(c.id, ()):
                e = self.findings.resolve_gone(state, acc, c.policy(), arn, now_ms)
                if e is not None:
                    emits.append(e)
                touched.discard((c.id, arn))
        return emits

    def _dirty(self, m: dict[str, Any], now_ms: int) -> None:
        if not m.get("dirty"):
            m["since"] = now_ms
        m["dirty"], m["changed"] = True, now_ms

    def _iam_due(self, m: dict[str, Any], now_ms: int) -> bool:
        if not m.get("dirty"):
            return False
        if now_ms - int(m.get("changed", 0)) < self._settle_ms:
            return False
        waiting = bool(m.get("scan")) and not m.get("scan_done")
        return not waiting or now_ms - int(m.get("since", 0)) >= self._max_wait_ms

    def _reaching(self, acc: Account, arn: str, policy_id: str | None) -> set[tuple[str, str]]:
        combos = self.combinations if policy_id is None else self._by_policy.get(policy_id, ())
        out: set[tuple[str, str]] = set()
        for c in combos:
            out.update((c.id, a) for a in c.anchors_reaching(arn, acc.graph))
            if acc.graph.type_of(arn) == c.anchor:
                out.add((c.id, arn))
        return out

    # ------------------------------------------------------------------ IAM
    async def _analyse(
        self,
        state: MutableMapping[str, Any],
        acc: Account,
        m: dict[str, Any],
        now_ms: int,
        touched: set[tuple[str, str]],
    ) -> list[Emit]:
        resources: list[Resource] = []
        tags: dict[str, dict[str, str]] = {}
        for arn in sorted(acc.iam):
            v = state.get(iam_key(acc.id, arn))
            if isinstance(v, dict):
                resources.append(Resource(str(v.get("t", "")), arn, v.get("a") or {}, v.get("g") or {}))
                tags[arn] = dict(v.get("g") or {})
        started = time.perf_counter()
        if self._in_thread:  # seconds of CPU for a large account: keep the other stages' loop going
            results = await asyncio.to_thread(analyse, acc.id, resources)
        else:
            results = analyse(acc.id, resources)
        emits: list[Emit] = []
        seen: set[str] = set()
        for arn, r in sorted(results.items()):
            if r.status == EXCLUDED:
                continue
            seen.add(arn)
            attrs = principal_attributes(r)
            rtype = "aws.iam.user" if r.kind == USER else "aws.iam.role"
            ref = ResourceRef(arn, rtype, GLOBAL, acc.id, tags.get(arn, {}))
            ctx = EvalContext(
                now_ts=now_ms / 1000.0,
                tags=ref.tags,
                region=GLOBAL,
                account_id=acc.id,
                arn=arn,
                resource_type=PRINCIPAL_TYPE,
            )
            for pol in self.principal_policies:
                res = evaluate_policy(pol, attrs, ctx)
                path = {"escalation_path": attrs["EscalationPath"]} if attrs["EscalationPath"] else None
                e = self.findings.apply(
                    state, acc, pol, ref, res.verdict, res.detail or r.detail(), now_ms, unmapped=path
                )
                if e is not None:
                    emits.append(e)
                if acc.graph.fail(arn, pol.id, res.verdict is Verdict.FAIL):
                    self._store_failing(state, acc, arn)
                    touched |= self._reaching(acc, arn, pol.id)
        for pol in self.principal_policies:
            for arn in sorted(acc.states.get(pol.id, set()) - seen):
                e = self.findings.resolve_gone(state, acc, pol, arn, now_ms)
                if e is not None:
                    emits.append(e)
                if acc.graph.fail(arn, pol.id, False):
                    self._store_failing(state, acc, arn)
                    touched |= self._reaching(acc, arn, pol.id)
        m["dirty"], m["at"] = False, now_ms
        m.pop("scan", None)
        m.pop("scan_done", None)
        log.info(
            "iam analysed",
            account=acc.id,
            principals=len(results),
            escalating=sum(1 for r in results.values() if r.status == "escalates"),
            seconds=round(time.perf_counter() - started, 3),
        )
        return emits

    def _store_failing(self, state: MutableMapping[str, Any], acc: Account, arn: str) -> None:
        failing = acc.graph.failing(arn)
        if failing:
            state[failing_key(acc.id, arn)] = sorted(failing)
        else:
            state.pop(failing_key(acc.id, arn), None)

    # ------------------------------------------------------------------ combinations
    def _combinations(
        self, state: MutableMapping[str, Any], acc: Account, touched: set[tuple[str, str]], now_ms: int
    ) -> list[Emit]:
        emits: list[Emit] = []
        by_id = {c.id: c for c in self.combinations}
        for cid, anchor in sorted(touched):
            c = by_id[cid]
            found = acc.graph.resource(anchor)
            if found is None:
                continue
            out = c.evaluate(anchor, acc.graph)
            region = _region(anchor)
            ref = ResourceRef(anchor, c.anchor, region, acc.id, {})
            parts = {"parts": [h.to_dict() for h in out.hits]} if out.holds else None
            e = self.findings.apply(
                state,
                acc,
                c.policy(),
                ref,
                Verdict.FAIL if out.holds else Verdict.PASS,
                out.detail(),
                now_ms,
                track_pass=False,
                unmapped=parts,
            )
            if e is not None:
                emits.append(e)
        return emits


def _region(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[3] if len(parts) == 6 and parts[3] else GLOBAL


def context_catalog(settings: PolicySettings) -> tuple[Catalog, set[str]]:
    """The policies of the derived ``aws.iam.principal`` records with their framework mappings,
    and every policy id configured (for the combinations' check) — without compiling the whole
    catalog a second time in the process (the posture stage does that)."""
    pdirs, fdirs = dirs_for(settings)
    files = policy_files(pdirs)
    principal = [f for f in files if _PRINCIPAL_RE.search(f.read_text(encoding="utf-8", errors="replace"))]
    policies = [p for p in load_policies(principal) if p.resource_type == PRINCIPAL_TYPE]
    frameworks = load_frameworks(fdirs)
    return Catalog({p.id: p for p in policies}, {f.id: f for f in frameworks}), {f.stem for f in files}


_PRINCIPAL_RE = re.compile(r"^resource_type:\s*['\"]?aws\.iam\.principal['\"]?\s*$", re.MULTILINE)


def build_handler(settings: Settings, *, clock: Callable[[], float] = time.time) -> ContextHandler:
    """The context stage from settings: the principal policies, the built-in combinations, the mutelist,
    the timings of ``context.*``."""
    catalog, known = context_catalog(settings.policy)
    source = MutelistSource(settings.policy.mutelist_file, settings.policy.mutelist_reload_s)
    source.load()
    c = settings.context
    return ContextHandler(
        catalog,
        load(),
        mutelist=source,
        clock=clock,
        known_policies=known,
        settle_s=c.settle_s,
        max_wait_s=c.max_wait_s,
    )


def build_stage(ctx: RoleContext) -> StageParts:
    """Daemon factory (role ``context``): the handler on the context's clock, and its ticker."""
    ticker = Ticker(ctx, ctx.settings.context.tick_s)
    return StageParts(build_handler(ctx.settings, clock=ctx.time), (("context-ticker", ticker),))


__all__ = ["ContextHandler", "build_handler", "build_stage"]
