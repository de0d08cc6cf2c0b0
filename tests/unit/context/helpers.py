"""Drive the context stage with plain calls: records as the router makes them, a fake clock."""

from __future__ import annotations

from typing import Any

import orjson

from cspm_stream.combos import load
from cspm_stream.iamgraph.build import Resource
from cspm_stream.models.codec import dumps
from cspm_stream.policy.catalog import Catalog, load_catalog
from cspm_stream.policy.frameworks import builtin_framework_dir
from cspm_stream.policy.loader import builtin_policy_dir
from cspm_stream.stages.base import Emit, RecordMeta
from cspm_stream.stages.context import ContextHandler
from cspm_stream.stages.context_input import ContextInput

ACCOUNT = "111122223333"
_CATALOG: list[Catalog] = []


def catalog() -> Catalog:
    if not _CATALOG:
        _CATALOG.append(load_catalog([builtin_policy_dir()], [builtin_framework_dir()]))
    return _CATALOG[0]


class Clock:
    def __init__(self, t: float = 1_767_225_600.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Driver:
    """A context handler, its state (a dict, as the runtime's table restored from JSON) and a clock."""

    def __init__(self, state: dict[str, Any] | None = None, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.state: dict[str, Any] = state if state is not None else {}
        self.handler = ContextHandler(catalog(), load(), clock=self.clock, in_thread=False)
        self.partition = 0

    async def send(self, msg: ContextInput) -> list[dict[str, Any]]:
        emits = await self.handler.handle(
            msg.account_id.encode() or None, dumps(msg), RecordMeta("context", self.partition, 0), self.state
        )
        return findings(emits)

    async def tick(self, after_s: float = 0.0) -> list[dict[str, Any]]:
        self.clock.t += after_s
        return await self.send(ContextInput(kind="tick"))

    async def resources(
        self, items: list[Resource], *, scan_id: str = "scan-1", account: str = ACCOUNT
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for r in items:
            out += await self.send(
                ContextInput(
                    kind="resource",
                    account_id=account,
                    arn=r.arn,
                    resource_type=r.resource_type,
                    attributes=r.attributes,
                    tags=r.tags,
                    scan_id=scan_id,
                )
            )
        return out

    async def finding(self, policy_id: str, arn: str, failing: bool, account: str = ACCOUNT) -> list[dict[str, Any]]:
        return await self.send(
            ContextInput(kind="finding", account_id=account, arn=arn, policy_id=policy_id, failing=failing)
        )

    def restart(self) -> Driver:
        """A new handler on the state as the changelog restores it (a JSON round trip)."""
        d = Driver(orjson.loads(orjson.dumps(self.state)), self.clock)
        d.partition = self.partition
        return d


def findings(emits: list[Emit]) -> list[dict[str, Any]]:
    out = []
    for e in emits:
        assert e.topic == "findings" and e.value is not None
        f = orjson.loads(e.value)
        assert e.key == f["finding_info"]["uid"]
        out.append(f)
    return out


def by(fs: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(policy id, resource) → lifecycle state of the last record."""
    return {(f["unmapped"]["policy_id"], f["resources"][0]["uid"]): f["unmapped"]["state"] for f in fs}
