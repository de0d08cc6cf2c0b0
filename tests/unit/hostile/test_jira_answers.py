"""A Jira server answering the transitions call with odd JSON types: no transition, never a TypeError.

``{"transitions": 5}`` raised TypeError inside the sink (the alert was dead-lettered as an
'unexpected' error); now it reads as no transition available.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cspm_stream.delivery.sinks.http import HttpResponse
from cspm_stream.delivery.sinks.jira import JiraSink


@pytest.mark.parametrize("value", [5, True, "abc", {"id": "1"}, None, [1, "x", None, {"name": "no id"}]], ids=repr)
async def test_odd_transitions_answer_means_no_transition(value: Any) -> None:
    sink = JiraSink("j", "https://jira.example.com", "token-0123456789", project="SEC")

    async def answer(*_: object, **__: object) -> HttpResponse:
        return HttpResponse(200, orjson.dumps({"transitions": value}), {})

    sink._call = answer  # type: ignore[method-assign]
    assert await sink.transition("SEC-1", to_done=True) is False
