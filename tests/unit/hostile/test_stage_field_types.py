"""Fields of the right JSON shape but the wrong type or range, on the stages other than detect.

Each record here used to end one of three wrong ways: accepted as something else (``"severity_id":
true`` read as severity 1 by every stage reading OCSF findings; ``"expires_at": "tomorrow"``
turned into a remediation result), or dead-lettered with a reason naming no field (a bare
``ValueError: year 31690708 is out of range`` when a new finding's ``time`` became a remediation
command's ``requested_at``; ``Invalid isoformat string`` from the remediator), or a detection lost
outright (``TypeError: 'int' object is not iterable`` from a response playbook reading
``"resources": 5``, ``ValueError`` from one binding a ``first_seen_time`` past year 9999). Now
each is refused naming the field (the dead letter keeps the original bytes, a key that is not
UTF-8 included), or read as absent where the alert side reads it so, and the next good record
of the same handler goes through.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from cspm_stream.app import role_context
from cspm_stream.errors import DecodeError
from cspm_stream.external import stage as external
from cspm_stream.models import RemediationCommand, RemediationMode, dumps
from cspm_stream.settings import Settings, load
from cspm_stream.stages import alerts, context_router, remediate
from cspm_stream.stages.base import Handler, RecordMeta
from cspm_stream.stages.guard import TrackedState, dead_letter
from cspm_stream.testing.findings import compliance_finding, detection_finding

FAR = 10**18  # epoch milliseconds in the year 31,690,708: an integer, but no datetime holds it
QUARANTINE_RULE = "6b483e1e-1b35-42bd-9eca-f8f34bab86f9"  # playbook quarantine_access_key_..., binds first_seen
BUCKET_RULE = "e9b6c97d-c2b2-4c09-bde1-d6977dfc5ac7"  # playbook block_bucket_made_public, reads resources


def _settings(**data: Any) -> Settings:
    return load(data=data, environ={})


def _handler(build: Callable[..., Any], settings: Settings) -> Handler:
    return build(role_context(settings, environ={})).handler  # type: ignore[no-any-return]


async def _run(h: Handler, topic: str, value: bytes | None, key: bytes | None = b"k") -> list[Any]:
    return await h.handle(key, value, RecordMeta(topic, 0, 0), TrackedState({}))


@pytest.mark.parametrize(
    ("build", "topic", "make"),
    [
        (alerts.build_stage, "findings", compliance_finding),
        (alerts.build_stage, "detections", detection_finding),
        (context_router.build_stage, "findings", compliance_finding),
        (external.build_stage, "detections", detection_finding),
    ],
    ids=["alerts-findings", "alerts-detections", "context-router-findings", "external-detections"],
)
async def test_severity_id_true_is_refused(
    build: Callable[..., Any], topic: str, make: Callable[[], dict[str, Any]]
) -> None:
    s = _settings()
    h = _handler(build, s)
    wire = s.kafka.topic(topic)
    with pytest.raises(DecodeError, match=r"severity_id True out of range"):
        await _run(h, wire, dumps(dict(make(), severity_id=True)))
    await _run(h, wire, dumps(make()))  # the next good one goes through


async def test_a_finding_time_no_datetime_holds_is_refused_naming_time() -> None:
    h = _handler(alerts.build_stage, _settings(remediation={"default_mode": "dry-run"}))
    bad = dumps(compliance_finding(time_ms=FAR))
    with pytest.raises(DecodeError, match=r"^time 1000000000000000000 must be epoch milliseconds"):
        await _run(h, "findings", bad)
    with pytest.raises(DecodeError, match=r"^time -1000000000000000000 "):
        await _run(h, "findings", dumps(compliance_finding(time_ms=-FAR)))
    out = await _run(h, "findings", dumps(compliance_finding()))
    assert [e.topic for e in out].count("remediation") == 1


async def test_playbook_inputs_of_the_wrong_type_or_range_read_as_absent() -> None:
    h = _handler(alerts.build_stage, _settings(remediation={"default_mode": "dry-run"}))
    good = detection_finding(rule_id=QUARANTINE_RULE, group_key="arn:aws:iam::123456789012:user/alice")
    good["unmapped"]["rule_id"] = QUARANTINE_RULE
    assert "remediation" in [e.topic for e in await _run(h, "detections", dumps(good))]
    for first in (FAR, -FAR, True):
        odd = copy.deepcopy(good)
        odd["finding_info"]["uid"] += str(first)
        odd["finding_info"]["first_seen_time"] = first
        out = await _run(h, "detections", dumps(odd))  # the alert still goes out; no command without the time
        assert [e.topic for e in out] == ["alerts"], first
    bucket = detection_finding(rule_id=BUCKET_RULE, group_key="arn:aws:s3:::b", resource_type="aws.s3.bucket")
    bucket["unmapped"]["rule_id"] = BUCKET_RULE
    assert "remediation" in [e.topic for e in await _run(h, "detections", dumps(bucket))]
    for resources in (5, True, "arn:aws:s3:::b", {"uid": "arn:aws:s3:::b"}):
        odd = dict(copy.deepcopy(bucket), resources=resources)
        odd["finding_info"]["uid"] += repr(resources)
        assert [e.topic for e in await _run(h, "detections", dumps(odd))] == ["alerts"], resources


def _command(expires_at: str | None) -> bytes:
    return dumps(
        RemediationCommand(
            "c",
            "s3_block_public_access",
            RemediationMode.DRY_RUN,
            "123456789012",
            "us-east-1",
            "arn:aws:s3:::b",
            "aws.s3.bucket",
            "b",
            "f",
            "2026-01-01T00:00:00.000Z",
            expires_at=expires_at,
        )
    )


@pytest.mark.parametrize("expires_at", ["tomorrow", "2026-13-01T00:00:00Z", "\x00"])
async def test_a_command_expiry_that_is_no_time_is_refused_naming_it(expires_at: str) -> None:
    s = _settings()  # remediation off: the old code blocked the command before ever reading the expiry
    h = _handler(remediate.build_stage, s)
    bad, key = _command(expires_at), b"\xff\xfe-not-utf8"
    with pytest.raises(DecodeError, match=r"^expires_at .* is not an ISO 8601 time") as info:
        await _run(h, s.kafka.topic("remediation"), bad, key)
    reason, letter, _ = dead_letter(
        "remediate", info.value, topic="t", partition=0, offset=0, key=key, value=bad, headers={}
    )
    assert reason.startswith("DecodeError: expires_at")
    assert base64.b64decode(orjson.loads(letter)["original_b64"]) == bad
    out = await _run(h, s.kafka.topic("remediation"), _command("2099-01-01T00:00:00Z"))
    assert [e.topic for e in out] == ["remediation-results"]


def test_asff_reads_a_first_seen_time_no_datetime_holds_as_absent() -> None:
    from cspm_stream.delivery.asff import to_asff
    from cspm_stream.delivery.model import alert_from_bytes

    odd = compliance_finding(time_ms=1_767_225_600_000)
    odd["finding_info"].update(first_seen_time=FAR, last_seen_time=-FAR)
    doc = to_asff(alert_from_bytes(dumps(odd)))  # ValueError at delivery before
    assert doc["CreatedAt"] == doc["UpdatedAt"] == "2026-01-01T00:00:00.000Z"


async def test_an_inventory_tombstone_whose_key_is_not_utf8_is_refused_by_context_router() -> None:
    s = _settings()
    h = _handler(context_router.build_stage, s)
    wire = s.kafka.topic("inventory")
    with pytest.raises(DecodeError, match="tombstone key is not UTF-8"):  # was routed as user/\ufffd
        await _run(h, wire, None, b"arn:aws:iam::123456789012:user/\xff")
    (out,) = await _run(h, wire, None, b"arn:aws:iam::123456789012:user/a")
    assert b'"deleted"' in (out.value or b"")
