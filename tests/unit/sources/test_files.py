from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from cspm_stream.sources.files import PayloadReader, RecordError, iter_many, iter_records, records_only, split_payload
from cspm_stream.testing import cloudtrail_record


def _recs(n: int) -> list[dict]:
    return [cloudtrail_record("CreateUser", event_id=f"e{i}") for i in range(n)]


def test_log_file_plain_and_gzip(tmp_path: Path) -> None:
    doc = orjson.dumps({"Records": _recs(3)})
    plain = tmp_path / "a.json"
    plain.write_bytes(doc)
    # gzip detected by magic bytes, not by name
    gz = tmp_path / "b.json"
    gz.write_bytes(gzip.compress(doc))
    assert [r["eventID"] for r in iter_records(plain)] == ["e0", "e1", "e2"]
    assert [r["eventID"] for r in iter_records(gz)] == ["e0", "e1", "e2"]


def test_json_lines_with_bad_line_yields_error(tmp_path: Path) -> None:
    recs = _recs(2)
    p = tmp_path / "x.jsonl"
    p.write_bytes(orjson.dumps(recs[0]) + b"\n\n{broken\n" + orjson.dumps(recs[1]) + b"\n[1]\n")
    out = list(iter_records(p))
    assert [o["eventID"] for o in out if isinstance(o, dict)] == ["e0", "e1"]
    errs = [o for o in out if isinstance(o, RecordError)]
    assert [(e.line, e.raw) for e in errs] == [(3, b"{broken"), (5, b"1")]
    assert errs[0].where() == f"{p}:3"
    assert "not valid JSON" in errs[0].reason
    assert "int" in errs[1].reason


def test_eventbridge_envelopes_lines_and_single() -> None:
    rec = cloudtrail_record("StopLogging", "cloudtrail.amazonaws.com", event_id="eb1")
    env = {
        "version": "0",
        "id": "11111111-2222-3333-4444-555555555555",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.cloudtrail",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": rec,
    }
    assert list(split_payload(orjson.dumps(env), "m1")) == [rec]
    two = orjson.dumps(env) + b"\n" + orjson.dumps(env)
    assert len(list(split_payload(two, "f"))) == 2
    other = dict(env, **{"detail-type": "EC2 Instance State-change Notification"})
    (err,) = split_payload(orjson.dumps(other), "m2")
    assert isinstance(err, RecordError) and "not a CloudTrail event" in err.reason


def test_record_without_event_id_and_array() -> None:
    bad = {"eventName": "X"}
    out = list(split_payload(orjson.dumps({"Records": [_recs(1)[0], bad]}), "s3://b/k"))
    assert isinstance(out[0], dict)
    assert isinstance(out[1], RecordError) and out[1].index == 1 and out[1].where() == "s3://b/k:1[Records][1]"
    assert orjson.loads(out[1].raw) == bad
    arr = list(split_payload(orjson.dumps(_recs(2)), "arr"))
    assert [r["eventID"] for r in arr] == ["e0", "e1"]


def test_corrupt_gzip_and_empty() -> None:
    (err,) = split_payload(b"\x1f\x8bnot really gzip", "s3://b/k.gz")
    assert isinstance(err, RecordError) and "corrupt gzip" in err.reason and err.raw.startswith(b"\x1f\x8b")
    assert list(split_payload(b"  \n", "empty")) == []


def test_records_only_and_iter_many(tmp_path: Path) -> None:
    a = tmp_path / "a.jsonl"
    a.write_bytes(orjson.dumps(_recs(1)[0]))
    b = tmp_path / "b.jsonl"
    b.write_bytes(b"nope")
    assert len(list(records_only(iter_records(a)))) == 1
    with pytest.raises(ValueError, match=r"b\.jsonl:1"):
        list(records_only(iter_many([a, b])))
    with pytest.raises(OSError):
        list(iter_records(tmp_path / "missing.json"))


def test_streaming_paths(tmp_path: Path) -> None:
    recs = _recs(3)
    # pretty-printed log file: first line alone is not JSON → whole-document parse
    pretty = tmp_path / "pretty.json"
    pretty.write_bytes(orjson.dumps({"Records": recs}, option=orjson.OPT_INDENT_2))
    assert [r["eventID"] for r in iter_records(pretty)] == ["e0", "e1", "e2"]
    # gzip JSON lines with leading blank lines and a bad line: line numbers are the file's
    jl = tmp_path / "x.jsonl.gz"
    jl.write_bytes(gzip.compress(b"\n\n" + orjson.dumps(recs[0]) + b"\n{bad\n" + orjson.dumps(recs[1]) + b"\n"))
    out = list(iter_records(jl))
    assert [o["eventID"] for o in out if isinstance(o, dict)] == ["e0", "e1"]
    (err,) = [o for o in out if isinstance(o, RecordError)]
    assert err.line == 4
    # broken first line, then valid lines: still JSON lines with errors per line
    bad_first = tmp_path / "b.jsonl"
    bad_first.write_bytes(b"{oops\n" + orjson.dumps(recs[2]) + b"\n")
    out = list(iter_records(bad_first))
    assert isinstance(out[0], RecordError) and out[0].line == 1 and out[1]["eventID"] == "e2"
    # truncated gzip: the records before the damage, then an error
    trunc = tmp_path / "t.jsonl.gz"
    full = gzip.compress(b"\n".join(orjson.dumps(r) for r in _recs(200)))
    trunc.write_bytes(full[: len(full) // 2])
    out = list(iter_records(trunc))
    assert isinstance(out[-1], RecordError) and "corrupt gzip" in out[-1].reason


BOM = b"\xef\xbb\xbf"


def test_a_leading_utf8_bom_loses_no_record(tmp_path: Path) -> None:
    """Editors and Windows exports start files with a BOM: the file is still read whole (was refused)."""
    doc = BOM + orjson.dumps({"Records": _recs(2)})
    lines = BOM + b"\n".join(orjson.dumps(r) for r in _recs(3)) + b"\n"
    for name, data, want in (
        ("doc.json", doc, ["e0", "e1"]),
        ("doc.json.gz", gzip.compress(doc), ["e0", "e1"]),
        ("lines.jsonl", lines, ["e0", "e1", "e2"]),
    ):
        p = tmp_path / name
        p.write_bytes(data)
        out = list(iter_records(p))
        assert [r["eventID"] for r in out if isinstance(r, dict)] == want, name
        assert not [r for r in out if isinstance(r, RecordError)], name
    # the BOM split over the first pushes of bytes, and a BOM anywhere else is not stripped
    r = PayloadReader("split")
    got = r.feed(BOM[:1]) + r.feed(BOM[1:2]) + r.feed(BOM[2:] + lines[3:]) + r.close()
    assert [g.item["eventID"] for g in got] == ["e0", "e1", "e2"]
    mid = list(split_payload(orjson.dumps(_recs(1)[0]) + b"\n" + BOM + b"{}\n", "mid"))
    assert isinstance(mid[0], dict) and isinstance(mid[1], RecordError)


@pytest.mark.parametrize("value", [7, "x", None, {"eventID": "e1"}, True])
def test_records_that_is_not_a_list_says_so(value: object) -> None:
    (err,) = split_payload(orjson.dumps({"Records": value}), "t.json")
    assert isinstance(err, RecordError)
    assert err.reason.startswith("Records is ") and err.reason.endswith("expected a list of records")
    assert "eventID" not in err.reason
