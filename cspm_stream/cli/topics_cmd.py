"""``cspm-stream topics list|create|verify [--repair]``: the topic table, created, verified and repaired.

``create`` is the only command that creates topics: it creates what is missing and
verifies the rest (cleanup policy, retention, ``max.message.bytes`` against the largest
record each stage may emit, partitions, replication factor); ``--repair`` sets the
configs that differ (IncrementalAlterConfigs, nothing else touched) and grows partition
counts — partitions can only grow, and growing re-maps existing keys to other partitions.
``verify`` checks without creating anything. Exit 0 when every topic matches, 4 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from cspm_stream.topics import TOPICS


def register(sub: Any) -> None:
    p = sub.add_parser(
        "topics",
        help="list, create (only this creates topics), verify or repair the Kafka topics",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    p.add_argument("action", choices=("list", "create", "verify"))
    p.add_argument(
        "--repair",
        action="store_true",
        help="with create: set differing configs and grow partition counts (partitions can only grow)",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from cspm_stream import settings, topic_admin
    from cspm_stream.errors import UsageError

    s = settings.load(args.config)
    if args.repair and args.action != "create":
        raise UsageError("--repair goes with 'topics create'")
    if args.action == "list":
        for t in TOPICS:
            kind = "compacted" if t.compacted else f"retention {t.retention_ms // 3_600_000}h"
            parts = t.partitions or s.kafka.partitions
            print(
                f"{s.kafka.topic(t.name):32} key={t.key:24} {kind:16} partitions={parts:<4} "
                f"max.message.bytes={t.max_message_bytes:<9} {t.doc}"
            )
        return 0
    wanted = topic_admin.table(s.kafka)
    found = asyncio.run(topic_admin.check(s.kafka, wanted, create=args.action == "create", repair=args.repair))
    for r in found:
        print(f"{r.name:32} {r.status}")
        for why in r.unfixable:
            print(f"{'':32}   cannot repair: {why}")
    bad = [r for r in found if not r.ok]
    if not bad:
        return 0
    if any(not r.exists for r in bad):
        hint = "run 'cspm-stream topics create'"
    elif args.repair:
        hint = "the rest needs an operator (see 'cannot repair' above)"
    else:
        hint = "'cspm-stream topics create --repair' sets differing configs and grows partitions (never shrinks)"
    print(f"cspm-stream topics: {len(bad)} topic(s) not as the table says: {hint}", file=sys.stderr)
    return 4
