"""The S3 log-object reader on moto server: streamed, size-capped, gzip bombs dead-lettered with the limit."""

from __future__ import annotations

import gzip
import uuid
import zlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson
import pytest
from aiobotocore.session import get_session

from cspm_stream.models.codec import decode
from cspm_stream.models.dlq import DeadLetter
from cspm_stream.sources.files import Limits
from cspm_stream.sources.notifications import ObjectRef
from cspm_stream.sources.s3_sqs import S3SqsSource
from cspm_stream.stages.base import Emit
from cspm_stream.testing import MotoServer, cloudtrail_record

pytestmark = [pytest.mark.moto, pytest.mark.timeout(60)]


class Unused:
    async def send_many(self, emits: Iterable[Emit]) -> None:  # the reader is exercised without producing
        raise AssertionError("not expected")


@pytest.fixture
async def s3(moto_server: MotoServer) -> AsyncIterator[tuple[Any, str]]:
    bucket = f"trail-{uuid.uuid4().hex[:8]}"
    moto_server.boto3_client("s3").create_bucket(Bucket=bucket)
    session = get_session()
    kw = {"region_name": "us-east-1", "endpoint_url": moto_server.endpoint_url}
    async with session.create_client("s3", **kw) as client:
        yield client, bucket


def _put(moto: MotoServer, bucket: str, key: str, body: bytes) -> ObjectRef:
    moto.boto3_client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return ObjectRef(bucket, key)


def _bomb(prefix: bytes, size: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [c.compress(prefix)]
    block = b" " * (1024 * 1024)
    parts += [c.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, c.flush()])


async def test_gzip_bomb_object_is_dead_lettered_naming_the_limit(s3: tuple[Any, str], moto_server: MotoServer) -> None:
    client, bucket = s3
    recs = [cloudtrail_record("CreateUser", event_id=f"r{i}") for i in range(2)]
    ok = _put(moto_server, bucket, "ok.json.gz", gzip.compress(orjson.dumps({"Records": recs})))
    bomb = _put(moto_server, bucket, "bomb.json.gz", _bomb(b"\n", 16 * 1024 * 1024))
    src = S3SqsSource(None, client, "q", Unused(), limits=Limits(max_file_bytes=4 * 1024 * 1024))
    good = await src._object_emits(ok, "2026-01-01T00:00:00Z", "m1")
    assert [e.topic for e in good] == ["activity", "activity"]
    (dead,) = await src._object_emits(bomb, "2026-01-01T00:00:00Z", "m2")
    assert dead.topic == "dlq"
    letter = decode(dead.value, DeadLetter)
    assert "cloudtrail.max_file_bytes" in letter.reason and "s3://" in letter.reason


async def test_object_larger_than_the_cap_is_refused_before_reading(
    s3: tuple[Any, str], moto_server: MotoServer
) -> None:
    client, bucket = s3
    big = _put(moto_server, bucket, "big.json", b" " * 300_000)
    src = S3SqsSource(None, client, "q", Unused(), limits=Limits(max_file_bytes=100_000))
    (dead,) = await src._object_emits(big, "2026-01-01T00:00:00Z", "m")
    assert "object of 300000 bytes exceeds 100000" in decode(dead.value, DeadLetter).reason


async def test_overlong_line_in_an_object_is_dead_lettered_alone(s3: tuple[Any, str], moto_server: MotoServer) -> None:
    client, bucket = s3
    lines = [orjson.dumps(cloudtrail_record("CreateUser", event_id=f"l{i}")) for i in range(2)]
    body = lines[0] + b"\n" + b'{"eventID": "' + b"x" * 50_000 + b'"}\n' + lines[1] + b"\n"
    ref = _put(moto_server, bucket, "lines.jsonl", body)
    src = S3SqsSource(None, client, "q", Unused(), limits=Limits(max_line_bytes=10_000))
    out = await src._object_emits(ref, "2026-01-01T00:00:00Z", "m")
    assert [e.topic for e in out] == ["activity", "dlq", "activity"]
    assert "cloudtrail.max_line_bytes" in decode(out[1].value, DeadLetter).reason
