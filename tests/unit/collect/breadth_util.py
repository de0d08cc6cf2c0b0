"""Helpers for the per-service collector tests (posture breadth): collect one service from the
session moto server (or recorded responses) and evaluate built-in policies on the snapshots."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cspm_stream.collect import ScanOutcome, collect_all
from cspm_stream.models import ResourceSnapshot
from cspm_stream.policy.engine import PolicyEngine
from cspm_stream.policy.loader import builtin_policy_dir, load_policies
from cspm_stream.testing.moto import MotoServer
from cspm_stream.testing.recorded import collect_recorded, load_dir
from tests.unit.collect.conftest import moto_settings

RECORDED = Path(__file__).resolve().parents[2] / "data" / "recorded"


class Estate:
    """Snapshots of one collection run, by type, with the job outcomes."""

    def __init__(self, snaps: Iterable[ResourceSnapshot], outcomes: dict[str, ScanOutcome] | None = None) -> None:
        self.snaps = list(snaps)
        self.outcomes = outcomes or {}
        self.by_type: dict[str, list[ResourceSnapshot]] = {}
        for s in self.snaps:
            self.by_type.setdefault(s.resource_type, []).append(s)

    def one(self, rtype: str, rid: str | None = None) -> ResourceSnapshot:
        snaps = [s for s in self.by_type.get(rtype, []) if rid is None or s.resource_id == rid]
        assert len(snaps) == 1, f"{len(snaps)} snapshots of {rtype} {rid or ''}: {[s.resource_id for s in snaps]}"
        return snaps[0]

    def ids(self, rtype: str) -> set[str]:
        return {s.resource_id for s in self.by_type.get(rtype, [])}

    def errors(self) -> set[tuple[str, str]]:
        """(resource type, attribute) of every collection error."""
        return {(s.resource_type, e.attribute) for s in self.snaps for e in s.errors}

    def verdicts(self, policy_ids: Sequence[str]) -> dict[tuple[str, str], str]:
        """(policy id, resource id) → pass/fail/error for the given built-in policies."""
        engine = PolicyEngine(builtin(policy_ids))
        out: dict[tuple[str, str], str] = {}
        for s in self.snaps:
            for r in engine.evaluate(s):
                out[(r.policy.id, s.resource_id)] = r.verdict.value
        return out


def builtin(policy_ids: Sequence[str]) -> list[Any]:
    """The built-in policies with these ids (files located by name: ``<folder>/<id>.yaml``)."""
    wanted = set(policy_ids)
    files = [f for f in builtin_policy_dir().rglob("*.yaml") if f.stem in wanted]
    pols = load_policies(files, strict=True)
    assert {p.id for p in pols} == wanted, f"unknown policies: {sorted(wanted - {p.id for p in pols})}"
    return pols


def collect_moto(moto: MotoServer, services: Sequence[str], regions: Sequence[str] = ("us-east-1",)) -> Estate:
    """Collect ``services`` from the moto server (every type, ``regions`` plus global)."""
    settings = moto_settings(moto, regions=list(regions))
    snaps: list[ResourceSnapshot] = []
    outcomes: dict[str, ScanOutcome] = {}

    async def run() -> None:
        async for snap in collect_all(
            settings,
            regions=list(regions),
            services=list(services),
            progress=lambda job, o: outcomes.__setitem__(job.job_id, o),
        ):
            snaps.append(snap)

    asyncio.run(run())
    return Estate(snaps, outcomes)


def collect_fixture(service: str, fixture_dir: str, **kw: Any) -> tuple[Estate, Any]:
    """Collect ``service`` from the recorded exchanges under tests/data/recorded/<fixture_dir>."""
    exchanges = load_dir(RECORDED / fixture_dir)
    snaps, aws = asyncio.run(collect_recorded(service, exchanges, **kw))
    return Estate(snaps), aws
