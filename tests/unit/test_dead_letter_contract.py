"""The dead-letter contract, stage by stage: each stage refuses what it cannot read on every topic it reads.

A stage never relies on another stage to report garbage (the other may run in another role, or not
at all): every stage of the role table, handed mutated and garbage records of each of its input
topics, raises :class:`~cspm_stream.errors.DecodeError` — the refusal the runtime turns into a dead
letter with the reason — and never a bare ``TypeError``/``KeyError`` or, worse, a silent skip.
The same records go through the real broker in ``tests/integration/test_resilience.py``.
"""

from __future__ import annotations

import collections
import zlib

import pytest

from cspm_stream.app import build_role, role_context
from cspm_stream.errors import DecodeError
from cspm_stream.settings import Settings, load
from cspm_stream.stages.base import RecordMeta, StageParts
from cspm_stream.testing.garbage import KINDS, garbage
from tests.integration.resilience_util import valid_examples

PER_TOPIC = 200


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load(environ={})


@pytest.fixture(scope="module")
def stages(settings: Settings) -> list[StageParts]:
    return build_role(role_context(settings, environ={}), "all")


def test_every_input_topic_has_a_valid_example(stages: list[StageParts]) -> None:
    inputs = {t for p in stages for t in p.handler.inputs}
    assert inputs <= set(valid_examples()), f"no example for {sorted(inputs - set(valid_examples()))}"


async def test_every_stage_refuses_garbage_on_every_input(settings: Settings, stages: list[StageParts]) -> None:
    examples = valid_examples()
    not_refused: dict[tuple[str, str], collections.Counter[str]] = {}
    for parts in stages:
        handler = parts.handler
        for topic in handler.inputs:
            meta = RecordMeta(settings.kafka.topic(topic), 0, 0)
            seed = zlib.crc32(topic.encode()) & 0xFFFF
            kinds = collections.Counter[str]()
            for kind, raw in garbage(examples[topic], PER_TOPIC, seed=seed, huge_every=50):
                try:
                    await handler.handle(b"k", raw, meta, {})
                except DecodeError as exc:
                    assert str(exc), (handler.name, topic, kind)  # the reason the dead letter carries
                    continue
                except Exception as exc:  # dead-lettered too, but without a reason worth reading
                    kinds[f"{kind}: {type(exc).__name__}"] += 1
                    continue
                kinds[f"{kind}: accepted"] += 1
            if kinds:
                not_refused[handler.name, topic] = kinds
    assert not not_refused, not_refused


def test_the_garbage_covers_every_kind() -> None:
    made = {kind for kind, _ in garbage(valid_examples()["activity"], PER_TOPIC, huge_every=50)}
    assert made == set(KINDS)
