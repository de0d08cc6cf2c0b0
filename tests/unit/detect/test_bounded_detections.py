"""Bounded detections: record text is capped with a visible marker; no detection exceeds the topic's limit."""

from __future__ import annotations

import orjson
import pytest

from cspm_stream.detect.bounded import MAX_DETECTION_BYTES, clip, detection_bytes
from cspm_stream.detect.engine import DetectionEngine, EngineConfig
from cspm_stream.models import ActivityRecord
from cspm_stream.models.codec import dumps
from cspm_stream.models.enums import ActivitySource
from cspm_stream.stages.base import RecordMeta
from cspm_stream.stages.detect import DetectHandler
from cspm_stream.testing.ocsf_models import ocsf_errors
from cspm_stream.topics import BY_NAME
from tests.unit.detect.helpers import ev, rule

MB = 1024 * 1024
ANY_IAM = rule(
    """
    sel:
        eventSource: iam.amazonaws.com
    condition: sel
"""
)


def test_clip_keeps_short_text_and_marks_what_it_cuts() -> None:
    assert clip("abc", 256) == "abc"
    assert clip("x" * 256, 256) == "x" * 256
    cut = clip("a" * 1000 + "b" * 1000, 256)
    assert len(cut) <= 256 and cut.startswith("aaaa")
    kept = len(cut) - len(cut[cut.index("…") :])
    assert cut.endswith(f"…[+{2000 - kept} chars truncated]")
    for n in range(250, 1300):  # never over the limit, whatever the count's digits
        assert len(clip("x" * n, 256)) <= 256


def hostile(i: int, big: str, resources: int = 300) -> dict[str, object]:
    rec = ev("ListUsers", event_id=f"e{i}-{big}", user_agent=big, source_ip=big)
    rec["userIdentity"]["arn"] = big
    rec["userIdentity"]["userName"] = big
    rec["userIdentity"]["accessKeyId"] = big
    rec["resources"] = [{"ARN": f"{j}{big}", "type": big} for j in range(resources)]
    return rec


def test_megabyte_fields_yield_a_small_marked_detection() -> None:
    big = "Z" * MB
    eng = DetectionEngine(ANY_IAM, EngineConfig(update_interval_s=0))
    out = []
    state: dict[str, object] = {}
    for i in range(5):
        out.extend(eng.process(hostile(i, big), state).findings)
    f = out[-1]
    assert ocsf_errors(f) == []
    size = len(dumps(f))
    assert size < 600 * 1024, size  # 5 evidences, 100 resources, actor: all text ≤ 2,048 characters
    for s in (
        f["actor"]["user"]["uid"],
        f["actor"]["user"]["credential_uid"],
        f["src_endpoint"]["ip"],
        f["http_request"]["user_agent"],
        f["resources"][0]["uid"],
        f["evidences"][0]["data"]["event_id"],
        f["unmapped"]["event_ids"][0],
    ):
        assert len(s) <= 2048 and s.endswith("chars truncated]"), s[-40:]
    assert len(f["resources"]) == 100  # at most 100 of the 300 the record lists


def test_the_limit_is_the_setting() -> None:
    big = "Q" * MB
    eng = DetectionEngine(ANY_IAM, EngineConfig(max_text_chars=300))
    (f,) = eng.process(hostile(0, big), {}).findings
    assert len(f["http_request"]["user_agent"]) <= 300 and len(f["evidences"][0]["data"]["event_id"]) <= 300


def test_the_last_guard_keeps_any_detection_under_the_topic_limit() -> None:
    # a loose configuration: 64 Ki characters per text and 10,000 evidences (64 MB of evidence)
    ev_text = "E" * 65536
    f = {
        "class_uid": 2004,
        "evidences": [{"data": {"event_id": f"{i}{ev_text}", "event_name": ev_text}} for i in range(500)],
        "resources": [{"uid": ev_text, "type": "t"} for _ in range(100)],
        "unmapped": {"event_ids": [f"{i}{ev_text}" for i in range(500)], "evidence_truncated": 3},
    }
    data = detection_bytes(f)
    assert len(data) <= MAX_DETECTION_BYTES < BY_NAME["detections"].max_message_bytes
    out = orjson.loads(data)
    kept = len(out["evidences"])
    assert 0 < kept < 500 and len(out["unmapped"]["event_ids"]) == kept
    assert out["unmapped"]["evidence_truncated"] == 3 + 500 - kept
    assert out["unmapped"]["oversize_bytes"] > MAX_DETECTION_BYTES
    assert out["evidences"][0]["data"]["event_id"].startswith("0E")  # the first evidences are kept
    assert len(out["resources"]) == 10 and out["unmapped"]["resources_truncated"] == 90
    assert len(f["evidences"]) == 500  # the caller's finding is not modified


@pytest.mark.parametrize("n", [1, 3])
def test_the_guard_falls_back_to_clipping_everything(n: int) -> None:
    f = {"class_uid": 2004, "unmapped": {"x": ["y" * (3 * MB)] * n}, "evidences": []}
    data = detection_bytes(f, max_bytes=MB)
    assert len(data) <= MB
    assert orjson.loads(data)["unmapped"]["x"][0].endswith("chars truncated]")


async def test_the_stage_emits_no_detection_above_the_topic_limit() -> None:
    big = "W" * (350 * 1024)  # an activity record is at most 4 MiB: about 2.8 MB of hostile text
    handler = DetectHandler(DetectionEngine(ANY_IAM, EngineConfig(max_text_chars=65536, update_interval_s=0)))
    state: dict[str, object] = {}
    sizes = []
    for i in range(60):
        rec = hostile(i, big, resources=1)
        act = ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, "2026-01-01T00:00:00.000Z")
        emits = await handler.handle(None, dumps(act), RecordMeta("activity", 0, i), state)
        sizes += [len(e.value or b"") for e in emits if e.topic == "detections"]
    assert len(sizes) == 60
    assert max(sizes) <= BY_NAME["detections"].max_message_bytes - 64 * 1024
    assert max(sizes) > 3 * MB  # the guard really had work to do
