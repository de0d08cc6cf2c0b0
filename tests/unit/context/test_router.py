"""The context router: what reaches the context topic, keyed by which account; hostile inputs."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cspm_stream.errors import DecodeError
from cspm_stream.models.codec import decode, dumps
from cspm_stream.models.inventory import AttributeFailure, ResourceDeleted, ScanStatus
from cspm_stream.stages.base import RecordMeta
from cspm_stream.stages.context_input import ContextInput
from cspm_stream.stages.context_router import ContextRouterHandler, finding_input
from cspm_stream.testing import snapshot
from cspm_stream.testing.findings import compliance_finding, detection_finding, raw
from cspm_stream.testing.garbage import garbage

ACCT = "123456789012"
R = ContextRouterHandler()


async def _route(topic: str, key: bytes | None, value: bytes | None) -> list[tuple[str, ContextInput]]:
    emits = await R.handle(key, value, RecordMeta(topic, 0, 0), {})
    return [(e.key or "", decode(e.value, ContextInput)) for e in emits if e.value is not None]


async def test_iam_snapshot_keeps_what_the_analysis_reads() -> None:
    snap = snapshot(
        "aws.iam.user",
        {
            "UserName": "alice",
            "UserPolicies": [{"PolicyName": "p", "PolicyDocument": {"Statement": []}}],
            "AccessKeys": [{"AccessKeyId": "AKIAEXAMPLE", "AccessKeyLastUsed": {}}, {"AccessKeyId": "AKIA2"}],
            "CredentialReport": {"password_enabled": "true"},
            "MFADevices": [],
        },
        arn=f"arn:aws:iam::{ACCT}:user/alice",
        account_id=ACCT,
    )
    snap.errors = [AttributeFailure("Groups", "AccessDenied", "no")]
    ((key, out),) = await _route("inventory", snap.arn.encode(), dumps(snap))
    assert key == ACCT and out.kind == "resource" and out.resource_type == "aws.iam.user"
    assert out.attributes["AccessKeys"] == [{}, {}]  # counted, never the key ids
    assert "CredentialReport" not in out.attributes and "MFADevices" not in out.attributes
    assert out.attributes["__errors__"] == ["Groups"]
    assert b"AKIA" not in dumps(out)


async def test_relation_types_are_projected_and_others_dropped() -> None:
    inst = snapshot(
        "aws.ec2.instance",
        {
            "SecurityGroups": [{"GroupId": "sg-1", "GroupName": "web"}],
            "UserData": "secret",
            "IamInstanceProfile": {"Arn": "arn:p"},
        },
        arn=f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-1",
    )
    ((_, out),) = await _route("inventory", inst.arn.encode(), dumps(inst))
    assert out.attributes == {"SecurityGroups": ["sg-1"], "NetworkInterfaces": [], "IamInstanceProfile": "arn:p"}
    kms = snapshot("aws.kms.key", {"KeyState": "Enabled"}, arn=f"arn:aws:kms:us-east-1:{ACCT}:key/k")
    assert await _route("inventory", kms.arn.encode(), dumps(kms)) == []


async def test_organizations_account_goes_to_the_member() -> None:
    member = "210987654321"
    snap = snapshot(
        "aws.organizations.account",
        {"Id": member, "ServiceControlPolicies": {"Enabled": True, "Levels": []}},
        arn=f"arn:aws:organizations::{ACCT}:account/o-1/{member}",
        account_id=ACCT,
    )
    ((key, out),) = await _route("inventory", snap.arn.encode(), dumps(snap))
    assert key == member and out.account_id == member


async def test_deletions_and_tombstones() -> None:
    d = ResourceDeleted(f"arn:aws:iam::{ACCT}:role/r", "aws.iam.role", ACCT, "global", "2026-01-01T00:00:00Z", "s")
    ((key, out),) = await _route("inventory", d.arn.encode(), dumps(d))
    assert (key, out.kind, out.arn) == (ACCT, "deleted", d.arn)
    ((key, out),) = await _route("inventory", f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-9".encode(), None)
    assert (key, out.kind) == (ACCT, "deleted")
    assert await _route("inventory", b"arn:aws:s3:::bucket-without-account", None) == []


def _finding_bytes() -> bytes:
    return _finding()


def _finding(state: str = "new", policy_id: str = "ec2_instance_no_public_ip", **over: Any) -> bytes:
    """A compliance finding as the posture stage writes it (``over`` replaces top-level fields)."""
    f = compliance_finding(
        policy_id=policy_id,
        arn=f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-1",
        resource_type="aws.ec2.instance",
        state=state,
        account=ACCT,
        action=None,
    )
    f.update(over)
    return raw(f)


async def test_findings_failing_or_not() -> None:
    ((key, out),) = await _route("findings", b"uid", _finding())
    assert key == ACCT and out.kind == "finding" and out.failing
    ((_, out),) = await _route("findings", b"uid", _finding("suppressed"))
    assert out.failing  # a muted failing check still counts for combinations
    ((_, out),) = await _route("findings", b"uid", _finding("resolved"))
    assert not out.failing
    ((_, out),) = await _route("findings", b"uid", _finding("error"))
    assert not out.failing
    assert await _route("findings", b"uid", raw(detection_finding())) == []  # a detection: not forwarded
    toxic = _finding(policy_id="toxic_public_bucket_unencrypted_unlogged")
    assert await _route("findings", b"uid", toxic) == []


async def test_only_findings_of_policies_a_combination_uses() -> None:
    from cspm_stream.app import role_context
    from cspm_stream.settings import load
    from cspm_stream.stages.context_router import build_stage

    router = build_stage(role_context(load(data={}, environ={}), environ={})).handler
    meta = RecordMeta("cspm.findings", 0, 0)
    assert await router.handle(b"u", _finding(), meta, {})  # ec2_instance_no_public_ip: a combination part
    other = _finding(policy_id="kms_cmk_rotation_enabled")
    assert await router.handle(b"u", other, meta, {}) == []


async def test_scan_status() -> None:
    st = ScanStatus("j", "scan-1", ACCT, "global", "iam", "t0", "t1", 3, 0, True)
    ((key, out),) = await _route("scan-status", b"k", dumps(st))
    assert (key, out.kind, out.service, out.scan_id) == (ACCT, "scan", "iam", "scan-1")


VALID = {
    "inventory": dumps(snapshot("aws.iam.role", {"RoleName": "r"}, arn=f"arn:aws:iam::{ACCT}:role/r")),
    "findings": _finding_bytes(),
    "scan-status": dumps(ScanStatus("j", "scan-1", ACCT, "global", "iam", "t0", "t1", 3, 0, True)),
}


@pytest.mark.parametrize("topic", sorted(VALID))
async def test_garbage_is_a_decode_error(topic: str) -> None:
    """Every garbage record is refused (dead-lettered by the runtime), never skipped in silence."""
    for kind, value in garbage(VALID[topic], 40, huge_every=20):
        with pytest.raises(DecodeError):
            await _route(topic, b"k", value)
            pytest.fail(f"{topic}: {kind} garbage was not refused")


@pytest.mark.parametrize(
    "value",
    [
        _finding(resources=[]),
        _finding(resources=[{"uid": 5}]),
        _finding(resources=[{"uid": "arn:x", "account_uid": "not-an-account"}], cloud={}),
        orjson.dumps([1, 2]),
        orjson.dumps({"schema": "evil.v1"}),
        orjson.dumps({"class_uid": 2003}),
        b"{",
    ],
)
def test_bad_findings_are_decode_errors(value: bytes) -> None:
    with pytest.raises(DecodeError):
        finding_input(value)


async def test_unknown_topic_is_refused() -> None:
    with pytest.raises(DecodeError, match="does not read"):
        await _route("activity", b"k", b"{}")
