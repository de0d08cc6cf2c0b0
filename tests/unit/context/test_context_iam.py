"""The context stage's IAM side: settle, analyse, principal findings and their lifecycle."""

from __future__ import annotations

from cspm_stream.iamgraph.model import ADMINISTRATOR_ACCESS
from cspm_stream.iamgraph.synthetic import allow, arn, doc, role, trust_service, user
from cspm_stream.stages.context_input import ContextInput
from cspm_stream.testing.ocsf_models import ocsf_errors

from .helpers import ACCOUNT, Driver, by

ALICE = arn("user", "alice")
BOB = arn("user", "bob")
ADMIN_ROLE = arn("role", "admin")
ESC = "iam_privilege_escalation_path"
EFF = "iam_principal_effective_admin"


def _estate(alice_can_pass: bool = True) -> list[object]:
    grants = ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"] if alice_can_pass else ["s3:*"]
    return [
        user("alice", inline=[doc(allow(grants))]),
        user("bob", inline=[doc(allow("s3:GetObject"))]),
        role("admin", trust_service("lambda.amazonaws.com"), attached=[ADMINISTRATOR_ACCESS]),
    ]


async def test_full_scan_is_analysed_once_it_completes_and_settles() -> None:
    d = Driver()
    assert await d.resources(_estate()) == []  # nothing while the scan runs
    assert await d.tick(60) == []  # settled, but the scan has not reported done
    assert (
        await d.send(ContextInput(kind="scan", account_id=ACCOUNT, service="iam", scan_id="scan-1", complete=True))
        != []
    )
    out = await d.tick(60)
    assert out == []  # analysed once


async def test_principal_findings_and_their_hops() -> None:
    d = Driver()
    await d.resources(_estate())
    await d.send(ContextInput(kind="scan", account_id=ACCOUNT, service="iam", scan_id="scan-1"))
    fs = await d.tick(10)
    states = by(fs)
    assert states[(ESC, ALICE)] == "new" and states[(ESC, BOB)] == "passed"
    assert states[(EFF, ADMIN_ROLE)] == "new" and states[(ESC, ADMIN_ROLE)] == "passed"
    alice = next(f for f in fs if f["unmapped"]["policy_id"] == ESC and f["resources"][0]["uid"] == ALICE)
    assert alice["severity"] == "High" and alice["resources"][0]["type"] == "aws.iam.user"
    assert "passrole-lambda" in alice["status_detail"] and ADMIN_ROLE.split(":")[-1] in alice["status_detail"]
    assert alice["unmapped"]["producer"] == "context"
    assert alice["unmapped"]["escalation_path"][0]["target"] == ADMIN_ROLE
    assert ADMIN_ROLE in alice["status_detail"]  # every hop's role by its full ARN
    assert alice["compliance"]["requirements"]  # mapped to frameworks
    for f in fs:
        assert ocsf_errors(f) == []


async def test_fix_resolves_and_deletion_closes() -> None:
    d = Driver()
    await d.resources(_estate(), scan_id="rescan-1")
    assert by(await d.tick(10))[(ESC, ALICE)] == "new"
    # alice loses PassRole (a rescan): resolved within a tick once settled
    await d.resources([_estate(alice_can_pass=False)[0]], scan_id="rescan-2")
    assert await d.tick(1) == []  # not settled yet
    assert by(await d.tick(10)) == {(ESC, ALICE): "resolved"}
    # bob is deleted: his checks get their last record
    await d.send(ContextInput(kind="deleted", account_id=ACCOUNT, arn=BOB))
    gone = await d.tick(10)
    assert {(f["unmapped"]["policy_id"], f["unmapped"].get("resource_deleted")) for f in gone} == {
        (ESC, True),
        (EFF, True),
    }


async def test_unchanged_rescan_emits_nothing_and_restart_does_not_repeat() -> None:
    d = Driver()
    await d.resources(_estate(), scan_id="rescan-1")
    first = await d.tick(10)
    assert first
    await d.resources(_estate(), scan_id="rescan-2")  # identical
    assert await d.tick(10) == []
    r = d.restart()
    await r.resources(_estate(), scan_id="rescan-3")
    assert await r.tick(10) == []
    await r.resources([_estate(alice_can_pass=False)[0]], scan_id="rescan-4")
    assert by(await r.tick(10)) == {(ESC, ALICE): "resolved"}


async def test_a_changed_path_is_an_update_not_a_new_alert() -> None:
    d = Driver()
    await d.resources(_estate(), scan_id="rescan-1")
    await d.tick(10)
    other = [allow(["iam:PutUserPolicy"], ALICE)]
    await d.resources([user("alice", inline=[doc(*other)])], scan_id="rescan-2")
    (f,) = await d.tick(10)
    assert (
        f["unmapped"]["state"] == "failing" and f["activity_id"] == 2
    )  # an update: still failing, never re-alerted as new
    assert "put-user-policy" in f["status_detail"]


async def test_accounts_are_kept_apart() -> None:
    d = Driver()
    other = "444455556666"
    await d.resources(
        [user("alice", inline=[doc(allow("iam:PutUserPolicy", "*"))], account=other)], scan_id="rescan-1", account=other
    )
    await d.resources(_estate(), scan_id="rescan-1")
    fs = await d.tick(10)
    accounts = {f["cloud"]["account"]["uid"] for f in fs}
    assert accounts == {ACCOUNT, other}
    assert by(fs)[(ESC, f"arn:aws:iam::{other}:user/alice")] == "new"


def test_factory_loads_only_the_principal_policies_with_their_mappings(tmp_path: object) -> None:
    from cspm_stream import settings as settings_mod
    from cspm_stream.app import build_role, role_context
    from cspm_stream.stages.context import ContextHandler, build_handler

    s = settings_mod.load(data={}, environ={})
    h = build_handler(s)
    assert [p.id for p in h.principal_policies] == [EFF, ESC]
    assert "nist-800-53-rev5" in h.catalog.compliance(ESC).standards
    assert len(h.combinations) >= 4
    parts = build_role(role_context(s, environ={}), "process", ("context-router", "context"))
    assert [p.handler.name for p in parts] == ["context-router", "context"]
    assert isinstance(parts[1].handler, ContextHandler) and [n for n, _ in parts[1].services] == ["context-ticker"]
