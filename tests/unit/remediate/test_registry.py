"""Contract tests: the registry matches the shared action names, policies only name real actions."""

from __future__ import annotations

import re

import pytest

from cspm_stream.models import Approval, RemediationMode
from cspm_stream.remediate.base import registry
from cspm_stream.remediate.modes import (
    approval_valid,
    command_id,
    resolve_mode,
    resource_id_from_arn,
    sign_approval,
    strictest,
)
from cspm_stream.settings import RemediationSettings, Secret

CONTRACT = (
    "s3_block_public_access s3_account_block_public_access s3_enable_default_encryption s3_enable_versioning "
    "s3_remove_public_acl_grants ec2_revoke_public_ingress ec2_enable_ebs_default_encryption "
    "ec2_remove_public_snapshot_sharing ec2_remove_public_ami_sharing ec2_require_imdsv2 iam_deactivate_access_key "
    "iam_delete_login_profile iam_detach_admin_policy iam_set_password_policy rds_make_private "
    "rds_enable_deletion_protection rds_remove_public_snapshot_sharing kms_enable_rotation cloudtrail_start_logging "
    "cloudtrail_enable_log_validation guardduty_enable ecr_enable_scan_on_push sqs_enable_encryption "
    # response actions (catalog/playbooks)
    "iam_quarantine_access_key iam_revoke_role_sessions ec2_isolate_instance"
).split()
PERMISSION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")


def test_registry_is_the_contract_list() -> None:
    assert sorted(registry()) == sorted(CONTRACT)
    assert len(registry()) >= 20


@pytest.mark.parametrize("name", CONTRACT)
def test_action_declares_minimal_permissions(name: str) -> None:
    a = registry()[name]
    assert a.name == name and a.summary and a.resource_types
    assert a.read_permissions and a.write_permissions
    assert all(PERMISSION.match(p) for p in a.permissions), a.permissions
    assert all(rt.startswith("aws.") for rt in a.resource_types)
    # nothing broad: no wildcards, no admin
    assert not any("*" in p for p in a.permissions)


def test_builtin_policies_only_name_registered_actions_for_supported_types() -> None:
    from cspm_stream.policy.loader import builtin_policy_dir, load_policies

    policies = load_policies([builtin_policy_dir()])
    named = [(p.id, p.remediation.action, p.resource_type) for p in policies if p.remediation.action]
    assert named, "expected built-in policies with remediation actions"
    for pid, action, rtype in named:
        assert action in registry(), f"{pid}: unknown action {action}"
        assert rtype in registry()[action].resource_types, f"{pid}: {action} does not handle {rtype}"


def test_mode_resolution() -> None:
    conf = RemediationSettings(
        default_mode=RemediationMode.DRY_RUN,
        actions={"kms_enable_rotation": RemediationMode.AUTO, "rds_make_private": RemediationMode.OFF},
        accounts={"111111111111": RemediationMode.APPROVE},
    )
    assert resolve_mode(RemediationSettings(), "kms_enable_rotation", "1") is RemediationMode.OFF
    assert resolve_mode(conf, "kms_enable_rotation", "222222222222") is RemediationMode.AUTO
    assert resolve_mode(conf, "kms_enable_rotation", "111111111111") is RemediationMode.APPROVE  # account cap
    assert resolve_mode(conf, "s3_enable_versioning", "222222222222") is RemediationMode.DRY_RUN
    assert resolve_mode(conf, "rds_make_private", "111111111111") is RemediationMode.OFF
    assert strictest(RemediationMode.AUTO, RemediationMode.DRY_RUN) is RemediationMode.DRY_RUN


def test_command_id_is_deterministic() -> None:
    a = command_id("x", "arn:1", "uid", "100")
    assert a == command_id("x", "arn:1", "uid", "100") and a.startswith("rc-")
    assert a != command_id("x", "arn:1", "uid", "200")
    assert a != command_id("y", "arn:1", "uid", "100")


@pytest.mark.parametrize(
    ("arn", "rid"),
    [
        ("arn:aws:s3:::my-bucket", "my-bucket"),
        ("arn:aws:ec2:us-east-1:123456789012:security-group/sg-0abc", "sg-0abc"),
        ("arn:aws:iam::123456789012:user/path/alice", "alice"),
        ("arn:aws:rds:us-east-1:123456789012:db:prod-db", "prod-db"),
        ("arn:aws:kms:us-east-1:123456789012:key/1234-abcd", "1234-abcd"),
        ("arn:aws:sqs:eu-west-1:123456789012:jobs", "jobs"),
        ("arn:aws:ec2:eu-west-1:123456789012:region-settings", "eu-west-1"),
    ],
)
def test_resource_id_from_arn(arn: str, rid: str) -> None:
    assert resource_id_from_arn(arn, arn.split(":")[3]) == rid


def test_approval_signatures() -> None:
    a = Approval(command_id="rc-1", approver="alice", approved_at="2026-01-01T00:00:00.000Z")
    a.signature = sign_approval(a, "k")
    assert approval_valid(a, "k")
    assert not approval_valid(a, "other")
    assert not approval_valid(a, "")  # no secret configured: nothing is ever approved
    a.approver = "mallory"
    assert not approval_valid(a, "k")  # the signature covers who approved
    unsigned = Approval(command_id="rc-1", approver="alice", approved_at="x")
    assert not approval_valid(unsigned, "k")
    assert repr(Secret("k")) == "Secret('**********')"


def test_every_registered_action_has_a_moto_case() -> None:
    from .test_actions_moto import CASES

    assert set(CASES) == set(registry())


def test_docs_list_every_action_with_its_permissions() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "remediation.md").read_text()
    for a in registry().values():
        row = next((ln for ln in doc.splitlines() if ln.startswith(f"| `{a.name}` |")), None)
        assert row is not None, f"docs/remediation.md has no row for {a.name}"
        for p in a.permissions:
            assert f"`{p}`" in row, f"{a.name}: {p} missing from docs"
