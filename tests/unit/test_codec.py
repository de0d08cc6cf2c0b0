"""The codec on hostile bytes: every refusal is a DecodeError naming the field, nothing else escapes."""

from __future__ import annotations

import orjson
import pytest

from cspm_stream.errors import DecodeError
from cspm_stream.models import (
    ActivityRecord,
    ActivitySource,
    RemediationCommand,
    RemediationMode,
    ResourceDeleted,
    ResourceSnapshot,
    ScanJob,
    decode,
    decode_any,
    dumps,
    from_dict,
)
from cspm_stream.testing import cloudtrail_record

T0 = "2026-01-01T00:00:00.000Z"


def _activity() -> dict[str, object]:
    rec = cloudtrail_record("ListBuckets", "s3.amazonaws.com", event_id="e-1")
    return orjson.loads(dumps(ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, T0)))


def _reason(raw: bytes | str | None, model: type = ActivityRecord) -> str:
    with pytest.raises(DecodeError) as info:
        decode(raw, model)
    return info.value.reason


def test_round_trip_keeps_free_form_json_of_any_type() -> None:
    obj = _activity()
    obj["record"]["requestParameters"] = {"f": 1.5, "l": [None, True, {"x": []}], "s": "é\u2028"}  # type: ignore[index]
    act = decode(orjson.dumps(obj), ActivityRecord)
    assert act.record["requestParameters"]["l"] == [None, True, {"x": []}] and act.source is ActivitySource.FILE
    assert decode(dumps(act), ActivityRecord) == act


def test_integers_beyond_64_bits_decode_and_are_written_as_floats() -> None:
    raw = orjson.dumps(_activity()).replace(b'"record":{', b'"record":{"big":123456789012345678901234567890,', 1)
    act = decode(raw, ActivityRecord)
    assert act.record["big"] == 123456789012345678901234567890
    assert orjson.loads(dumps(act))["record"]["big"] == 1.2345678901234568e29  # what orjson itself reads


def test_schema_is_found_wherever_it_is_and_checked() -> None:
    obj = _activity()
    moved = {k: v for k, v in obj.items() if k != "schema"} | {"schema": "activity.v1"}  # last, not first
    assert decode(orjson.dumps(moved), ActivityRecord).event_id == "e-1"
    spaced = orjson.dumps(obj).replace(b'{"schema":', b'{ "schema" : ', 1)
    assert decode(spaced, ActivityRecord).event_id == "e-1"
    assert "wrong schema 'inventory.v1'" in _reason(orjson.dumps(obj | {"schema": "inventory.v1"}))
    assert "wrong schema None" in _reason(orjson.dumps({k: v for k, v in obj.items() if k != "schema"}))
    # a prefix that only looks like ours is parsed properly
    assert "wrong schema 'activity.v1x'" in _reason(orjson.dumps(obj | {"schema": "activity.v1x"}))
    assert "schema: expected a string or null, got int" in _reason(orjson.dumps(obj | {"schema": 7}))


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("event_id", 12, "event_id: expected a string, got int"),
        ("event_id", ["a"], "event_id: expected a string, got array"),
        ("event_id", None, "event_id: expected a string, got null"),
        ("record", [], "record: expected an object, got array"),
        ("record", "x", "record: expected an object, got str"),
        ("source", "nope", "source: 'nope' is not one of"),
        ("source", {"a": 1}, "source: expected a string, got object"),
    ],
)
def test_wrong_types_name_the_field(field: str, value: object, why: str) -> None:
    assert why in _reason(orjson.dumps(_activity() | {field: value}))


def test_booleans_are_not_numbers_and_strings_are_not_booleans() -> None:
    job = orjson.loads(dumps(ScanJob("j", "s", "123456789012", "us-east-1", "s3", T0)))
    assert "full: expected true/false, got str" in _reason(orjson.dumps(job | {"full": "true"}), ScanJob)
    cmd = RemediationCommand("c", "a", RemediationMode.DRY_RUN, "1", "r", "arn", "t", "i", "f", T0)
    assert "mode: 'yolo' is not one of off, dry-run" in _reason(
        orjson.dumps(orjson.loads(dumps(cmd)) | {"mode": "yolo"}), RemediationCommand
    )


def test_nested_and_missing_fields_are_located() -> None:
    snap = {
        "schema": "inventory.v1",
        "arn": "a",
        "resource_type": "t",
        "resource_id": "i",
        "account_id": "a",
        "region": "r",
        "observed_at": T0,
        "scan_id": "s",
        "attributes": {},
    }
    assert decode(orjson.dumps(snap), ResourceSnapshot).content_hash  # __post_init__ ran
    bad = snap | {"errors": [{"attribute": "x", "code": "c", "message": "m"}, {"attribute": "y", "code": 3}]}
    assert "errors[1].code: expected a string, got int" in _reason(orjson.dumps(bad), ResourceSnapshot)
    bad = snap | {"errors": [{"attribute": "x"}]}
    assert "missing required field 'errors[0].code'" in _reason(orjson.dumps(bad), ResourceSnapshot)
    assert "missing required field 'scan_id'" in _reason(
        orjson.dumps({k: v for k, v in snap.items() if k != "scan_id"}), ResourceSnapshot
    )
    assert "tags[...]: expected a string, got int" in _reason(orjson.dumps(snap | {"tags": {"k": 1}}), ResourceSnapshot)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"schema":"activity.v1","event_id":"\xff\xfe"}', "not valid JSON"),
        (b'{"schema":"activity.v1",', "not valid JSON"),
        (b'{"schema":"activity.v1","record":{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}}", "nested too deeply"),
        (b'{"schema":"activity.v1","record":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "record: expected an object"),
        (b"[" * 100_000 + b"]" * 100_000, "value: expected an object, got array"),
        (b'"just a string"', "expected an object, got str"),
        (b"NaN", "not valid JSON"),
        (b"", "empty value"),
        (None, "empty value"),
        ("{}", "wrong schema None"),
        (memoryview(b'{"x":1}'), "wrong schema None"),
    ],
)
def test_hostile_bytes_are_decode_errors(raw: bytes | str | None, why: str) -> None:
    assert why in _reason(raw)


def test_oversize_values_are_refused_before_parsing() -> None:
    huge = b'{"schema":"activity.v1","pad":"' + b"a" * (5 * 1024 * 1024) + b'"}'
    assert "value too large" in _reason(huge)


def test_decode_any_and_from_dict() -> None:
    deleted = ResourceDeleted("arn:x", "aws.s3.bucket", "1", "r", T0, "s")
    assert decode_any(dumps(deleted), (ResourceSnapshot, ResourceDeleted)) == deleted
    moved = orjson.loads(dumps(deleted))
    moved = {k: v for k, v in moved.items() if k != "schema"} | {"schema": "inventory-deleted.v1"}
    assert decode_any(orjson.dumps(moved), (ResourceSnapshot, ResourceDeleted)) == deleted
    with pytest.raises(DecodeError, match="not accepted here"):
        decode_any(dumps(ScanJob("j", "s", "1", "r", "s3", T0)), (ResourceSnapshot, ResourceDeleted))
    cmd = RemediationCommand("c", "a", RemediationMode.DRY_RUN, "1", "r", "arn", "t", "i", "f", T0)
    as_dict = orjson.loads(dumps(cmd))
    assert from_dict(as_dict, RemediationCommand) == cmd
    with pytest.raises(DecodeError, match="mode: 'nope' is not one of"):
        from_dict(as_dict | {"mode": "nope"}, RemediationCommand)
    with pytest.raises(DecodeError, match="wrong schema"):
        from_dict(as_dict | {"schema": "x"}, RemediationCommand)
