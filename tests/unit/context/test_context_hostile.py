"""The context stage refuses what it cannot read (dead letter) and survives any attribute shape."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cspm_stream.errors import DecodeError
from cspm_stream.models.codec import dumps
from cspm_stream.stages.base import RecordMeta
from cspm_stream.stages.context_input import ContextInput
from cspm_stream.testing.garbage import garbage

from .helpers import ACCOUNT, Driver


async def test_garbage_records_are_decode_errors_and_leave_no_state() -> None:
    d = Driver()
    valid = dumps(ContextInput(kind="finding", account_id=ACCOUNT, arn="arn:x", policy_id="p", failing=True))
    for kind, value in garbage(valid, 30, huge_every=15):
        with pytest.raises(DecodeError):
            await d.handler.handle(b"k", value, RecordMeta("context", 0, 0), d.state)
        assert d.state == {}, kind


@pytest.mark.parametrize(
    "msg",
    [
        ContextInput(kind="explode", account_id=ACCOUNT),
        ContextInput(kind="resource", account_id="12345"),
        ContextInput(kind="finding", account_id="../../etc"),
        ContextInput(kind="resource", account_id=ACCOUNT, arn="", resource_type="aws.iam.user"),
    ],
)
async def test_bad_fields_are_refused(msg: ContextInput) -> None:
    d = Driver()
    with pytest.raises(DecodeError):
        await d.send(msg)


BAD: list[Any] = [None, 1, "x", [], {"a": [1, {"b": None}]}, [[[[]]]], {"Statement": "*"}]


@pytest.mark.parametrize("bad", BAD, ids=repr)
async def test_any_attribute_shape(bad: Any) -> None:
    d = Driver()
    rtypes = [
        "aws.iam.user",
        "aws.iam.role",
        "aws.iam.group",
        "aws.iam.policy",
        "aws.organizations.account",
        "aws.ec2.instance",
        "aws.lambda.function",
        "aws.rds.snapshot",
    ]
    for i, t in enumerate(rtypes):
        attrs = {
            k: bad
            for k in (
                "AttachedPolicies",
                "UserPolicies",
                "RolePolicies",
                "AssumeRolePolicyDocument",
                "SecurityGroups",
                "IamInstanceProfile",
                "Role",
                "InstanceProfiles",
                "Id",
                "ServiceControlPolicies",
                "PolicyVersion",
                "DBInstanceIdentifier",
            )
        }
        await d.send(
            ContextInput(
                kind="resource",
                account_id=ACCOUNT,
                arn=f"arn:aws:iam::{ACCOUNT}:user/u{i}",
                resource_type=t,
                attributes=attrs,
                scan_id="rescan-1",
            )
        )
    out = await d.tick(60)
    assert all(f["unmapped"]["state"] in ("passed", "new") for f in out)
    orjson.dumps(d.state)  # the state stays JSON
