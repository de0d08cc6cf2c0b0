"""A daemon process running one test stage (echo activity → detections) through the real runtime.

Used by the foundation integration tests: the runtime (batch loop, guard, DLQ, state changelog,
SIGTERM) is the thing under test, so the stage itself is trivial but strict:
it decodes ActivityRecord and raises DecodeError on anything else.
"""

from __future__ import annotations

import sys
from collections.abc import MutableMapping
from typing import Any

import orjson

from cspm_stream import settings as settings_mod
from cspm_stream.daemon import run
from cspm_stream.models import ActivityRecord, decode
from cspm_stream.stages.base import Emit, RecordMeta


class EchoStage:
    name = "echo"
    inputs = ("activity",)

    async def handle(
        self, key: bytes | None, value: bytes | None, meta: RecordMeta, state: MutableMapping[str, Any]
    ) -> list[Emit]:
        rec = decode(value, ActivityRecord)
        seen = state.get("count") or 0
        state["count"] = seen + 1
        out = orjson.dumps({"schema": "echo.v1", "event_id": rec.event_id, "offset": meta.offset, "n": seen + 1})
        if rec.event_id.startswith("huge"):  # an output larger than the topic accepts (4 MiB)
            out = orjson.dumps({"schema": "echo.v1", "event_id": rec.event_id, "pad": "x" * (5 * 1024 * 1024)})
        return [Emit("detections", rec.event_id, out)]


if __name__ == "__main__":
    sys.exit(run(settings_mod.load(sys.argv[1]), "echo", handlers=[EchoStage()]))
