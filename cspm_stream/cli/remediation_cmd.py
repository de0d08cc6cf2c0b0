"""`cspm-stream remediation`: approve commands, list actions and the permissions they need.

cspm-stream remediation approve ID [--approver NAME] [--reject]
cspm-stream remediation rollback ID [--dry-run] [--actor NAME]   # undo a succeeded action from its audit record
cspm-stream remediation playbooks [--format table|json]           # detection → response playbooks
cspm-stream remediation list-actions [--format table|json]
cspm-stream remediation iam-policy            # the remediator role's least-privilege policy
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

import orjson

from cspm_stream import settings as settings_mod
from cspm_stream.errors import ConfigError


def register(sub: Any) -> None:
    p = sub.add_parser("remediation", help="approve remediation commands; list actions and their permissions")
    rsub = p.add_subparsers(dest="remediation_command", required=True, metavar="ACTION")

    a = rsub.add_parser("approve", help="publish a signed approval (approval.v1) for a waiting command")
    a.add_argument("command_id", metavar="ID", help="the command id (rc-...) from remediation-results")
    a.add_argument("--approver", default="", help="who approves (default: the OS user)")
    a.add_argument("--reject", action="store_true", help="reject instead of approve")
    a.set_defaults(func=_approve)

    rb = rsub.add_parser(
        "rollback",
        help="undo a succeeded remediation or response: restore the prior state its audit record kept",
    )
    rb.add_argument("command_id", metavar="ID", help="the command id (rc-...) from remediation-results")
    rb.add_argument("--dry-run", action="store_true", help="plan only: print (and publish) the calls, change nothing")
    rb.add_argument("--actor", default="", help="who rolls back (default: the OS user)")
    rb.set_defaults(func=_rollback)

    pb = rsub.add_parser("playbooks", help="the response playbooks: which detections trigger which action")
    pb.add_argument("--format", choices=("table", "json"), default="table")
    pb.set_defaults(func=_playbooks)

    ls = rsub.add_parser("list-actions", help="every remediation action with its minimum IAM permissions")
    ls.add_argument("--format", choices=("table", "json"), default="table")
    ls.set_defaults(func=_list)

    pol = rsub.add_parser("iam-policy", help="print the remediator role's least-privilege IAM policy (JSON)")
    pol.add_argument("--actions", default="", help="comma-separated action names (default: all)")
    pol.set_defaults(func=_policy)


def actions_table() -> list[dict[str, Any]]:
    from cspm_stream.remediate.base import registry

    return [
        {
            "name": a.name,
            "resource_types": list(a.resource_types),
            "summary": a.summary,
            "read_permissions": list(a.read_permissions),
            "write_permissions": list(a.write_permissions),
            "tag_permissions": list(a.tag_permissions),
            "permissions": list(a.permissions),
        }
        for a in sorted(registry().values(), key=lambda x: x.name)
    ]


def iam_policy(names: list[str] | None = None) -> dict[str, Any]:
    """A policy document granting exactly the permissions of ``names`` (default: every action)."""
    from cspm_stream.remediate.rollback import ROLLBACK_PERMISSIONS

    rows = [r for r in actions_table() if not names or r["name"] in names]
    undo = {p for r in rows for p in ROLLBACK_PERMISSIONS.get(r["name"], ())}  # `remediation rollback` needs these too
    perms = sorted({p for r in rows for p in r["permissions"]} | undo | {"sts:GetCallerIdentity"})
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "CspmStreamRemediator", "Effect": "Allow", "Action": perms, "Resource": "*"}],
    }


def _list(args: argparse.Namespace) -> int:
    rows = actions_table()
    if args.format == "json":
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    for r in rows:
        print(f"{r['name']}  [{', '.join(r['resource_types'])}]")
        print(f"    {r['summary']}")
        print(f"    permissions: {', '.join(r['permissions'])}")
    print(f"{len(rows)} actions")
    return 0


def _policy(args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.actions.split(",") if n.strip()] or None
    if names:
        known = {r["name"] for r in actions_table()}
        unknown = sorted(set(names) - known)
        if unknown:
            print(f"cspm-stream: unknown action(s): {', '.join(unknown)}", file=sys.stderr)
            return 2
    sys.stdout.write(orjson.dumps(iam_policy(names), option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


def _approve(args: argparse.Namespace) -> int:
    from cspm_stream.models import Approval, dumps
    from cspm_stream.remediate.modes import sign_approval
    from cspm_stream.stages.base import Emit, headers_for
    from cspm_stream.timeutil import now_iso

    settings = settings_mod.load(args.config)
    secret = settings.remediation.approval_hmac_secret.get()
    if not secret:
        raise ConfigError(
            "remediation.approval_hmac_secret", "<unset>", "set CSPM_REMEDIATION_APPROVAL_HMAC_SECRET to sign approvals"
        )
    if not args.command_id.startswith("rc-"):
        print(f"cspm-stream: {args.command_id!r} is not a command id (rc-...)", file=sys.stderr)
        return 2
    approval = Approval(
        command_id=args.command_id,
        approver=args.approver or getpass.getuser(),
        approved_at=now_iso(),
        approve=not args.reject,
    )
    approval.signature = sign_approval(approval, secret)
    emit = Emit("approvals", approval.command_id, dumps(approval), headers_for("approval.v1"))
    asyncio.run(_send(settings, emit))
    verb = "rejected" if args.reject else "approved"
    print(f"{verb} {approval.command_id} as {approval.approver} → {settings.kafka.topic('approvals')}")
    return 0


async def _send(settings: settings_mod.Settings, emit: Any) -> None:
    from aiokafka.errors import KafkaError

    from cspm_stream.errors import KafkaUnavailable
    from cspm_stream.kafka import Producer
    from cspm_stream.topic_admin import require

    await require(settings.kafka, ["approvals"])  # never auto-created: TopicError names 'topics create'
    try:
        async with Producer(settings.kafka, request_timeout_ms=int(settings.kafka.request_timeout_s * 1000)) as p:
            await p.send(emit)
    except KafkaError as exc:
        raise KafkaUnavailable(f"approval not published: {type(exc).__name__}: {exc}") from None


def _rollback(args: argparse.Namespace) -> int:
    from cspm_stream.remediate.audit import run_rollback
    from cspm_stream.timeutil import now_iso

    settings = settings_mod.load(args.config)
    if not args.command_id.startswith("rc-"):
        print(f"cspm-stream: {args.command_id!r} is not a command id (rc-...)", file=sys.stderr)
        return 2
    out = asyncio.run(
        run_rollback(
            settings, args.command_id, actor=args.actor or getpass.getuser(), at=now_iso(), dry_run=args.dry_run
        )
    )
    r = out.result
    print(f"{r.command_id} ({r.status.value}): rollback of {args.command_id} {r.action} on {r.resource_arn}")
    for c in r.calls:
        print(f"  {c['service']}:{c['operation']} {orjson.dumps(c['params']).decode()}")
    if r.error:
        print(f"cspm-stream remediation rollback: {r.error}", file=sys.stderr)
    return 3 if r.status.value == "failed" else 0


def _playbooks(args: argparse.Namespace) -> int:
    from cspm_stream.remediate.playbooks import load

    rows: list[dict[str, Any]] = [
        {
            "id": p.id,
            "title": p.title,
            "action": p.action,
            "target": p.target if p.target != "resource" else f"resource ({p.resource_type})",
            "rules": [{"id": r, "name": n} for r, n in p.rules],
            "description": p.description,
        }
        for p in load()
    ]
    if args.format == "json":
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    for r in rows:
        print(f"{r['id']}: {r['action']} on {r['target']}")
        print(f"    {r['title']}")
        print(f"    rules: {', '.join(x['name'] for x in r['rules'])}")
    print(f"{len(rows)} playbooks")
    return 0
