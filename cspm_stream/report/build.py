"""Build the compliance report from current findings and framework definitions (pure).

Definitions (every number in the report follows these exactly):

*Check* — one current compliance finding, i.e. one (policy, resource) pair as
the last value for its uid on the compacted findings topic. Its outcome is
PASS, FAIL, ERROR or MUTED (see :mod:`cspm_stream.report.findings`; a
PASSED or RESOLVED finding is a PASS). The posture stage keeps every outcome,
so passing checks are on the topic as well as failing ones. A check whose
resource was deleted (``unmapped.resource_deleted``) is history: it counts in
failure episodes, the trend and the time to resolve, and in nothing else.

*Scope* — ``account``: only checks whose resource is in that account, and only
detections in that account. ``framework``: only checks whose policy is mapped
to that framework (by its definition file, or because the finding cites one of
its requirements in ``compliance.requirements``); detections are not filtered by
framework.

*Control* — one policy. Within a group of checks (all checks in scope, one
account, one service, one framework...), a control's status is: FAIL if any of
its checks fails; else ERROR if any errored; else PASS if any passed; else
MUTED if all are suppressed; NOT_EVALUATED with no check at all.

*Posture score* of a group (``score``) — ``100 * passed / (passed + failed)``
over the group's checks: ERROR and MUTED checks are left out of both terms
(an unreadable resource is never counted as compliant, nor held against the
score); ``None`` when that is 0/0. The per-account score uses that account's
checks only; the per-service score the checks on that service's resources; a
framework's score the checks whose policy is mapped to any of its requirements
(each check once).

*Control score* of a group (``controls``) — the same ratio over the group's
controls with status PASS or FAIL (a control passes only when no resource
fails it; controls in ERROR, MUTED or NOT_EVALUATED are left out).

*Requirement* — its policies are those of its definition plus any cited by a
finding as ``"<framework>:<requirement>"``. A requirement marked manual
(``automated: false``: assessed outside cspm_stream) is MANUAL, whatever its
policies say: listed, never passed nor failed. An automated requirement is
FAIL if any of its policies is FAIL; else ERROR if any is ERROR (a check that
could not be evaluated is never a pass); else PASS if any is PASS — so a
requirement passes only when all its checks pass, for every resource in scope,
policies with no resource to evaluate being not applicable; else MUTED when
its only checks are muted; else NOT_EVALUATED (nothing in scope).

*Requirement score* of a framework (``requirements_score``) — ``100 * passed /
(passed + failed)`` over its automated requirements with status PASS or FAIL;
ERROR, MUTED, NOT_EVALUATED and MANUAL requirements are in neither term, and
are counted in ``requirement_status``.

*Top failing controls* — controls with at least one failing check, ordered by
failing checks (desc), severity (desc), policy id; the first ``top_n``.

*Failure episode* — a check that is failing now, or that was resolved
(it failed, then passed). It opens at ``first_seen_time`` and, if resolved,
closes at the resolving finding's ``time`` (never before it opened).

*Trend* — the last ``trend_days`` UTC days ending with the day of ``now``.
Per day: episodes opened that day, episodes resolved that day,
``open_failing`` = episodes opened before the day's end minus those resolved
before it, and detections first seen that day.

*Mean time to resolve* — over resolved checks in scope, the mean (and median,
max) of ``resolve time - first_seen_time`` in seconds; None with none resolved.

*Open detections* — detections (last value per uid) whose ``status_id`` is
neither 3 (suppressed) nor 4 (resolved), counted by severity.
"""

from __future__ import annotations

import bisect
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from cspm_stream.errors import ConfigError
from cspm_stream.models.enums import Severity
from cspm_stream.report.findings import Check, Detection, Inputs, Outcome
from cspm_stream.report.frameworks import Framework, cited_framework
from cspm_stream.report.model import (
    Breakdown,
    ControlRow,
    Counts,
    DetectionRow,
    DetectionSummary,
    FrameworkSection,
    Mttr,
    Report,
    RequirementRow,
    ScopeScore,
    Score,
    Summary,
    TrendPoint,
)
from cspm_stream.timeutil import ms_to_iso

DAY_MS = 86_400_000
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFORMATIONAL)


def _severity_counts() -> dict[str, int]:
    return {s.label: 0 for s in SEVERITY_ORDER}


class _Index:
    """Checks aggregated per (policy, account): everything else folds these cells."""

    def __init__(self, checks: Sequence[Check]) -> None:
        self.cells: dict[tuple[str, str], Counts] = defaultdict(Counts)
        self.failing_sev: dict[tuple[str, str], int] = defaultdict(int)
        self.meta: dict[str, tuple[str, Severity, str]] = {}
        for c in checks:
            self.cells[(c.policy_id, c.account)].add(c.outcome)
            if c.policy_id not in self.meta or c.severity > self.meta[c.policy_id][1]:
                self.meta[c.policy_id] = (c.title, c.severity, c.service)
        self.by_policy: dict[str, Counts] = defaultdict(Counts)
        self.accounts_failing: dict[str, int] = defaultdict(int)
        for (policy, _account), counts in self.cells.items():
            self.by_policy[policy].merge(counts)
            if counts.failed:
                self.accounts_failing[policy] += 1

    def status(self, policy: str, account: str | None = None) -> Outcome:
        if account is None:
            counts = self.by_policy.get(policy)
        else:
            counts = self.cells.get((policy, account))
        return counts.status() if counts is not None else Outcome.NOT_EVALUATED

    def control_score(self, policies: Iterable[str], account: str | None = None) -> Score:
        return Score.of([self.status(p, account) for p in policies])

    def counts(self, policies: Iterable[str], account: str | None = None) -> Counts:
        total = Counts()
        for p in policies:
            cell = self.by_policy.get(p) if account is None else self.cells.get((p, account))
            if cell is not None:
                total.merge(cell)
        return total

    def check_score(self, policies: Iterable[str], account: str | None = None) -> Score:
        return Score.of_counts(self.counts(policies, account))


def _requirement_map(
    frameworks: Sequence[Framework], checks: Sequence[Check]
) -> dict[str, tuple[Framework, dict[str, set[str]]]]:
    """framework id -> (definition, requirement id -> policy ids), definitions plus citations."""
    out: dict[str, tuple[Framework, dict[str, set[str]]]] = {}
    for fw in frameworks:
        out[fw.id] = (fw, {r.id: set(r.policies) for r in fw.requirements})
    cited = {(c.policy_id, c.requirements) for c in checks if c.requirements}  # a policy's checks agree
    for policy_id, requirements in cited:
        for fw_id, req_id in requirements:
            if fw_id not in out:
                out[fw_id] = (cited_framework(fw_id), {})
            out[fw_id][1].setdefault(req_id, set()).add(policy_id)
    return out


def requirement_status(automated: bool, policy_statuses: Iterable[Outcome]) -> Outcome:
    """A requirement's status from its policies' statuses (definition in the module docstring)."""
    if not automated:
        return Outcome.MANUAL
    values = set(policy_statuses)
    for outcome in (Outcome.FAIL, Outcome.ERROR, Outcome.PASS, Outcome.MUTED):
        if outcome in values:
            return outcome
    return Outcome.NOT_EVALUATED


def _framework_section(fw: Framework, reqs: dict[str, set[str]], idx: _Index) -> FrameworkSection:
    defined = {r.id: r for r in fw.requirements}
    order = [r.id for r in fw.requirements] + sorted(set(reqs) - set(defined))
    rows: list[RequirementRow] = []
    for rid in order:
        definition = defined.get(rid)
        automated = definition.automated if definition is not None else True
        policies = sorted(reqs.get(rid, set()))
        statuses = {p: idx.status(p) for p in policies}
        status = requirement_status(automated, statuses.values())
        rows.append(
            RequirementRow(
                id=rid,
                title=definition.title if definition is not None else "",
                section=definition.section if definition is not None else "",
                automated=automated,
                policies=policies,
                status=status,
                checks=idx.counts(policies),
                failing_policies=[p for p in policies if statuses[p] is Outcome.FAIL],
            )
        )
    automated_ids = {r.id for r in rows if r.automated}
    all_policies = sorted(set().union(*(p for rid, p in reqs.items() if rid in automated_ids))) if reqs else []
    req_status = Counter(r.status.value for r in rows)
    return FrameworkSection(
        id=fw.id,
        name=fw.name or fw.id,
        version=fw.version,
        score=idx.check_score(all_policies),
        controls=idx.control_score(all_policies),
        checks=idx.counts(all_policies),
        requirements=rows,
        requirement_status={o.value: req_status.get(o.value, 0) for o in Outcome},
        requirements_score=Score.of([r.status for r in rows]),
    )


def _breakdown(key: str, checks: Sequence[Check], idx: _Index, account: str | None) -> Breakdown:
    counts = Counts()
    sev = _severity_counts()
    for c in checks:
        counts.add(c.outcome)
        if c.outcome is Outcome.FAIL and c.severity.label in sev:
            sev[c.severity.label] += 1
    policies = sorted({c.policy_id for c in checks})
    return Breakdown(
        key=key,
        score=Score.of_counts(counts),
        controls=idx.control_score(policies, account),
        checks=counts,
        failing_by_severity=sev,
    )


def _trend(checks: Sequence[Check], detections: Sequence[Detection], now_ms: int, days: int) -> list[TrendPoint]:
    episodes = [c for c in checks if c.was_failing]
    opened = sorted(c.first_seen_ms for c in episodes)
    resolved = sorted(c.resolved_ms for c in episodes if c.resolved_ms is not None)
    det_first = sorted(d.first_seen_ms for d in detections)
    last_start = now_ms - now_ms % DAY_MS
    points: list[TrendPoint] = []
    for i in range(days - 1, -1, -1):
        start = last_start - i * DAY_MS
        end = start + DAY_MS

        def between(xs: list[int], lo: int = start, hi: int = end) -> int:
            return bisect.bisect_left(xs, hi) - bisect.bisect_left(xs, lo)

        points.append(
            TrendPoint(
                day=ms_to_iso(start)[:10],
                opened=between(opened),
                resolved=between(resolved),
                open_failing=bisect.bisect_left(opened, end) - bisect.bisect_left(resolved, end),
                detections=between(det_first),
            )
        )
    return points


def _mttr(checks: Sequence[Check]) -> Mttr:
    durations = [(c.resolved_ms - c.first_seen_ms) / 1000.0 for c in checks if c.resolved_ms is not None]
    if not durations:
        return Mttr(resolved=0, mean_s=None, median_s=None, max_s=None)
    return Mttr(
        resolved=len(durations),
        mean_s=sum(durations) / len(durations),
        median_s=float(statistics.median(durations)),
        max_s=max(durations),
    )


def _detections(detections: Sequence[Detection], top_n: int) -> DetectionSummary:
    open_ = [d for d in detections if d.is_open]
    sev = _severity_counts()
    for d in open_:
        if d.severity.label in sev:
            sev[d.severity.label] += 1
    by_rule = Counter(d.rule_id for d in open_)
    recent = sorted(open_, key=lambda d: (-d.severity, -d.last_seen_ms, d.uid))[:top_n]
    return DetectionSummary(
        total=len(detections),
        open_total=len(open_),
        open_by_severity=sev,
        open_by_rule=sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n],
        recent_open=[
            DetectionRow(
                uid=d.uid,
                rule_id=d.rule_id,
                title=d.title,
                severity=d.severity.label,
                account=d.account,
                region=d.region,
                actor=d.actor,
                count=d.count,
                first_seen=ms_to_iso(d.first_seen_ms),
                last_seen=ms_to_iso(d.last_seen_ms),
            )
            for d in recent
        ],
    )


def build_report(
    inputs: Inputs,
    frameworks: Sequence[Framework],
    *,
    now_ms: int,
    framework: str | None = None,
    account: str | None = None,
    trend_days: int = 30,
    top_n: int = 10,
) -> Report:
    """The report of ``inputs`` under the definitions of this module's docstring."""
    req_map = _requirement_map(frameworks, inputs.checks)
    if framework is not None and framework not in req_map:
        known = ", ".join(sorted(req_map)) or "none"
        raise ConfigError("--framework", framework, f"unknown framework (known: {known})")
    history = [c for c in inputs.checks if account is None or c.account == account]
    detections = [d for d in inputs.detections if account is None or d.account == account]
    if framework is not None:
        fw_policies = set().union(*req_map[framework][1].values()) if req_map[framework][1] else set()
        history = [c for c in history if c.policy_id in fw_policies]
        req_map = {framework: req_map[framework]}
    checks = [c for c in history if not c.deleted]  # the current posture: resources that exist
    idx = _Index(checks)
    policies = sorted(idx.by_policy)

    sections = [_framework_section(fw, reqs, idx) for fw, reqs in req_map.values()]
    by_account: dict[str, list[Check]] = defaultdict(list)
    by_service: dict[str, list[Check]] = defaultdict(list)
    for c in checks:
        by_account[c.account].append(c)
        by_service[c.service].append(c)

    controls = []
    for p in policies:
        title, sev, service = idx.meta[p]
        counts = idx.by_policy[p]
        controls.append(ControlRow(p, title, sev.label, service, counts.status(), counts, idx.accounts_failing[p]))
    sev_rank = {s.label: int(s) for s in Severity}
    failing = [c for c in controls if c.checks.failed]
    failing.sort(key=lambda c: (-c.checks.failed, -sev_rank[c.severity], c.policy_id))

    scores = [ScopeScore("", "", idx.check_score(policies))]
    scores += [ScopeScore("", a, idx.check_score(policies, a)) for a in sorted(by_account)]
    for sec in sections:
        fw_pol = sorted(set().union(*req_map[sec.id][1].values())) if req_map[sec.id][1] else []
        scores.append(ScopeScore(sec.id, "", sec.score))
        scores += [ScopeScore(sec.id, a, idx.check_score(fw_pol, a)) for a in sorted(by_account)]

    overall = Counts()
    for c in checks:
        overall.add(c.outcome)
    return Report(
        generated_at=ms_to_iso(now_ms),
        framework_filter=framework,
        account_filter=account,
        summary=Summary(
            score=Score.of_counts(overall),
            controls=idx.control_score(policies),
            checks=overall,
            resources=len({c.resource_uid for c in checks}),
            accounts=len(by_account),
            failing_resources=len({c.resource_uid for c in checks if c.outcome is Outcome.FAIL}),
        ),
        frameworks=sections,
        accounts=[_breakdown(a, cs, idx, a) for a, cs in sorted(by_account.items())],
        services=[_breakdown(s, cs, idx, None) for s, cs in sorted(by_service.items())],
        controls=controls,
        top_failing=failing[:top_n],
        detections=_detections(detections, max(top_n, 20)),
        trend=_trend(history, detections, now_ms, trend_days),
        mttr=_mttr(history),
        scores=scores,
        rejected=dict(inputs.rejected),
        checks=checks,
    )
