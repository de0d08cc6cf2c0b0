"""``cspm-stream topics list|create``: the topic table, created or verified idempotently."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from cspm_stream.topics import TOPICS


def register(sub: Any) -> None:
    p = sub.add_parser("topics", help="list or create the Kafka topics")
    p.add_argument("action", choices=("list", "create"))
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from cspm_stream import settings
    from cspm_stream.kafka import ensure_topics

    s = settings.load(args.config)
    if args.action == "list":
        for t in TOPICS:
            kind = "compacted" if t.compacted else f"retention {t.retention_ms // 3_600_000}h"
            print(f"{s.kafka.topic(t.name):32} key={t.key:24} {kind:16} {t.doc}")
        return 0
    results = asyncio.run(ensure_topics(s.kafka))
    bad = 0
    for name, status in results:
        print(f"{name:32} {status}")
        bad += status not in ("created", "ok")
    return 1 if bad else 0
