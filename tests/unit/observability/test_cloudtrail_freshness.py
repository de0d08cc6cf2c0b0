"""Per account/region CloudTrail freshness: a gauge only for accounts x regions in scope, the rest counted."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from cspm_stream.models.enums import ActivitySource
from cspm_stream.observability.cloudtrail_freshness import known_regions, record_headers
from cspm_stream.observability.metrics import Metrics, create_metrics
from cspm_stream.sources.emits import count_produced, emits_for_items
from cspm_stream.testing import cloudtrail_record

GAUGE = "cspm_cloudtrail_last_event_timestamp_seconds"
OUTSIDE = "cspm_cloudtrail_records_outside_scope"
A, B, FOREIGN = "111122223333", "444455556666", "999988887777"


def samples(m: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    out = {}
    for fam in text_string_to_metric_families(m.exposition().decode()):
        if fam.name == name:
            for s in fam.samples:
                if not s.name.endswith("_created"):
                    out[tuple(sorted(s.labels.items()))] = s.value
    return out


def produce(m: Metrics, recs: list[dict[str, object]], at_s: float) -> None:
    emits = emits_for_items(recs, source=ActivitySource.S3_SQS, stage="t", received_at="2026-01-01T00:00:00.000Z")
    count_produced(m, "t", "q", emits, at_s=at_s)


def test_only_pairs_in_scope_get_a_series_and_the_rest_is_counted() -> None:
    m = create_metrics()
    m.cloudtrail.scope([A, B], ["us-east-1", "eu-west-1"])
    produce(
        m,
        [
            cloudtrail_record("GetObject", "s3.amazonaws.com", account_id=A, region="us-east-1"),
            cloudtrail_record("GetObject", "s3.amazonaws.com", account_id=B, region="eu-west-1"),
            cloudtrail_record("GetObject", "s3.amazonaws.com", account_id=FOREIGN, region="us-east-1"),  # org trail
            cloudtrail_record("GetObject", "s3.amazonaws.com", account_id=A, region="ap-south-1"),  # region not scanned
        ],
        at_s=1000.0,
    )
    assert samples(m, GAUGE) == {
        (("account", A), ("region", "us-east-1")): 1000.0,
        (("account", B), ("region", "eu-west-1")): 1000.0,
    }
    assert samples(m, OUTSIDE) == {(("reason", "account"),): 1.0, (("reason", "region"),): 1.0}


def test_the_gauge_only_moves_forward() -> None:
    m = create_metrics()
    m.cloudtrail.scope([A], ["us-east-1"])
    rec = cloudtrail_record("GetObject", "s3.amazonaws.com", account_id=A)
    produce(m, [rec], at_s=2000.0)
    produce(m, [rec], at_s=1500.0)  # an out-of-order acknowledgement (another source's batch)
    assert samples(m, GAUGE) == {(("account", A), ("region", "us-east-1")): 2000.0}
    produce(m, [rec], at_s=2500.0)
    assert samples(m, GAUGE) == {(("account", A), ("region", "us-east-1")): 2500.0}


def test_forged_accounts_and_regions_never_create_series() -> None:
    m = create_metrics()
    m.cloudtrail.scope([A], ["us-east-1"])
    hostile: list[dict[str, object]] = []
    for i in range(500):
        r = cloudtrail_record("GetObject", "s3.amazonaws.com", account_id=f"{i:012d}", region=f"xx-evil-{i}")
        hostile.append(r)
    # (a number reads as its text, as everywhere: 111122223333 would be A)
    for weird in (["111122223333"], {"a": 1}, 1.5e11, "1" * 1_000_000, None, A + " ", True):
        r = cloudtrail_record("GetObject", "s3.amazonaws.com")
        r["recipientAccountId"] = weird
        r["userIdentity"] = {"type": "IAMUser", "accountId": weird}
        hostile.append(r)
    produce(m, hostile, at_s=10.0)
    assert samples(m, GAUGE) == {}
    assert samples(m, OUTSIDE) == {(("reason", "account"),): float(len(hostile))}


def test_nothing_is_in_scope_until_the_sources_set_it() -> None:
    m = create_metrics()
    produce(m, [cloudtrail_record("GetObject", "s3.amazonaws.com", account_id=A)], at_s=10.0)
    assert samples(m, GAUGE) == {}
    assert samples(m, OUTSIDE) == {(("reason", "account"),): 1.0}


def test_activity_headers_carry_only_well_formed_values() -> None:
    assert record_headers(A, "us-east-1") == {"account": A, "region": "us-east-1"}
    assert record_headers(A, "eusc-de-east-1") == {"account": A, "region": "eusc-de-east-1"}
    assert record_headers("12345678901", "us-east-1") == {"region": "us-east-1"}
    assert record_headers("x" * 10**6, "y" * 10**6) == {}
    assert record_headers(["111122223333"], {"r": 1}) == {}
    assert record_headers(A, "us-east-1\n") == {"account": A}
    emits = emits_for_items(
        [cloudtrail_record("GetObject", "s3.amazonaws.com", account_id=A, region="eu-west-1")],
        source=ActivitySource.S3_SQS,
        stage="t",
        received_at="2026-01-01T00:00:00.000Z",
    )
    assert emits[0].headers["account"] == A and emits[0].headers["region"] == "eu-west-1"
    assert emits[0].headers["schema"] == "activity.v1"


def test_known_regions_cover_every_partition_and_stay_small() -> None:
    regions = known_regions()
    assert {"us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"} <= regions
    assert 20 < len(regions) < 200
    m = create_metrics()
    m.cloudtrail.scope([A], regions)
    assert m.cloudtrail.regions == regions  # every botocore region passes the scope's own format check
