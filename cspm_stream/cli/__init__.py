"""``cspm-stream``: one CLI for the daemon roles and for one-shot use.

Each sub-command lives in its own module exposing ``register(subparsers)``;
the module sets ``func`` on its parser. ``func(args)`` returns the exit code.
Only the chosen command's module is imported (:data:`HELP` lists the others in
``--help`` without importing them: a one-shot ``detect`` does not pay for the
collectors, the report renderer or the daemon).
An expected failure is one line on stderr and an exit code from :data:`EXIT_CODES`
(each :class:`~cspm_stream.errors.CspmError` carries its own); only a bug prints a
traceback (exit 70).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from cspm_stream.errors import CspmError

#: sub-command modules, in help order
COMMANDS = ("run", "topics", "scan", "paths", "policies", "detect", "rules", "alerts", "remediation", "report", "demo")

#: each command's one-line help, listed without importing its module (a test holds it to the module's own);
#: a command missing here is imported to be listed
HELP: dict[str, str] = {
    "run": "run the daemon (one role or all)",
    "topics": "list, create (only this creates topics), verify or repair the Kafka topics",
    "scan": "one-shot scan: collect, evaluate, print findings",
    "paths": "privilege-escalation paths to admin (IAM effective permissions)",
    "policies": "list, validate and test posture policies",
    "detect": "run the detection rules over CloudTrail files (threat hunting, replay)",
    "rules": "list, validate and test Sigma detection rules",
    "alerts": "check alert sinks: send one synthetic alert through a configured sink",
    "remediation": "approve remediation commands; list actions and their permissions",
    "report": "write a compliance report (HTML, JSON or CSV) from the findings topic",
    "demo": "run the end-to-end demo against an embedded moto account",
}

#: every exit code of every command
EXIT_CODES: tuple[tuple[int, str], ...] = (
    (0, "success"),
    (
        1,
        "the command's check failed: findings at or above --fail-on (ERROR findings count unless --allow-errors), "
        "failing rule/policy tests, unreadable input (a file refused whole, or not one record usable)",
    ),
    (2, "usage or configuration error: bad arguments, settings, rule/policy/framework files, unwritable --output"),
    (3, "a dependency is unreachable or refused the work: Kafka, AWS, an alert sink (alerts test)"),
    (4, "a Kafka topic is missing or differs from the topic table: run 'cspm-stream topics create [--repair]'"),
    (70, "internal error (a bug): the traceback follows; please report it"),
    (130, "interrupted (Ctrl-C)"),
)


def _epilog() -> str:
    return "exit codes:\n" + "\n".join(f"  {code:<4} {what}" for code, what in EXIT_CODES)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (exit 2); sub-command parsers inherit it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv``, only the command it names is built in full (the rest are listed)."""
    chosen = _command_in(argv) if argv is not None else None
    parser = _Parser(
        prog="cspm-stream",
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", "-c", help="config YAML (default: $CSPM_CONFIG or built-in defaults)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        if argv is not None and name != chosen and name in HELP:
            sub.add_parser(name, help=HELP[name], add_help=False)  # listed; never the parsed command
            continue
        module = importlib.import_module(f"cspm_stream.cli.{name}_cmd")
        module.register(sub)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` names: its first word that is not an option or ``--config``'s value."""
    it = iter(argv)
    for tok in it:
        if tok == "-c" or (len(tok) > 2 and "--config".startswith(tok)):  # argparse accepts abbreviations
            next(it, None)
            continue
        if not tok.startswith("-"):
            return tok
    return None


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(args_list).parse_args(args_list)  # a usage error exits 2 here (argparse)
    if not callable(getattr(args, "func", None)):  # a form _command_in misread: parse with every command built
        args = build_parser().parse_args(args_list)
    return args


def _quiet_client_logs() -> None:
    """One-shot commands report a failure in one line; the client libraries' own error logs
    (aiokafka: 'Unable connect to ...') would repeat it with noise. The daemon keeps them."""
    for name in ("aiokafka", "kafka", "botocore", "aiobotocore"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.command != "run":
        _quiet_client_logs()
    try:
        code: int = args.func(args)
    except CspmError as exc:
        print(f"cspm-stream {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (``| head``): not an error of ours, say nothing
        _stdout_to_devnull()
        return 141  # what a shell reports for a writer killed by SIGPIPE
    except Exception as exc:  # a bug: keep the traceback for the report
        traceback.print_exc(file=sys.stderr)
        print(
            f"cspm-stream {args.command}: internal error: {type(exc).__name__} (a bug; please report it)",
            file=sys.stderr,
        )
        return 70
    return code


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests): nothing to flush into a pipe
        pass


#: set by a command whose work is done when it returns and that holds a large heap (``detect``)
_fast_exit = False


def exit_without_teardown() -> None:
    """Ask :func:`entry` to end the process without freeing the heap object by object.

    For one-shot commands that build large structures (rules, engine state): the interpreter's
    teardown would spend a noticeable share of a short run freeing memory the OS reclaims anyway.
    Streams and log handlers are flushed first; nothing else runs at exit in those commands.
    """
    global _fast_exit
    _fast_exit = True


def entry() -> NoReturn:
    """The ``cspm-stream`` console script and ``python -m cspm_stream``."""
    code = main()
    if _fast_exit:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe (``| head``): nothing more to deliver
                pass
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
