"""Correlation rules over event time: thresholds, windows, lateness, order, restart recovery."""

from __future__ import annotations

from typing import Any

import orjson

from cspm_stream.detect.engine import DetectionEngine, EngineConfig
from cspm_stream.detect.rules import RuleSet
from cspm_stream.timeutil import ms_to_iso
from tests.unit.detect.helpers import ev, rules

T0 = 1767225600000  # 2026-01-01T00:00:00Z

BASE = """
title: Console login failure
id: 10000000-0000-4000-8000-000000000001
name: login_failed
logsource: {product: aws, service: cloudtrail}
detection:
    sel:
        eventName: ConsoleLogin
        errorMessage: Failed authentication
    condition: sel
"""


def corr(
    ctype: str,
    condition: str,
    *,
    rules_: str = "[login_failed]",
    group: str = "[sourceIPAddress]",
    timespan: str = "5m",
    generate: bool = False,
) -> str:
    return f"""
title: Correlation
id: 20000000-0000-4000-8000-000000000002
level: high
tags: [attack.credential-access, attack.t1110]
correlation:
    type: {ctype}
    rules: {rules_}
    group-by: {group}
    timespan: {timespan}
    generate: {str(generate).lower()}
{condition}
"""


def fail(sec: float, ip: str = "203.0.113.5", user: str = "alice", **kw: Any) -> dict[str, Any]:
    rec = ev(
        "ConsoleLogin",
        "signin.amazonaws.com",
        event_time=ms_to_iso(int(T0 + sec * 1000)),
        source_ip=ip,
        user_arn=f"arn:aws:iam::123456789012:user/{user}",
        **kw,
    )
    rec["errorMessage"] = "Failed authentication"
    return rec


def run(
    engine: DetectionEngine, recs: list[dict[str, Any]], state: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    state = {} if state is None else state
    out = []
    for r in recs:
        out.extend(f for f in engine.process(r, state).findings if f["unmapped"]["rule_kind"] == "correlation")
    return out


def count_rules(threshold: int = 5, **kw: Any) -> RuleSet:
    rs = rules(BASE + "---\n" + corr("event_count", f"    condition: {{gte: {threshold}}}", **kw))
    assert not rs.errors, [str(e) for e in rs.errors]
    return rs


def test_event_count_fires_at_threshold_within_timespan() -> None:
    eng = DetectionEngine(count_rules())
    found = run(eng, [fail(i * 30) for i in range(5)])
    assert len(found) == 1
    f = found[0]
    assert f["count"] == 5 and len(f["evidences"]) == 5
    assert f["unmapped"]["group_key"] == "sourceIPAddress=203.0.113.5"
    assert f["finding_info"]["attacks"][0]["technique"]["uid"] == "T1110"


def test_event_count_does_not_fire_when_spread_beyond_timespan() -> None:
    eng = DetectionEngine(count_rules())
    assert run(eng, [fail(i * 90) for i in range(5)]) == []  # 6 minutes end to end


def test_groups_are_counted_separately() -> None:
    eng = DetectionEngine(count_rules())
    state: dict[str, Any] = {}
    recs = [fail(i, ip="198.51.100.1" if i % 2 else "198.51.100.2") for i in range(8)]
    assert run(eng, recs, state) == []
    assert len(run(eng, [fail(10, ip="198.51.100.1")], state)) == 1


def test_base_rule_with_generate_false_emits_nothing_alone() -> None:
    eng = DetectionEngine(count_rules())
    out = eng.process(fail(0), {})
    assert out.matched and out.findings == []
    eng2 = DetectionEngine(count_rules(generate=True))
    assert len(eng2.process(fail(0), {}).findings) == 1


def test_out_of_order_and_late_records_within_lateness_count() -> None:
    eng = DetectionEngine(count_rules(), EngineConfig(allowed_lateness_s=600))
    recs = [fail(600), fail(590), fail(400), fail(420), fail(610)]  # 200 s spread, arrives shuffled
    found = run(eng, recs)
    assert len(found) == 1
    assert found[0]["finding_info"]["first_seen_time"] == T0 + 400_000
    assert found[0]["unmapped"]["window_start"] == ms_to_iso(T0 + 400_000)


def test_records_later_than_allowed_lateness_are_not_counted() -> None:
    eng = DetectionEngine(count_rules(), EngineConfig(allowed_lateness_s=60))
    state: dict[str, Any] = {}
    run(eng, [fail(3600)], state)  # watermark jumps an hour
    late = [fail(3400 + i) for i in range(6)]  # 200 s behind the watermark, lateness 60 s
    assert run(eng, late, state) == []
    assert eng.stats["late"] == 6


def test_value_count_counts_distinct_values() -> None:
    rs = rules(BASE + "---\n" + corr("value_count", "    condition: {gte: 3, field: userIdentity.arn}"))
    eng = DetectionEngine(rs)
    state: dict[str, Any] = {}
    same_user = [fail(i, user="alice") for i in range(5)]
    assert run(eng, same_user, state) == []
    found = run(eng, [fail(10, user="bob"), fail(11, user="carol")], state)
    assert len(found) == 1


def _two_step() -> RuleSet:
    step2 = """
title: Console login success
id: 10000000-0000-4000-8000-000000000003
name: login_ok
logsource: {product: aws, service: cloudtrail}
detection:
    sel:
        eventName: ConsoleLogin
        responseElements.ConsoleLogin: Success
    condition: sel
"""
    return rules(
        BASE
        + "---\n"
        + step2
        + "---\n"
        + corr("temporal_ordered", "", rules_="[login_failed, login_ok]", group="[userIdentity.arn]")
    )


def ok(sec: float, user: str = "alice") -> dict[str, Any]:
    return ev(
        "ConsoleLogin",
        "signin.amazonaws.com",
        event_time=ms_to_iso(int(T0 + sec * 1000)),
        user_arn=f"arn:aws:iam::123456789012:user/{user}",
        response_elements={"ConsoleLogin": "Success"},
    )


def test_temporal_ordered_needs_the_order() -> None:
    rs = _two_step()
    assert not rs.errors, [str(e) for e in rs.errors]
    assert len(run(DetectionEngine(rs), [fail(0), ok(60)])) == 1
    assert run(DetectionEngine(rs), [ok(0), fail(60)]) == []
    assert run(DetectionEngine(rs), [fail(0), ok(400)]) == []  # beyond 5m


def test_temporal_any_order() -> None:
    rs = _two_step()
    text = (
        BASE
        + "---\n"
        + """
title: Console login success
id: 10000000-0000-4000-8000-000000000003
name: login_ok
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: ConsoleLogin, responseElements.ConsoleLogin: Success}, condition: sel}
---
"""
        + corr("temporal", "", rules_="[login_failed, login_ok]", group="[userIdentity.arn]")
    )
    rs = rules(text)
    assert len(run(DetectionEngine(rs), [ok(0), fail(60)])) == 1
    assert run(DetectionEngine(rs), [ok(0), ok(60)]) == []


def test_restart_recovers_window_from_json_state() -> None:
    rs = count_rules()
    state: dict[str, Any] = {}
    assert run(DetectionEngine(rs), [fail(i) for i in range(3)], state) == []
    restored = orjson.loads(orjson.dumps(state))  # what a faust table changelog gives back
    found = run(DetectionEngine(rs), [fail(3), fail(4)], restored)  # a new process
    assert len(found) == 1 and found[0]["count"] == 5


def test_window_is_consumed_and_repeats_update_the_same_detection() -> None:
    eng = DetectionEngine(count_rules(threshold=3), EngineConfig(update_interval_s=0))
    state: dict[str, Any] = {}
    first = run(eng, [fail(i) for i in range(3)], state)
    second = run(eng, [fail(10 + i) for i in range(3)], state)
    assert len(first) == len(second) == 1
    assert first[0]["activity_id"] == 1 and second[0]["activity_id"] == 2
    assert second[0]["finding_info"]["uid"] == first[0]["finding_info"]["uid"]
    assert second[0]["count"] == 6
    assert run(eng, [fail(20)], state) == []  # one new record alone does not fire again


def test_unsupported_correlations_are_reported() -> None:
    lt = rules(BASE + "---\n" + corr("event_count", "    condition: {lt: 2}"))
    assert any("only gte/gt" in e.reason for e in lt.errors)
    unknown = rules(corr("event_count", "    condition: {gte: 2}", rules_="[nope]"))
    assert any("'nope'" in e.reason for e in unknown.errors)
    bad_field = rules(BASE + "---\n" + corr("event_count", "    condition: {gte: 2}", group="[ipAddress]"))
    assert not bad_field.errors  # loads, but can never fire: no record has the field to join on
    assert any("unknown CloudTrail field 'ipAddress'" in e.reason for e in bad_field.warnings)


def test_group_by_alias_maps_a_field_per_rule() -> None:
    text = """
title: Key created for a user
id: 50000000-0000-4000-8000-000000000001
name: key_created
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: CreateAccessKey}, condition: sel}
---
title: User used a key from a new place
id: 50000000-0000-4000-8000-000000000002
name: user_activity
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: ListBuckets}, condition: sel}
---
title: New key used right away
id: 50000000-0000-4000-8000-000000000003
correlation:
    type: temporal_ordered
    rules: [key_created, user_activity]
    aliases:
        target:
            key_created: requestParameters.userName
            user_activity: userIdentity.userName
    group-by: [target]
    timespan: 10m
"""
    rs = rules(text)
    assert not rs.errors, [str(e) for e in rs.errors]
    eng = DetectionEngine(rs)
    state: dict[str, Any] = {}
    create = ev("CreateAccessKey", event_time=ms_to_iso(T0), request_parameters={"userName": "bob"})
    other = ev(
        "ListBuckets",
        "s3.amazonaws.com",
        event_time=ms_to_iso(T0 + 60_000),
        user_arn="arn:aws:iam::123456789012:user/carol",
    )
    use = ev(
        "ListBuckets",
        "s3.amazonaws.com",
        event_time=ms_to_iso(T0 + 120_000),
        user_arn="arn:aws:iam::123456789012:user/bob",
    )
    assert run(eng, [create, other], state) == []
    (f,) = run(eng, [use], state)
    assert f["unmapped"]["group_key"] == "target=bob"
    assert f["unmapped"]["event_ids"] == [create["eventID"], use["eventID"]]


def test_thousands_of_groups_in_one_minute_expire_in_bounded_chunks() -> None:
    """Expiry registrations are chunked: a busy minute never rewrites one ever-growing list."""
    from cspm_stream.detect.store import REG_CHUNK

    eng = DetectionEngine(count_rules())
    state: dict[str, Any] = {}
    n = REG_CHUNK * 3 + 5
    run(eng, [fail(i * 0.01, ip=f"198.51.{i // 250}.{i % 250}") for i in range(n)], state)
    buffers = [k for k in state if k.startswith("cor|")]
    assert len(buffers) == n  # one open window per source IP
    chunks = [v for k, v in state.items() if k.startswith("reg|")]
    assert len(chunks) == 4 and max(len(c) for c in chunks) <= REG_CHUNK
    assert sorted(k for c in chunks for k in c) == sorted(buffers)
    run(eng, [fail(3600, ip="192.0.2.1")], state)  # an hour later: the sweep expires every window
    assert [k for k in state if k.startswith("cor|")] == [
        "cor|20000000-0000-4000-8000-000000000002|sourceIPAddress=192.0.2.1"
    ]
    assert not [k for k in state if k.startswith("regn|")]  # the swept minute's chunks are gone
    assert len([k for k in state if k.startswith("reg|")]) == 1  # the new window's registration


# ---------------------------------------------------------------- joins and evidence

KEYS = """
title: Access key created
id: 60000000-0000-4000-8000-000000000001
name: key_created
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: CreateAccessKey}, condition: sel}
---
title: Login profile created
id: 60000000-0000-4000-8000-000000000002
name: profile_created
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: CreateLoginProfile}, condition: sel}
"""


def _iam(name: str, sec: float, actor: str, target: str | None, **kw: Any) -> dict[str, Any]:
    return ev(
        name,
        event_time=ms_to_iso(int(T0 + sec * 1000)),
        user_arn=f"arn:aws:iam::123456789012:user/{actor}",
        request_parameters={"userName": target} if target is not None else {},
        **kw,
    )


def test_group_by_actor_and_resource_joins_only_the_same_pair() -> None:
    rs = rules(
        KEYS,
        corr(
            "temporal",
            "",
            rules_="[key_created, profile_created]",
            group="[cspm.principal, requestParameters.userName]",
            generate=True,
        ),
    )
    assert not rs.errors and not rs.warnings
    eng = DetectionEngine(rs)
    state: dict[str, Any] = {}
    # same actor, different targets: no join; same actor and target: one
    pair = [_iam("CreateAccessKey", 0, "mallory", "bob"), _iam("CreateLoginProfile", 5, "mallory", "carol")]
    assert run(eng, pair, state) == []
    (f,) = run(eng, [_iam("CreateLoginProfile", 10, "mallory", "bob")], state)
    assert (
        f["unmapped"]["group_key"]
        == "cspm.principal=arn:aws:iam::123456789012:user/mallory|requestParameters.userName=bob"
    )
    # another actor on the same target does not join mallory's window
    assert (
        run(
            DetectionEngine(rs),
            [_iam("CreateAccessKey", 0, "alice", "dave"), _iam("CreateLoginProfile", 1, "eve", "dave")],
        )
        == []
    )


def test_a_record_without_the_group_by_field_takes_no_part() -> None:
    rs = rules(
        KEYS,
        corr("event_count", "    condition: {gte: 2}", rules_="[key_created]", group="[requestParameters.userName]"),
    )
    eng = DetectionEngine(rs)
    state: dict[str, Any] = {}
    assert run(eng, [_iam("CreateAccessKey", i, "alice", None, event_id=f"k{i}") for i in range(5)], state) == []
    bob = [_iam("CreateAccessKey", 10 + i, "alice", "bob", event_id=f"b{i}") for i in range(2)]
    assert len(run(eng, bob, state)) == 1


def test_evidence_lists_only_the_records_that_satisfied_the_correlation() -> None:
    ordered = rules(
        KEYS,
        corr(
            "temporal_ordered",
            "",
            rules_="[key_created, profile_created]",
            group="[userIdentity.arn]",
            generate=True,
        ),
    )
    recs = [
        _iam("CreateLoginProfile", 0, "m", "x", event_id="early-profile"),  # before any key: not part of the chain
        _iam("CreateAccessKey", 1, "m", "x", event_id="key1"),
        _iam("CreateAccessKey", 2, "m", "x", event_id="key2"),
        _iam("CreateLoginProfile", 3, "m", "x", event_id="profile"),
    ]
    (f,) = run(DetectionEngine(ordered), recs)
    assert f["unmapped"]["event_ids"] == ["key1", "profile"] and f["count"] == 2
    values = rules(BASE + "---\n" + corr("value_count", "    condition: {gte: 3, field: userIdentity.arn}"))
    tries = [fail(i, user=u, event_id=f"v{i}") for i, u in enumerate(["a", "a", "b", "a", "c"])]
    (g,) = run(DetectionEngine(values), tries)
    assert g["unmapped"]["event_ids"] == ["v0", "v2", "v4"]  # one per distinct value
    temporal = rules(
        KEYS, corr("temporal", "", rules_="[key_created, profile_created]", group="[userIdentity.arn]", generate=True)
    )
    many = [_iam("CreateAccessKey", i, "m", "x", event_id=f"k{i}") for i in range(4)]
    (h,) = run(DetectionEngine(temporal), [*many, _iam("CreateLoginProfile", 5, "m", "x", event_id="p")])
    assert h["unmapped"]["event_ids"] == ["k0", "p"]
