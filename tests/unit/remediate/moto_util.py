"""Helpers for remediation tests on the moto server: one fresh AWS account per test."""

from __future__ import annotations

import random
from typing import Any

import boto3

from cspm_stream.models import RemediationCommand, RemediationMode
from cspm_stream.remediate.modes import command_id, resource_id_from_arn
from cspm_stream.remediate.session import RemediatorSession
from cspm_stream.settings import AwsSettings, RemediationSettings
from cspm_stream.testing.moto import MotoServer, fix_s3control_host


def new_account() -> str:
    """A random account id: moto scopes every resource to the account of the assumed role."""
    return str(random.randint(200000000000, 899999999999))


_CLIENTS: dict[tuple[str, str, str, str], Any] = {}


def seed_client(moto: MotoServer, account: str, service: str, region: str = "us-east-1") -> Any:
    """A boto3 client acting as an admin INSIDE ``account`` (used to misconfigure things)."""
    key = (moto.endpoint_url, account, service, region)
    if key not in _CLIENTS:
        _CLIENTS[key] = _seed_client(moto, account, service, region)
    return _CLIENTS[key]


def _seed_client(moto: MotoServer, account: str, service: str, region: str) -> Any:
    sts = moto.boto3_client("sts")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/seeder", RoleSessionName="seeder")["Credentials"]
    client = boto3.client(
        service,
        region_name=region,
        endpoint_url=moto.endpoint_url,
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
    )
    if service == "s3control":
        fix_s3control_host(client)
    return client


def session(moto: MotoServer, **conf: Any) -> RemediatorSession:
    return RemediatorSession(RemediationSettings(**conf), AwsSettings(endpoint_url=moto.endpoint_url))


def command(
    action: str,
    arn: str,
    account: str,
    *,
    resource_type: str = "aws.s3.bucket",
    region: str = "us-east-1",
    mode: RemediationMode = RemediationMode.AUTO,
    params: dict[str, Any] | None = None,
    resource_id: str | None = None,
    expires_at: str | None = None,
    occurrence: str = "1",
) -> RemediationCommand:
    return RemediationCommand(
        command_id=command_id(action, arn, "f-" + arn, occurrence),
        action=action,
        mode=mode,
        account_id=account,
        region=region,
        resource_arn=arn,
        resource_type=resource_type,
        resource_id=resource_id or resource_id_from_arn(arn, region),
        finding_uid="f-" + arn,
        requested_at="2026-01-01T00:00:00.000Z",
        params=params or {},
        expires_at=expires_at,
    )


_SEQ = [0]


def uniq(prefix: str) -> str:
    _SEQ[0] += 1
    return f"{prefix}-{random.randint(0, 1 << 30):x}-{_SEQ[0]}"
