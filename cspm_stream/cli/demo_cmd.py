"""``cspm-stream demo``: the end-to-end demonstration (see cspm_stream.demo)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the end-to-end demo against an embedded moto account")
    p.add_argument("--output", default="out/demo-report.html", help="where to write the HTML report")
    p.add_argument("--timeout", type=float, default=150.0, help="give up after this many seconds")
    p.add_argument(
        "--endpoint-url",
        default=None,
        help="use this moto server (e.g. the compose demo profile's) instead of starting an embedded one",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from cspm_stream.demo import main

    return main(args)
