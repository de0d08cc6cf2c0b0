"""``cspm-stream paths``: a one-shot scan of a moto account, table and JSON, --from, errors."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from cspm_stream.cli import main
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

ARN = f"arn:aws:iam::{ACCOUNT_ID}"


def _doc(*stmts: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(stmts)})


@pytest.fixture(scope="module")
def seeded(moto_server: MotoServer) -> MotoServer:
    reset(moto_server)
    iam = moto_server.boto3_client("iam")
    lam = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    acct = {"Effect": "Allow", "Principal": {"AWS": f"{ARN}:root"}, "Action": "sts:AssumeRole"}
    iam.create_role(RoleName="admin", AssumeRolePolicyDocument=_doc(lam))
    iam.attach_role_policy(RoleName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_role(RoleName="ops", AssumeRolePolicyDocument=_doc(acct))
    iam.put_role_policy(
        RoleName="ops",
        PolicyName="deploy",
        PolicyDocument=_doc(
            {
                "Effect": "Allow",
                "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
                "Resource": "*",
            }
        ),
    )
    iam.create_user(UserName="alice")
    iam.put_user_policy(
        UserName="alice",
        PolicyName="hop",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"{ARN}:role/ops"}),
    )
    iam.create_user(UserName="bob")  # nothing: no path
    iam.put_user_policy(
        UserName="bob",
        PolicyName="keys",
        PolicyDocument=_doc(
            {"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::*:user/${aws:username}"}
        ),
    )
    return moto_server


def _cfg(tmp_path: Path) -> str:
    cfg = tmp_path / "cspm.yaml"
    cfg.write_text("aws:\n  regions: [us-east-1]\n  rate_per_second: 1000\n")
    return str(cfg)


def test_json_lists_every_hop(seeded: MotoServer, tmp_path: Path) -> None:
    out = tmp_path / "paths.json"
    argv = ["-c", _cfg(tmp_path), "paths", "--to", "admin", "--endpoint-url", seeded.endpoint_url]
    assert main([*argv, "--format", "json", "-o", str(out)]) == 0
    doc = orjson.loads(out.read_bytes())
    by = {r["principal"]: r for r in doc["results"]}
    assert set(by) == {f"{ARN}:user/alice", f"{ARN}:role/ops"}  # only escalating principals without --all
    alice = by[f"{ARN}:user/alice"]
    assert alice["account"] == ACCOUNT_ID and alice["status"] == "escalates"
    assert [h["method"] for h in alice["path"]] == ["assume-role", "passrole-lambda"]
    assert [h["target"] for h in alice["path"]] == [f"{ARN}:role/ops", f"{ARN}:role/admin"]
    assert "lambda:CreateFunction" in alice["path"][1]["permissions"]
    assert "role/ops" in alice["detail"] and "passrole-lambda" in alice["detail"]


def test_table_and_all(seeded: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["-c", _cfg(tmp_path), "paths", "--endpoint-url", seeded.endpoint_url, "--all"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "user/alice [" in text and "→ admin in 2 hop(s)" in text
    assert "1. assume-role: user/alice uses sts:AssumeRole on" in text
    assert "2 principal(s) can escalate to admin; 1 already admin" in text
    assert "user/bob" not in text


def test_from_one_principal(seeded: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["-c", _cfg(tmp_path), "paths", "--endpoint-url", seeded.endpoint_url]
    assert main([*base, "--from", f"{ARN}:user/bob"]) == 0
    assert "no escalation path to admin" in capsys.readouterr().out
    assert main([*base, "--from", f"{ARN}:user/nobody"]) == 2
    err = capsys.readouterr().err
    assert "no such user or role" in err and "Traceback" not in err


def test_unreachable_endpoint_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["-c", _cfg(tmp_path), "paths", "--endpoint-url", "http://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code in (1, 3) and "Traceback" not in err


def test_grouping_shares_aws_managed_policies_and_routes_org_records() -> None:
    from cspm_stream.cli.paths_cmd import group_by_account
    from cspm_stream.testing import snapshot

    a, b, member = "111111111111", "222222222222", "333333333333"
    snaps = [
        snapshot("aws.iam.user", {"UserName": "u"}, arn=f"arn:aws:iam::{a}:user/u", account_id=a),
        snapshot("aws.iam.user", {"UserName": "v"}, arn=f"arn:aws:iam::{b}:user/v", account_id=b),
        snapshot("aws.iam.aws_managed_policy", {}, arn="arn:aws:iam::aws:policy/IAMFullAccess", account_id=b),
        snapshot(
            "aws.organizations.account",
            {"Id": a},
            arn=f"arn:aws:organizations::{member}:account/o/{a}",
            account_id=member,
        ),
    ]
    by = group_by_account(snaps)
    assert set(by) == {a, b}
    assert {r.resource_type for r in by[a]} == {
        "aws.iam.user",
        "aws.iam.aws_managed_policy",
        "aws.organizations.account",
    }
    assert {r.resource_type for r in by[b]} == {"aws.iam.user", "aws.iam.aws_managed_policy"}
