from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from cspm_stream.models.enums import FindingStatus, Severity
from cspm_stream.observability import create_metrics, record_report
from cspm_stream.report import build_report, collect
from cspm_stream.testing.findings import compliance_finding, detection_finding


def samples(m) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(m.exposition().decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_each_factory_call_has_its_own_registry() -> None:
    a, b = create_metrics(), create_metrics()  # would raise "Duplicated timeseries" with a global registry
    a.events_in.labels(topic="t", stage="s").inc()
    assert samples(a)[("cspm_events_in_total", (("stage", "s"), ("topic", "t")))] == 1
    assert ("cspm_events_in_total", (("stage", "s"), ("topic", "t"))) not in samples(b)


def test_aws_call_counts_errors_and_throttles() -> None:
    m = create_metrics()
    m.aws_call("s3", "ListBuckets")
    m.aws_call("s3", "GetBucketPolicy", "AccessDenied")
    m.aws_call("ec2", "DescribeInstances", "RequestLimitExceeded")
    s = samples(m)
    assert s[("cspm_aws_api_calls_total", (("operation", "ListBuckets"), ("service", "s3")))] == 1
    assert s[("cspm_aws_api_errors_total", (("code", "AccessDenied"), ("service", "s3")))] == 1
    assert s[("cspm_aws_api_throttles_total", (("service", "ec2"),))] == 1
    assert ("cspm_aws_api_throttles_total", (("service", "s3"),)) not in s


def test_lag_scan_histograms_and_dlq() -> None:
    m = create_metrics()
    m.set_lag("cspm.inventory", {0: 5, 1: -3})
    m.full_scan_completed("111111111111", "us-east-1", 1_700_000_000.0)
    m.evaluation_seconds.labels(stage="posture").observe(0.002)
    m.event_to_alert_seconds.labels(kind="detection").observe(3.0)
    m.dlq.labels(stage="posture", topic="cspm.inventory").inc(2)
    s = samples(m)
    assert s[("cspm_consumer_lag", (("partition", "0"), ("topic", "cspm.inventory")))] == 5
    assert s[("cspm_consumer_lag", (("partition", "1"), ("topic", "cspm.inventory")))] == 0
    key = ("cspm_last_full_scan_timestamp_seconds", (("account", "111111111111"), ("region", "us-east-1")))
    assert s[key] == 1_700_000_000.0
    assert s[("cspm_evaluation_seconds_bucket", (("le", "0.0025"), ("stage", "posture")))] == 1
    assert s[("cspm_evaluation_seconds_bucket", (("le", "0.001"), ("stage", "posture")))] == 0
    assert s[("cspm_event_to_alert_seconds_count", (("kind", "detection"),))] == 1
    assert s[("cspm_dlq_records_total", (("stage", "posture"), ("topic", "cspm.inventory")))] == 2


def test_report_numbers_become_gauges_and_old_series_go() -> None:
    m = create_metrics()
    world = [
        compliance_finding("p", "arn:1", state=FindingStatus.PASSED, account="111111111111", requirements=("cis:1",)),
        compliance_finding("p", "arn:2", state=FindingStatus.FAILING, account="111111111111", requirements=("cis:1",)),
        compliance_finding("q", "arn:3", state=FindingStatus.FAILING, account="222222222222"),
        detection_finding("r", "g", severity=Severity.CRITICAL),
    ]
    record_report(m, build_report(collect(world), [], now_ms=1_800_000_000_000), now_s=1_800_000_000.0)
    s = samples(m)
    assert s[("cspm_posture_score_percent", (("account", ""), ("framework", "")))] == 100 / 3
    assert s[("cspm_posture_score_percent", (("account", "111111111111"), ("framework", "cis")))] == 50.0
    assert s[("cspm_posture_score_percent", (("account", "222222222222"), ("framework", "")))] == 0.0
    # account 222 has no check in cis: no score series (None), but zero counts
    assert ("cspm_posture_score_percent", (("account", "222222222222"), ("framework", "cis"))) not in s
    assert s[("cspm_report_checks", (("account", ""), ("framework", ""), ("outcome", "fail")))] == 2
    assert s[("cspm_open_detections", (("severity", "Critical"),))] == 1
    assert s[("cspm_report_timestamp_seconds", ())] == 1_800_000_000.0
    # the next report has no account 222 at all: its series disappear
    record_report(m, build_report(collect(world[:2]), [], now_ms=1_800_000_000_000), now_s=1.0)
    s = samples(m)
    assert ("cspm_posture_score_percent", (("account", "222222222222"), ("framework", ""))) not in s


def test_runtime_hooks() -> None:
    from cspm_stream.stages.base import Emit, RecordMeta

    m = create_metrics()
    meta = RecordMeta(topic="cspm.inventory", partition=0, offset=1)
    m.on_batch("posture", [(meta, [Emit("findings", "k", b"{}"), Emit("findings", "k2", None)], 0.003)])
    m.on_dead_letter("posture", "cspm.inventory")
    s = samples(m)
    assert s[("cspm_events_in_total", (("stage", "posture"), ("topic", "cspm.inventory")))] == 1
    assert s[("cspm_events_out_total", (("topic", "findings"),))] == 2
    assert s[("cspm_evaluation_seconds_count", (("stage", "posture"),))] == 1
    assert s[("cspm_dlq_records_total", (("stage", "posture"), ("topic", "cspm.inventory")))] == 1


def test_stage_histogram_buckets_are_inclusive_and_cumulative() -> None:
    m = create_metrics()
    m.evaluation_seconds.observe_many("detect", [0.001, 0.001, 0.0011, 99.0])
    s = samples(m)
    assert s[("cspm_evaluation_seconds_bucket", (("le", "0.001"), ("stage", "detect")))] == 2  # le is inclusive
    assert s[("cspm_evaluation_seconds_bucket", (("le", "0.0025"), ("stage", "detect")))] == 3
    assert s[("cspm_evaluation_seconds_bucket", (("le", "+Inf"), ("stage", "detect")))] == 4
    assert s[("cspm_evaluation_seconds_count", (("stage", "detect"),))] == 4
    assert abs(s[("cspm_evaluation_seconds_sum", (("stage", "detect"),))] - 99.0031) < 1e-9
