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
    p.add_argument(
        "--services",
        type=_services,
        default=None,
        metavar="LIST",
        help="comma-separated scan services (default: those the demo account uses; 'all' scans every collector)",
    )
    p.set_defaults(func=_run)


def _services(text: str) -> list[str]:
    from cspm_stream.collect.services import SPECS

    if text.strip() == "all":
        return sorted(SPECS)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SPECS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown scan service(s): {', '.join(u[:40] for u in unknown[:5]) or '(none given)'}"
        )
    return names


def _run(args: argparse.Namespace) -> int:
    from cspm_stream.demo import main

    return main(args)
