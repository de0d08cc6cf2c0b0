"""``cspm-stream run --role ingest|process|alerts|remediate|all``: the daemon.

Every topic of the table must exist as ``cspm-stream topics create`` made it: the daemon
never creates one (exit 4 with what to run otherwise; exit 3 when Kafka is unreachable).
"""

from __future__ import annotations

import argparse
from typing import Any

from cspm_stream.app import ROLES


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the daemon (one role or all)")
    p.add_argument("--role", choices=ROLES, default="all", help="which stages this process runs")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from cspm_stream import settings, topic_admin
    from cspm_stream.daemon import run

    s = settings.load(args.config)
    # topics are created only by 'topics create': a missing or misconfigured one stops the start (exit 4);
    # aiokafka's own connection errors are not logged for this one check (the failure is one line)
    client_log = logging.getLogger("aiokafka")
    level = client_log.level
    client_log.setLevel(logging.CRITICAL)
    try:
        asyncio.run(topic_admin.require(s.kafka))
    finally:
        client_log.setLevel(level)
    return run(s, args.role)
