"""What ``topics create`` demands of an existing topic (pure comparison against the table)."""

from __future__ import annotations

from cspm_stream.topic_admin import compare
from cspm_stream.topics import BY_NAME

GOOD_DELETE = {"cleanup.policy": "delete", "retention.ms": str(30 * 86_400_000), "max.message.bytes": str(4 * 1024**2)}


def test_a_matching_topic_is_ok() -> None:
    c = compare(BY_NAME["detections"], 3, 1, GOOD_DELETE, 3, 1)
    assert c.problems == [] and c.config_fixes == {} and c.grow_to is None


def test_longer_retention_and_bigger_limits_are_fine() -> None:
    roomy = GOOD_DELETE | {"retention.ms": "-1", "max.message.bytes": str(64 * 1024**2)}
    assert compare(BY_NAME["detections"], 3, 1, roomy, 3, 3).problems == []


def test_too_small_records_short_retention_and_wrong_policy_are_fixable() -> None:
    bad = {"cleanup.policy": "compact", "retention.ms": "3600000", "max.message.bytes": "1048588"}
    c = compare(BY_NAME["detections"], 3, 1, bad, 3, 1)
    assert c.config_fixes == {
        "cleanup.policy": "delete",
        "retention.ms": str(30 * 86_400_000),
        "max.message.bytes": str(4 * 1024**2),
    }
    assert any("a detection with detection.max_evidence evidences" in p for p in c.problems)
    assert c.unfixable == []


def test_compacted_topics_ignore_retention_but_not_policy() -> None:
    c = compare(
        BY_NAME["findings"],
        3,
        1,
        {"cleanup.policy": "delete", "retention.ms": "1", "max.message.bytes": str(4 * 1024**2)},
        3,
        1,
    )
    assert c.config_fixes == {"cleanup.policy": "compact"}


def test_partitions_grow_but_never_shrink_and_replication_is_reported() -> None:
    grow = compare(BY_NAME["activity"], 6, 1, GOOD_DELETE | {"retention.ms": str(7 * 86_400_000)}, 3, 1)
    assert grow.grow_to == 6 and grow.unfixable == []
    shrink = compare(BY_NAME["activity"], 2, 1, GOOD_DELETE, 3, 1)
    assert shrink.grow_to is None and "cannot shrink" in shrink.unfixable[0]
    rf = compare(BY_NAME["activity"], 3, 3, GOOD_DELETE, 3, 1)
    assert "replication factor=1, expected >= 3" in rf.problems and "reassignment" in rf.unfixable[0]


def test_unreadable_config_values_are_problems_not_crashes() -> None:
    c = compare(BY_NAME["detections"], 3, 1, {"max.message.bytes": "lots"}, 3, 1)
    assert set(c.config_fixes) == {"cleanup.policy", "retention.ms", "max.message.bytes"}


def test_a_full_detection_fits_the_detections_topic() -> None:
    """The largest detection the engine emits with realistic CloudTrail sizes (max_evidence evidences, a
    long session context and user agent) stays within the detections topic's max.message.bytes, with room."""
    import orjson

    from cspm_stream.detect.engine import DetectionEngine, EngineConfig
    from cspm_stream.settings import DetectionSettings
    from cspm_stream.timeutil import ms_to_iso
    from tests.unit.detect.helpers import ev, rule

    engine = DetectionEngine(
        rule("sel:\n    userIdentity.type: Root\ncondition: sel\n", title="Root activity"),
        EngineConfig(max_evidence=DetectionSettings().max_evidence, update_interval_s=0),
    )
    state: dict[str, object] = {}
    biggest = 0
    for i in range(DetectionSettings().max_evidence + 20):
        rec = ev("X" * 128, "s" * 60 + ".amazonaws.com", user_type="Root", event_time=ms_to_iso(1767225600000 + i))
        rec["eventID"] = f"{i:08d}-0000-4000-8000-000000000000"
        rec["userAgent"] = "u" * 1024
        rec["userIdentity"]["sessionContext"] = {"attributes": {"tag" + str(k): "v" * 200 for k in range(25)}}
        for f in engine.process(rec, state).findings:
            biggest = max(biggest, len(orjson.dumps(f)))
    assert 0 < biggest * 4 < BY_NAME["detections"].max_message_bytes, biggest  # measured: ~99 KB
