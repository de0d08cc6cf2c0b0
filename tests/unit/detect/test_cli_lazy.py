"""The CLI imports only the chosen command's module; ``--help`` still lists every command."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from cspm_stream import cli


def _module_help(name: str) -> str | None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(f"cspm_stream.cli.{name}_cmd").register(sub)
    (action,) = sub._choices_actions
    return action.help


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_listed_help_is_the_modules_own(name: str) -> None:
    assert cli.HELP.get(name) == _module_help(name)


def test_help_lists_every_command_with_its_line() -> None:
    text = " ".join(cli.build_parser(["--help"]).format_help().split())
    for name in cli.COMMANDS:
        assert f"{name} {' '.join(cli.HELP[name].split())}" in text


_PROBE = """
import sys
from cspm_stream.cli import build_parser
args = build_parser(sys.argv[1:]).parse_args(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.startswith("cspm_stream.cli.") and m.endswith("_cmd"))
heavy = sorted(m for m in ("aiobotocore", "aiokafka", "cspm_stream.collect", "jinja2") if m in sys.modules)
print(args.command, callable(args.func), ",".join(loaded), ",".join(heavy))
"""


def _probe(*argv: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True)
    return out.stdout.split(" ")


def test_detect_imports_only_its_own_module() -> None:
    command, func, loaded, heavy = _probe("detect", "--events", "x.json")
    assert (command, func, loaded) == ("detect", "True", "cspm_stream.cli.detect_cmd")
    assert heavy.strip() == ""  # no AWS or Kafka client, no collectors, no report renderer


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["--config", "rules", "rules", "list"], "rules"),  # --config's value is not the command
        (["-c", "x.yaml", "policies", "list"], "policies"),
        (["--conf", "x.yaml", "topics", "list"], "topics"),  # an abbreviated option takes its value too
        (["--config=x.yaml", "detect", "-e", "f"], "detect"),
    ],
)
def test_the_command_is_found_whatever_comes_before_it(argv: list[str], command: str) -> None:
    got, func, loaded, _ = _probe(*argv)
    assert (got, func, loaded) == (command, "True", f"cspm_stream.cli.{command}_cmd")


def test_every_command_parses_as_before() -> None:
    """A lazily built parser gives the same namespace as one with every command built."""
    cases = [
        ["run", "--role", "process"],
        ["detect", "-e", "a.json", "b.json", "--no-sort"],
        ["rules", "coverage"],
        ["scan", "--services", "s3"],
        ["-c", "c.yaml", "topics", "list"],
    ]
    for argv in cases:
        lazy = cli.build_parser(argv).parse_args(argv)
        full = cli.build_parser().parse_args(argv)
        assert vars(lazy) == vars(full), argv


def test_usage_errors_still_exit_two(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["bogus"], [], ["detect"], ["rules"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 2, argv
    err = capsys.readouterr().err
    assert "invalid choice: 'bogus'" in err and "'detect'" in err
