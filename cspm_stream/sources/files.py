"""Split CloudTrail payloads into records: log files, JSON lines, EventBridge envelopes — with bounded memory.

Accepted shapes (gzip or not, detected by the magic bytes ``1f 8b``, never by the name):

- a CloudTrail log file: ``{"Records": [record, ...]}`` (what CloudTrail writes to S3: one line);
- JSON lines: one record per line, or one EventBridge envelope per line, or one
  ``{"Records": [...]}`` document per line (blank lines are skipped);
- a JSON array of records, or any of the above pretty-printed over several lines;
- an EventBridge event ``{"detail-type": "AWS API Call via CloudTrail", "detail": record, ...}``
  (any ``detail-type`` ending in ``via CloudTrail``): the record is ``detail``.

Everything is read as a stream (:class:`PayloadReader`: bytes in, records out), decompressed
incrementally, and bounded by :class:`Limits` (settings ``cloudtrail.max_file_bytes`` and
``cloudtrail.max_line_bytes``):

- more than ``max_file_bytes`` of decompressed data (a gzip bomb, a runaway export) stops
  the payload with one :class:`RecordError` naming the limit, after the records read so far;
- a line longer than ``max_line_bytes`` is skipped without being held in memory (a
  :class:`RecordError` for that line, its first bytes kept), and the next lines are read;
- a document spread over several lines (pretty-printed) is parsed whole, so it may be at
  most ``max_line_bytes`` long.

Memory is therefore about ``max_line_bytes`` (plus the parsed records of one line) whatever
the input. Errors are data, not exceptions: a :class:`RecordError` for every line or record
that cannot be used (not JSON, not an object, no ``eventID``, too long), naming the file, the
line (1-based) and/or the index in ``Records``, the reason, and the original bytes (a bounded
prefix for oversized input), so the caller can write a dead letter and carry on. Only a file
that cannot be opened raises ``OSError``.

>>> list(split_payload(b'{"Records": [{"eventID": "e1", "eventName": "GetObject"}]}', "x.json"))
[{'eventID': 'e1', 'eventName': 'GetObject'}]
>>> err, = split_payload(b'not json', "x.jsonl")
>>> (err.where(), err.reason[:12])
('x.jsonl:1', 'not valid JS')
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

GZIP_MAGIC = b"\x1f\x8b"
#: bytes kept of oversized or undecodable input for its dead letter
KEEP_BYTES = 64 * 1024
#: decompressed bytes produced per zlib call (bounds the transient buffer)
_OUT = 1024 * 1024
_READ = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on one payload (file, S3 object, message): see the module doc."""

    max_file_bytes: int = 512 * 1024**2
    max_line_bytes: int = 64 * 1024**2

    @classmethod
    def from_settings(cls, ct: Any) -> Limits:
        return cls(int(ct.max_file_bytes), int(ct.max_line_bytes))


#: Upper bound on a decompressed payload by default (``cloudtrail.max_file_bytes``).
MAX_DECOMPRESSED_BYTES = Limits().max_file_bytes


@dataclass(frozen=True, slots=True)
class RecordError:
    """A line or record that could not be turned into a CloudTrail record.

    ``raw`` holds the exact bytes of the offending line/record (a prefix of at most
    :data:`KEEP_BYTES` for oversized input), for the dead-letter topic.
    """

    source: str
    reason: str
    raw: bytes
    line: int | None = None
    index: int | None = None

    def where(self) -> str:
        if self.line is not None and self.index is not None:
            return f"{self.source}:{self.line}[Records][{self.index}]"
        if self.line is not None:
            return f"{self.source}:{self.line}"
        if self.index is not None:
            return f"{self.source}[Records][{self.index}]"
        return self.source


Item = dict[str, Any] | RecordError


class Located:
    """A record (or error) with where it was: line (JSON lines) and index in ``Records``.

    A plain slotted class (one is made per record: a frozen dataclass costs a microsecond more).
    """

    __slots__ = ("index", "item", "line", "source")

    def __init__(self, item: Item, source: str, line: int | None = None, index: int | None = None) -> None:
        self.item = item
        self.source = source
        self.line = line
        self.index = index

    def __repr__(self) -> str:
        return f"Located({self.where()}: {self.item!r})"

    def where(self) -> str:
        return RecordError(self.source, "", b"", self.line, self.index).where()


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


def decompress(data: bytes, source: str = "<payload>", limit: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """Gunzip ``data`` if it starts with the gzip magic bytes (at most ``limit`` bytes out); else return it.

    Raises ValueError naming ``source`` on a corrupt or oversized gzip stream.
    """
    if not is_gzip(data):
        return data
    out = bytearray()
    for piece in _Gunzip(source, limit).feed(data, final=True):
        out += piece
    return bytes(out)


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


class _Gunzip:
    """Incremental gzip (multi-member) with a cap on the output; raises ValueError."""

    def __init__(self, source: str, limit: int) -> None:
        self.source = source
        self.limit = limit
        self.total = 0
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, *, final: bool = False) -> Iterator[bytes]:
        while data:
            try:
                out = self._d.decompress(data, _OUT)
            except zlib.error as exc:
                raise ValueError(f"{self.source}: corrupt gzip data: {exc}") from None
            data = self._d.unconsumed_tail
            if out:
                self.total += len(out)
                if self.total > self.limit:
                    raise ValueError(
                        f"{self.source}: decompressed size exceeds {self.limit} bytes (cloudtrail.max_file_bytes):"
                        " refused (a gzip bomb, or raise the limit)"
                    )
                yield out
            if self._d.eof:
                rest = self._d.unused_data
                if rest.strip(b"\x00"):  # another gzip member follows (concatenated files)
                    self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    data = rest
        if final and not self._d.eof:
            raise ValueError(f"{self.source}: corrupt gzip data: the stream ends early (truncated file?)")


class PayloadReader:
    """Push bytes in (:meth:`feed`, then :meth:`close`), get :class:`Located` records out. Bounded by ``limits``."""

    def __init__(self, source: str, limits: Limits | None = None) -> None:
        self.source = source
        self.limits = limits or Limits()
        self._gz: _Gunzip | None = None
        self._started = False
        self._head = bytearray()  # first compressed bytes, for a corrupt-gzip dead letter
        self._plain = 0  # plain (non-gzip) bytes seen
        self._failed = False
        self._buf = bytearray()  # the current partial line
        self._skip: int | None = None  # line number being skipped (too long), bytes dropped until newline
        self._skip_head = b""
        self._line = 0
        self._mode = ""  # "" undecided, "lines", "doc"
        self._pending: tuple[int, bytes] | None = None  # an invalid first line awaiting the second
        self._doc = bytearray()
        self._doc_line = 0
        self._lead: bytes | None = b""  # the text's first bytes until a UTF-8 BOM is ruled out (None: done)

    # ------------------------------------------------------------------ input
    def feed(self, data: bytes) -> list[Located]:
        out: list[Located] = []
        if self._failed or not data:
            return out
        if not self._started:
            self._started = True
            if is_gzip(data):
                self._gz = _Gunzip(self.source, self.limits.max_file_bytes)
        try:
            if self._gz is not None:
                if len(self._head) < KEEP_BYTES:
                    self._head += data[: KEEP_BYTES - len(self._head)]
                for piece in self._gz.feed(data):
                    self._text(piece, out)
            else:
                self._plain += len(data)
                if self._plain > self.limits.max_file_bytes:
                    raise ValueError(
                        f"{self.source}: size exceeds {self.limits.max_file_bytes} bytes (cloudtrail.max_file_bytes)"
                    )
                self._text(data, out)
        except ValueError as exc:
            self._fail(str(exc), out)
        return out

    @property
    def failed(self) -> bool:
        """The payload was refused (too big, corrupt): further input is ignored."""
        return self._failed

    def close(self) -> list[Located]:
        out: list[Located] = []
        if self._failed:
            return out
        if self._gz is not None:
            try:
                for piece in self._gz.feed(b"", final=True):
                    self._text(piece, out)
            except ValueError as exc:
                self._fail(str(exc), out)
                return out
        if self._buf or self._skip is not None:
            self._end_line(out)
        if self._pending is not None:
            self._mode = "lines"
            n, raw = self._pending
            self._pending = None
            self._parse_line(n, raw, out)
        if self._mode == "doc":
            self._parse_doc(out)
        return out

    def _fail(self, reason: str, out: list[Located]) -> None:
        self._failed = True
        raw = bytes(self._head) if self._gz is not None and self._gz.total == 0 else b""
        out.append(Located(RecordError(self.source, reason, raw), self.source))

    # ------------------------------------------------------------------ lines
    def _text(self, data: bytes, out: list[Located]) -> None:
        if self._lead is not None:  # a leading UTF-8 BOM (editors, Windows exports) is not part of the JSON
            data = self._lead + data
            if len(data) < len(_BOM) and _BOM.startswith(data):
                self._lead = data
                return
            self._lead = None
            if data.startswith(_BOM):
                data = data[len(_BOM) :]
        limit = self.limits.max_line_bytes
        pieces = data.split(b"\n")
        tail = pieces.pop()  # the start of a line that continues in the next chunk (may be empty)
        source = self.source
        loads = orjson.loads
        append = out.append
        # the common case, inlined: JSON lines, no line carried over or being skipped (the line number
        # lives in a local; the state is read again after any line that takes the general path)
        fast = self._mode == "lines" and self._skip is None and not self._buf
        n = self._line
        for piece in pieces:  # each completes a line
            if fast and len(piece) <= limit:
                n += 1
                try:
                    obj = loads(piece)  # orjson skips surrounding whitespace
                except orjson.JSONDecodeError:
                    if piece.strip():
                        self._line = n - 1
                        self._end_line(out, piece)
                    continue
                if obj.__class__ is dict and "Records" not in obj and "detail-type" not in obj:
                    eid = obj.get("eventID")
                    if eid.__class__ is str and eid:
                        append(Located(obj, source, n))
                        continue
                _from_object(obj, source, piece.strip(), n, out)
                continue
            self._line = n
            if self._skip is None:
                if self._buf:
                    if len(self._buf) + len(piece) > limit:
                        self._start_skip(piece)
                    else:
                        self._buf += piece
                        piece = bytes(self._buf)
                        self._buf = bytearray()
                elif len(piece) > limit:
                    self._start_skip(piece)
            self._end_line(out, piece)
            if self._failed:
                return
            n = self._line
            fast = self._mode == "lines" and self._skip is None and not self._buf
        self._line = n
        if self._skip is None:
            if len(self._buf) + len(tail) > limit:
                self._start_skip(tail)
            else:
                self._buf += tail

    def _start_skip(self, piece: bytes) -> None:
        self._skip = self._line + 1
        head = bytes(self._buf[:KEEP_BYTES])
        self._skip_head = head + piece[: KEEP_BYTES - len(head)]
        self._buf = bytearray()

    def _end_line(self, out: list[Located], raw: bytes | None = None) -> None:
        """One line ended: ``raw`` is the whole line (None: it is what ``_buf`` holds)."""
        self._line += 1
        if self._skip is not None:
            self._skip = None
            why = (
                f"line longer than {self.limits.max_line_bytes} bytes (cloudtrail.max_line_bytes): skipped,"
                f" first {len(self._skip_head)} bytes kept"
            )
            if self._mode == "doc":
                self._mode = "lines"
                out.append(Located(RecordError(self.source, "document " + why, self._skip_head), self.source))
                self._failed = True
                return
            out.append(
                Located(RecordError(self.source, why, self._skip_head, line=self._line), self.source, self._line)
            )
            return
        if raw is None:
            raw = bytes(self._buf)
            self._buf = bytearray()
        if self._mode == "doc":
            if len(self._doc) + len(raw) + 1 > self.limits.max_line_bytes:
                self._failed = True
                out.append(
                    Located(
                        RecordError(
                            self.source,
                            f"multi-line document longer than {self.limits.max_line_bytes} bytes"
                            " (cloudtrail.max_line_bytes): refused (write it as one line or as JSON lines)",
                            bytes(self._doc[:KEEP_BYTES]),
                        ),
                        self.source,
                    )
                )
                self._doc = bytearray()
                return
            self._doc += raw + b"\n"
            return
        line = raw.strip()
        if not line:
            return
        if self._mode == "lines":
            self._parse_line(self._line, line, out)
            return
        # undecided: JSON lines if the first non-empty line is a JSON value (or the second is,
        # after a broken first line); otherwise one document spread over lines
        obj = _loads(line)
        if self._pending is None:
            if obj is not _BAD:
                self._mode = "lines"
                _from_object(obj, self.source, line, self._line, out)
            else:
                self._pending = (self._line, line)
            return
        first_n, first = self._pending
        self._pending = None
        if line[:1] in (b"{", b"[") and obj is not _BAD:
            self._mode = "lines"
            self._parse_line(first_n, first, out)
            _from_object(obj, self.source, line, self._line, out)
            return
        self._mode = "doc"
        self._doc_line = first_n
        self._doc = bytearray(first + b"\n" * (self._line - first_n) + raw + b"\n")

    def _parse_line(self, n: int, line: bytes, out: list[Located]) -> None:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            out.append(Located(RecordError(self.source, f"not valid JSON: {exc}", line, line=n), self.source, n))
            return
        _from_object(obj, self.source, line, n, out)

    def _parse_doc(self, out: list[Located]) -> None:
        body = bytes(self._doc)
        self._doc = bytearray()
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            # not one document after all: JSON lines with errors, numbered as in the file
            for i, raw in enumerate(body.split(b"\n")):
                if raw.strip():
                    self._parse_line(self._doc_line + i, raw.strip(), out)
            return
        _from_object(doc, self.source, body, None, out)


_BAD: Any = object()
_BOM = b"\xef\xbb\xbf"
_KINDS = {dict: "an object", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def _json_kind(v: Any) -> str:
    return "null" if v is None else _KINDS.get(type(v), type(v).__name__)


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return _BAD


def _from_object(obj: Any, source: str, raw: bytes, line: int | None, out: list[Located]) -> None:
    """Records of one parsed JSON value (a document, or one line)."""
    if isinstance(obj, dict) and "Records" in obj:
        recs = obj["Records"]
        if isinstance(recs, list):
            for i, rec in enumerate(recs):
                out.append(_one(rec, source, line, i))
            return
        why = f"Records is {_json_kind(recs)}, expected a list of records"
        out.append(Located(RecordError(source, why, raw[:KEEP_BYTES], line=line), source, line))
        return
    if isinstance(obj, list):
        for i, rec in enumerate(obj):
            out.append(_one(rec, source, line, i))
        return
    if isinstance(obj, dict) and "detail-type" in obj:
        if not is_cloudtrail_envelope(obj):
            kind = obj.get("detail-type")
            why = f"EventBridge event of detail-type {str(kind)[:200]!r} is not a CloudTrail event"
            out.append(Located(RecordError(source, why, raw[:KEEP_BYTES], line=line), source, line))
            return
        obj = obj["detail"]
    problem = _check_record(obj)
    if problem:
        out.append(Located(RecordError(source, problem, raw[:KEEP_BYTES], line=line), source, line))
    else:
        out.append(Located(obj, source, line))


def _one(rec: Any, source: str, line: int | None, index: int) -> Located:
    if isinstance(rec, dict) and is_cloudtrail_envelope(rec):
        rec = rec["detail"]
    problem = _check_record(rec)
    if problem:
        return Located(RecordError(source, problem, _kept(rec), line=line, index=index), source, line, index)
    return Located(rec, source, line, index)


def _kept(rec: Any) -> bytes:
    """The record's JSON for its dead letter: at most :data:`KEEP_BYTES`, in a copy of its own size.

    orjson's result keeps its ~4 KiB working buffer: a file of 1,000,000 refused ``{}`` records
    (4 MB, 4 KB gzipped) held 4 GB of them before the first was reported."""
    return bytes(memoryview(orjson.dumps(rec))[:KEEP_BYTES])


# ---------------------------------------------------------------------- entry points


def split_payload(data: bytes, source: str = "<payload>", limits: Limits | None = None) -> Iterator[Item]:
    """Records (dicts) and :class:`RecordError` items of one payload held in memory, in order.

    ``source`` names the payload in errors (a path, ``s3://bucket/key``, an SQS message id).
    """
    r = PayloadReader(source, limits)
    view = memoryview(data)
    for i in range(0, len(data), _READ):
        for loc in r.feed(bytes(view[i : i + _READ])):
            yield loc.item
    for loc in r.close():
        yield loc.item


def iter_located(path: str | Path, limits: Limits | None = None) -> Iterator[Located]:
    """Records of one file with their position (see the module docstring). Raises ``OSError`` if unreadable."""
    for batch in iter_located_batches(path, limits):
        yield from batch


def iter_located_batches(path: str | Path, limits: Limits | None = None) -> Iterator[list[Located]]:
    """:func:`iter_located` a read at a time (a list per chunk read; a bulk consumer saves a
    generator step per record). Raises ``OSError`` if unreadable."""
    p = Path(path)
    r = PayloadReader(str(p), limits)
    with p.open("rb") as fh:
        while chunk := fh.read(_READ):
            out = r.feed(chunk)
            if out:
                yield out
            if r.failed:
                return
    out = r.close()
    if out:
        yield out


def iter_records(path: str | Path, limits: Limits | None = None) -> Iterator[Item]:
    """Records of one file (see the module docstring), with a RecordError per bad line/record.

    Streams in constant memory (bounded by ``limits``). The caller decides what to do with
    errors: the ``detect`` command reports them and the sources send them to the dead-letter
    topic. Raises ``OSError`` if the file cannot be opened.
    """
    for loc in iter_located(path, limits):
        yield loc.item


def iter_many(paths: Iterable[str | Path], limits: Limits | None = None) -> Iterator[Item]:
    """:func:`iter_records` over several files, in order."""
    for p in paths:
        yield from iter_records(p, limits)


def records_only(items: Iterable[Item]) -> Iterator[dict[str, Any]]:
    """Drop-in for callers that want dicts and to fail loudly on the first bad item."""
    for it in items:
        if isinstance(it, RecordError):
            raise ValueError(f"{it.where()}: {it.reason}")
        yield it
