"""``cspm-stream policies list|validate|test|schema``: inspect and check posture policies.

* ``list [--format table|json]`` — one row/object per policy: id, title, severity,
  resource_type, frameworks (ids), related (exact prowler/securityhub ids, and see_also: related ones).
* ``validate [PATH ...]`` — load and cross-check every policy and framework; print each
  error as ``file: path: reason``; exit 1 on any error.
* ``test [PATH ...] [--policy ID]`` — run every policy's example snapshots; exit 1 on a mismatch.
* ``schema`` — print the JSON Schema of a policy file (generated from the registries).
* ``checks`` — list the operators and named checks with their arguments.
* ``stats [--format table|json] [--not-twinned]`` — the catalogue's counts (:mod:`cspm_stream.cli.policies_stats`).

Without PATH the built-ins and the configured ``policy.policy_dirs``/``framework_dirs`` are used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from cspm_stream.errors import DefinitionError
from cspm_stream.policy.catalog import Catalog, dirs_for, load_catalog
from cspm_stream.policy.testrunner import run_tests


def register(sub: Any) -> None:
    p = sub.add_parser("policies", help="list, validate and test posture policies")
    psub = p.add_subparsers(dest="policies_command", required=True, metavar="ACTION")

    ls = psub.add_parser("list", help="list policies")
    ls.add_argument("--format", choices=("table", "json"), default="table")
    ls.add_argument("--framework", help="only policies mapped to this framework id")
    ls.add_argument("--resource-type", help="only policies of this resource type")
    ls.set_defaults(func=_list)

    va = psub.add_parser("validate", help="validate policy and framework files")
    va.add_argument("paths", nargs="*", help="policy files/folders (default: built-ins + configured)")
    va.add_argument("--frameworks", action="append", default=None, help="framework folder (repeatable)")
    va.set_defaults(func=_validate)

    te = psub.add_parser("test", help="run the example snapshots beside each policy")
    te.add_argument("paths", nargs="*", help="policy files/folders (default: built-ins + configured)")
    te.add_argument("--policy", help="only this policy id")
    te.add_argument("--verbose", "-v", action="store_true", help="print passing tests too")
    te.set_defaults(func=_test)

    sc = psub.add_parser("schema", help="print the policy JSON Schema")
    sc.set_defaults(func=_schema)

    ck = psub.add_parser("checks", help="list the named checks and operators policies may use")
    ck.set_defaults(func=_checks)

    st = psub.add_parser("stats", help="count policies, resource types, services, exact equivalents, wire tests")
    st.add_argument("--format", choices=("table", "json"), default="table")
    st.add_argument(
        "--not-twinned",
        action="store_true",
        help="list the Prowler checks named only under see_also, with their policies",
    )
    st.set_defaults(func=_stats)


def _dirs(args: argparse.Namespace) -> tuple[list[Path], list[Path]]:
    from cspm_stream import settings as settings_mod

    s = settings_mod.load(args.config)
    pdirs, fdirs = dirs_for(s.policy)
    paths = getattr(args, "paths", None)
    if paths:
        pdirs = [Path(p) for p in paths]
        fdirs = []  # explicit policy paths: cross-check only against explicit --frameworks
    fw = getattr(args, "frameworks", None)
    if fw:
        fdirs = [Path(p) for p in fw]
    return pdirs, fdirs


def _load(args: argparse.Namespace, errors: list[DefinitionError] | None = None) -> Catalog:
    pdirs, fdirs = _dirs(args)
    if errors is None:
        errs: list[DefinitionError] = []
        cat = load_catalog(pdirs, fdirs, errors=errs)
        for e in errs:
            print(f"warning: {e}", file=sys.stderr)
        return cat
    return load_catalog(pdirs, fdirs, errors=errors)


def _list(args: argparse.Namespace) -> int:
    cat = _load(args)
    rows: list[dict[str, Any]] = []
    for pid in sorted(cat.policies):
        p = cat.policies[pid]
        ref = cat.compliance(pid)
        if args.framework and args.framework not in ref.standards:
            continue
        if args.resource_type and p.resource_type != args.resource_type:
            continue
        rows.append(
            {
                "id": p.id,
                "title": p.title,
                "severity": p.severity.name.lower(),
                "resource_type": p.resource_type,
                "frameworks": list(ref.standards),
                "requirements": list(ref.requirements),
                "related": {
                    "prowler": list(p.related.prowler),
                    "securityhub": list(p.related.securityhub),
                    "see_also": {
                        "prowler": list(p.related.see_also.prowler),
                        "securityhub": list(p.related.see_also.securityhub),
                    },
                },
                "remediation_action": p.remediation.action,
                "source": p.source,
            }
        )
    if args.format == "json":
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    w = max([len(r["id"]) for r in rows] + [2])
    lines = [f"{'ID':<{w}}  {'SEVERITY':<13}  {'RESOURCE TYPE':<28}  TITLE"]
    lines += [f"{r['id']:<{w}}  {r['severity']:<13}  {r['resource_type']:<28}  {r['title']}" for r in rows]
    try:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `policies list | head`
        return 0
    print(f"{len(rows)} policies", file=sys.stderr)
    return 0


def _validate(args: argparse.Namespace) -> int:
    errors: list[DefinitionError] = []
    cat = _load(args, errors)
    for e in errors:
        print(str(e))
    print(
        f"{len(cat.policies)} policies, {len(cat.frameworks)} frameworks, {len(errors)} error(s)",
        file=sys.stderr,
    )
    return 1 if errors else 0


def _test(args: argparse.Namespace) -> int:
    errors: list[DefinitionError] = []
    cat = _load(args, errors)
    for e in errors:
        print(f"ERROR {e}")
    pols = [p for pid, p in sorted(cat.policies.items()) if not args.policy or pid == args.policy]
    if args.policy and not pols:
        print(f"no policy {args.policy!r}", file=sys.stderr)
        return 1
    outcomes = run_tests(pols)
    failed = [o for o in outcomes if not o.ok]
    for o in outcomes:
        if not o.ok:
            extra = f" ({o.detail})" if o.detail else ""
            print(f"FAIL {o.source}: tests[{o.test}]: expected {o.expected}, got {o.got}{extra}")
        elif args.verbose:
            print(f"ok   {o.policy_id}: {o.test}")
    untested = [p.id for p in pols if not p.tests]
    for pid in untested:
        print(f"WARN {pid}: no tests")
    print(
        f"{len(outcomes) - len(failed)}/{len(outcomes)} tests passed over {len(pols)} policies"
        f"{f', {len(errors)} invalid file(s)' if errors else ''}",
        file=sys.stderr,
    )
    return 1 if failed or errors else 0


def _stats(args: argparse.Namespace) -> int:
    from cspm_stream.cli import policies_stats

    return policies_stats.run(args, _load(args))


def _schema(args: argparse.Namespace) -> int:
    from cspm_stream.policy.schema import policy_json_schema

    sys.stdout.write(orjson.dumps(policy_json_schema(), option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


def _checks(args: argparse.Namespace) -> int:
    from cspm_stream.policy.checks import registry
    from cspm_stream.policy.operators import OPERATORS

    print("operators:")
    for op in OPERATORS.values():
        print(f"  {op.name:<14} {op.doc}{'' if op.needs_value else ' (no value)'}")
    print("checks:")
    for chk in sorted(registry().values(), key=lambda c: c.name):
        print(f"  {chk.name}: {chk.doc}")
        for name, a in chk.args.items():
            req = "required" if a.required else f"default {a.default!r}"
            print(f"      {name} ({a.kind}, {req}): {a.doc}")
    return 0
