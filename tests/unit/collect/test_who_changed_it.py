"""Who changed it: a CloudTrail change → rescan request → snapshot → posture finding naming the actor.

The three stages' own handlers with plain calls (the broker path is in
tests/integration/test_who_changed_it_kafka.py); AWS is moto.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.detect.actor import change_of, packed, unpacked
from cspm_stream.models import ActivityRecord, ActivitySource, RescanRequest, ResourceSnapshot, decode, dumps
from cspm_stream.policy.catalog import catalog_from_settings
from cspm_stream.policy.mutelist import EMPTY, Mutelist, parse_mutelist
from cspm_stream.settings import Settings
from cspm_stream.stages.base import RecordMeta
from cspm_stream.stages.detect import build_detect_handler
from cspm_stream.stages.ingest import IngestHandler
from cspm_stream.stages.posture import PostureHandler
from cspm_stream.testing.factories import cloudtrail_record
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from cspm_stream.testing.ocsf_models import ocsf_errors

pytestmark = pytest.mark.moto
ATTACKER = f"arn:aws:iam::{ACCOUNT_ID}:user/mallory"
META = RecordMeta("x", 0, 0)


@pytest.fixture(scope="module")
def detect() -> Any:
    return build_detect_handler(settings_mod.load(data={}, environ={}), clock=lambda: "2026-11-28T16:21:02.000Z")


@pytest.fixture(scope="module")
def posture_catalog() -> Any:
    return catalog_from_settings(settings_mod.load(data={}, environ={}).policy)


def test_change_of_a_record() -> None:
    rec = cloudtrail_record(
        "AuthorizeSecurityGroupIngress",
        "ec2.amazonaws.com",
        user_arn=ATTACKER,
        source_ip="203.0.113.66",
        user_agent="aws-cli/2.15.0 md/Kali",
        event_id="evt-1",
        event_time="2026-11-28T16:21:00Z",
    )
    c = change_of(rec)
    assert c is not None
    assert (c.principal_arn, c.principal_type, c.principal_name) == (ATTACKER, "IAMUser", "mallory")
    assert (c.source_ip, c.user_agent, c.event_name, c.event_id) == (
        "203.0.113.66",
        "aws-cli/2.15.0 md/Kali",
        "AuthorizeSecurityGroupIngress",
        "evt-1",
    )
    assert unpacked(packed(c)) == c


def test_change_of_hostile_and_partial_records() -> None:
    assert change_of({"eventName": "X"}) is None  # no eventID
    root = change_of(
        {"eventID": "e", "eventName": "PutBucketAcl", "userIdentity": {"type": "Root", "accountId": ACCOUNT_ID}}
    )
    assert (
        root is not None and root.principal_arn == f"arn:aws:iam::{ACCOUNT_ID}:root" and root.principal_name == "root"
    )
    role = change_of(
        {
            "eventID": "e",
            "eventName": "PutBucketAcl",
            "userIdentity": {
                "type": "AssumedRole",
                "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/ci/build-7",
                "sessionContext": {"sessionIssuer": {"arn": f"arn:aws:iam::{ACCOUNT_ID}:role/ci", "userName": "ci"}},
            },
        }
    )
    assert role is not None and role.session_issuer.endswith(":role/ci") and role.principal_name == "ci"  # the role
    odd = change_of(
        {"eventID": "e", "eventName": "X", "userIdentity": ["no"], "sourceIPAddress": 7, "userAgent": "a" * 100_000}
    )
    assert odd is not None and odd.source_ip == "" and len(odd.user_agent) <= 1024
    assert odd.user_agent.startswith("aaa") and odd.user_agent.endswith("chars truncated]")  # cut, visibly
    assert unpacked({"i": 5}) is None and unpacked("x") is None


async def test_the_attackers_security_group_change_is_named_in_the_finding(
    moto_server: MotoServer, settings_for: Callable[..., Settings], detect: Any, posture_catalog: Any
) -> None:
    ec2 = moto_server.boto3_client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    sg = ec2.create_security_group(GroupName=f"web-{uuid.uuid4().hex[:6]}", Description="web", VpcId=vpc)["GroupId"]
    ingest = IngestHandler(settings_for())
    mutes = Switch()
    posture = PostureHandler(posture_catalog, mutes)
    state: dict[str, Any] = {}
    try:
        # before: the group as the scheduled scan saw it
        arn = f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:security-group/{sg}"
        before = await ingest.handle(None, _rescan(arn, sg), META, {})
        for e in before:
            await posture.handle(None, e.value, META, state)
        # the attacker opens SSH to the world; CloudTrail records it
        ec2.authorize_security_group_ingress(
            GroupId=sg,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )
        rec = cloudtrail_record(
            "AuthorizeSecurityGroupIngress",
            "ec2.amazonaws.com",
            user_arn=ATTACKER,
            source_ip="203.0.113.66",
            user_agent="aws-cli/2.15.0 md/Kali",
            event_time="2026-11-28T16:21:00Z",
            request_parameters={"groupId": sg, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22}]}},
        )
        act = ActivityRecord.from_cloudtrail(rec, ActivitySource.EVENTBRIDGE, "2026-11-28T16:21:01.000Z")
        out = await detect.handle(None, dumps(act), META, {})
        (req_emit,) = [e for e in out if e.topic == "rescan"]
        req = decode(req_emit.value, RescanRequest)
        assert req.actor is not None and req.actor.principal_arn == ATTACKER
        snaps = await ingest.handle(None, req_emit.value, META, {})
        snap = decode(snaps[0].value, ResourceSnapshot)
        assert snap.change is not None and snap.change.event_id == rec["eventID"]
        findings = [orjson.loads(e.value) for e in await posture.handle(None, snaps[0].value, META, state)]
    finally:
        await ingest.stop()
    opened = [f for f in findings if f["unmapped"]["state"] == "new"]
    assert opened, [f["unmapped"]["policy_id"] for f in findings]
    for f in opened:
        assert ocsf_errors(f) == []
        assert f["actor"]["user"] == {
            "uid": ATTACKER,
            "type": "IAMUser",
            "name": "mallory",
            "account": {"uid": ACCOUNT_ID},
        }
        assert f["src_endpoint"] == {"ip": "203.0.113.66"}
        assert f["http_request"] == {"user_agent": "aws-cli/2.15.0 md/Kali"}
        assert f["api"]["operation"] == "AuthorizeSecurityGroupIngress"
        assert f["api"]["request"]["uid"] == rec["eventID"]
        assert f["evidences"][0]["data"]["event_time"] == "2026-11-28T16:21:00Z"
        assert f["unmapped"]["changed_by"]["principal_arn"] == ATTACKER
    assert await posture.handle(None, snaps[0].value, META, state) == []  # unchanged: nothing to say
    # a later record with no change of its own (the owner mutes the group) names it as "last changed by"
    mutes.now = parse_mutelist(
        f"mutes:\n- id: accepted\n  reason: reviewed\n  owner: sec@example.com\n  arn: '{arn}'\n"
    )
    muted = [orjson.loads(e.value) for e in posture.tick(state) if e.value]
    assert {f["unmapped"]["state"] for f in muted} == {"suppressed"}
    assert len(muted) == len(opened)
    for f in muted:
        assert "actor" not in f and "changed_by" not in f["unmapped"]
        assert f["unmapped"]["last_changed_by"]["principal_arn"] == ATTACKER
        assert ocsf_errors(f) == []


class Switch:
    """A mutelist source the test changes (what a hot-reloaded file does)."""

    def __init__(self) -> None:
        self.now: Mutelist = EMPTY
        self.last_error = None

    def get(self, _monotonic: float) -> Mutelist:
        return self.now


def _rescan(arn: str, sg: str) -> bytes:
    return dumps(
        RescanRequest(
            request_id=uuid.uuid4().hex,
            account_id=ACCOUNT_ID,
            region="us-east-1",
            resource_type="aws.ec2.security_group",
            requested_at="2026-11-28T16:00:00.000Z",
            reason="scheduled",
            arn=arn,
            resource_id=sg,
        )
    )
