"""``cspm-stream rules list|validate|test``: inspect, check and test Sigma rules.

- ``rules list [PATH…]`` — every loaded rule: id, level, kind, title, MITRE tactics.
- ``rules validate PATH…`` — load exactly these files/folders; print each rule that
  fails with its file and reason, each warning (a rule selecting a field CloudTrail
  lacks: it loads, that selection never sees a value), then
  ``loaded N, failed M, warnings W``; exit 1 if any failed.
- ``rules test [PATH…]`` — run the ``<rule>.tests.yml`` files found beside the rules
  (default: the built-in pack and ``detection.rules_dirs``); exit 1 on any failure.
- ``rules fields`` — the CloudTrail field vocabulary rules may use, and how values match.
- ``rules coverage [PATH…] [--navigator FILE]`` — the ATT&CK techniques the alerting rules
  cover, per tactic; ``--navigator`` writes an ATT&CK Navigator layer (format 4.5).
- ``rules backtest --rules PATH… [--since 7d] [--events FILE…]`` — replay the retained
  ``activity`` topic (or files) through new or changed rules; per-rule hit counts and sample
  matches, nothing emitted (see :mod:`cspm_stream.cli.rules_backtest`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cspm_stream.settings import load


def register(sub: Any) -> None:
    p = sub.add_parser("rules", help="list, validate and test Sigma detection rules")
    rsub = p.add_subparsers(dest="rules_command", required=True, metavar="ACTION")

    pl = rsub.add_parser("list", help="list loaded rules (built-ins + detection.rules_dirs + PATHs)")
    pl.add_argument("paths", nargs="*", metavar="PATH")
    pl.add_argument("--no-builtin", action="store_true", help="do not load the built-in pack")
    pl.set_defaults(func=_list)

    pv = rsub.add_parser("validate", help="load rule files/folders and report every rule that fails")
    pv.add_argument("paths", nargs="+", metavar="PATH")
    pv.set_defaults(func=_validate)

    pt = rsub.add_parser("test", help="run <rule>.tests.yml examples beside the rules")
    pt.add_argument("paths", nargs="*", metavar="PATH")
    pt.add_argument("--verbose", "-v", action="store_true", help="print passing tests too")
    pt.set_defaults(func=_test)

    pf = rsub.add_parser("fields", help="the CloudTrail field vocabulary rules may use")
    pf.set_defaults(func=_fields)

    pc = rsub.add_parser("coverage", help="ATT&CK techniques covered per tactic (and a Navigator layer)")
    pc.add_argument("paths", nargs="*", metavar="PATH")
    pc.add_argument("--no-builtin", action="store_true", help="do not load the built-in pack")
    pc.add_argument("--navigator", metavar="FILE", help="write an ATT&CK Navigator layer (JSON, format 4.5)")
    pc.set_defaults(func=_coverage)

    from cspm_stream.cli import rules_backtest

    rules_backtest.register(rsub)


def _short(x: object) -> str:
    """A rule's title or load error as printed: a rule file can hold a megabyte-long title."""
    from cspm_stream.detect.bounded import clip

    return clip(str(x), PRINT_CHARS)


#: longest rule title or load error printed (the rest is cut with a visible marker)
PRINT_CHARS = 2048


def _list(args: argparse.Namespace) -> int:
    from cspm_stream.detect.catalog import load_rules

    settings = load(args.config)
    rs = load_rules(settings.detection, args.paths, builtin=not args.no_builtin)
    for info in sorted(rs.infos(), key=lambda i: (i.file, i.title)):
        tactics = ",".join(info.tactics) or "-"
        print(f"{info.id}\t{info.level}\t{info.kind}\t{_short(info.title)}\t{tactics}")
    for err in rs.errors:
        print(f"FAILED {_short(err)}", file=sys.stderr)
    print(f"loaded {rs.loaded}, failed {len(rs.errors)}", file=sys.stderr)
    return 1 if rs.errors else 0


def _validate(args: argparse.Namespace) -> int:
    from cspm_stream.detect.catalog import vocabulary
    from cspm_stream.detect.loader import load_paths

    settings = load(args.config)
    rs = load_paths(args.paths, settings.detection.placeholders, vocab=vocabulary(settings.detection))
    for err in rs.errors:
        print(_short(err))
    for warn in rs.warnings:
        print(f"WARNING {_short(warn)}")
    print(f"loaded {rs.loaded}, failed {len(rs.errors)}, warnings {len(rs.warnings)}")
    return 1 if rs.errors else 0


def _test(args: argparse.Namespace) -> int:
    from cspm_stream.detect.catalog import rule_paths
    from cspm_stream.detect.ruletests import run_rule_tests

    settings = load(args.config)
    paths = [*args.paths] if args.paths else rule_paths(settings.detection)
    report = run_rule_tests(paths, settings.detection)
    for err in report.load_errors:
        print(f"LOAD FAILED {_short(err)}")
    for res in report.results:
        if not res.ok or args.verbose:
            status = "ok  " if res.ok else "FAIL"
            print(f"{status} {res.file} :: {res.rule} :: {res.name}{'' if res.ok else ' — ' + res.reason}")
    failed = sum(1 for r in report.results if not r.ok)
    print(
        f"{len(report.results)} tests in {report.files} files: {len(report.results) - failed} passed, "
        f"{failed} failed, {len(report.load_errors)} rule load errors"
    )
    return 1 if failed or report.load_errors or report.file_errors else 0


def _fields(args: argparse.Namespace) -> int:
    from cspm_stream.detect import derived, fields, matchers

    settings = load(args.config)
    extra = settings.detection.extra_fields
    print("Top-level CloudTrail fields (object = any dotted sub-path is accepted):")
    for name, kind in fields.CLOUDTRAIL_FIELDS.items():
        print(f"  {name:<30} {kind}")
    for name in extra:
        print(f"  {name:<30} object (detection.extra_fields)")
    print()
    print("Derived fields (computed once per record; see cspm_stream.detect.derived):")
    for name, df in derived.public_fields().items():
        print(f"  {'cspm.' + name:<30} {df.kind:<7} {df.doc}")
    print()
    print("Resolution:")
    print((fields.__doc__ or "").split("Resolution semantics", 1)[-1].split(":", 1)[-1].rstrip())
    print()
    print("Matching:")
    print((matchers.__doc__ or "").split("Matching semantics", 1)[-1].split(":", 1)[-1].rstrip())
    print()
    print("Placeholders: a value 'field|expand: %Name%' takes its values from detection.placeholders.Name")
    print("in the config (a value 'cidr:10.0.0.0/8' matches as a network); a rule whose placeholder has")
    print("no configured value fails to load, saying which setting to add.")
    return 0


def _coverage(args: argparse.Namespace) -> int:
    import orjson

    from cspm_stream.detect.catalog import load_rules
    from cspm_stream.detect.coverage import coverage, navigator_layer, report_lines
    from cspm_stream.errors import ConfigError

    settings = load(args.config)
    d = settings.detection
    rs = load_rules(d, args.paths, builtin=not args.no_builtin)
    for err in rs.errors:
        print(f"FAILED {_short(err)}", file=sys.stderr)
    cov = coverage(rs, frozenset(d.shadow_rules))
    if args.navigator:
        try:
            with open(args.navigator, "wb") as fh:
                fh.write(orjson.dumps(navigator_layer(cov), option=orjson.OPT_INDENT_2) + b"\n")
        except OSError as exc:
            raise ConfigError("--navigator", args.navigator, f"cannot write: {exc.strerror or exc}") from None
    for line in report_lines(cov):
        print(line)
    if args.navigator:
        print(f"ATT&CK Navigator layer written to {args.navigator}")
    return 1 if rs.errors else 0
