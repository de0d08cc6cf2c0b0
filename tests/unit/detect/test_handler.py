"""The detect pipeline handler: activity records in, detections and rescan requests out."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cspm_stream.detect.engine import DetectionEngine
from cspm_stream.detect.rescan import load_map
from cspm_stream.errors import DecodeError
from cspm_stream.models import ActivityRecord, ActivitySource, dumps
from cspm_stream.settings import load
from cspm_stream.stages.base import RecordMeta
from cspm_stream.stages.detect import DetectHandler, build_detect_handler
from tests.unit.detect.helpers import ev, rule

META = RecordMeta(topic="cspm.activity", partition=2, offset=7)
PUBLIC_ACL = rule(
    """
    sel:
        eventName: PutBucketAcl
        requestParameters.AccessControlPolicy.AccessControlList.Grant.Grantee.URI|endswith: /AllUsers
    condition: sel
""",
    title="Bucket made public",
)


def activity(rec: dict[str, Any]) -> bytes:
    return dumps(ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, "2026-01-01T00:00:05.000Z"))


def handler() -> DetectHandler:
    return DetectHandler(DetectionEngine(PUBLIC_ACL, rescan_map=load_map()), clock=lambda: "2026-01-01T00:00:06.000Z")


def public_acl() -> dict[str, Any]:
    grant = {"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}
    return ev(
        "PutBucketAcl",
        "s3.amazonaws.com",
        request_parameters={"bucketName": "data", "AccessControlPolicy": {"AccessControlList": {"Grant": [grant]}}},
    )


async def test_emits_detection_and_rescan() -> None:
    h = handler()
    state: dict[str, Any] = {}
    emits = await h.handle(b"k", activity(public_acl()), META, state)
    det = [e for e in emits if e.topic == "detections"]
    resc = [e for e in emits if e.topic == "rescan"]
    assert len(det) == 1 and len(resc) == 1
    f = orjson.loads(det[0].value or b"")
    assert det[0].key == f["finding_info"]["uid"]
    assert det[0].headers["schema"] == "ocsf.detection_finding.v1"
    assert f["resources"] == [{"uid": "arn:aws:s3:::data", "type": "aws.s3.bucket"}]
    req = orjson.loads(resc[0].value or b"")
    assert resc[0].key == "arn:aws:s3:::data"
    assert req["schema"] == "rescan.v1" and req["resource_type"] == "aws.s3.bucket"
    assert req["requested_at"] == "2026-01-01T00:00:06.000Z" and req["reason"] == "cloudtrail:PutBucketAcl"
    assert any(k.startswith("wm|2") for k in state)  # partition-scoped state


async def test_redelivered_record_emits_nothing() -> None:
    h = handler()
    state: dict[str, Any] = {}
    value = activity(public_acl())
    assert await h.handle(b"k", value, META, state)
    assert await h.handle(b"k", value, META, state) == []


async def test_rescan_only_for_benign_mutations() -> None:
    rec = ev("PutBucketAcl", "s3.amazonaws.com", request_parameters={"bucketName": "data"})
    emits = await handler().handle(b"k", activity(rec), META, {})
    assert [e.topic for e in emits] == ["rescan"]


@pytest.mark.parametrize(
    "value",
    [None, b"not json", b'{"schema": "inventory.v1"}', dumps({"schema": "activity.v1", "event_id": "x"})],
)
async def test_bad_input_raises_decode_error(value: bytes | None) -> None:
    with pytest.raises(DecodeError):
        await handler().handle(b"k", value, META, {})


async def test_bad_event_time_and_mismatched_id_raise_decode_error() -> None:
    act = orjson.loads(activity(public_acl()))
    act["event_time"] = "yesterday"
    with pytest.raises(DecodeError, match="event_time"):
        await handler().handle(b"k", orjson.dumps(act), META, {})
    act = orjson.loads(activity(public_acl()))
    act["event_id"] = "other"
    with pytest.raises(DecodeError, match="eventID"):
        await handler().handle(b"k", orjson.dumps(act), META, {})


def test_factory_builds_from_settings(tmp_path: Any) -> None:
    h = build_detect_handler(load(environ={}, data={"detection": {"rules_dirs": [str(tmp_path)]}}))
    assert h.name == "detect" and h.inputs == ("activity",)
    assert h.engine.rescan_map is not None and len(h.engine.rescan_map) > 100


async def test_engine_keeps_its_assigns_changes_promise() -> None:
    """The runtimes skip read snapshots for the detect stage: no value may change without a re-assignment.

    Built-in rules and correlations over an attack-heavy mix with short windows and frequent
    updates, so detections open, repeat, publish, close and get swept.
    """
    from bench.detect.mix import generate
    from cspm_stream.stages.guard import TrackedState

    settings = load(data={"detection": {"update_interval_s": 1, "dedup_window_s": 60}}, environ={})
    handler = build_detect_handler(settings)
    assert handler.assigns_changes
    table: dict[str, Any] = {}
    batch = TrackedState(table, track_reads=False)
    recs = generate(6000, seed=5, rate_per_s=20.0, malicious_share=0.3)
    emitted = 0
    for i, rec in enumerate(recs):
        act = ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, rec["eventTime"])
        view = TrackedState(batch)  # tracking on: it sees what an in-place change would be
        emitted += len(await handler.handle(act.principal.encode(), dumps(act), RecordMeta("a", i % 3, i), view))
        assert view.mutated_in_place() == [], f"record {i} ({rec['eventName']}) mutated state in place"
        view.commit()
        if i % 50 == 49:
            batch.commit()
    assert emitted > 100 and any(k.startswith("det|") for k in table)
