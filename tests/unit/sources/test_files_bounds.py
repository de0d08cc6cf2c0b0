"""Bounded reading: decompressed size cap (gzip bombs), line length cap, multi-line documents, streaming."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import orjson

from cspm_stream.sources.files import Limits, PayloadReader, RecordError, iter_located, iter_records, split_payload
from cspm_stream.testing import cloudtrail_record

SMALL = Limits(max_file_bytes=1024 * 1024, max_line_bytes=64 * 1024)


def _lines(n: int, start: int = 0) -> bytes:
    return b"".join(orjson.dumps(cloudtrail_record("CreateUser", event_id=f"e{i}")) + b"\n" for i in range(start, n))


def _bomb(payload_prefix: bytes, zeros: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = [c.compress(payload_prefix)]
    block = b"\n" * (1024 * 1024)
    for _ in range(zeros // len(block)):
        out.append(c.compress(block))
    out.append(c.flush())
    return b"".join(out)


def test_gzip_bomb_is_refused_after_the_records_before_it(tmp_path: Path) -> None:
    bomb = _bomb(_lines(3), 8 * 1024 * 1024)  # ~8 KB compressed → 8 MB of newlines
    assert len(bomb) < 64 * 1024
    p = tmp_path / "bomb.json.gz"
    p.write_bytes(bomb)
    out = list(iter_records(p, SMALL))
    assert [o["eventID"] for o in out if isinstance(o, dict)] == ["e0", "e1", "e2"]
    (err,) = [o for o in out if isinstance(o, RecordError)]
    assert "decompressed size exceeds 1048576 bytes (cloudtrail.max_file_bytes)" in err.reason
    (err2,) = split_payload(_bomb(b"", 4 * 1024 * 1024), "s3://b/k", SMALL)
    assert isinstance(err2, RecordError) and "gzip bomb" in err2.reason


def test_plain_file_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "big.jsonl"
    p.write_bytes(_lines(3000))
    assert p.stat().st_size > SMALL.max_file_bytes
    out = list(iter_records(p, SMALL))
    assert isinstance(out[-1], RecordError) and "cloudtrail.max_file_bytes" in out[-1].reason
    assert sum(isinstance(o, dict) for o in out) > 100  # what came before the cap was read


def test_overlong_line_is_skipped_without_stopping_the_file(tmp_path: Path) -> None:
    long = b'{"eventID": "big", "x": "' + b"a" * 200_000 + b'"}\n'
    p = tmp_path / "x.jsonl"
    p.write_bytes(_lines(2) + long + _lines(4, 2))
    out = list(iter_located(p, SMALL))
    ids = [o.item["eventID"] for o in out if isinstance(o.item, dict)]
    assert ids == ["e0", "e1", "e2", "e3"]
    (err,) = [o for o in out if isinstance(o.item, RecordError)]
    assert isinstance(err.item, RecordError)
    assert err.line == 3 and "cloudtrail.max_line_bytes" in err.item.reason
    assert err.item.raw.startswith(b'{"eventID": "big"') and len(err.item.raw) <= 64 * 1024
    assert [o.line for o in out if isinstance(o.item, dict)] == [1, 2, 4, 5]


def test_long_line_split_across_chunks_and_gzip_members() -> None:
    r = PayloadReader("chunks", SMALL)
    data = _lines(5)
    got = []
    for i in range(0, len(data), 7):  # tiny chunks: lines straddle every boundary
        got += r.feed(data[i : i + 7])
    got += r.close()
    assert [g.item["eventID"] for g in got if isinstance(g.item, dict)] == [f"e{i}" for i in range(5)]
    two = gzip.compress(_lines(2)) + gzip.compress(_lines(4, 2))  # concatenated members (cat a.gz b.gz)
    assert [o["eventID"] for o in split_payload(two, "cat") if isinstance(o, dict)] == ["e0", "e1", "e2", "e3"]


def test_multiline_documents_are_bounded(tmp_path: Path) -> None:
    recs = [cloudtrail_record("CreateUser", event_id=f"e{i}") for i in range(3)]
    pretty = orjson.dumps({"Records": recs}, option=orjson.OPT_INDENT_2)
    assert [o["eventID"] for o in split_payload(pretty, "p", SMALL) if isinstance(o, dict)] == ["e0", "e1", "e2"]
    big = orjson.dumps({"Records": recs * 60}, option=orjson.OPT_INDENT_2)
    assert len(big) > SMALL.max_line_bytes
    (err,) = split_payload(big, "p", SMALL)
    assert isinstance(err, RecordError) and "multi-line document longer than" in err.reason


def test_one_line_cloudtrail_file_within_the_line_cap() -> None:
    recs = [cloudtrail_record("CreateUser", event_id=f"e{i}") for i in range(20)]
    doc = orjson.dumps({"Records": recs})
    assert len(list(split_payload(gzip.compress(doc), "s3://b/k.json.gz"))) == 20
    (err,) = split_payload(doc, "s3://b/k", Limits(max_line_bytes=len(doc) - 1))
    assert isinstance(err, RecordError) and "line longer than" in err.reason


def test_json_lines_with_a_broken_first_line_stay_json_lines(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'{"eventID": "trunc\n\n' + _lines(3))
    out = list(iter_located(p))
    assert isinstance(out[0].item, RecordError) and out[0].line == 1
    assert [(o.line, o.item["eventID"]) for o in out[1:] if isinstance(o.item, dict)] == [
        (3, "e0"),
        (4, "e1"),
        (5, "e2"),
    ]


def test_refused_records_keep_small_copies_of_their_bytes() -> None:
    """A refused record inside ``Records`` keeps its JSON for the dead letter. orjson's result held
    its ~4 KiB working buffer: 1,000,000 ``{}`` records (a 4 KB gzip object) took 4 GB before the
    first was reported, the detect CLI died with SIGSEGV under a 4 GB ulimit. Now a few dozen bytes
    each, and at most KEEP_BYTES of a huge one."""
    import tracemalloc

    from cspm_stream.sources.files import KEEP_BYTES

    payload = orjson.dumps({"Records": [{}] * 20_000 + [{"x": "a" * (2 * KEEP_BYTES)}]})
    tracemalloc.start()
    try:
        items = list(split_payload(payload, "bomb.json"))
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 20_000 * 1024, f"{held / 20_000:.0f} bytes per refused record"
    assert len(items) == 20_001 and all(isinstance(i, RecordError) for i in items)
    assert items[0].raw == b"{}" and len(items[-1].raw) == KEEP_BYTES
