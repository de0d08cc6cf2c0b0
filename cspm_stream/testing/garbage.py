"""Mutated and garbage records for resilience tests: every one must become a dead letter.

Deterministic for a seed. None of these can decode into a valid message of any schema:
truncated JSON, wrong types, wrong encodings, random bytes, non-objects, unknown schemas,
nesting bombs and oversized fields.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import orjson

KINDS = (
    "truncated",
    "wrong-types",
    "latin1",
    "utf16",
    "random-bytes",
    "not-an-object",
    "unknown-schema",
    "nesting-bomb",
    "huge-field",
    "empty",
)


def garbage(valid_example: bytes, n: int, *, seed: int = 7, huge_every: int = 500) -> Iterator[tuple[str, bytes]]:
    """``n`` (kind, bytes) records derived from ``valid_example`` (a valid value of the topic)."""
    rnd = random.Random(seed)
    obj = orjson.loads(valid_example)
    rotation = [k for k in KINDS if k != "huge-field"]  # a huge record only every huge_every records
    for i in range(n):
        kind = rotation[i % len(rotation)] if i % huge_every else "huge-field"
        yield kind, _make(kind, obj, valid_example, rnd)


def _make(kind: str, obj: dict[str, object], valid: bytes, rnd: random.Random) -> bytes:
    if kind == "truncated":
        return valid[: rnd.randrange(1, max(2, len(valid) - 1))]
    if kind == "wrong-types":
        bad = dict(obj)
        for k in [k for k in bad if k != "schema"][:3]:
            bad[k] = rnd.choice([12345, [1, 2], {"x": 1}, True])
        if not any(k != "schema" for k in bad):
            bad["x"] = 1
        return orjson.dumps(bad)
    if kind == "latin1":
        return b'{"schema": "' + "caf\u00e9".encode("latin-1") + b'", "x": "\xe9\xff"}'
    if kind == "utf16":
        return orjson.dumps(obj).decode().encode("utf-16")
    if kind == "random-bytes":
        return bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200)))
    if kind == "not-an-object":
        return rnd.choice([b"[1,2,3]", b"42", b'"just a string"', b"null", b"true"])
    if kind == "unknown-schema":
        return orjson.dumps(dict(obj, schema=f"evil.v{rnd.randrange(99)}"))
    if kind == "nesting-bomb":
        return b"[" * 5000 + b"]" * 5000
    if kind == "huge-field":
        bad = dict(obj)
        bad["schema"] = 7  # a huge record that is also invalid
        bad["pad"] = "A" * 900_000
        return orjson.dumps(bad)
    if kind == "empty":
        return b""
    raise ValueError(kind)
