"""Accounts and regions to scan, and the AWS sessions (assume-role) used to scan them.

* The running credentials' account comes from ``sts:GetCallerIdentity``.
* Configured accounts (``aws.accounts``) are reached by ``sts:AssumeRole`` into
  ``arn:aws:iam::<id>:role/<role_name>`` with the configured external id; the
  credentials are :class:`AioDeferredRefreshableCredentials`, which botocore refreshes
  before they expire (15 minutes ahead, by its advisory timeout).
* ``aws.organization_discovery`` adds every ACTIVE account of the Organization.
* Regions: ``ec2:DescribeRegions`` (enabled ones only) unless ``aws.regions`` is set,
  minus ``aws.exclude_regions``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiobotocore.credentials import AioCredentialResolver, AioDeferredRefreshableCredentials
from aiobotocore.session import AioSession, get_session
from botocore.credentials import CredentialProvider

from cspm_stream.settings import AwsSettings

SESSION_NAME = "cspm-stream"


@dataclass(frozen=True, slots=True)
class AccountRef:
    account_id: str
    role_arn: str | None = None  # None: the running credentials


def role_arn(account_id: str, role_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account_id}:role/{role_name}"


class SessionPool:
    """One aiobotocore session per assumed role (plus the base session), created lazily.

    ``event_hooks`` (botocore ``(event, handler)`` pairs, e.g. the daemon's AWS call metrics)
    are registered on every session, so every client made from one (STS, discovery, the
    collector's) runs them.
    """

    def __init__(
        self,
        aws: AwsSettings,
        base: AioSession | None = None,
        *,
        event_hooks: Sequence[tuple[str, Callable[..., Any]]] = (),
    ) -> None:
        self._aws = aws
        self._hooks = tuple(event_hooks)
        self.base = base or get_session()
        self._register(self.base)
        self._sessions: dict[str, AioSession] = {}
        self._lock = asyncio.Lock()
        self.refreshes = 0

    def external_id(self, account_id: str) -> str:
        for a in self._aws.accounts:
            if a.id == account_id and a.external_id:
                return a.external_id
        return self._aws.external_id

    async def session(self, account_id: str, role: str | None) -> AioSession:
        if not role:
            return self.base
        async with self._lock:
            s = self._sessions.get(role)
            if s is None:
                s = get_session()
                ext = self.external_id(account_id)

                async def refresh(role: str = role, ext: str = ext) -> dict[str, Any]:
                    return await self._assume(role, ext)

                # the session's whole credential chain is the assumed role, refreshed before expiry
                s.register_component("credential_provider", AioCredentialResolver([_AssumedRole(refresh)]))
                self._register(s)
                self._sessions[role] = s
            return s

    def _register(self, session: AioSession) -> None:
        for event, hook in self._hooks:
            session.register(event, hook)

    async def _assume(self, role: str, external_id: str) -> dict[str, Any]:
        params: dict[str, Any] = {"RoleArn": role, "RoleSessionName": SESSION_NAME, "DurationSeconds": 3600}
        if external_id:
            params["ExternalId"] = external_id
        async with self.base.create_client(
            "sts", region_name=self._aws.global_region, endpoint_url=self._aws.endpoint_url
        ) as sts:
            resp = await sts.assume_role(**params)
        self.refreshes += 1
        c = resp["Credentials"]
        return {
            "access_key": c["AccessKeyId"],
            "secret_key": c["SecretAccessKey"],
            "token": c["SessionToken"],
            "expiry_time": c["Expiration"].isoformat(),
        }

    async def caller_account(self) -> str:
        async with self.base.create_client(
            "sts", region_name=self._aws.global_region, endpoint_url=self._aws.endpoint_url
        ) as sts:
            return str((await sts.get_caller_identity())["Account"])


async def discover_accounts(aws: AwsSettings, pool: SessionPool) -> list[AccountRef]:
    """Every account to scan, deduplicated, the running account first."""
    me = await pool.caller_account()
    refs: dict[str, AccountRef] = {}
    if not aws.accounts and not aws.organization_discovery:
        refs[me] = AccountRef(me)
    for a in aws.accounts:
        if a.id == me and not a.role_name:
            refs[a.id] = AccountRef(a.id)
        else:
            refs[a.id] = AccountRef(a.id, role_arn(a.id, a.role_name or aws.role_name))
    if aws.organization_discovery:
        for acc in await organization_accounts(aws, pool):
            if acc in refs:
                continue
            refs[acc] = AccountRef(acc) if acc == me else AccountRef(acc, role_arn(acc, aws.role_name))
    return list(refs.values())


async def organization_accounts(aws: AwsSettings, pool: SessionPool) -> list[str]:
    """ACTIVE accounts of the Organization (needs the management or a delegated account)."""
    out: list[str] = []
    async with pool.base.create_client(
        "organizations", region_name=aws.global_region, endpoint_url=aws.endpoint_url
    ) as org:
        async for page in org.get_paginator("list_accounts").paginate():
            for acc in page.get("Accounts", []):
                if acc.get("Status", "ACTIVE") == "ACTIVE":
                    out.append(str(acc["Id"]))
    return out


async def discover_regions(aws: AwsSettings, pool: SessionPool, account: AccountRef | None = None) -> list[str]:
    """Configured regions, or the account's enabled ones; minus exclusions; sorted."""
    if aws.regions:
        regions = list(aws.regions)
    else:
        session = await pool.session(account.account_id, account.role_arn) if account else pool.base
        async with session.create_client("ec2", region_name=aws.global_region, endpoint_url=aws.endpoint_url) as ec2:
            resp = await ec2.describe_regions(
                AllRegions=False,
                Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required", "opted-in"]}],
            )
        regions = [r["RegionName"] for r in resp.get("Regions", [])]
    excluded = set(aws.exclude_regions)
    return sorted(r for r in regions if r not in excluded)


class _AssumedRole(CredentialProvider):  # type: ignore[misc]
    """A credential provider whose credentials are an assumed role, refreshed by ``refresh``."""

    METHOD = "assume-role"

    def __init__(self, refresh: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        super().__init__()
        self._refresh = refresh

    async def load(self) -> AioDeferredRefreshableCredentials:
        return AioDeferredRefreshableCredentials(refresh_using=self._refresh, method=self.METHOD)
