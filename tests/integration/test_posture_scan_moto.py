"""``cspm-stream scan`` end to end on a moto server: seeded misconfigurations and their
safe variants; the scan reports exactly the misconfigured ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from cspm_stream.cli import main
from cspm_stream.testing import MotoServer
from cspm_stream.testing.ocsf_models import failing

pytestmark = pytest.mark.moto

FIX = Path(__file__).parent.parent / "unit" / "policy" / "fixtures"
WORLD_SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


def _policy(bucket: str, condition: dict[str, Any] | None = None) -> str:
    st: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    if condition:
        st["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def seed(moto: MotoServer) -> dict[str, str]:
    s3 = moto.boto3_client("s3")
    for b in ("acl-public", "policy-public", "policy-vpce", "private"):
        s3.create_bucket(Bucket=b)
    s3.put_bucket_acl(Bucket="acl-public", ACL="public-read")
    s3.put_bucket_policy(Bucket="policy-public", Policy=_policy("policy-public"))
    s3.put_bucket_policy(
        Bucket="policy-vpce",
        Policy=_policy("policy-vpce", {"StringEquals": {"aws:SourceVpce": "vpce-1234"}}),
    )
    ec2 = moto.boto3_client("ec2")
    ids = {}
    for name, perms in {
        "ssh-world": [WORLD_SSH],
        "ssh-office": [{**WORLD_SSH, "IpRanges": [{"CidrIp": "203.0.113.0/24"}]}],
        "https-world": [{**WORLD_SSH, "FromPort": 443, "ToPort": 443}],
        "all-ipv6": [{"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}],
    }.items():
        gid = ec2.create_security_group(GroupName=name, Description=name)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=perms)
        ids[name] = gid
    return ids


def test_scan_reports_exactly_the_misconfigured(moto_server: MotoServer, tmp_path: Path) -> None:
    moto_server.reset()
    sg = seed(moto_server)
    cfg = tmp_path / "cspm.yaml"
    cfg.write_text(
        f"policy:\n  builtin_policies: false\n  policy_dirs: ['{FIX / 'policies'}']\n"
        f"  framework_dirs: ['{FIX / 'frameworks'}']\n"
    )
    out = tmp_path / "findings.jsonl"
    args = [
        "-c",
        str(cfg),
        "scan",
        "--endpoint-url",
        moto_server.endpoint_url,
        "--regions",
        "us-east-1",
        "--services",
        "s3,ec2",
    ]
    code = main([*args, "--output", str(out), "--fail-on", "critical", "--include-passed"])
    findings = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    checked = {"fx_s3_public_acl", "fx_s3_policy_public", "fx_ec2_ssh_open"}
    failed = {
        (f["unmapped"]["policy_id"], f["resources"][0]["uid"].rsplit(":", 1)[-1].rsplit("/", 1)[-1])
        for f in findings
        if f["compliance"]["status_id"] == 3 and f["unmapped"]["policy_id"] in checked
    }
    assert failed == {
        ("fx_s3_public_acl", "acl-public"),
        ("fx_s3_policy_public", "policy-public"),
        ("fx_ec2_ssh_open", sg["ssh-world"]),
        ("fx_ec2_ssh_open", sg["all-ipv6"]),
    }
    passed = {
        (f["unmapped"]["policy_id"], f["resources"][0]["uid"].rsplit("/", 1)[-1])
        for f in findings
        if f["compliance"]["status_id"] == 1
    }
    assert ("fx_ec2_ssh_open", sg["https-world"]) in passed and ("fx_ec2_ssh_open", sg["ssh-office"]) in passed
    assert code == 1  # critical public buckets failed
    f = next(
        x for x in findings if x["unmapped"]["policy_id"] == "fx_s3_public_acl" and x["compliance"]["status_id"] == 3
    )
    assert f["class_uid"] == 2003 and f["compliance"]["requirements"] == ["fixture-fw:1.1"]
    assert {"uid": "S3.2", "name": "securityhub", "type_id": 1, "type": "Rule"} in f["finding_info"][
        "related_analytics"
    ]
    assert failing(findings) == {}  # every finding, passes included, is a valid OCSF Compliance Finding

    # failed checks only by default; csv format; no --fail-on: exit 0
    csv_out = tmp_path / "f.csv"
    assert main([*args, "--format", "csv", "--output", str(csv_out), "--framework", "fixture-fw"]) == 0
    rows = csv_out.read_text().splitlines()
    assert rows[0].startswith("status,state,severity,policy_id")
    assert all(r.startswith(("Fail,", "Warning,")) for r in rows[1:])
    assert any("acl-public" in r for r in rows)


def test_builtin_scan_output_is_valid_ocsf(moto_server: MotoServer, tmp_path: Path) -> None:
    """A scan with every built-in policy: each finding validates, and the summary's score is
    passed / (passed + failed) over the printed checks."""
    moto_server.reset()
    seed(moto_server)
    out = tmp_path / "builtin.jsonl"
    code = main(
        [
            "scan",
            "--endpoint-url",
            moto_server.endpoint_url,
            "--regions",
            "us-east-1",
            "--services",
            "s3,ec2,iam,kms,cloudtrail",
            "--include-passed",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    findings = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    states = {f["unmapped"]["state"] for f in findings}
    assert {"passed", "new"} <= states and len(findings) > 100
    assert failing(findings) == {}
