"""Child process: one full inventory of the moto server; prints wall time, counts and peak RSS as JSON.

Runs in its own process so the peak RSS is the collector's alone (moto and the seeding
live elsewhere). Every snapshot is serialised as the ingestor would produce it.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from collections import Counter

import orjson

from cspm_stream import settings as settings_mod
from cspm_stream.collect import collect_all
from cspm_stream.models.codec import dumps


async def _run(args: argparse.Namespace) -> dict[str, object]:
    aws: dict[str, object] = {"endpoint_url": args.endpoint, "regions": args.regions}
    if args.rate is not None:  # otherwise the defaults: adaptive budgets, default concurrency
        aws["rate_per_second"] = args.rate
    s = settings_mod.load(data={"aws": aws}, environ={})
    by_type: Counter[str] = Counter()
    errors = 0
    bytes_out = 0
    jobs = {"n": 0, "incomplete": 0}

    def progress(job: object, outcome: object) -> None:
        jobs["n"] += 1
        jobs["incomplete"] += 0 if outcome.complete else 1  # type: ignore[attr-defined]

    t0 = time.perf_counter()
    async for snap in collect_all(s, services=args.services, progress=progress):
        by_type[snap.resource_type] += 1
        errors += len(snap.errors)
        bytes_out += len(dumps(snap))
    wall = time.perf_counter() - t0
    return {
        "wall_s": round(wall, 3),
        "resources": sum(by_type.values()),
        "by_type": dict(sorted(by_type.items())),
        "attribute_errors": errors,
        "jobs": jobs["n"],
        "incomplete_jobs": jobs["incomplete"],
        "bytes_serialised": bytes_out,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu_s": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime, 2
        ),
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--regions", nargs="+", required=True)
    p.add_argument("--services", nargs="+", required=True)
    p.add_argument("--rate", type=float, default=None, help="a fixed call budget (default: adaptive)")
    args = p.parse_args()
    out = asyncio.run(_run(args))
    sys.stdout.write(orjson.dumps(out).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
