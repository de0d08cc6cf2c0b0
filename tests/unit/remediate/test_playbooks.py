"""The response playbooks: their own tests, their references, their loading rules, and the router emitting them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from cspm_stream import settings as settings_mod
from cspm_stream.errors import DefinitionError, RemediationError
from cspm_stream.models import RemediationCommand, RemediationMode, RemediationResult, RemediationStatus, decode
from cspm_stream.remediate.base import registry
from cspm_stream.remediate.playbook_tests import detection, run
from cspm_stream.remediate.playbooks import BUILTIN_DIR, Playbook, commands_for, load, parse
from cspm_stream.remediate.rollback import ROLLBACKS, check_reversible
from cspm_stream.settings import RemediationSettings
from cspm_stream.stages.alerts import build_handler
from cspm_stream.stages.base import RecordMeta
from cspm_stream.testing.findings import raw

PLAYBOOKS = load()
RULES_DIR = BUILTIN_DIR.parent / "rules"


def builtin_rules() -> dict[str, str]:
    """Sigma id → name of every built-in rule (read from the rule files)."""
    out: dict[str, str] = {}
    for f in RULES_DIR.rglob("*.yml"):
        if f.name.endswith(".tests.yml"):
            continue
        for doc in yaml.safe_load_all(f.read_text()):
            if isinstance(doc, dict) and doc.get("id"):
                out[str(doc["id"])] = str(doc.get("name") or "")
    return out


def test_there_is_a_playbook_for_each_response_the_issue_names() -> None:
    actions = {p.action for p in PLAYBOOKS}
    assert actions >= {
        "iam_quarantine_access_key",  # deactivate an access key
        "iam_revoke_role_sessions",  # revoke a role's active sessions
        "ec2_isolate_instance",  # isolate an instance into a quarantine security group
        "s3_block_public_access",  # block public access on a bucket
        "iam_delete_login_profile",  # disable a console login
    }
    assert all(a in ROLLBACKS for a in actions), "every response action can be rolled back"


@pytest.mark.parametrize("pb", PLAYBOOKS, ids=[p.id for p in PLAYBOOKS])
def test_playbook_own_tests(pb: Playbook) -> None:
    assert run(pb) == []
    expectations = [t.get("expect") for t in pb.tests]
    assert any(isinstance(e, dict) for e in expectations), "at least one positive case"
    assert any(e in (None, "none") for e in expectations), "at least one case where nothing must happen"


@pytest.mark.parametrize("pb", PLAYBOOKS, ids=[p.id for p in PLAYBOOKS])
def test_playbook_references_are_real(pb: Playbook) -> None:
    rules = builtin_rules()
    for rid, name in pb.rules:
        assert rules.get(rid) == name, f"{pb.id}: rule {rid} is not {name}"
    action = registry()[pb.action]
    target_type = {"actor_user": "aws.iam.user", "actor_role": "aws.iam.role", "actor_instance": "aws.ec2.instance"}
    assert target_type.get(pb.target, pb.resource_type) in action.resource_types


def test_the_runner_reports_a_wrong_expectation() -> None:
    pb = next(p for p in PLAYBOOKS if p.id == "block_bucket_made_public")
    flipped = [dict(t, expect="none") if isinstance(t.get("expect"), dict) else t for t in pb.tests]
    assert run(dataclasses.replace(pb, tests=tuple(flipped)))
    wrong = [
        dict(t, expect={"resource_arn": "arn:aws:s3:::other"}) if isinstance(t.get("expect"), dict) else t
        for t in pb.tests
    ]
    assert any("resource_arn" in f for f in run(dataclasses.replace(pb, tests=tuple(wrong))))


def _doc(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "my_playbook",
        "title": "t",
        "description": "d",
        "rules": [{"id": "x", "name": "y"}],
        "action": "s3_block_public_access",
        "target": "resource",
        "resource_type": "aws.s3.bucket",
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("over", "key"),
    [
        ({"action": "s3_delete_everything"}, "action"),
        ({"target": "the_attacker"}, "target"),
        ({"resource_type": None}, "resource_type"),
        ({"rules": []}, "rules"),
        ({"rules": ["cspm_x"]}, "rules[0]"),
        ({"params_from": {"k": "whatever"}}, "params_from"),
        ({"params": {"k": {"nested": 1}}}, "params"),
        ({"id": "other_name"}, "id"),
        ({"surprise": 1}, ""),
    ],
)
def test_bad_playbooks_are_refused_naming_file_and_key(over: dict[str, Any], key: str) -> None:
    with pytest.raises(DefinitionError) as info:
        parse(_doc(**over), "/x/my_playbook.yaml", registry())
    assert info.value.file == "/x/my_playbook.yaml" and info.value.path == key


def test_duplicate_ids_across_directories_are_refused(tmp_path: Path) -> None:
    (tmp_path / "block_bucket_made_public.yaml").write_text((BUILTIN_DIR / "block_bucket_made_public.yaml").read_text())
    with pytest.raises(DefinitionError, match="also in"):
        load([BUILTIN_DIR, tmp_path])


def _finding(pb_id: str, case: int = 0) -> dict[str, Any]:
    pb = next(p for p in PLAYBOOKS if p.id == pb_id)
    return detection(pb, dict(pb.tests[case]["detection"]))


def test_modes_gate_playbooks_like_remediation() -> None:
    f = _finding("revoke_instance_role_sessions_on_credential_theft")
    assert commands_for(PLAYBOOKS, f, RemediationSettings()) == []  # off by default
    on = RemediationSettings(actions={"iam_revoke_role_sessions": RemediationMode.APPROVE})
    (cmd,) = commands_for(PLAYBOOKS, f, on)  # the isolation playbook of the same rule stays off
    assert cmd.action == "iam_revoke_role_sessions" and cmd.mode is RemediationMode.APPROVE
    capped = dataclasses.replace(on, accounts={"123456789012": RemediationMode.DRY_RUN})
    (cmd,) = commands_for(PLAYBOOKS, f, capped)
    assert cmd.mode is RemediationMode.DRY_RUN
    both = RemediationSettings(default_mode=RemediationMode.DRY_RUN)
    assert {c.action for c in commands_for(PLAYBOOKS, f, both)} == {"iam_revoke_role_sessions", "ec2_isolate_instance"}
    again = commands_for(PLAYBOOKS, f, both)
    assert [c.command_id for c in again] == [c.command_id for c in commands_for(PLAYBOOKS, f, both)]  # deterministic


def test_test_alerts_and_compliance_findings_never_trigger() -> None:
    f = _finding("block_bucket_made_public")
    f["unmapped"]["test"] = True
    assert commands_for(PLAYBOOKS, f, RemediationSettings(default_mode=RemediationMode.AUTO)) == []
    f = _finding("block_bucket_made_public")
    f["class_uid"] = 2003
    assert commands_for(PLAYBOOKS, f, RemediationSettings(default_mode=RemediationMode.AUTO)) == []


async def test_alert_router_emits_the_playbook_command() -> None:
    s = settings_mod.load(data={"remediation": {"default_mode": "dry-run"}}, environ={})
    h = build_handler(s)
    f = _finding("disable_console_login_created_for_another_user")
    state: dict[str, Any] = {}
    emits = await h.handle(None, raw(f), RecordMeta("detections", 0, 0), state)
    cmds = [decode(e.value, RemediationCommand) for e in emits if e.topic == "remediation"]
    assert [(c.action, c.resource_arn) for c in cmds] == [
        ("iam_delete_login_profile", "arn:aws:iam::123456789012:user/svc-backup")
    ]
    assert cmds[0].mode is RemediationMode.DRY_RUN and cmds[0].params["playbook"] == (
        "disable_console_login_created_for_another_user"
    )
    # the same detection again (a replay) is deduplicated by the router; with remediation off nothing is asked
    assert not [
        e for e in await h.handle(None, raw(f), RecordMeta("detections", 0, 1), state) if e.topic == "remediation"
    ]
    off = build_handler(settings_mod.load(environ={}))
    assert not [
        e for e in await off.handle(None, raw(f), RecordMeta("detections", 0, 0), {}) if e.topic == "remediation"
    ]


def test_only_succeeded_reversible_actions_roll_back_once() -> None:
    def result(status: RemediationStatus, action: str = "iam_quarantine_access_key", cid: str = "rc-ab") -> Any:
        return RemediationResult(
            command_id=cid,
            action=action,
            mode=RemediationMode.AUTO,
            status=status,
            account_id="123456789012",
            region="us-east-1",
            resource_arn="arn:aws:iam::123456789012:user/u",
            at="2026-01-01T00:00:00.000Z",
            before={"Targets": ["AKIA1"]},
        )

    ok = result(RemediationStatus.SUCCEEDED)
    check_reversible(ok, [ok])
    for bad, why in (
        (result(RemediationStatus.PLANNED), "nothing to roll back"),
        (result(RemediationStatus.SUCCEEDED, action="kms_enable_rotation"), "has no rollback"),
    ):
        with pytest.raises(RemediationError, match=why):
            check_reversible(bad, [bad])
    done = result(RemediationStatus.SUCCEEDED, cid="rb-ab")
    with pytest.raises(RemediationError, match="already rolled back"):
        check_reversible(ok, [ok, done])
