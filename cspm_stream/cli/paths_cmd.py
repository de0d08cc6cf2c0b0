"""``cspm-stream paths --to admin``: privilege-escalation paths to admin, principal by principal.

Where the IAM state comes from (``--source``):

* ``scan`` (default): a one-shot collection of the configured account(s) — services ``iam``,
  ``organizations`` (SCPs, when the account may read them), ``lambda`` and ``glue`` (compute
  that runs as a role) — with the reader's credentials, no Kafka (``--endpoint-url`` for moto);
* ``inventory``: the compacted ``inventory`` topic as the daemon's collectors left it (the
  system of record), read from its beginning to its current end without joining a group.

Every account found is analysed (:mod:`cspm_stream.iamgraph`); ``--account`` keeps one,
``--from ARN`` one principal (exit 2 if it is not in the IAM state read). ``--format table``
(default) prints each escalating principal and its hops; ``json`` prints one object with
every result (``--all``: also principals without a path, admins and excluded roles).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from collections.abc import Iterable
from typing import IO, Any

import orjson

from cspm_stream.errors import CollectionError, CspmError, UsageError
from cspm_stream.iamgraph import ESCALATES, IAM_TYPES, Resource, Result, analyse
from cspm_stream.iamgraph.results import short_arn
from cspm_stream.models import ResourceSnapshot
from cspm_stream.settings import Settings

SERVICES = ("iam", "organizations", "lambda", "glue")
SOURCES = ("scan", "inventory")


def register(sub: Any) -> None:
    p = sub.add_parser("paths", help="privilege-escalation paths to admin (IAM effective permissions)")
    p.add_argument("--to", choices=("admin",), default="admin", help="the target (admin: allowed * on *)")
    p.add_argument("--from", dest="principal", metavar="ARN", help="only this user or role")
    p.add_argument("--account", metavar="ID", help="only this AWS account")
    p.add_argument("--source", choices=SOURCES, default="scan", help="where the IAM state comes from (default: scan)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--all", action="store_true", help="also principals without a path (json; table: a summary line)")
    p.add_argument("--endpoint-url", help="--source scan: override every AWS endpoint (e.g. a moto server)")
    p.add_argument("--regions", help="--source scan: comma-separated regions for Lambda and Glue")
    p.add_argument("--timeout", type=float, default=120.0, metavar="S", help="--source inventory: read timeout")
    p.add_argument("--output", "-o", help="write to this file instead of stdout")
    p.set_defaults(func=_run)


def _settings(args: argparse.Namespace) -> Settings:
    from cspm_stream import settings as settings_mod

    s = settings_mod.load(args.config)
    aws = s.aws
    if args.endpoint_url:
        aws = dataclasses.replace(aws, endpoint_url=args.endpoint_url)
    if args.regions:
        aws = dataclasses.replace(aws, regions=[r.strip() for r in args.regions.split(",") if r.strip()])
        aws.validate("--regions")
    return dataclasses.replace(s, aws=aws)


async def _scan(s: Settings) -> list[ResourceSnapshot]:
    from cspm_stream.cli.scan_run import ScanState, collect_bounded

    out: list[ResourceSnapshot] = []
    async for snap in collect_bounded(s, s.aws.regions or None, SERVICES, ScanState(), s.scan.max_duration_s):
        if snap.resource_type in IAM_TYPES:
            out.append(snap)
    return out


async def _inventory(s: Settings, timeout_s: float) -> list[ResourceSnapshot]:
    from cspm_stream.models.codec import decode_any
    from cspm_stream.report.reader import read_latest

    snap = await read_latest(s.kafka, "inventory", timeout_s=timeout_s)
    out: list[ResourceSnapshot] = []
    for value in snap.values.values():
        try:
            msg = decode_any(value, (ResourceSnapshot,))
        except CspmError:
            continue  # deletion markers and records of other schemas
        if isinstance(msg, ResourceSnapshot) and msg.resource_type in IAM_TYPES:
            out.append(msg)
    return out


def group_by_account(snaps: Iterable[ResourceSnapshot]) -> dict[str, list[Resource]]:
    """Resources per analysed account. An Organizations account record describes the *member*
    account it names (collected from the management account), so it joins that account's list."""
    by: dict[str, list[Resource]] = {}
    orgs: list[Resource] = []
    aws_managed: dict[str, Resource] = {}
    for s in snaps:
        if s.errors and s.resource_id == "*":
            continue  # a type that could not be listed: nothing to analyse
        r = Resource(s.resource_type, s.arn, s.attributes, dict(s.tags))
        if s.resource_type == "aws.organizations.account":
            orgs.append(r)
        elif s.resource_type == "aws.iam.aws_managed_policy":
            # the same document in every account, and one ARN for all of them: the compacted
            # inventory keeps the copy of whichever account was scanned last
            aws_managed[s.arn] = r
            by.setdefault(s.account_id, [])
        else:
            by.setdefault(s.account_id, []).append(r)
    for r in orgs:
        member = r.attributes.get("Id")
        if isinstance(member, str) and member in by:
            by[member].append(r)
    for resources in by.values():
        resources.extend(aws_managed.values())
    return by


def render_table(results: dict[str, dict[str, Result]], *, show_all: bool) -> str:
    lines: list[str] = []
    totals = {"escalates": 0, "admin": 0, "none": 0, "excluded": 0}
    for account in sorted(results):
        for arn in sorted(results[account]):
            r = results[account][arn]
            totals[r.status] = totals.get(r.status, 0) + 1
            if r.status != ESCALATES:
                continue
            cond = " (conditional)" if r.conditional else ""
            lines.append(f"{short_arn(arn)} [{account}] → admin in {len(r.path)} hop(s){cond}")
            for i, h in enumerate(r.path, 1):
                lines.append(
                    f"  {i}. {h.method}: {short_arn(h.actor)} uses {' + '.join(h.permissions)} → {short_arn(h.target)}"
                )
                for c in h.conditions:
                    lines.append(f"     {c}")
            lines.append("")
    if show_all or not lines:
        lines.append(
            f"{totals['escalates']} principal(s) can escalate to admin; {totals['admin']} already admin; "
            f"{totals['none']} without a path; {totals['excluded']} service-linked role(s) not analysed"
        )
    return "\n".join(lines).rstrip("\n") + "\n"


def render_json(results: dict[str, dict[str, Result]], source: str, *, show_all: bool) -> bytes:
    out: list[dict[str, Any]] = []
    for account in sorted(results):
        for arn in sorted(results[account]):
            r = results[account][arn]
            if show_all or r.status == ESCALATES:
                out.append({"account": account, **r.to_dict(), "detail": r.detail()})
    return orjson.dumps({"to": "admin", "source": source, "results": out}, option=orjson.OPT_INDENT_2) + b"\n"


def _run(args: argparse.Namespace) -> int:
    s = _settings(args)
    try:  # before reading anything: an unwritable --output must not cost a scan
        fh: IO[bytes] = open(args.output, "wb") if args.output else sys.stdout.buffer
    except OSError as exc:
        raise UsageError(f"cannot write --output {args.output}: {exc.strerror or exc}") from None
    try:
        if args.source == "inventory":
            snaps = asyncio.run(_inventory(s, args.timeout))
        else:
            try:
                snaps = asyncio.run(_scan(s))
            except CspmError:
                raise
            except Exception as exc:  # the scan could not run at all (credentials, endpoint...)
                from cspm_stream.collect.faults import classify

                fault = classify(exc)
                raise CollectionError(f"cannot scan: {fault.code}: {fault.message}", code=fault.code) from None
        by_account = group_by_account(snaps)
        if args.account:
            by_account = {a: r for a, r in by_account.items() if a == args.account}
        results = {account: analyse(account, resources) for account, resources in by_account.items()}
        if args.principal:
            results = {a: {k: v for k, v in rs.items() if k == args.principal} for a, rs in results.items()}
            results = {a: rs for a, rs in results.items() if rs}
            if not results:
                raise UsageError(f"--from {args.principal}: no such user or role in the IAM state read ({args.source})")
        if args.format == "json":
            fh.write(render_json(results, args.source, show_all=args.all or bool(args.principal)))
        else:
            text = render_table(results, show_all=args.all or bool(args.principal))
            if args.principal and not any(r.status == ESCALATES for rs in results.values() for r in rs.values()):
                text = "\n".join(r.detail() for rs in results.values() for r in rs.values()) + "\n"
            fh.write(text.encode())
        fh.flush()
    finally:
        if args.output:
            fh.close()
    return 0
