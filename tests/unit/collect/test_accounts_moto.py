"""Accounts and regions: assume-role into other accounts, Organizations discovery, region filters."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import pytest

from cspm_stream.collect import Collector, ScanOutcome, collect_all
from cspm_stream.collect.accounts import AccountRef, SessionPool, discover_accounts, discover_regions
from cspm_stream.models import ScanJob
from cspm_stream.settings import Settings
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer

pytestmark = pytest.mark.moto

OTHER = "111122223333"
ROLE = f"arn:aws:iam::{OTHER}:role/CspmStreamReader"


def _client_in(moto: MotoServer, account: str, service: str) -> object:
    creds = moto.boto3_client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed")[
        "Credentials"
    ]
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=moto.endpoint_url,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


async def test_assume_role_collects_the_other_account(
    moto_server: MotoServer, settings_for: Callable[..., Settings]
) -> None:
    _client_in(moto_server, OTHER, "s3").create_bucket(Bucket="other-account-bucket")  # type: ignore[attr-defined]
    moto_server.boto3_client("s3").create_bucket(Bucket="home-account-bucket")
    s = settings_for(accounts=[{"id": OTHER, "external_id": "ext-123"}])
    job = ScanJob(
        job_id="j",
        scan_id="s",
        account_id=OTHER,
        region="global",
        service="s3",
        requested_at="2026-11-28T00:00:00.000Z",
        resource_types=["aws.s3.bucket"],
        role_arn=ROLE,
    )
    async with Collector(s.aws) as c:
        outcome = ScanOutcome()
        names = {snap.resource_id async for snap in c.collect(job, outcome)}
        assert c.sessions.refreshes == 1  # one assume-role, credentials reused for every call
        assert c.sessions.external_id(OTHER) == "ext-123"
    assert "other-account-bucket" in names and "home-account-bucket" not in names
    assert outcome.complete


async def test_configured_accounts_and_running_account(
    moto_server: MotoServer, settings_for: Callable[..., Settings]
) -> None:
    s = settings_for(accounts=[{"id": OTHER}], role_name="Reader")
    refs = await discover_accounts(s.aws, SessionPool(s.aws))
    assert refs == [AccountRef(OTHER, f"arn:aws:iam::{OTHER}:role/Reader")]
    alone = settings_for()
    assert await discover_accounts(alone.aws, SessionPool(alone.aws)) == [AccountRef(ACCOUNT_ID)]


async def test_organization_discovery(moto_server: MotoServer, settings_for: Callable[..., Settings]) -> None:
    org = moto_server.boto3_client("organizations")
    try:
        org.create_organization(FeatureSet="ALL")
    except org.exceptions.AlreadyInOrganizationException:
        pass
    created = org.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"]
    member = (
        created.get("AccountId")
        or org.describe_create_account_status(CreateAccountRequestId=created["Id"])["CreateAccountStatus"]["AccountId"]
    )
    s = settings_for(organization_discovery=True)
    refs = await discover_accounts(s.aws, SessionPool(s.aws))
    by_id = {r.account_id: r for r in refs}
    assert by_id[ACCOUNT_ID].role_arn is None  # the management account: running credentials
    assert by_id[member].role_arn == f"arn:aws:iam::{member}:role/CspmStreamReader"
    # and the organizations collector lists the accounts too
    got = [snap async for snap in collect_all(s, regions=["us-east-1"], services=["organizations"])]
    assert {snap.resource_id for snap in got if snap.account_id == ACCOUNT_ID} >= {ACCOUNT_ID, member}


async def test_regions_discovered_and_filtered(moto_server: MotoServer, settings_for: Callable[..., Settings]) -> None:
    s = settings_for(regions=[], exclude_regions=["eu-west-1"])
    regions = await discover_regions(s.aws, SessionPool(s.aws))
    assert "us-east-1" in regions and "eu-west-1" not in regions and len(regions) > 10
    pinned = settings_for(regions=["eu-west-1", "us-east-1"], exclude_regions=["eu-west-1"])
    assert await discover_regions(pinned.aws, SessionPool(pinned.aws)) == ["us-east-1"]


@pytest.mark.parametrize(("minutes_left", "refreshes"), [(60, 1), (5, 2)])
async def test_assumed_credentials_refresh_before_expiry(
    settings_for: Callable[..., Settings], minutes_left: int, refreshes: int
) -> None:
    import datetime as dt

    s = settings_for()
    pool = SessionPool(s.aws)
    calls = {"n": 0}

    async def fake_assume(role: str, external_id: str) -> dict[str, str]:
        calls["n"] += 1
        exp = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes_left)
        return {"access_key": f"AK{calls['n']}", "secret_key": "s", "token": "t", "expiry_time": exp.isoformat()}

    pool._assume = fake_assume  # type: ignore[method-assign]
    session = await pool.session(OTHER, ROLE)
    creds = await session.get_credentials()
    first = await creds.get_frozen_credentials()
    second = await creds.get_frozen_credentials()
    assert calls["n"] == refreshes  # refreshed again only when expiry is inside botocore's window
    assert first.access_key == "AK1" and second.access_key == f"AK{refreshes}"
