from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest

from cspm_stream.errors import DecodeError
from cspm_stream.models import AttributeFailure, ResourceDeleted, dumps
from cspm_stream.models.ocsf import finding_uid
from cspm_stream.policy.catalog import Catalog
from cspm_stream.policy.lifecycle import FindingState
from cspm_stream.policy.mutelist import parse_mutelist
from cspm_stream.stages.base import Emit, RecordMeta
from cspm_stream.stages.posture import PostureHandler
from cspm_stream.testing import snapshot

ARN = "arn:aws:s3:::bucket-1"
PUBLIC = {
    "Acl": {"Grants": [{"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}}]},
    "Encryption": {"Rules": []},
    "Policy": None,
}
PRIVATE = {"Acl": {"Grants": []}, "Encryption": {"Rules": []}, "Policy": None}
META = RecordMeta(topic="t.inventory", partition=0, offset=0)


class Clock:
    def __init__(self, t: float = 1767225600.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def snap(attrs: dict[str, Any], at: str, **kw: Any) -> bytes:
    return dumps(snapshot("aws.s3.bucket", attrs, arn=ARN, resource_id="bucket-1", observed_at=at, **kw))


def states(emits: list[Emit]) -> list[tuple[str, str]]:
    out = []
    for e in emits:
        f = orjson.loads(e.value or b"null")
        assert e.topic == "findings" and e.key == f["finding_info"]["uid"]
        out.append((f["unmapped"]["policy_id"], f["unmapped"]["state"]))
    return sorted(out)


async def feed(
    h: PostureHandler, state: dict[str, Any], value: bytes | None, key: str = ARN, ts: int | None = None
) -> list[tuple[str, str]]:
    meta = RecordMeta(topic="t.inventory", partition=0, offset=0, timestamp_ms=ts)
    return states(await h.handle(key.encode(), value, meta, state))


@pytest.fixture
def handler(fixture_catalog: Catalog) -> PostureHandler:
    return PostureHandler(fixture_catalog, clock=Clock())


PASSING_WITH_PUBLIC = [("fx_s3_no_encryption", "passed"), ("fx_s3_policy_public", "passed")]


def not_passed(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The transitions other than a first pass (tests about mutes and expiry look at these)."""
    return [t for t in found if t[1] != "passed"]


async def test_fail_then_fix_resolves(handler: PostureHandler) -> None:
    state: dict[str, Any] = {}
    first = await feed(handler, state, snap(PUBLIC, "2026-01-01T00:00:00Z"))
    assert first == [*PASSING_WITH_PUBLIC, ("fx_s3_public_acl", "new")]  # every outcome, the passes too
    # still failing with another change: no new alert
    assert await feed(handler, state, snap({**PUBLIC, "X": 1}, "2026-01-01T01:00:00Z")) == []
    assert FindingState.from_json(state[ARN]["p"]["fx_s3_public_acl"]).status.value == "failing"
    assert await feed(handler, state, snap(PRIVATE, "2026-01-01T02:00:00Z")) == [("fx_s3_public_acl", "resolved")]
    emits = await handler.handle(ARN.encode(), snap(PUBLIC, "2026-01-01T03:00:00Z"), META, state)
    f = orjson.loads(emits[0].value or b"")
    assert emits[0].key == finding_uid("fx_s3_public_acl", ARN)
    assert f["activity_id"] == 1 and f["finding_info"]["first_seen_time"] == 1767236400000  # re-opened: new first_seen


async def test_first_pass_is_emitted_once_and_kept(handler: PostureHandler) -> None:
    state: dict[str, Any] = {}
    emits = await handler.handle(ARN.encode(), snap(PRIVATE, "2026-01-01T00:00:00Z"), META, state)
    assert states(emits) == [
        ("fx_s3_no_encryption", "passed"),
        ("fx_s3_policy_public", "passed"),
        ("fx_s3_public_acl", "passed"),
    ]
    f = orjson.loads(emits[0].value or b"")
    assert (f["activity_id"], f["status_id"], f["status"], f["compliance"]["status_id"]) == (1, 99, "Passed", 1)
    assert f["status_code"] == "PASS" and emits[0].headers["state"] == "passed"
    # kept in the state as one bit per passing check (policy ids in sorted order) and one first-seen time
    assert state[ARN]["p"] == {} and state[ARN]["ok"] == "7|1767225600000"  # bits 0-2, first seen
    # still passing, content changed: nothing re-emitted (emit on change only)
    assert await feed(handler, state, snap({**PRIVATE, "X": 1}, "2026-01-01T01:00:00Z")) == []
    # a failure after a pass opens a new finding (create), its first_seen is the failure
    emits = await handler.handle(ARN.encode(), snap(PUBLIC, "2026-01-01T02:00:00Z"), META, state)
    f = orjson.loads(emits[0].value or b"")
    assert states(emits) == [("fx_s3_public_acl", "new")]
    assert f["activity_id"] == 1 and f["finding_info"]["first_seen_time"] == 1767232800000
    assert state[ARN]["ok"] == "3|1767225600000" and set(state[ARN]["p"]) == {"fx_s3_public_acl"}  # bit 2 cleared


async def test_records_with_separate_fields_still_load(fixture_catalog: Catalog) -> None:
    """A record written before the small fields were packed into "m" is read as before."""
    state: dict[str, Any] = {}
    h = PostureHandler(fixture_catalog, clock=Clock())
    await feed(h, state, snap(PUBLIC, "2026-01-01T00:00:00Z"))
    rec = state[ARN]
    t, r, a, mf, pf = rec.pop("m").split("|")
    rec.update(t=t, r=r, a=a, mf=mf, pf=pf)  # the older shape
    assert await feed(h, state, snap(PUBLIC, "2026-01-01T01:00:00Z")) == []  # unchanged: nothing
    emits = await h.handle(ARN.encode(), None, RecordMeta("t.inventory", 0, 0, 1767232800000), state)
    f = orjson.loads(emits[-1].value or b"")
    assert f["resources"][0]["type"] == "aws.s3.bucket" and f["cloud"]["account"]["uid"] == "123456789012"
    assert states(emits) == [*PASSING_WITH_PUBLIC, ("fx_s3_public_acl", "resolved")]


async def test_passing_bits_survive_a_restart_and_not_a_policy_id_change(fixture_catalog: Catalog) -> None:
    state: dict[str, Any] = {}
    await feed(PostureHandler(fixture_catalog, clock=Clock()), state, snap(PRIVATE, "2026-01-01T00:00:00Z"))
    restored = orjson.loads(orjson.dumps(state))  # the changelog's JSON
    again = PostureHandler(fixture_catalog, clock=Clock())
    assert await feed(again, restored, snap({**PRIVATE, "X": 1}, "2026-01-01T01:00:00Z")) == []
    # a release adds a policy to the type: the mask is not read under the new policy fingerprint,
    # so the passing checks are announced once more (same state: harmless), the new one for the first time
    extra = dataclasses.replace(fixture_catalog.policies["fx_s3_policy_public"], id="fx_s3_zz_extra")
    grown = Catalog({**fixture_catalog.policies, "fx_s3_zz_extra": extra}, fixture_catalog.frameworks)
    out = await feed(PostureHandler(grown, clock=Clock()), restored, snap(PRIVATE, "2026-01-01T02:00:00Z"))
    assert out == [
        ("fx_s3_no_encryption", "passed"),
        ("fx_s3_policy_public", "passed"),
        ("fx_s3_public_acl", "passed"),
        ("fx_s3_zz_extra", "passed"),
    ]
    assert restored[ARN]["ok"] == "f|1767232800000"  # a new first-seen: the passes were announced again
    assert set(restored[ARN]) == {"h", "o", "m", "p", "ok"}  # a small record (untagged: no "g")


async def test_tombstone_and_deleted_resolve_every_open_finding(handler: PostureHandler) -> None:
    state: dict[str, Any] = {}
    await feed(handler, state, snap({**PUBLIC, "Encryption": None}, "2026-01-01T00:00:00Z"))
    emits = await handler.handle(ARN.encode(), None, RecordMeta("t.inventory", 0, 0, 1767229200000), state)
    # every check gets a last record: open ones resolve, passing ones keep their status
    assert states(emits) == [
        ("fx_s3_no_encryption", "resolved"),
        ("fx_s3_policy_public", "passed"),
        ("fx_s3_public_acl", "resolved"),
    ]
    for e in emits:
        f = orjson.loads(e.value or b"")
        assert f["activity_id"] == 3 and f["unmapped"]["resource_deleted"] is True
        assert f["status_detail"] == "resource deleted"
    assert state[ARN]["del"] is True
    assert await feed(handler, state, None, ts=1767229200000) == []  # second tombstone: nothing
    # replaying the pre-deletion snapshot does not resurrect it
    assert await feed(handler, state, snap(PUBLIC, "2026-01-01T00:00:00Z")) == []
    # a re-created resource is evaluated afresh
    assert await feed(handler, state, snap(PUBLIC, "2026-01-02T00:00:00Z")) == [
        *PASSING_WITH_PUBLIC,
        ("fx_s3_public_acl", "new"),
    ]
    deleted = ResourceDeleted(ARN, "aws.s3.bucket", "123456789012", "us-east-1", "2026-01-03T00:00:00Z", "s")
    assert await feed(handler, state, dumps(deleted)) == [*PASSING_WITH_PUBLIC, ("fx_s3_public_acl", "resolved")]
    assert await feed(handler, state, None, ts=1767398400000) == []  # tombstone after ResourceDeleted


async def test_error_when_read_attribute_failed(handler: PostureHandler) -> None:
    state: dict[str, Any] = {}
    attrs = {"Encryption": {"Rules": []}, "Policy": None}  # Acl absent: could not be read
    value = dumps(snapshot("aws.s3.bucket", attrs, arn=ARN, observed_at="2026-01-01T00:00:00Z"))
    s = snapshot("aws.s3.bucket", attrs, arn=ARN, observed_at="2026-01-01T00:00:00Z")
    s.errors.append(AttributeFailure("Acl", "AccessDenied", "denied"))
    value = dumps(s)
    assert await feed(handler, state, value) == [*PASSING_WITH_PUBLIC, ("fx_s3_public_acl", "error")]
    # fixed permissions, resource is public: error -> new
    assert await feed(handler, state, snap(PUBLIC, "2026-01-01T01:00:00Z")) == [("fx_s3_public_acl", "new")]


async def test_replay_and_restart_emit_no_duplicates(fixture_catalog: Catalog) -> None:
    history = [
        snap(PUBLIC, "2026-01-01T00:00:00Z"),
        snap(PUBLIC, "2026-01-01T01:00:00Z"),
        snap(PRIVATE, "2026-01-01T02:00:00Z"),
        snap({**PUBLIC, "Encryption": None}, "2026-01-01T03:00:00Z"),
    ]
    state: dict[str, Any] = {}
    h1 = PostureHandler(fixture_catalog, clock=Clock())
    first = [await feed(h1, state, v) for v in history]
    assert first == [
        [*PASSING_WITH_PUBLIC, ("fx_s3_public_acl", "new")],
        [],
        [("fx_s3_public_acl", "resolved")],
        [("fx_s3_no_encryption", "new"), ("fx_s3_public_acl", "new")],
    ]
    saved = orjson.loads(orjson.dumps(state))  # the table is JSON: restored after a restart
    h2 = PostureHandler(fixture_catalog, clock=Clock())
    for v in history:  # replay from the beginning
        assert await feed(h2, saved, v) == []
    for v in history[-2:]:  # redelivery of the uncommitted tail
        assert await feed(h2, saved, v) == []


async def test_mute_suppresses_and_expiry_reopens(fixture_catalog: Catalog) -> None:
    clock = Clock(1767225600.0)  # 2026-01-01
    ml = parse_mutelist(
        "mutes: [{id: m1, reason: dev bucket, owner: sec, policy: 'fx_s3_*', arn: 'arn:aws:s3:::bucket-.*',"
        " expires: '2026-02-01T00:00:00Z'}]"
    )
    h = PostureHandler(fixture_catalog, ml, clock=clock)
    state: dict[str, Any] = {}
    emits = await h.handle(ARN.encode(), snap(PUBLIC, "2026-01-01T00:00:00Z"), META, state)
    assert not_passed(states(emits)) == [("fx_s3_public_acl", "suppressed")]
    f = next(x for x in map(orjson.loads, (e.value or b"" for e in emits)) if x["unmapped"]["state"] == "suppressed")
    assert f["status_id"] == 3 and f["unmapped"]["mute_reason"] == "dev bucket"
    assert h.tick(state) == []  # nothing changed
    clock.t = 1769990400.0  # 2026-02-02: the mute expired
    assert states(h.tick(state)) == [("fx_s3_public_acl", "new")]
    assert h.tick(state) == []


async def test_expiry_reopens_on_unchanged_snapshot(fixture_catalog: Catalog) -> None:
    clock = Clock(1767225600.0)
    ml = parse_mutelist(
        "mutes: [{id: m1, reason: r, owner: o, policy: fx_s3_public_acl, expires: '2026-01-02T00:00:00Z'}]"
    )
    h = PostureHandler(fixture_catalog, ml, clock=clock)
    state: dict[str, Any] = {}
    assert not_passed(await feed(h, state, snap(PUBLIC, "2026-01-01T00:00:00Z"))) == [
        ("fx_s3_public_acl", "suppressed")
    ]
    assert await feed(h, state, snap(PUBLIC, "2026-01-01T06:00:00Z")) == []
    clock.t += 2 * 86400
    assert await feed(h, state, snap(PUBLIC, "2026-01-03T00:00:00Z")) == [("fx_s3_public_acl", "new")]


async def test_mutelist_change_applies_without_rescan(fixture_catalog: Catalog) -> None:
    current = {"ml": parse_mutelist("")}

    class Source:
        def get(self, now: float) -> Any:
            return current["ml"]

    h = PostureHandler(fixture_catalog, Source(), clock=Clock())  # type: ignore[arg-type]
    state: dict[str, Any] = {}
    assert not_passed(await feed(h, state, snap(PUBLIC, "2026-01-01T00:00:00Z"))) == [("fx_s3_public_acl", "new")]
    current["ml"] = parse_mutelist("mutes: [{id: a, reason: r, owner: o, tags: {env: dev}}]")
    assert h.tick(state) == []  # no such tag on the resource
    current["ml"] = parse_mutelist("mutes: [{id: a, reason: r, owner: o, account: '123456789012'}]")
    assert states(h.tick(state)) == [("fx_s3_public_acl", "suppressed")]
    current["ml"] = parse_mutelist("")
    assert states(h.tick(state)) == [("fx_s3_public_acl", "new")]


async def test_time_dependent_policies_reevaluated_on_unchanged_content(fixture_catalog: Catalog) -> None:
    h = PostureHandler(fixture_catalog, clock=Clock())
    state: dict[str, Any] = {}
    arn = "arn:aws:iam::123456789012:user/alice"
    attrs = {"AccessKeys": [{"Status": "Active", "CreateDate": "2025-12-01T00:00:00Z"}]}

    async def at(t: str) -> list[Emit]:
        v = dumps(snapshot("aws.iam.user", attrs, arn=arn, observed_at=t))
        return await h.handle(arn.encode(), v, META, state)

    assert states(await at("2026-01-01T00:00:00Z")) == [("fx_iam_old_access_key", "passed")]
    assert states(await at("2026-03-15T00:00:00Z")) == [("fx_iam_old_access_key", "new")]
    assert await at("2026-03-15T00:00:00Z") == []


async def test_older_snapshot_ignored(handler: PostureHandler) -> None:
    state: dict[str, Any] = {}
    await feed(handler, state, snap(PRIVATE, "2026-01-02T00:00:00Z"))
    assert await feed(handler, state, snap(PUBLIC, "2026-01-01T00:00:00Z")) == []


async def test_bad_input_raises_decode_error(handler: PostureHandler) -> None:
    with pytest.raises(DecodeError):
        await handler.handle(b"k", b"not json", META, {})
    with pytest.raises(DecodeError):
        await handler.handle(None, None, META, {})
    with pytest.raises(DecodeError):
        await handler.handle(b"k", dumps({"schema": "activity.v1"}), META, {})


def test_build_handler_from_settings(tmp_path: Any) -> None:
    from cspm_stream import settings as settings_mod
    from cspm_stream.stages.posture import build_handler
    from tests.unit.policy.conftest import FIXTURES

    ml = tmp_path / "ml.yaml"
    ml.write_text("mutes: [{id: a, reason: r, owner: o, policy: fx_*}]")
    s = settings_mod.load(
        data={
            "policy": {
                "builtin_policies": False,
                "policy_dirs": [str(FIXTURES / "policies")],
                "framework_dirs": [str(FIXTURES / "frameworks")],
                "mutelist_file": str(ml),
            }
        },
        environ={},
    )
    h = build_handler(s)
    assert h.name == "posture" and h.inputs == ("inventory", "external-findings")
    assert "fx_s3_public_acl" in h.engine.policies and len(h.mutelist()) == 1


async def test_policy_deploy_reevaluates_unchanged_resources(fixture_catalog: Catalog) -> None:
    import dataclasses

    only_acl = Catalog({"fx_s3_public_acl": fixture_catalog.policies["fx_s3_public_acl"]}, {})
    state: dict[str, Any] = {}
    v = snap({**PUBLIC, "Encryption": None}, "2026-01-01T00:00:00Z")
    assert await feed(PostureHandler(only_acl, clock=Clock()), state, v) == [("fx_s3_public_acl", "new")]
    assert set(state[ARN]["p"]) == {"fx_s3_public_acl"}
    # a new release adds a policy: the unchanged resource is evaluated against it
    both = Catalog({k: fixture_catalog.policies[k] for k in ("fx_s3_public_acl", "fx_s3_no_encryption")}, {})
    v2 = snap({**PUBLIC, "Encryption": None}, "2026-01-01T01:00:00Z")
    assert await feed(PostureHandler(both, clock=Clock()), state, v2) == [("fx_s3_no_encryption", "new")]
    # a release removes one: it is forgotten, the other keeps its state
    enc = fixture_catalog.policies["fx_s3_no_encryption"]
    changed = Catalog({"fx_s3_no_encryption": dataclasses.replace(enc, title="renamed")}, {})
    v3 = snap({**PUBLIC, "Encryption": None}, "2026-01-01T02:00:00Z")
    h = PostureHandler(changed, clock=Clock())
    assert await feed(h, state, v3) == []  # same condition: still failing, no re-alert
    assert set(state[ARN]["p"]) == {"fx_s3_no_encryption"}


async def test_expiry_and_mutelist_edit_apply_on_any_next_message(fixture_catalog: Catalog, tmp_path: Any) -> None:
    """No timer: the next inventory record (of any resource) triggers the re-check."""
    from cspm_stream.policy.mutelist import MutelistSource

    clock = Clock(1767225600.0)
    f = tmp_path / "ml.yaml"
    f.write_text("mutes: [{id: m, reason: r, owner: o, policy: fx_s3_public_acl, expires: '2026-01-05T00:00:00Z'}]")
    mono = {"t": 0.0}
    src = MutelistSource(f, reload_s=1)
    src.load()
    h = PostureHandler(fixture_catalog, src, clock=clock, monotonic=lambda: mono["t"])
    state: dict[str, Any] = {}
    assert not_passed(await feed(h, state, snap(PUBLIC, "2026-01-01T00:00:00Z"))) == [
        ("fx_s3_public_acl", "suppressed")
    ]
    other = "arn:aws:s3:::other"
    other_snap = dumps(snapshot("aws.s3.bucket", PRIVATE, arn=other, observed_at="2026-01-01T00:00:00Z"))
    assert not_passed(await feed(h, state, other_snap, key=other)) == []
    clock.t += 10 * 86400  # past the expiry
    other_snap2 = dumps(snapshot("aws.s3.bucket", PRIVATE, arn=other, observed_at="2026-01-11T00:00:00Z"))
    assert await feed(h, state, other_snap2, key=other) == [("fx_s3_public_acl", "new")]
    # an edit of the file mutes it again, picked up by the next message
    import os

    f.write_text("mutes: [{id: m2, reason: accepted, owner: o, arn: 'arn:aws:s3:::bucket-.*'}]")
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    mono["t"] = 100.0
    other_snap3 = dumps(snapshot("aws.s3.bucket", PRIVATE, arn=other, observed_at="2026-01-12T00:00:00Z"))
    assert await feed(h, state, other_snap3, key=other) == [("fx_s3_public_acl", "suppressed")]


async def test_types_without_policies_keep_no_state(handler: PostureHandler) -> None:
    state: dict[str, Any] = {}
    arn = "arn:aws:sqs:us-east-1:123456789012:q"
    v = dumps(snapshot("aws.sqs.queue", {"QueueUrl": "u"}, arn=arn))
    assert await handler.handle(arn.encode(), v, META, state) == []
    assert state == {}


async def test_tags_kept_as_one_string_through_restart_and_deletion(handler: PostureHandler) -> None:
    """A record's tags are one JSON string (any characters); after a changelog restore the deletion's
    last records still carry them, and a record written with a tags object still loads."""
    tags = {"env": "prod", "odd|key": 'v"=1,ü'}
    state: dict[str, Any] = {}
    await feed(handler, state, snap(PUBLIC, "2026-01-01T00:00:00Z", tags=tags))
    assert isinstance(state[ARN]["g"], str)
    for restored in (orjson.loads(orjson.dumps(state)), {ARN: {**state[ARN], "g": tags}}):
        emits = await handler.handle(ARN.encode(), None, META, restored)
        labels = {tuple(orjson.loads(e.value or b"null")["resources"][0]["labels"]) for e in emits}
        assert labels == {("env=prod", 'odd|key=v"=1,ü')}
