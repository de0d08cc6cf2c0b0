"""The context stage's timings are settings (``context.*``): validated, and the stage honours them."""

from __future__ import annotations

import math

import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.app import build_role, role_context
from cspm_stream.errors import ConfigError
from cspm_stream.iamgraph.synthetic import allow, doc, user
from cspm_stream.models.codec import dumps
from cspm_stream.stages.base import RecordMeta
from cspm_stream.stages.context import build_handler
from cspm_stream.stages.context_input import ContextInput, Ticker

from .helpers import ACCOUNT, Clock, findings


def test_defaults_are_the_documented_ones() -> None:
    c = settings_mod.load(environ={}).context
    assert (c.tick_s, c.settle_s, c.max_wait_s) == (5.0, 5.0, 900.0)


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"settle_s": 60, "max_wait_s": 30}, "context.max_wait_s"),
        ({"tick_s": 0}, "context.tick_s"),
        ({"tick_s": math.inf}, "context.tick_s"),
        ({"settle_s": -1}, "context.settle_s"),
        ({"max_wait_s": "soon"}, "context.max_wait_s"),
        ({"settle": 5}, "context.settle"),
    ],
)
def test_bad_timings_fail_at_start_naming_the_key(section: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as e:
        settings_mod.load(data={"context": section}, environ={})
    assert key in str(e.value)


def test_environment_overrides_a_timing() -> None:
    s = settings_mod.load(environ={"CSPM_CONTEXT_SETTLE_S": "12.5"})
    assert s.context.settle_s == 12.5


async def test_the_stage_waits_as_configured() -> None:
    """settle_s 30 and max_wait_s 60: a full scan's IAM change is analysed neither before it settled
    nor, while its scan is still running, before max_wait_s — and then without the scan's end."""
    s = settings_mod.load(data={"context": {"settle_s": 30, "max_wait_s": 60}}, environ={})
    clock = Clock()
    handler = build_handler(s, clock=clock)
    state: dict[str, object] = {}

    async def send(msg: ContextInput) -> list[dict[str, object]]:
        return findings(await handler.handle(None, dumps(msg), RecordMeta("context", 0, 0), state))

    alice = user("alice", inline=[doc(allow("s3:GetObject"))])
    fact = ContextInput(
        kind="resource", account_id=ACCOUNT, arn=alice.arn, resource_type=alice.resource_type, scan_id="scan-1"
    )
    assert await send(fact) == []
    clock.t += 20
    assert await send(ContextInput(kind="tick")) == []  # 20 s: not settled (30)
    clock.t += 20
    assert await send(ContextInput(kind="tick")) == []  # 40 s: settled, the scan still runs, 60 not reached
    clock.t += 25
    out = await send(ContextInput(kind="tick"))  # 65 s: analysed without the scan's end
    assert {f["resources"][0]["uid"] for f in out} == {alice.arn}  # type: ignore[index]


def test_the_ticker_runs_at_the_configured_interval() -> None:
    s = settings_mod.load(data={"context": {"tick_s": 0.5}}, environ={})
    (ctx_stage,) = build_role(role_context(s, environ={}), "process", ("context",))
    ((name, ticker),) = ctx_stage.services
    assert name == "context-ticker" and isinstance(ticker, Ticker) and ticker.interval_s == 0.5
