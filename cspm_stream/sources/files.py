"""Split CloudTrail payloads into records: log files, JSON lines, EventBridge envelopes.

Accepted shapes (gzip or not, detected by the magic bytes ``1f 8b``, never by the name):

- a CloudTrail log file: ``{"Records": [record, ...]}`` (what CloudTrail writes to S3);
- JSON lines: one record per line, or one EventBridge envelope per line, or one
  ``{"Records": [...]}`` document per line (blank lines are skipped);
- a JSON array of records;
- an EventBridge event ``{"detail-type": "AWS API Call via CloudTrail", "detail": record, ...}``
  (any ``detail-type`` ending in ``via CloudTrail``): the record is ``detail``.

Errors are data, not exceptions: the iterators yield a :class:`RecordError` for every
line or record that cannot be used (not JSON, not an object, no ``eventID``), naming the
file, the line (1-based, for JSON lines) or the index in ``Records``, the reason, and the
original bytes, so the caller can write a dead letter and carry on with the rest. Only a
file that cannot be read at all (missing, permission) raises ``OSError``.

>>> list(split_payload(b'{"Records": [{"eventID": "e1", "eventName": "GetObject"}]}', "x.json"))
[{'eventID': 'e1', 'eventName': 'GetObject'}]
>>> err, = split_payload(b'not json', "x.jsonl")
>>> (err.where(), err.reason[:12])
('x.jsonl:1', 'not valid JS')
"""

from __future__ import annotations

import gzip
import itertools
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import orjson

GZIP_MAGIC = b"\x1f\x8b"

#: Upper bound on a decompressed payload (CloudTrail log files are a few MiB at most).
MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RecordError:
    """A line or record that could not be turned into a CloudTrail record.

    ``raw`` holds the exact bytes of the offending line/record (or of the whole
    payload when it could not be read at all), for the dead-letter topic.
    """

    source: str
    reason: str
    raw: bytes
    line: int | None = None
    index: int | None = None

    def where(self) -> str:
        if self.line is not None:
            return f"{self.source}:{self.line}"
        if self.index is not None:
            return f"{self.source}[Records][{self.index}]"
        return self.source


Item = dict[str, Any] | RecordError


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


def decompress(data: bytes, source: str = "<payload>") -> bytes:
    """Gunzip ``data`` if it starts with the gzip magic bytes; otherwise return it unchanged.

    Raises ValueError naming ``source`` on a corrupt or oversized gzip stream.
    """
    if not is_gzip(data):
        return data
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(data, MAX_DECOMPRESSED_BYTES)
        if d.unconsumed_tail:
            raise ValueError(f"{source}: decompressed size exceeds {MAX_DECOMPRESSED_BYTES} bytes")
        out += d.flush()
    except (zlib.error, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"{source}: corrupt gzip data: {exc}") from None
    return out


def is_cloudtrail_envelope(obj: dict[str, Any]) -> bool:
    """True for an EventBridge event that carries a CloudTrail record in ``detail``."""
    dt = obj.get("detail-type")
    return isinstance(dt, str) and dt.endswith("via CloudTrail") and isinstance(obj.get("detail"), dict)


def _check_record(rec: Any) -> str | None:
    if not isinstance(rec, dict):
        return f"record is a {type(rec).__name__}, expected an object"
    eid = rec.get("eventID")
    if not isinstance(eid, str) or not eid:
        return "record has no eventID"
    return None


def _from_object(obj: Any, source: str, raw: bytes, line: int | None) -> Iterator[Item]:
    """Records of one parsed JSON value (a document, or one line)."""
    if isinstance(obj, dict) and isinstance(obj.get("Records"), list):
        for i, rec in enumerate(obj["Records"]):
            yield from _one(rec, source, line=line, index=i)
        return
    if isinstance(obj, list):
        for i, rec in enumerate(obj):
            yield from _one(rec, source, line=line, index=i)
        return
    if isinstance(obj, dict) and "detail-type" in obj:
        if not is_cloudtrail_envelope(obj):
            kind = obj.get("detail-type")
            why = f"EventBridge event of detail-type {kind!r} is not a CloudTrail event"
            yield RecordError(source, why, raw, line=line)
            return
        obj = obj["detail"]
    problem = _check_record(obj)
    if problem:
        yield RecordError(source, problem, raw, line=line)
    else:
        yield obj


def _one(rec: Any, source: str, *, line: int | None, index: int) -> Iterator[Item]:
    if isinstance(rec, dict) and is_cloudtrail_envelope(rec):
        rec = rec["detail"]
    problem = _check_record(rec)
    if problem:
        yield RecordError(source, problem, orjson.dumps(rec), line=line, index=index)
    else:
        yield rec


def split_payload(data: bytes, source: str = "<payload>") -> Iterator[Item]:
    """Records (dicts) and :class:`RecordError` items of one payload, in order.

    ``source`` names the payload in errors (a path, ``s3://bucket/key``, an SQS message id).
    """
    try:
        text = decompress(data, source)
    except ValueError as exc:
        yield RecordError(source, str(exc), data)
        return
    body = text.strip()
    if not body:
        return
    if body[:1] in (b"{", b"["):
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            doc = None  # not one document: fall through to JSON lines
        else:
            yield from _from_object(doc, source, body, None)
            return
    yield from _lines(text.splitlines(), source)


def _lines(lines: Iterable[bytes], source: str, first_line: int = 1) -> Iterator[Item]:
    for n, raw in enumerate(lines, start=first_line):
        line = raw.strip()
        if not line:
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield RecordError(source, f"not valid JSON: {exc}", bytes(line), line=n)
            continue
        yield from _from_object(obj, source, bytes(line), n)


def iter_records(path: str | Path) -> Iterator[Item]:
    """Records of one file (see the module docstring), with a RecordError per bad line/record.

    Streams: a JSON-lines file (first non-empty line is a complete JSON value) is read
    line by line, so backfill files of any size use constant memory; otherwise (a
    pretty-printed log file) the whole document is parsed. A corrupt gzip stream yields
    a RecordError after the records read so far. The caller decides what to do with
    errors: the ``detect`` command reports them and the sources send them to the
    dead-letter topic. Raises ``OSError`` if the file cannot be opened.
    """
    p = Path(path)
    source = str(p)
    with p.open("rb") as fh:
        gz = fh.read(2) == GZIP_MAGIC
    fh2 = cast(IO[bytes], gzip.open(p, "rb") if gz else p.open("rb"))
    with fh2:
        try:
            yield from _stream(fh2, source)
        except (OSError, EOFError, zlib.error) as exc:
            if not gz:
                raise
            yield RecordError(source, f"corrupt gzip data: {exc}", b"")


def _stream(fh: IO[bytes], source: str) -> Iterator[Item]:
    n = 0
    first = b""
    for n, raw in enumerate(fh, start=1):  # noqa: B007 - n is the first non-empty line number
        if raw.strip():
            first = raw
            break
    if not first:
        return
    try:
        orjson.loads(first.strip())
    except orjson.JSONDecodeError:
        # a multi-line document (pretty-printed log file) or a bad first line: parse it whole
        rest = first + fh.read()
        if n > 1:
            rest = b"\n" * (n - 1) + rest  # keep line numbers right for the JSON-lines fallback
        yield from split_payload(rest, source)
        return
    yield from _lines(itertools.chain([first], fh), source, first_line=n)


def iter_many(paths: Iterable[str | Path]) -> Iterator[Item]:
    """:func:`iter_records` over several files, in order."""
    for p in paths:
        yield from iter_records(p)


def records_only(items: Iterable[Item]) -> Iterator[dict[str, Any]]:
    """Drop-in for callers that want dicts and to fail loudly on the first bad item."""
    for it in items:
        if isinstance(it, RecordError):
            raise ValueError(f"{it.where()}: {it.reason}")
        yield it
