"""The threat join: GuardDuty findings and our detections of the same activity are one alert."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.delivery.model import alert_from_bytes
from cspm_stream.errors import DecodeError
from cspm_stream.external.guardduty import from_guardduty
from cspm_stream.external.mapping import Equivalents
from cspm_stream.external.model import ExternalFinding, OurDetection
from cspm_stream.external.ocsf import external_uid
from cspm_stream.external.threats import NOTE_TOPIC, ExternalHandler, ThreatJoin
from cspm_stream.models import ActivityRecord, ActivitySource, decode, dumps
from cspm_stream.stages.base import Emit, RecordMeta
from cspm_stream.stages.detect import build_detect_handler
from cspm_stream.testing.factories import cloudtrail_record
from cspm_stream.testing.ocsf_models import ocsf_errors
from cspm_stream.testing.recorded import load_exchanges
from cspm_stream.timeutil import to_ms

DATA = Path(__file__).resolve().parents[2] / "data" / "recorded" / "external"
EVENT_TIME = "2026-11-28T16:21:00Z"
T = to_ms(EVENT_TIME)
HOLD_S = 300


def _gd_raw() -> list[dict[str, Any]]:
    for ex in load_exchanges(DATA / "guardduty.json"):
        if ex.operation == "GetFindings":
            return [dict(f) for f in (ex.response or {})["Findings"]]
    raise AssertionError


def gd(eq: Equivalents, i: int = 0, **changes: Any) -> ExternalFinding:
    raw = copy.deepcopy(_gd_raw()[i])
    raw.update(changes)
    return from_guardduty(raw, eq=eq)


@pytest.fixture(scope="module")
def detect() -> Any:
    return build_detect_handler(settings_mod.load(data={}, environ={}), clock=lambda: "2026-11-28T16:21:05.000Z")


async def ours(detect: Any, event_name: str, source: str, user: str, when: str = EVENT_TIME) -> list[dict[str, Any]]:
    """Our detections of one CloudTrail record, from the real detection stage, of the rules some
    GuardDuty type is the same issue as (others, e.g. the CIS trail-change rule, are left out)."""
    rec = cloudtrail_record(
        event_name, source, user_arn=user, event_time=when, request_parameters={"name": "org-trail"}
    )
    act = ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, "2026-11-28T16:21:01.000Z")
    emits = await detect.handle(None, dumps(act), RecordMeta("activity", 0, 0), {})
    found = [orjson.loads(e.value) for e in emits if e.topic == "detections" and e.value is not None]
    return [f for f in found if f["unmapped"]["rule_id"] in MAPPED] or found


def note(finding: dict[str, Any], join: ThreatJoin) -> OurDetection:
    from cspm_stream.external.threats import note_of

    n = note_of(finding, join.mapped)
    assert n is not None
    return n


def join_of(eq: Equivalents, hold_s: float = HOLD_S) -> ThreatJoin:
    return ThreatJoin(eq, window_s=3600, hold_s=hold_s, retention_s=7200)


def only(emits: list[Emit]) -> dict[str, Any]:
    assert len(emits) == 1, emits
    assert emits[0].topic == "detections" and emits[0].value is not None
    f: dict[str, Any] = orjson.loads(emits[0].value)
    assert ocsf_errors(f) == []
    assert emits[0].key == f["finding_info"]["uid"]
    return f


MALLORY = "arn:aws:iam::123456789012:user/mallory"
MAPPED: set[str] = set()


@pytest.fixture(autouse=True)
def _mapped(eq: Equivalents) -> None:
    MAPPED.update(eq.mapped_rules())


async def test_ours_first_then_guardduty_is_an_update_of_our_detection(eq: Equivalents, detect: Any) -> None:
    join = join_of(eq)
    (mine,) = await ours(detect, "StopLogging", "cloudtrail.amazonaws.com", MALLORY)
    state: dict[str, Any] = {}
    assert join.on_ours(note(mine, join), state, T) == []
    f = only(join.on_external(gd(eq), state, T + 240_000))
    assert f["finding_info"]["uid"] == mine["finding_info"]["uid"]
    assert f["activity_id"] == 2
    assert [s["product"] for s in f["unmapped"]["sources"]] == ["cspm_stream", "Amazon GuardDuty"]
    assert f["unmapped"]["sources"][1]["uid"].endswith("/finding/a2c6f6e1d5e4b3a2c1d0e9f8a7b6c5d4")
    assert f["finding_info"]["related_events"][0]["uid"] == f["unmapped"]["sources"][1]["uid"]
    assert f["finding_info"]["analytic"]["uid"] == mine["finding_info"]["analytic"]["uid"]
    assert f["actor"]["user"]["name"] == "mallory"
    assert alert_from_bytes(dumps(f)).state == "updated"  # never a second "new" alert
    # the same GuardDuty version again (from Security Hub, or a replay): nothing
    assert join.on_external(gd(eq), state, T + 250_000) == []


async def test_guardduty_first_is_held_and_joins_ours_when_it_arrives(eq: Equivalents, detect: Any) -> None:
    join = join_of(eq)
    state: dict[str, Any] = {}
    assert join.on_external(gd(eq), state, T + 60_000) == []  # held
    assert join.due(state, T + 60_000 + 10_000) == []
    (mine,) = await ours(detect, "StopLogging", "cloudtrail.amazonaws.com", MALLORY)
    f = only(join.on_ours(note(mine, join), state, T + 120_000))
    assert f["finding_info"]["uid"] == mine["finding_info"]["uid"]
    assert f["activity_id"] == 2
    # the hold ends: the finding was joined, nothing is emitted alone
    assert join.due(state, T + 60_000 + HOLD_S * 1000 + 1) == []


async def test_guardduty_alone_is_emitted_when_the_hold_ends(eq: Equivalents) -> None:
    join = join_of(eq)
    state: dict[str, Any] = {}
    ext = gd(eq)
    assert join.on_external(ext, state, T) == []
    assert join.due(state, T + HOLD_S * 1000 - 1) == []
    f = only(join.due(state, T + HOLD_S * 1000))
    assert f["finding_info"]["uid"] == external_uid(ext)
    assert f["activity_id"] == 1
    assert f["metadata"]["product"]["name"] == "Amazon GuardDuty"
    assert f["unmapped"]["rule_id"] == "guardduty:Stealth:IAMUser/CloudTrailLoggingDisabled"
    assert [s["product"] for s in f["unmapped"]["sources"]] == ["Amazon GuardDuty"]
    assert alert_from_bytes(dumps(f)).state == "new"
    assert join.due(state, T + HOLD_S * 2000) == []  # once


async def test_near_misses_do_not_join(eq: Equivalents, detect: Any) -> None:
    join = join_of(eq)
    # another principal did the same thing
    (alice,) = await ours(detect, "StopLogging", "cloudtrail.amazonaws.com", "arn:aws:iam::123456789012:user/alice")
    # the same principal, but an activity GuardDuty's type is not about
    others = await ours(detect, "DeleteBucketPolicy", "s3.amazonaws.com", MALLORY)
    # the same principal and rule, but outside the join window
    (old,) = await ours(detect, "StopLogging", "cloudtrail.amazonaws.com", MALLORY, when="2026-11-28T12:00:00Z")
    state: dict[str, Any] = {}
    for f in [alice, old, *others]:
        n = note_of_or_none(f, join)
        if n is not None:
            assert join.on_ours(n, state, T) == []
    assert join.on_external(gd(eq), state, T) == []  # held: nothing matched
    f = only(join.due(state, T + HOLD_S * 1000))
    assert f["finding_info"]["uid"] == external_uid(gd(eq))


def note_of_or_none(f: dict[str, Any], join: ThreatJoin) -> OurDetection | None:
    from cspm_stream.external.threats import note_of

    return note_of(f, join.mapped)


def test_a_type_without_an_equivalent_is_emitted_at_once_and_updated_later(eq: Equivalents) -> None:
    join = join_of(eq)
    state: dict[str, Any] = {}
    probe = gd(eq, 1)
    f = only(join.on_external(probe, state, T))
    assert f["activity_id"] == 1 and f["finding_info"]["uid"] == external_uid(probe)
    later = gd(eq, 1, UpdatedAt="2026-11-28T17:40:00.000Z")
    g = only(join.on_external(later, state, T + 1000))
    assert g["activity_id"] == 2 and g["finding_info"]["uid"] == f["finding_info"]["uid"]


def test_without_a_hold_a_mapped_finding_is_emitted_at_once(eq: Equivalents) -> None:
    join = join_of(eq, hold_s=0)
    f = only(join.on_external(gd(eq), {}, T))
    assert f["activity_id"] == 1


def test_an_archived_finding_never_alerted_stays_quiet(eq: Equivalents) -> None:
    join = join_of(eq)
    state: dict[str, Any] = {}
    kali = gd(eq, 2)
    assert kali.suppressed
    assert join.on_external(kali, state, T) == []
    assert join.due(state, T + HOLD_S * 1000) == []
    unarchived = gd(eq, 2, UpdatedAt="2026-11-28T13:00:00.000Z")
    unarchived_raw = copy.deepcopy(_gd_raw()[2])
    unarchived_raw["Service"]["Archived"] = False
    unarchived_raw["UpdatedAt"] = "2026-11-28T13:00:00.000Z"
    assert unarchived.suppressed
    f = only(join.on_external(from_guardduty(unarchived_raw, eq=eq), state, T + 1))
    assert f["activity_id"] == 1


def test_old_entries_are_dropped(eq: Equivalents) -> None:
    join = join_of(eq)
    state: dict[str, Any] = {}
    join.on_external(gd(eq, 1), state, T)
    assert state
    join.due(state, T + 7200 * 1000 + 5 * 3600 * 1000)
    assert state == {}


# ---------------------------------------------------------------- the handler


async def test_handler_rekeys_our_mapped_detections_and_skips_the_rest(eq: Equivalents, detect: Any) -> None:
    handler = ExternalHandler(join_of(eq), clock=lambda: T / 1000)
    (mine,) = await ours(detect, "StopLogging", "cloudtrail.amazonaws.com", MALLORY)
    (emit,) = await handler.handle(None, dumps(mine), RecordMeta("detections", 0, 0), {})
    assert (emit.topic, emit.key) == (NOTE_TOPIC, "123456789012|user/mallory")
    n = decode(emit.value, OurDetection)
    assert n.uid == mine["finding_info"]["uid"]
    # a detection of a rule with no external equivalent
    unmapped = await ours(detect, "CreateAccessKey", "iam.amazonaws.com", MALLORY)
    for f in unmapped:
        assert await handler.handle(None, dumps(f), RecordMeta("detections", 0, 1), {}) == []
    # the join's own record and an external product's record are not ours to re-key
    state: dict[str, Any] = {}
    handler.join.on_ours(n, state, T)
    merged = handler.join.on_external(gd(eq), state, T)[0]
    assert await handler.handle(None, merged.value, RecordMeta("detections", 0, 2), {}) == []
    alone = join_of(eq, hold_s=0).on_external(gd(eq, 1), {}, T)[0]
    assert await handler.handle(None, alone.value, RecordMeta("detections", 0, 3), {}) == []


async def test_handler_joins_through_its_state(eq: Equivalents, detect: Any) -> None:
    handler = ExternalHandler(join_of(eq), clock=lambda: T / 1000 + 5)
    state: dict[str, Any] = {}
    (mine,) = await ours(detect, "StopLogging", "cloudtrail.amazonaws.com", MALLORY)
    (note_emit,) = await handler.handle(None, dumps(mine), RecordMeta("detections", 0, 0), state)
    assert await handler.handle(None, note_emit.value, RecordMeta(NOTE_TOPIC, 0, 0), state) == []
    f = only(await handler.handle(None, dumps(gd(eq)), RecordMeta(NOTE_TOPIC, 0, 1), state))
    assert f["finding_info"]["uid"] == mine["finding_info"]["uid"]
    assert handler.tick(state) == []


@pytest.mark.parametrize(
    "value",
    [b"", b"[]", b"not json", b'{"schema": "inventory.v1"}', b'{"schema": "external-finding.v1", "uid": 1}'],
)
async def test_handler_refuses_what_it_cannot_read(eq: Equivalents, value: bytes) -> None:
    handler = ExternalHandler(join_of(eq))
    with pytest.raises(DecodeError):
        await handler.handle(None, value, RecordMeta(NOTE_TOPIC, 0, 0), {})


async def test_a_posture_like_finding_on_the_threat_topic_is_refused(eq: Equivalents) -> None:
    from cspm_stream.external.asff import from_asff
    from tests.unit.external import samples as s

    ext = from_asff(s.control("S3.8", "arn:aws:s3:::b", "AwsS3Bucket"), eq=eq)
    with pytest.raises(DecodeError, match="not a threat finding"):
        await ExternalHandler(join_of(eq)).handle(None, dumps(ext), RecordMeta(NOTE_TOPIC, 0, 0), {})


async def test_oversized_fields_from_the_topic_are_bounded_in_state(eq: Equivalents) -> None:
    ext = gd(eq)
    ext.description = "d" * 1_000_000
    ext.title = "t" * 100_000
    ext.rules = [*(ext.rules or []), *("r" * 5000 for _ in range(200))]
    state: dict[str, Any] = {}
    handler = ExternalHandler(join_of(eq), clock=lambda: T / 1000)
    assert await handler.handle(None, dumps(ext), RecordMeta(NOTE_TOPIC, 0, 0), state) == []  # held
    assert len(orjson.dumps(state)) < 200_000
