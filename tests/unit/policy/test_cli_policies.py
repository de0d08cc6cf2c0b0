from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from cspm_stream.cli import main

from .conftest import FIXTURES

POL = str(FIXTURES / "policies")
FW = str(FIXTURES / "frameworks")


@pytest.fixture
def cfg(tmp_path: Path) -> str:
    p = tmp_path / "cspm.yaml"
    p.write_text(f"policy:\n  builtin_policies: false\n  policy_dirs: ['{POL}']\n  framework_dirs: ['{FW}']\n")
    return str(p)


def test_list_json(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", cfg, "policies", "list", "--format", "json"]) == 0
    rows = orjson.loads(capsys.readouterr().out)
    by_id = {r["id"]: r for r in rows}
    assert len(rows) == 7
    acl = by_id["fx_s3_public_acl"]
    assert acl["title"] == "Bucket ACL grants everyone" and acl["severity"] == "critical"
    assert acl["resource_type"] == "aws.s3.bucket" and acl["frameworks"] == ["fixture-fw"]
    assert acl["related"] == {
        "prowler": ["s3_bucket_public_access"],
        "securityhub": ["S3.2"],
        "see_also": {"prowler": [], "securityhub": []},
    }
    assert by_id["fx_s3_no_encryption"]["frameworks"] == ["fixture-fw", "fixture-extra"]


def test_list_table_filter(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", cfg, "policies", "list", "--resource-type", "aws.ec2.security_group"]) == 0
    out = capsys.readouterr().out
    assert "fx_ec2_ssh_open" in out and "fx_s3_public_acl" not in out


def test_validate_ok_and_errors(cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", cfg, "policies", "validate"]) == 0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "oops.yaml").write_text(
        "id: oops\ntitle: t\nseverity: high\nresource_type: aws.s3.bucket\n"
        "condition: {all: [{path: A, op: eq, value: 1}, {path: B, op: bogus, value: 1}]}\n"
    )
    capsys.readouterr()
    assert main(["-c", cfg, "policies", "validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad / 'oops.yaml'}: condition.all[1].op: unknown operator 'bogus'" in out


def test_test_command(cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", cfg, "policies", "test"]) == 0
    assert "22/22 tests passed over 7 policies" in capsys.readouterr().err
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "wrong_expect.yaml").write_text(
        "id: wrong_expect\ntitle: t\nseverity: low\nresource_type: aws.s3.bucket\n"
        "condition: {path: A, op: eq, value: 1}\n"
        "tests:\n  - {name: says pass but fails, expect: pass, attributes: {A: 1}}\n"
    )
    assert main(["-c", cfg, "policies", "test", str(wrong)]) == 1
    assert "tests[says pass but fails]: expected pass, got fail" in capsys.readouterr().out


def test_schema_and_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policies", "schema"]) == 0
    schema = orjson.loads(capsys.readouterr().out)
    assert schema["properties"]["severity"]["enum"][0] == "informational"
    assert main(["policies", "checks"]) == 0
    out = capsys.readouterr().out
    assert "iam_policy_allows_admin" in out and "age-days-gt" in out
