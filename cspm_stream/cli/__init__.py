"""``cspm-stream``: one CLI for the daemon roles and for one-shot use.

Each sub-command lives in its own module exposing ``register(subparsers)``;
the module sets ``func`` on its parser. ``func(args)`` returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from cspm_stream.errors import ConfigError, DefinitionError

#: sub-command modules, in help order
COMMANDS = ("run", "topics", "scan", "policies", "detect", "rules", "remediation", "report", "demo")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cspm-stream", description=__doc__.splitlines()[0])
    parser.add_argument("--config", "-c", help="config YAML (default: $CSPM_CONFIG or built-in defaults)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"cspm_stream.cli.{name}_cmd")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        print(f"cspm-stream: {exc}", file=sys.stderr)
        return 2
    except DefinitionError as exc:
        print(f"cspm-stream: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
