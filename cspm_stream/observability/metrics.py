"""Prometheus metrics of one process, in a registry built by :func:`create_metrics`.

Nothing is registered at import time: each call builds a fresh
``CollectorRegistry`` (so tests and several apps in one process never clash).
The daemon creates one :class:`Metrics` and hands it to the stages and
adapters; ``/metrics`` serves its registry.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import HistogramMetricFamily

from cspm_stream import __version__
from cspm_stream.observability.cloudtrail_freshness import CloudTrailFreshness
from cspm_stream.report.model import Report

#: AWS error codes that mean "slow down" (counted as throttles as well as errors)
THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
        "BandwidthLimitExceeded",
        "PriorRequestNotComplete",
    }
)

EVAL_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
ALERT_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class StageHistogram:
    """A histogram labelled by stage, filled a batch at a time without locks (the runtime's hot path:
    prometheus_client's Histogram takes a lock and walks its buckets per observation). Everything
    runs on the process's event loop, the ``/metrics`` scrape included, so plain lists suffice."""

    def __init__(self, name: str, doc: str, buckets: Sequence[float], registry: CollectorRegistry) -> None:
        self._name = name
        self._doc = doc
        self._bounds = sorted(buckets)
        self._series: dict[str, tuple[list[int], list[float]]] = {}  # stage -> (counts per bucket, [sum])
        registry.register(self)

    def observe_many(self, stage: str, values: Iterable[float]) -> None:
        series = self._series.get(stage)
        if series is None:
            series = self._series[stage] = ([0] * (len(self._bounds) + 1), [0.0])
        counts, total = series
        bounds = self._bounds
        at = bisect.bisect_left
        s = 0.0
        for v in values:
            counts[at(bounds, v)] += 1  # the first bucket whose bound is >= v ("le" is inclusive)
            s += v
        total[0] += s

    def labels(self, stage: str) -> _StageChild:
        return _StageChild(self, stage)

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(self._name, self._doc, labels=["stage"])
        for stage, (counts, total) in sorted(self._series.items()):
            cumulative = 0
            buckets: list[tuple[str, float]] = []
            for bound, n in zip([*self._bounds, math.inf], counts, strict=True):
                cumulative += n
                buckets.append(("+Inf" if math.isinf(bound) else repr(float(bound)), cumulative))
            family.add_metric([stage], buckets, total[0])
        yield family

    def describe(self) -> Iterator[HistogramMetricFamily]:
        yield HistogramMetricFamily(self._name, self._doc, labels=["stage"])


@dataclass(frozen=True, slots=True)
class _StageChild:
    histogram: StageHistogram
    stage: str

    def observe(self, value: float) -> None:
        self.histogram.observe_many(self.stage, (value,))


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    events_in: Counter
    events_out: Counter
    consumer_lag: Gauge
    evaluation_seconds: StageHistogram
    event_to_alert_seconds: Histogram
    aws_calls: Counter
    aws_errors: Counter
    aws_throttles: Counter
    dlq: Counter
    last_full_scan: Gauge
    posture_score: Gauge
    report_checks: Gauge
    open_detections: Gauge
    mttr_seconds: Gauge
    report_time: Gauge
    rule_matches: Counter
    detect_budget_exceeded: Counter
    rescan_retries: Counter
    rescan_late_changes: Counter
    #: per account/region CloudTrail freshness (cspm_cloudtrail_last_event_timestamp_seconds), bounded by its scope
    cloudtrail: CloudTrailFreshness
    #: labelled children of the per-record metrics, looked up once (``labels()`` takes a lock and hashes every call)
    _children: dict[tuple[str, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    def aws_call(self, service: str, operation: str, error_code: str | None = None) -> None:
        """Count one AWS API call and, if it failed, its error (and throttle)."""
        self.aws_calls.labels(service=service, operation=operation).inc()
        if error_code:
            self.aws_errors.labels(service=service, code=error_code).inc()
            if error_code in THROTTLE_CODES:
                self.aws_throttles.labels(service=service).inc()

    def set_lag(self, topic: str, lags: Mapping[int, int]) -> None:
        """Consumer lag per partition (end offset - committed/position) of one topic."""
        for partition, lag in lags.items():
            self.consumer_lag.labels(topic=topic, partition=str(partition)).set(max(0, lag))

    def full_scan_completed(self, account: str, region: str, finished_at_s: float) -> None:
        """A complete scan of (account, region) finished at ``finished_at_s`` (Unix seconds)."""
        self.last_full_scan.labels(account=account, region=region).set(finished_at_s)

    def on_batch(self, stage: str, done: Sequence[tuple[Any, Sequence[Any], float]]) -> None:
        """Runtime hook for a settled batch: ``(meta, emits, seconds the handler took)`` per record.

        ``meta`` is a :class:`~cspm_stream.stages.base.RecordMeta`, ``emits`` a list of
        :class:`~cspm_stream.stages.base.Emit` (logical topic names); counted once per batch.
        """
        ins: dict[str, int] = {}
        outs: dict[str, int] = {}
        for meta, emits, _started in done:
            ins[meta.topic] = ins.get(meta.topic, 0) + 1
            for e in emits:
                outs[e.topic] = outs.get(e.topic, 0) + 1
        self.evaluation_seconds.observe_many(stage, [seconds for _meta, _emits, seconds in done])
        for topic, n in ins.items():
            self._child(("in", topic, stage), lambda t=topic: self.events_in.labels(topic=t, stage=stage)).inc(n)
        for topic, n in outs.items():
            self._child(("out", topic), lambda t=topic: self.events_out.labels(topic=t)).inc(n)

    def _child(self, key: tuple[str, ...], make: Any) -> Any:
        c = self._children.get(key)
        if c is None:
            c = self._children[key] = make()
        return c

    def on_dead_letter(self, stage: str, topic: str) -> None:
        """Runtime hook: a record of ``topic`` went to the DLQ from ``stage``."""
        self.dlq.labels(stage=stage, topic=topic).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def create_metrics(namespace: str = "cspm") -> Metrics:
    """A fresh registry with every cspm_stream metric registered in it, plus the standard process,
    platform and garbage-collector metrics (``process_start_time_seconds`` — a restart changes it,
    what the restart alert watches —, ``process_resident_memory_bytes``, ``python_info``, ...)."""
    reg = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=reg)  # /proc of this process (Linux; elsewhere it exports nothing)
    PlatformCollector(registry=reg)
    GCCollector(registry=reg)
    # names this process as cspm-stream's (rules select its process_* series by it), whatever the scrape job
    Gauge("build_info", "cspm-stream version (always 1).", ("version",), namespace=namespace, registry=reg).labels(
        version=__version__
    ).set(1)

    def counter(name: str, doc: str, labels: tuple[str, ...]) -> Counter:
        return Counter(name, doc, labels, namespace=namespace, registry=reg)

    def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, labels, namespace=namespace, registry=reg)

    return Metrics(
        registry=reg,
        events_in=counter("events_in", "Records consumed, per topic and stage.", ("topic", "stage")),
        events_out=counter("events_out", "Records produced, per topic.", ("topic",)),
        consumer_lag=gauge("consumer_lag", "Records behind the end of the partition.", ("topic", "partition")),
        evaluation_seconds=StageHistogram(
            f"{namespace}_evaluation_seconds",
            "Time the stage's handler took on one record (policy evaluation, detection, ...), per stage.",
            EVAL_BUCKETS,
            reg,
        ),
        event_to_alert_seconds=Histogram(
            "event_to_alert_seconds",
            "From the source event's time (CloudTrail eventTime or snapshot time) to the alert being sent.",
            ("kind",),
            namespace=namespace,
            registry=reg,
            buckets=ALERT_BUCKETS,
        ),
        aws_calls=counter("aws_api_calls", "AWS API calls, per service and operation.", ("service", "operation")),
        aws_errors=counter("aws_api_errors", "Failed AWS API calls, per service and error code.", ("service", "code")),
        aws_throttles=counter("aws_api_throttles", "Throttled AWS API calls, per service.", ("service",)),
        dlq=counter(
            "dlq_records", "Records sent to the dead-letter topic, per stage and source topic.", ("stage", "topic")
        ),
        last_full_scan=gauge(
            "last_full_scan_timestamp_seconds",
            "Unix time the last complete scan of an account/region finished (freshness).",
            ("account", "region"),
        ),
        posture_score=gauge(
            "posture_score_percent",
            "Posture score (passed/(passed+failed) checks, percent) per framework and account; '' = all.",
            ("framework", "account"),
        ),
        report_checks=gauge(
            "report_checks",
            "Current checks (compliance findings) per framework, account and outcome; '' = all.",
            ("framework", "account", "outcome"),
        ),
        open_detections=gauge("open_detections", "Open threat detections per severity.", ("severity",)),
        mttr_seconds=gauge("mean_time_to_resolve_seconds", "Mean time to resolve failing checks."),
        report_time=gauge("report_timestamp_seconds", "Unix time of the report the gauges come from."),
        rule_matches=counter(
            "rule_matches",
            "Rule matches (correlations: fires), per rule id and status (live, shadow).",
            ("rule", "status"),
        ),
        detect_budget_exceeded=counter(
            "detect_budget_exceeded", "Records dead-lettered for overrunning detection.eval_budget_ms.", ()
        ),
        rescan_retries=counter(
            "rescan_retries",
            "Retry looks of event-triggered rescans, by outcome (changed, appeared, found, unchanged, missing, "
            "deleted, failed).",
            ("outcome",),
        ),
        rescan_late_changes=counter(
            "rescan_late_changes",
            "Changes a rescan's first look missed and a retry found (changed, appeared).",
            ("kind",),
        ),
        cloudtrail=CloudTrailFreshness(
            gauge(
                "cloudtrail_last_event_timestamp_seconds",
                "Unix time a CloudTrail record of this account/region was last written to the activity topic "
                "(arrival time, not eventTime); only configured (or discovered) accounts x regions.",
                ("account", "region"),
            ),
            counter(
                "cloudtrail_records_outside_scope",
                "CloudTrail records written to activity whose account (or region) is outside the configured "
                "scope: counted here, no per-account series.",
                ("reason",),
            ),
        ),
    )


def record_report(metrics: Metrics, report: Report, now_s: float) -> None:
    """Expose a report's numbers as gauges, replacing the previous report's series."""
    metrics.posture_score.clear()
    metrics.report_checks.clear()
    for s in report.scores:
        if s.score.value is not None:
            metrics.posture_score.labels(framework=s.framework, account=s.account).set(s.score.value)
        for outcome, n in (
            ("pass", s.score.passed),
            ("fail", s.score.failed),
            ("error", s.score.error),
            ("muted", s.score.muted),
        ):
            metrics.report_checks.labels(framework=s.framework, account=s.account, outcome=outcome).set(n)
    metrics.open_detections.clear()
    for sev, n in report.detections.open_by_severity.items():
        metrics.open_detections.labels(severity=sev).set(n)
    if report.mttr.mean_s is not None:
        metrics.mttr_seconds.set(report.mttr.mean_s)
    metrics.report_time.set(now_s)
