"""Alert router stage: findings + detections → sinks, and remediation commands.

Per record: decode and validate the OCSF finding (DecodeError → DLQ by the
runtime); drop it if the same uid+state was alerted within
``alerts.dedup_window_s`` with no other state since (replays and restarts never re-alert;
a check that fails again after it resolved is alerted again); route it by
severity, class, account, tag, framework, state and route-level excludes; hand
it to every matching sink — Kafka sinks become Emits returned to the runtime,
delivery sinks are enqueued on the :class:`~cspm_stream.delivery.runner.SinkRunner`
(never awaited here). Only records something is sent for (a sink or a command) leave a
dedup trace in the state (:func:`~cspm_stream.delivery.router.note_unsent`): passing checks,
which no default route sends, cost the stage no state. A compliance finding that is ``new`` and names a
``remediation_action`` whose resolved mode is not ``off`` also yields a
:class:`~cspm_stream.models.RemediationCommand` on ``remediation`` keyed by the
resource ARN — whether or not any route matched. A detection (state ``new``) may do the
same when its rule names an action (``unmapped.remediation_action``, with optional
``unmapped.remediation_params`` such as the access key id to quarantine), and a new detection
of a rule a response playbook lists (``cspm_stream/catalog/playbooks``) yields that playbook's
containment command under the same modes (:mod:`cspm_stream.remediate.playbooks`).

Wiring (``run --role alerts``)::

    parts = build_stage(ctx)  # the handler + ("sinks", AlertStage) when a delivery sink is configured
    ... the runtime starts the sinks service, drives parts.handler.handle() on findings and
    ... detections, then stops the service (delivery sinks + DLQ producer)
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from contextlib import AsyncExitStack
from typing import Any

from prometheus_client import CollectorRegistry

from cspm_stream.delivery.model import Alert, alert_from_bytes
from cspm_stream.delivery.router import Router, is_duplicate, note_unsent
from cspm_stream.delivery.runner import KafkaDeadLetterWriter, SinkMetrics, SinkRunner
from cspm_stream.delivery.sinks import KafkaSink, Sink
from cspm_stream.errors import ConfigError
from cspm_stream.models import FindingStatus, RemediationCommand, RemediationMode, dumps
from cspm_stream.observability.metrics import Metrics
from cspm_stream.remediate.modes import command_id, resolve_mode, resource_id_from_arn
from cspm_stream.remediate.playbooks import Playbook, commands_for
from cspm_stream.remediate.playbooks import load as load_playbooks
from cspm_stream.settings import AlertSettings, RemediationSettings, Settings
from cspm_stream.stages.base import Emit, RecordMeta, RoleContext, Service, StageParts, headers_for
from cspm_stream.timeutil import ms_to_iso, parse_iso


def build_sinks(conf: AlertSettings, environ: Mapping[str, str] | None = None) -> list[Sink]:
    """One sink per ``alerts.sinks`` entry (:mod:`cspm_stream.delivery.sinks.factory`); an unset
    ``*_env`` variable fails here, naming the setting and the variable, never a value."""
    from cspm_stream.delivery.sinks.factory import build_sink

    return [build_sink(name, s, environ) for name, s in conf.sinks.items()]


class AlertRouterHandler:
    """The ``alerts`` stage (inputs ``findings`` and ``detections``)."""

    name = "alerts"
    inputs: tuple[str, ...] = ("findings", "detections")

    def __init__(
        self,
        alerts: AlertSettings,
        remediation: RemediationSettings,
        sinks: Sequence[Sink],
        runner: SinkRunner | None,
        *,
        topic_names: Mapping[str, str] | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
        playbooks: Sequence[Playbook] | None = None,
    ) -> None:
        self.router = Router(alerts.routes)
        #: ``cspm_event_to_alert_seconds``: from the finding's time to its routing to a sink
        self._latency = metrics.event_to_alert_seconds if metrics is not None else None
        self._clock = clock
        self.window_s = alerts.dedup_window_s
        self.remediation = remediation
        self.kafka_sinks = {s.name: s for s in sinks if isinstance(s, KafkaSink)}
        self.runner = runner
        delivery = [s.name for s in sinks if not s.inline]
        if delivery and runner is None:
            raise ConfigError("alerts.sinks", delivery, "delivery sinks need a SinkRunner")
        self.topic_names = dict(topic_names or {})
        #: detection rule → containment action (catalog/playbooks); commands only where the action's mode is not off
        self.playbooks = load_playbooks() if playbooks is None else list(playbooks)

    async def handle(
        self, key: bytes | None, value: bytes | None, meta: RecordMeta, state: MutableMapping[str, Any]
    ) -> list[Emit]:
        alert = alert_from_bytes(value)
        sinks = self.router.sinks_for(alert)
        cmd = self.command_for(alert, meta)
        cmds = [cmd] if cmd is not None else []
        if not alert.is_compliance and self.playbooks:  # response playbooks (cspm_stream.remediate.playbooks)
            cmds += [c for c in commands_for(self.playbooks, alert.finding, self.remediation) if c != cmd]
        if not sinks and not cmds:
            # nothing to send (a passing check, by default): no dedup trace unless the check has one
            note_unsent(alert, state, self.window_s, alert.time_ms)
            return []
        if is_duplicate(alert, state, self.window_s, alert.time_ms):
            return []
        emits: list[Emit] = []
        source = self.topic_names.get(meta.topic, meta.topic)
        for sink in sinks:
            ks = self.kafka_sinks.get(sink)
            if ks is not None:
                emits.append(ks.render(alert))
            else:
                assert self.runner is not None
                self.runner.submit(sink, alert, source)
        if sinks and self._latency is not None:
            kind = "compliance" if alert.is_compliance else "detection"
            self._latency.labels(kind=kind).observe(max(0.0, self._clock() - alert.time_ms / 1000))
        for c in cmds:
            emits.append(Emit("remediation", c.resource_arn, dumps(c), headers_for("remediation.v1", action=c.action)))
        return emits

    def command_for(self, a: Alert, meta: RecordMeta) -> RemediationCommand | None:
        """The remediation command a new compliance finding asks for, if its mode is not off."""
        action = a.unmapped.get("remediation_action")
        if a.state != FindingStatus.NEW.value or not action or not a.resource_arn:
            return None
        mode = resolve_mode(self.remediation, str(action), a.account_id)
        if mode is RemediationMode.OFF:
            return None
        fi = a.finding.get("finding_info", {})
        occurrence = str(fi.get("first_seen_time") or a.time_ms) if isinstance(fi, dict) else str(a.time_ms)
        requested = ms_to_iso(a.time_ms)
        expires = None
        if mode is RemediationMode.APPROVE:
            expires = ms_to_iso(
                int((parse_iso(requested) + dt.timedelta(seconds=self.remediation.approval_ttl_s)).timestamp() * 1000)
            )
        rtype = a.resource_types[0] if a.resource_types else ""
        return RemediationCommand(
            command_id=command_id(str(action), a.resource_arn, a.uid, occurrence),
            action=str(action),
            mode=mode,
            account_id=a.account_id,
            region=a.region,
            resource_arn=a.resource_arn,
            resource_type=rtype,
            resource_id=resource_id_from_arn(a.resource_arn, a.region),
            finding_uid=a.uid,
            requested_at=requested,
            reason=f"{a.control}: {a.title}"[:500],
            params=_params(a),
            expires_at=expires,
        )


def _params(a: Alert) -> dict[str, Any]:
    """Action parameters a finding may carry (``unmapped.remediation_params``, e.g. the access key
    id a detection rule saw used), limited to plain JSON scalars and lists of them."""
    raw = a.unmapped.get("remediation_params")
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {}
    for k, v in raw.items():
        if isinstance(v, str | int | float | bool) or (
            isinstance(v, list) and all(isinstance(x, str | int | float | bool) for x in v)
        ):
            out[str(k)] = v
    return out


def build_handler(settings: Settings, runner: SinkRunner | None = None) -> AlertRouterHandler:
    """The router handler; pass the runner that owns the delivery sinks (see :func:`build_stage`)."""
    sinks = build_sinks(settings.alerts)
    if runner is None and any(not s.inline for s in sinks):
        raise ConfigError("alerts.sinks", list(settings.alerts.sinks), "delivery sinks need a SinkRunner")
    return AlertRouterHandler(
        settings.alerts,
        settings.remediation,
        sinks,
        runner,
        topic_names={t: settings.kafka.topic(t) for t in AlertRouterHandler.inputs},
    )


class AlertStage:
    """Handler + runner + DLQ producer, started and stopped together (``async with``)."""

    def __init__(
        self,
        settings: Settings,
        registry: CollectorRegistry | None = None,
        environ: Mapping[str, str] | None = None,
        *,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        sinks = build_sinks(settings.alerts, environ)
        self.dlq = KafkaDeadLetterWriter(settings.kafka)
        self.runner = SinkRunner(sinks, settings.alerts.sinks, self.dlq, SinkMetrics(registry))
        self.handler = AlertRouterHandler(
            settings.alerts,
            settings.remediation,
            sinks,
            self.runner,
            topic_names={t: settings.kafka.topic(t) for t in AlertRouterHandler.inputs},
            metrics=metrics,
            clock=clock,
        )
        self._stack = AsyncExitStack()

    async def start(self) -> None:
        if not self.runner.sink_names:
            return  # Kafka-only routing: everything leaves as Emits, nothing to run
        await self.dlq.start()
        self._stack.push_async_callback(self.dlq.stop)
        await self.runner.start()
        self._stack.push_async_callback(self.runner.stop)

    async def stop(self) -> None:
        await self._stack.aclose()

    async def __aenter__(self) -> AlertStage:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def build_stage(ctx: RoleContext) -> StageParts:
    """Daemon factory (role ``alerts``): the router handler and, when a delivery sink is configured,
    the service that runs the sinks (sharing one :class:`SinkRunner`); sink metrics in the process registry."""
    stage = AlertStage(ctx.settings, ctx.metrics.registry, ctx.environ, metrics=ctx.metrics, clock=ctx.time)
    services: tuple[tuple[str, Service], ...] = (("sinks", stage),) if stage.runner.sink_names else ()
    return StageParts(stage.handler, services)
