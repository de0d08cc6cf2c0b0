"""The context stage on the real broker: inventory + findings → router → context → a toxic
combination raised with its parts, then resolved when one part resolves; and an escalation path
raised from the IAM snapshots once the account's IAM scan completes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from cspm_stream.cli import main
from cspm_stream.combos import load
from cspm_stream.iamgraph.model import ADMINISTRATOR_ACCESS
from cspm_stream.iamgraph.synthetic import allow, doc, role, trust_service, user
from cspm_stream.models import dumps
from cspm_stream.models.enums import FindingStatus, Verdict
from cspm_stream.models.inventory import ScanStatus
from cspm_stream.models.ocsf import ACTIVITY_CLOSE, ACTIVITY_CREATE
from cspm_stream.policy.catalog import load_catalog
from cspm_stream.policy.frameworks import builtin_framework_dir
from cspm_stream.policy.loader import builtin_policy_dir
from cspm_stream.policy.ocsf import ResourceRef, build_compliance_finding, finding_uid
from cspm_stream.settings import Settings
from cspm_stream.stages.context import ContextHandler
from cspm_stream.stages.context_router import ContextRouterHandler
from cspm_stream.testing import snapshot
from cspm_stream.testing.runtime import LocalRuntime
from cspm_stream.topic_admin import ensure_topics
from tests.kafka_util import drain, produce, wait_for, write_config

pytestmark = pytest.mark.integration

ACCT = "123456789012"
INSTANCE = f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-0web"
SG = f"arn:aws:ec2:us-east-1:{ACCT}:security-group/sg-0open"
ROLE = f"arn:aws:iam::{ACCT}:role/web"
PROFILE = f"arn:aws:iam::{ACCT}:instance-profile/web"
COMBO = "toxic_public_instance_privileged_role"
CATALOG = load_catalog([builtin_policy_dir()], [builtin_framework_dir()])


def _finding(policy_id: str, arn: str, rtype: str, failing: bool, t: int) -> tuple[bytes, bytes]:
    """A compliance finding exactly as the posture stage writes it."""
    pol = CATALOG.policies[policy_id]
    f = build_compliance_finding(
        policy=pol,
        resource=ResourceRef(arn, rtype, "us-east-1", ACCT),
        status=FindingStatus.NEW if failing else FindingStatus.RESOLVED,
        verdict=Verdict.FAIL if failing else Verdict.PASS,
        activity_id=ACTIVITY_CREATE if failing else ACTIVITY_CLOSE,
        first_seen_ms=t,
        last_seen_ms=t,
        time_ms=t,
        compliance=CATALOG.compliance(policy_id),
    )
    return finding_uid(policy_id, arn).encode(), orjson.dumps(f)


async def _records_of(settings: Settings, policy_id: str) -> list[dict[str, Any]]:
    out = []
    for m in await drain(settings, "findings", idle=0.5, timeout=10):
        f = orjson.loads(m.value)
        if f["unmapped"]["policy_id"] == policy_id:
            out.append(f)
    return out


async def test_toxic_combination_raised_and_resolved_through_the_broker(kafka_settings: Settings) -> None:
    await ensure_topics(kafka_settings.kafka)
    instance = snapshot(
        "aws.ec2.instance",
        {
            "SecurityGroups": [{"GroupId": "sg-0open"}],
            "PublicIpAddress": "203.0.113.7",
            "IamInstanceProfile": {"Arn": PROFILE},
        },
        arn=INSTANCE,
        resource_id="i-0web",
    )
    web_role = snapshot(
        "aws.iam.role",
        {"RoleName": "web", "Arn": ROLE, "InstanceProfiles": [{"Arn": PROFILE, "InstanceProfileName": "web"}]},
        arn=ROLE,
        resource_id="web",
        region="global",
    )
    handlers = [ContextRouterHandler(kafka_settings.kafka), ContextHandler(CATALOG, load())]
    async with LocalRuntime(kafka_settings, handlers) as rt:
        await produce(
            kafka_settings, "inventory", [(INSTANCE.encode(), dumps(instance)), (ROLE.encode(), dumps(web_role))]
        )
        await produce(
            kafka_settings,
            "findings",
            [
                _finding("ec2_instance_no_public_ip", INSTANCE, "aws.ec2.instance", True, 1),
                _finding("ec2_sg_ingress_any_port_world", SG, "aws.ec2.security_group", True, 2),
                _finding("iam_role_administrator_access_policy", ROLE, "aws.iam.role", True, 3),
            ],
        )
        raised = await wait_for(lambda: _records_of(kafka_settings, COMBO), timeout=60)
        assert [f["unmapped"]["state"] for f in raised] == ["new"]
        f = raised[0]
        assert f["resources"][0]["uid"] == INSTANCE and f["severity"] == "Critical"
        assert {p["finding_uid"] for p in f["unmapped"]["parts"]} == {
            finding_uid("ec2_instance_no_public_ip", INSTANCE),
            finding_uid("ec2_sg_ingress_any_port_world", SG),
            finding_uid("iam_role_administrator_access_policy", ROLE),
        }
        # one part resolves (the group is closed): the combination resolves
        await produce(
            kafka_settings,
            "findings",
            [_finding("ec2_sg_ingress_any_port_world", SG, "aws.ec2.security_group", False, 4)],
        )

        async def resolved() -> list[dict[str, Any]]:
            fs = await _records_of(kafka_settings, COMBO)
            return fs if len(fs) >= 2 else []

        fs = await wait_for(resolved, timeout=60)
        assert [x["unmapped"]["state"] for x in fs] == ["new", "resolved"]
        assert fs[1]["compliance"]["status"] == "Pass"
        assert rt.failure is None
    # nothing else was raised: the router does not loop the combination back
    await asyncio.sleep(0.5)
    assert [x["unmapped"]["state"] for x in await _records_of(kafka_settings, COMBO)] == ["new", "resolved"]


async def test_escalation_path_from_iam_snapshots_through_the_broker(kafka_settings: Settings, tmp_path: Path) -> None:
    await ensure_topics(kafka_settings.kafka)
    deployer = user(
        "deployer",
        inline=[doc(allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]))],
        account=ACCT,
    )
    admin = role("admin", trust_service("lambda.amazonaws.com"), attached=[ADMINISTRATOR_ACCESS], account=ACCT)
    snaps = [
        snapshot(
            r.resource_type,
            r.attributes,
            arn=r.arn,
            resource_id=r.arn.rsplit("/", 1)[1],
            region="global",
            scan_id="scan-42",
        )
        for r in (deployer, admin)
    ]
    handler = ContextHandler(CATALOG, load(), settle_s=0.0)
    async with LocalRuntime(kafka_settings, [ContextRouterHandler(kafka_settings.kafka), handler]) as rt:
        await produce(kafka_settings, "inventory", [(s.arn.encode(), dumps(s)) for s in snaps])
        status = ScanStatus("j1", "scan-42", ACCT, "global", "iam", "t0", "t1", 2, 0, True)
        await produce(kafka_settings, "scan-status", [(f"{ACCT}|global|iam".encode(), dumps(status))])
        got = await wait_for(lambda: _records_of(kafka_settings, "iam_privilege_escalation_path"), timeout=60)
        by = {x["resources"][0]["uid"]: x for x in got}
        assert by[deployer.arn]["unmapped"]["state"] == "new"
        assert "passrole-lambda" in by[deployer.arn]["status_detail"]
        assert by[admin.arn]["unmapped"]["state"] == "passed"
        assert rt.failure is None
    # the same paths from the inventory topic, by the CLI
    cfg = write_config(kafka_settings, tmp_path / "cspm.yaml")
    out = tmp_path / "paths.json"
    argv = ["-c", str(cfg), "paths", "--source", "inventory", "--format", "json", "-o", str(out)]
    assert await asyncio.to_thread(main, argv) == 0
    doc_ = orjson.loads(out.read_bytes())
    assert doc_["source"] == "inventory"
    ((only,),) = [[r for r in doc_["results"] if r["principal"] == deployer.arn]]
    assert [h["method"] for h in only["path"]] == ["passrole-lambda"] and only["account"] == ACCT
