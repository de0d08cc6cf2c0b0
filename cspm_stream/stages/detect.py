"""Detection stage: CloudTrail activity → OCSF detections and rescan requests.

Consumes ``activity`` (key = principal, value = ``activity.v1``), evaluates the
record with the :class:`~cspm_stream.detect.engine.DetectionEngine` (single-event
Sigma rules and correlations; state in the handler's ``state`` table, see the
engine for its keys) and emits:

- ``detections``: OCSF Detection Findings (class 2004), key = finding uid, schema
  header ``ocsf.detection_finding.v1`` (activity 1 = new, 2 = repeat in its window);
- ``rescan``: one ``rescan.v1`` request per resource a successful mutating call
  touched, key = resource ARN (or id), with a deterministic ``request_id`` and the record's actor
  (principal, source IP, user agent, call, eventID and time: who changed it).

A value that is not an ``activity.v1`` record, or whose record has no usable
``eventID``/``eventTime`` or holds a list/object where the engine reads text
(:mod:`cspm_stream.detect.records`), raises :class:`~cspm_stream.errors.DecodeError`
naming the field (the runtime writes a dead letter with the original bytes). A record
whose evaluation overruns ``detection.eval_budget_ms`` raises
:class:`~cspm_stream.detect.engine.BudgetExceeded` and is dead-lettered the same way. So is
a record whose event time is more than :data:`MAX_FUTURE_S` ahead of the wall clock: the
engine's watermark (the highest event time seen on a partition, kept in its state) never
moves back, so one record dated 9999 would make every later record of the partition late
and no correlation would ever fire there again.
A redelivered record (same ``eventID``) emits nothing.

Metrics (in the process registry, when given): ``cspm_rule_matches_total{rule,status}``
(status ``live`` or ``shadow``: shadow rules are evaluated and counted, never alerted) and
``cspm_detect_budget_exceeded_total``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import structlog

from cspm_stream.detect.actor import change_of
from cspm_stream.detect.bounded import clip, detection_bytes
from cspm_stream.detect.catalog import load_rules
from cspm_stream.detect.engine import BudgetExceeded, DetectionEngine, EngineConfig
from cspm_stream.detect.records import MAX_FUTURE_S
from cspm_stream.detect.rescan import EVERY, RescanTarget, load_map
from cspm_stream.detect.rules import RuleInfo
from cspm_stream.errors import DecodeError
from cspm_stream.models import ActivityRecord, RescanRequest
from cspm_stream.models.change import Change
from cspm_stream.models.codec import decode, dumps
from cspm_stream.models.ocsf import DETECTION_FINDING, SCHEMA_BY_CLASS, finding_uid
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit, RecordMeta, RoleContext, StageParts, headers_for
from cspm_stream.timeutil import iso, now_iso, to_ms

if TYPE_CHECKING:
    from cspm_stream.observability.metrics import Metrics

log = structlog.get_logger("cspm_stream.detect")
DETECTION_SCHEMA = SCHEMA_BY_CLASS[DETECTION_FINDING]
RESCAN_SCHEMA = "rescan.v1"


class DetectHandler:
    """Evaluate each activity record; emit detections and rescan requests."""

    name = "detect"
    inputs: tuple[str, ...] = ("activity",)
    #: the engine's store re-assigns every value it changes (see cspm_stream.detect.store)
    assigns_changes = True

    def __init__(
        self,
        engine: DetectionEngine,
        *,
        clock: Callable[[], str] = now_iso,
        metrics: Metrics | None = None,
        wall_s: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.wall_s = wall_s  # bounds event times from above (MAX_FUTURE_S)
        self.metrics = DetectMetrics(metrics) if metrics is not None else None
        if self.metrics is not None:
            engine.on_match = self.metrics.matched

    async def handle(
        self, key: bytes | None, value: bytes | None, meta: RecordMeta, state: MutableMapping[str, Any]
    ) -> list[Emit]:
        act = decode(value, ActivityRecord)
        rec = act.record
        if str(rec.get("eventID") or "") != act.event_id:
            raise DecodeError(f"record eventID {rec.get('eventID')!r} does not match event_id {act.event_id!r}")
        try:
            t = to_ms(act.event_time)
        except ValueError:
            raise DecodeError(f"event_time {act.event_time!r} is not an ISO 8601 time") from None
        ahead_s = t / 1000 - self.wall_s()
        if ahead_s > MAX_FUTURE_S:
            raise DecodeError(
                f"event_time {act.event_time[:64]!r} is {ahead_s:.0f} s ahead of the clock "
                f"(more than {MAX_FUTURE_S} s): refused, it would advance the watermark"
            )
        try:
            out = self.engine.process(rec, state, partition=meta.partition, principal=act.principal, event_time_ms=t)
        except BudgetExceeded:
            if self.metrics is not None:
                self.metrics.over_budget.inc()
            raise
        emits: list[Emit] = []
        for f in out.findings:
            uid = f["finding_info"]["uid"]
            value = detection_bytes(f)  # never above the detections topic's max.message.bytes
            emits.append(Emit("detections", uid, value, headers_for(DETECTION_SCHEMA, trace_id=act.event_id)))
        now = self.clock() if out.rescans else ""
        change = change_of(rec) if out.rescans else None  # who changed it: named in the resulting findings
        for tg in out.rescans:
            req = rescan_request(tg, now, change)
            emits.append(Emit("rescan", tg.arn or tg.resource_id, dumps(req), headers_for(RESCAN_SCHEMA, act.event_id)))
        return emits


class DetectMetrics:
    """The detect stage's view of the process metrics: rule matches (a labelled child per rule and
    status, looked up once) and records over the evaluation budget."""

    def __init__(self, metrics: Metrics) -> None:
        self.matches = metrics.rule_matches
        self.over_budget = metrics.detect_budget_exceeded
        self._children: dict[tuple[str, bool], Any] = {}

    def matched(self, info: RuleInfo, shadow: bool) -> None:
        key = (info.id, shadow)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.matches.labels(rule=info.id, status="shadow" if shadow else "live")
        child.inc()


def rescan_request(tg: RescanTarget, requested_at: str, actor: Change | None = None) -> RescanRequest:
    """The rescan request for one target; its id is deterministic (event + resource). ``actor``: the
    change that made it (:func:`cspm_stream.detect.actor.change_of`), carried to the snapshot."""
    return RescanRequest(
        request_id=finding_uid("rescan", tg.event_id, tg.resource_type, tg.resource_id),
        account_id=tg.account_id,
        region=tg.region,
        resource_type=tg.resource_type,
        requested_at=requested_at,
        reason=f"cloudtrail:{tg.event_name}",
        arn=tg.arn,
        resource_id=None if tg.resource_id == EVERY else tg.resource_id,  # no id: every resource of the type
        source_event_id=tg.event_id,
        actor=actor,
    )


def engine_from_settings(settings: Settings, extra_rule_paths: tuple[str, ...] = ()) -> DetectionEngine:
    """Load the configured rules (logging every rule that fails) and the rescan table."""
    d = settings.detection
    rules = load_rules(d, extra_rule_paths)
    for err in rules.errors:  # a rule file can hold a megabyte-long title: log lines stay bounded
        log.warning("rule failed to load", file=clip(err.file), rule=clip(err.rule), reason=clip(err.reason))
    for warn in rules.warnings:
        log.warning(
            "rule selects a field CloudTrail lacks",
            file=clip(warn.file),
            rule=clip(warn.rule),
            reason=clip(warn.reason),
        )
    shadow = frozenset(d.shadow_rules)
    log.info(
        "rules loaded",
        loaded=rules.loaded,
        failed=len(rules.errors),
        warnings=len(rules.warnings),
        shadow=sum(1 for i in rules.infos() if i.status == "shadow" or {i.id, i.name} & shadow),
    )
    return DetectionEngine(rules, EngineConfig.from_settings(d), load_map(d.rescan_map), shadow=shadow)


def build_detect_handler(
    settings: Settings, *, clock: Callable[[], str] = now_iso, metrics: Metrics | None = None
) -> DetectHandler:
    """The detect handler with the configured rules (one-shot use and tests; ``metrics``: the process metrics)."""
    return DetectHandler(engine_from_settings(settings), clock=clock, metrics=metrics)


def build_stage(ctx: RoleContext) -> StageParts:
    """Daemon factory (role ``process``): the detect handler on the context's clock."""
    handler = build_detect_handler(ctx.settings, clock=lambda: iso(ctx.clock()), metrics=ctx.metrics)
    handler.wall_s = ctx.time
    return StageParts(handler)
