"""The remediator's own AWS credentials: a separate session and role, never the reader's.

For each account the remediator assumes ``remediation.role_arn`` (single account)
or ``arn:aws:iam::<account>:role/<remediation.role_name>`` from its own base
credentials; with neither set it uses its base credentials as they are. Clients
live in one AsyncExitStack and are rebuilt before the assumed credentials expire.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from cspm_stream.settings import AwsSettings, RemediationSettings

SESSION_NAME = "cspm-stream-remediator"
REFRESH_BEFORE_S = 300


@dataclass
class AccountClients:
    """Clients for one account under the remediation role (implements ``Clients``)."""

    identity: str
    _owner: RemediatorSession
    _creds: dict[str, str]
    expires: float
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    async def client(self, service: str, region: str) -> Any:
        key = (service, region)
        c = self._cache.get(key)
        if c is None:
            c = await self._owner._new_client(service, region, self._creds)
            self._cache[key] = c
        return c


class RemediatorSession:
    """Owns every AWS client of the remediator; ``async with`` or start/stop."""

    def __init__(
        self,
        conf: RemediationSettings,
        aws: AwsSettings,
        *,
        event_hooks: Sequence[tuple[str, Callable[..., Any]]] = (),
    ) -> None:
        self._event_hooks = tuple(event_hooks)  # botocore hooks on every client (the daemon's call metrics)
        self._conf = conf
        self._aws = aws
        self._stack = AsyncExitStack()
        self._session: Any = None
        self._accounts: dict[str, AccountClients] = {}

    async def start(self) -> None:
        from aiobotocore.session import AioSession  # adapter-only import

        self._session = AioSession()

    async def stop(self) -> None:
        await self._stack.aclose()
        self._stack = AsyncExitStack()
        self._accounts.clear()

    async def __aenter__(self) -> RemediatorSession:
        await self.start()
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    def role_arn(self, account_id: str) -> str | None:
        if self._conf.role_arn:
            return self._conf.role_arn
        if self._conf.role_name:
            return f"arn:aws:iam::{account_id}:role/{self._conf.role_name}"
        return None

    def _external_id(self, account_id: str) -> str:
        for a in self._aws.accounts:
            if a.id == account_id and a.external_id:
                return a.external_id
        return self._aws.external_id

    async def for_account(self, account_id: str) -> AccountClients:
        cur = self._accounts.get(account_id)
        if cur is not None and cur.expires - time.time() > REFRESH_BEFORE_S:
            return cur
        if self._session is None:
            await self.start()  # lazily: the daemon builds handlers without a start hook
        role = self.role_arn(account_id)
        if role is None:
            sts = await self._new_client("sts", self._region(), {})
            ident = await sts.get_caller_identity()
            ac = AccountClients(str(ident["Arn"]), self, {}, float("inf"))
        else:
            sts = await self._new_client("sts", self._region(), {})
            kw: dict[str, Any] = {"RoleArn": role, "RoleSessionName": SESSION_NAME, "DurationSeconds": 3600}
            ext = self._external_id(account_id)
            if ext:
                kw["ExternalId"] = ext
            r = await sts.assume_role(**kw)
            c = r["Credentials"]
            creds = {
                "aws_access_key_id": c["AccessKeyId"],
                "aws_secret_access_key": c["SecretAccessKey"],
                "aws_session_token": c["SessionToken"],
            }
            exp = c.get("Expiration")
            expires = exp.timestamp() if hasattr(exp, "timestamp") else time.time() + 3600
            ac = AccountClients(str(r["AssumedRoleUser"]["Arn"]), self, creds, expires)
        self._accounts[account_id] = ac
        return ac

    def _region(self) -> str:
        return self._aws.regions[0] if self._aws.regions else "us-east-1"

    async def _new_client(self, service: str, region: str, creds: dict[str, str]) -> Any:
        from aiobotocore.config import AioConfig

        cfg = AioConfig(
            retries={"max_attempts": self._aws.max_attempts, "mode": "standard"},
            read_timeout=self._aws.call_timeout_s,
            connect_timeout=10,
        )
        kw: dict[str, Any] = {"region_name": region, "config": cfg, **creds}
        if self._aws.endpoint_url:
            kw["endpoint_url"] = self._aws.endpoint_url
        client = await self._stack.enter_async_context(self._session.create_client(service, **kw))
        for event, hook in self._event_hooks:
            client.meta.events.register(event, hook)
        if service == "s3control" and self._aws.endpoint_url:
            from cspm_stream.testing.moto import fix_s3control_host

            fix_s3control_host(client)
        return client
