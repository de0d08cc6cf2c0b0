from __future__ import annotations

import orjson
import pytest

from cspm_stream.cli import main
from cspm_stream.remediate.base import registry


def test_list_actions_json_shows_permissions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remediation", "list-actions", "--format", "json"]) == 0
    rows = orjson.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == set(registry())
    bpa = next(r for r in rows if r["name"] == "s3_block_public_access")
    assert bpa["permissions"] == [
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketTagging",
    ]


def test_list_actions_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remediation", "list-actions"]) == 0
    out = capsys.readouterr().out
    assert "kms_enable_rotation" in out and "kms:EnableKeyRotation" in out and "26 actions" in out


def test_iam_policy_is_least_privilege(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remediation", "iam-policy", "--actions", "kms_enable_rotation"]) == 0
    doc = orjson.loads(capsys.readouterr().out)
    assert doc["Statement"][0]["Action"] == [
        "kms:EnableKeyRotation",
        "kms:GetKeyRotationStatus",
        "kms:ListResourceTags",
        "sts:GetCallerIdentity",
    ]
    assert main(["remediation", "iam-policy", "--actions", "nope"]) == 2


def test_approve_needs_the_signing_secret(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for k in list(__import__("os").environ):
        if k.startswith("CSPM_"):
            monkeypatch.delenv(k)
    assert main(["remediation", "approve", "rc-123"]) == 2
    assert "CSPM_REMEDIATION_APPROVAL_HMAC_SECRET" in capsys.readouterr().err
    monkeypatch.setenv("CSPM_REMEDIATION_APPROVAL_HMAC_SECRET", "k")
    assert main(["remediation", "approve", "not-a-command"]) == 2
