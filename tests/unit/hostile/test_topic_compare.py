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
