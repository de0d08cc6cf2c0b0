"""``cspm-stream run --role ingest|process|alerts|remediate|all``: the daemon."""

from __future__ import annotations

import argparse
from typing import Any

from cspm_stream.app import ROLES


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the daemon (one role or all)")
    p.add_argument("--role", choices=ROLES, default="all", help="which stages this process runs")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from cspm_stream import settings
    from cspm_stream.daemon import run

    return run(settings.load(args.config), args.role)
