"""List-valued fields in correlations (value_count counts every value; group-by fans out) and window search."""

from __future__ import annotations

import random
from typing import Any

from cspm_stream.detect.engine import DetectionEngine
from cspm_stream.detect.fields import Vocabulary
from cspm_stream.detect.rules import CorrelationRule, CorrelationType, Op
from cspm_stream.detect.windows import MAX_GROUPS, MAX_VALUE_CHARS, group_keys, satisfied, satisfying
from cspm_stream.timeutil import ms_to_iso
from tests.unit.detect.helpers import ev, rules

T0 = 1767225600000  # 2026-01-01T00:00:00Z

READS = """
title: Parameters decrypted
id: 11000000-0000-4000-8000-000000000001
name: decrypted
logsource: {product: aws, service: cloudtrail}
detection:
    sel:
        eventSource: ssm.amazonaws.com
        eventName: [GetParameter, GetParameters]
        requestParameters.withDecryption: true
    condition: sel
"""


def _corr(ctype: str, condition: str, group: str = "[userIdentity.arn]", refs: str = "[decrypted]") -> str:
    return f"""
title: Harvest
id: 11000000-0000-4000-8000-000000000002
level: high
tags: [attack.credential-access, attack.t1552]
correlation:
    type: {ctype}
    rules: {refs}
    group-by: {group}
    timespan: 10m
    generate: false
{condition}
"""


NAMES = _corr("value_count", "    condition: {gte: 10, field: requestParameters.names}")


def _get(sec: float, names: Any, *, eid: str | None = None, user: str = "mallory") -> dict[str, Any]:
    single = isinstance(names, str)
    return ev(
        "GetParameter" if single else "GetParameters",
        "ssm.amazonaws.com",
        event_time=ms_to_iso(int(T0 + sec * 1000)),
        user_arn=f"arn:aws:iam::123456789012:user/{user}",
        request_parameters={"name" if single else "names": names, "withDecryption": True},
        event_id=eid,
    )


def _fired(rs_text: str, recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rs = rules(rs_text)
    assert not rs.errors, [str(e) for e in rs.errors]
    eng = DetectionEngine(rs)
    state: dict[str, Any] = {}
    out = []
    for r in recs:
        out.extend(f for f in eng.process(r, state).findings if f["unmapped"]["rule_kind"] == "correlation")
    return out


def _names(prefix: str, n: int) -> list[str]:
    return [f"/prod/{prefix}/{i}" for i in range(n)]


def test_value_count_counts_every_value_of_a_list_field() -> None:
    (f,) = _fired(READS + "---\n" + NAMES, [_get(0, _names("a", 10), eid="one-call")])
    assert f["unmapped"]["event_ids"] == ["one-call"]
    assert _fired(READS + "---\n" + NAMES, [_get(0, _names("a", 9))]) == []  # nine names: below 10


def test_values_of_several_records_add_up_and_repeats_do_not_count() -> None:
    calls = [_get(0, _names("a", 5), eid="c1"), _get(5, _names("a", 5), eid="c2"), _get(9, _names("a", 5), eid="c3")]
    assert _fired(READS + "---\n" + NAMES, calls) == []  # the same five names three times
    calls.append(_get(12, [*_names("a", 3), *_names("b", 4)], eid="c4"))  # 4 new names: 9 distinct
    calls.append(_get(15, ["/prod/b/9"], eid="c5"))  # a one-name batch adds the 10th
    (f,) = _fired(READS + "---\n" + NAMES, calls)
    assert f["unmapped"]["event_ids"] == ["c1", "c4", "c5"]  # only the records that brought new values


def test_a_huge_list_keeps_only_what_can_change_the_verdict() -> None:
    rs = rules(READS + "---\n" + NAMES)
    eng = DetectionEngine(rs)
    state: dict[str, Any] = {}
    long_name = "/x/" + "n" * 5000
    eng.process(_get(0, [long_name, *_names("a", 5)], eid="big"), state)  # below the threshold: buffered
    (buf,) = [v["b"] for k, v in state.items() if k.startswith("cor|")]
    assert len(buf[0][3]) == 6 and len(buf[0][3][0]) == MAX_VALUE_CHARS
    out = eng.process(_get(1, _names("z", 100_000), eid="huge"), state)
    assert len(out.findings) == 1 and not any(k.startswith("cor|") for k in state)  # fired and consumed


def test_value_count_on_object_values_counts_their_json_text() -> None:
    corr = _corr("value_count", "    condition: {gte: 2, field: requestParameters.names}")
    objs = [{"k": "a"}, {"k": "a"}, {"k": "b"}]
    assert len(_fired(READS + "---\n" + corr, [_get(0, objs)])) == 1
    assert _fired(READS + "---\n" + corr, [_get(0, objs[:2])]) == []


KEYS = """
title: Instance stopped
id: 11000000-0000-4000-8000-000000000011
name: stopped
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: StopInstances}, condition: sel}
---
title: Instance attribute changed
id: 11000000-0000-4000-8000-000000000012
name: modified
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: ModifyInstanceAttribute}, condition: sel}
"""


def _ec2(name: str, sec: float, ids: list[str], eid: str) -> dict[str, Any]:
    if name == "StopInstances":
        params: dict[str, Any] = {"instancesSet": {"items": [{"instanceId": i} for i in ids]}}
    else:
        (one,) = ids
        params = {"instanceId": one, "userData": "<sensitiveDataRemoved>"}
    return ev(
        name, "ec2.amazonaws.com", event_time=ms_to_iso(int(T0 + sec * 1000)), request_parameters=params, event_id=eid
    )


STOP_THEN_MODIFY = _corr(
    "temporal_ordered",
    "",
    group="[userIdentity.arn, instance]",
    refs="[stopped, modified]",
).replace(
    "    generate: false\n",
    "    generate: false\n    aliases:\n        instance:\n"
    "            stopped: requestParameters.instancesSet.items.instanceId\n"
    "            modified: requestParameters.instanceId\n",
)


def test_group_by_a_list_field_puts_the_record_in_the_group_of_each_value() -> None:
    stop = _ec2("StopInstances", 0, ["i-0a", "i-0b", "i-0c"], "stop")
    found = _fired(KEYS + "---\n" + STOP_THEN_MODIFY, [stop, _ec2("ModifyInstanceAttribute", 30, ["i-0b"], "mod")])
    (f,) = found
    assert f["unmapped"]["group_key"].endswith("|instance=i-0b")
    assert f["unmapped"]["event_ids"] == ["stop", "mod"]
    other = _ec2("ModifyInstanceAttribute", 30, ["i-0z"], "mod")  # an instance the stop did not name
    assert _fired(KEYS + "---\n" + STOP_THEN_MODIFY, [stop, other]) == []


def test_one_record_takes_part_in_a_bounded_number_of_groups() -> None:
    rs = rules(KEYS + "---\n" + STOP_THEN_MODIFY)
    eng = DetectionEngine(rs)
    state: dict[str, Any] = {}
    eng.process(_ec2("StopInstances", 0, [f"i-{n:08x}" for n in range(5000)], "stop"), state)
    assert sum(k.startswith("cor|") for k in state) == MAX_GROUPS


def _reference(corr: CorrelationRule, buf: list[list[Any]], t_new: int) -> Any:
    """The window search without the in-order shortcut: every start is tried."""
    span, n, j = corr.span_ms, len(buf), 0
    for i in range(n):
        start = buf[i][0]
        if start < t_new - span:
            continue
        if start > t_new:
            break
        j = max(j, i)
        while j < n and buf[j][0] <= start + span:
            j += 1
        found = satisfying(corr, buf[i:j])
        if found is not None:
            return buf[i:j], found
    return None


def test_the_in_order_window_shortcut_finds_what_trying_every_start_finds() -> None:
    rng = random.Random(17)
    for trial in range(3000):
        ctype = rng.choice(list(CorrelationType))
        refs = ("r0", "r1", "r2")[: rng.randint(1, 3)]
        corr = CorrelationRule(
            info=None,  # type: ignore[arg-type]
            ctype=ctype,
            refs=refs,
            group_by=(),
            group_getters={},
            span_ms=rng.choice([1000, 5000, 60_000]),
            op=rng.choice(list(Op)),
            threshold=float(rng.randint(1, 6)),
        )
        buf: list[list[Any]] = []
        t = 0
        for k in range(rng.randint(1, 25)):
            t += rng.choice([0, 100, 700, 2000, 9000])
            value: Any = rng.choice([None, "a", "b", "c", ["a", "d"], ["e", "f", "g"]])
            buf.append([t, f"e{k:03d}", rng.randrange(len(refs)), value, "", ""])
        t_new = buf[-1][0]  # the record just appended is the latest: the shortcut applies
        assert satisfied(corr, buf, t_new) == _reference(corr, buf, t_new), trial
        t_mid = buf[rng.randrange(len(buf))][0]  # a late record: every start is tried
        assert satisfied(corr, buf, t_mid) == _reference(corr, buf, t_mid), trial


def test_group_keys_fast_path_gives_the_general_paths_groups() -> None:
    """The scalar readers decide only the all-strings case; every other shape falls through to the
    list path, so both give the same groups for any JSON value in any group-by field."""
    vocab = Vocabulary()
    names = ("userIdentity.arn", "requestParameters.bucketName", "requestParameters.key")
    getters = tuple(vocab.getter(n) for n in names)
    scalars = tuple(vocab.scalar(n) for n in names)
    shapes: list[Any] = ["a", "", "x" * (MAX_VALUE_CHARS + 40), None, 7, True, ["k1", "k2"], [], {"o": 1}, [["n"]]]
    rnd = random.Random(5)
    for _ in range(2000):
        rec: dict[str, Any] = {"userIdentity": {}, "requestParameters": {}}
        for n in names:
            top, leaf = n.split(".")
            if rnd.random() < 0.9:
                rec[top][leaf] = rnd.choice(shapes)
        if rnd.random() < 0.05:
            rec["requestParameters"] = rnd.choice([None, "text", ["list"]])
        assert group_keys(names, scalars=scalars, getters=getters, rec=rec) == group_keys(names, getters, rec), rec
    one = {"userIdentity": {"arn": "arn:aws:iam::1:user/a"}, "requestParameters": {"bucketName": "b", "key": "k"}}
    assert group_keys(names, getters, one, scalars) == [
        "userIdentity.arn=arn:aws:iam::1:user/a|requestParameters.bucketName=b|requestParameters.key=k"
    ]


def _value_count_run(recs: list[dict[str, Any]], *, forget_counts: bool) -> list[tuple[str, list[str]]]:
    eng = DetectionEngine(rules(READS + "---\n" + NAMES))
    state: dict[str, Any] = {}
    out = []
    for r in recs:
        if forget_counts:  # a buffer stored before the counts existed (or restored without them)
            for v in state.values():
                if isinstance(v, dict):
                    v.pop("v", None)
        for f in eng.process(r, state).findings:
            if f["unmapped"]["rule_kind"] == "correlation":
                out.append((f["finding_info"]["uid"], f["unmapped"]["event_ids"]))
    return out


def test_value_counts_kept_with_the_buffer_give_the_verdicts_of_a_rebuild() -> None:
    """Counts carried across records (head expiry, windows consumed, lists, out-of-order records)
    decide exactly as counts rebuilt from the buffer every time."""
    rng = random.Random(11)
    recs = []
    for i in range(1500):
        sec = i * 2 + rng.choice([0, 0, 0, 1, -30, -200])  # in order mostly, some late
        names: Any = (
            rng.choice(["/p/a", "/p/b"]) if rng.random() < 0.5 else _names(str(rng.randrange(6)), rng.randint(1, 4))
        )
        recs.append(_get(max(sec, 0), names, user=rng.choice(["mallory", "trent"])))
    kept = _value_count_run(recs, forget_counts=False)
    assert kept == _value_count_run(recs, forget_counts=True)
    assert len(kept) >= 5


def test_a_busy_group_below_the_distinct_threshold_is_never_scanned(monkeypatch: Any) -> None:
    """Thousands of records of the same few values: no window search at all (it was one per record)."""
    from cspm_stream.detect import engine as engine_module

    scans = []
    real = engine_module.satisfied
    monkeypatch.setattr(engine_module, "satisfied", lambda *a: scans.append(1) or real(*a))
    recs = [_get(i * 0.1, f"/p/{i % 3}") for i in range(5000)]
    assert _value_count_run(recs, forget_counts=False) == []
    assert scans == []
