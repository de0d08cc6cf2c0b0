"""The context stage's combinations: raised when every part fails, resolved when any part passes."""

from __future__ import annotations

from cspm_stream.iamgraph.build import Resource
from cspm_stream.iamgraph.model import ADMINISTRATOR_ACCESS
from cspm_stream.iamgraph.synthetic import allow, arn, doc, role, user
from cspm_stream.models.ocsf import finding_uid
from cspm_stream.stages.context_input import ContextInput
from cspm_stream.testing.ocsf_models import ocsf_errors

from .helpers import ACCOUNT, Driver, by

COMBO = "toxic_public_instance_privileged_role"
INSTANCE = f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-web"
SG = f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/sg-open"
PROFILE = f"arn:aws:iam::{ACCOUNT}:instance-profile/web"
WEB_ROLE = arn("role", "web")


def _instance(profile: str | None = PROFILE) -> Resource:
    attrs = {"SecurityGroups": [{"GroupId": "sg-open"}], "PublicIpAddress": "203.0.113.9"}
    if profile:
        attrs["IamInstanceProfile"] = {"Arn": profile}
    return Resource("aws.ec2.instance", INSTANCE, attrs)


def _web_role(admin: bool) -> Resource:
    return role(
        "web",
        {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        attached=[ADMINISTRATOR_ACCESS] if admin else [],
        profiles=["web"],
    )


async def _exposed(d: Driver) -> None:
    await d.resources([_instance()], scan_id="scan-ec2")
    await d.finding("ec2_instance_no_public_ip", INSTANCE, True)
    await d.finding("ec2_sg_ingress_any_port_world", SG, True)


async def test_raised_with_its_parts_then_resolved_by_one_part() -> None:
    d = Driver()
    await _exposed(d)
    await d.resources([_web_role(admin=True)], scan_id="rescan-1")
    fs = await d.tick(10)  # the IAM analysis makes the role an effective admin → the combination holds
    combo = [f for f in fs if f["unmapped"]["policy_id"] == COMBO]
    assert len(combo) == 1 and combo[0]["unmapped"]["state"] == "new"
    f = combo[0]
    assert f["severity"] == "Critical" and f["resources"][0]["uid"] == INSTANCE
    assert f["resources"][0]["type"] == "aws.ec2.instance" and f["resources"][0]["region"] == "us-east-1"
    parts = {(p["part"], p["policy_id"], p["resource"]) for p in f["unmapped"]["parts"]}
    assert parts == {
        ("public_ip", "ec2_instance_no_public_ip", INSTANCE),
        ("open_security_group", "ec2_sg_ingress_any_port_world", SG),
        ("privileged_role", "iam_principal_effective_admin", WEB_ROLE),
    }
    assert {p["finding_uid"] for p in f["unmapped"]["parts"]} >= {finding_uid("ec2_instance_no_public_ip", INSTANCE)}
    assert ocsf_errors(f) == []
    # the security group is closed: its finding resolves, so does the combination
    out = await d.finding("ec2_sg_ingress_any_port_world", SG, False)
    assert by(out) == {(COMBO, INSTANCE): "resolved"}
    # re-opened: a new finding again
    assert by(await d.finding("ec2_sg_ingress_any_port_world", SG, True)) == {(COMBO, INSTANCE): "new"}


async def test_posture_findings_on_the_role_count_too() -> None:
    d = Driver()
    await _exposed(d)
    await d.resources([_web_role(admin=False)], scan_id="scan-iam")
    out = await d.finding("iam_role_administrator_access_policy", WEB_ROLE, True)
    assert by(out) == {(COMBO, INSTANCE): "new"}


async def test_relation_changes_re_evaluate() -> None:
    d = Driver()
    await _exposed(d)
    await d.resources([_web_role(admin=False)], scan_id="scan-iam")
    await d.finding("iam_role_administrator_access_policy", WEB_ROLE, True)
    # the instance gets another profile: the privileged role no longer reaches it
    out = await d.resources([_instance(profile=f"arn:aws:iam::{ACCOUNT}:instance-profile/other")], scan_id="rescan-9")
    assert by(out) == {(COMBO, INSTANCE): "resolved"}
    # and back
    out = await d.resources([_instance()], scan_id="rescan-10")
    assert by(out) == {(COMBO, INSTANCE): "new"}
    # the instance is terminated: the combination gets its last record
    out = await d.send(ContextInput(kind="deleted", account_id=ACCOUNT, arn=INSTANCE))
    assert by(out) == {(COMBO, INSTANCE): "resolved"} and out[0]["unmapped"]["resource_deleted"] is True


async def test_no_record_for_combinations_that_never_held() -> None:
    d = Driver()
    await _exposed(d)
    assert await d.resources([_web_role(admin=False)], scan_id="scan-iam") == []
    assert await d.finding("ec2_sg_ingress_any_port_world", SG, False) == []


async def test_an_escalating_instance_role_is_privileged() -> None:
    d = Driver()
    await _exposed(d)
    esc = role(
        "web",
        {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        inline=[doc(allow("iam:PutRolePolicy", WEB_ROLE))],
        profiles=["web"],
    )
    await d.resources([esc, user("nobody")], scan_id="rescan-1")
    fs = await d.tick(10)
    assert by(fs)[(COMBO, INSTANCE)] == "new"
    combo = next(f for f in fs if f["unmapped"]["policy_id"] == COMBO)
    assert any(p["policy_id"] == "iam_privilege_escalation_path" for p in combo["unmapped"]["parts"])


async def test_state_survives_a_restart() -> None:
    d = Driver()
    await _exposed(d)
    await d.resources([_web_role(admin=False)], scan_id="scan-iam")
    await d.finding("iam_role_administrator_access_policy", WEB_ROLE, True)
    r = d.restart()
    assert await r.finding("iam_role_administrator_access_policy", WEB_ROLE, True) == []  # nothing new
    assert by(await r.finding("ec2_instance_no_public_ip", INSTANCE, False)) == {(COMBO, INSTANCE): "resolved"}
