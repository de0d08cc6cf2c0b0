"""The remediation action contract and its registry.

An action is data plus three small coroutines, registered under the exact name
policies use (``remediation.action`` in policy YAML)::

    check(clients, cmd)  -> state      read the resource's CURRENT configuration
    compliant(state)     -> bool       is there anything to do?
    plan(cmd, state)     -> [ApiCall]  the exact calls that would fix it
    tags(clients, cmd)   -> {k: v}     live tags, for the exclusion tag

``apply`` is generic: it makes exactly the planned calls, so a dry-run's plan
is, call for call, what ``auto`` would do. Each action declares the minimal IAM
permissions of its read, its write and its tag read (``cspm-stream remediation
list-actions`` and docs/remediation.md list them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from cspm_stream.errors import RemediationError
from cspm_stream.models import RemediationCommand


class AwsCallError(RemediationError):
    """An AWS call made by the remediator failed; ``code`` is the AWS error code."""

    def __init__(self, service: str, operation: str, code: str, message: str) -> None:
        self.service = service
        self.operation = operation
        self.code = code
        super().__init__(f"{service}:{operation} failed: {code}: {message}")


class Clients(Protocol):
    """The remediator's own AWS clients for one account (never the reader's)."""

    identity: str

    async def client(self, service: str, region: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One AWS API call: service, botocore operation (snake case), region and parameters."""

    service: str
    operation: str
    region: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"service": self.service, "operation": self.operation, "region": self.region, "params": self.params}


async def aws(cx: Clients, service: str, region: str, operation: str, **params: Any) -> dict[str, Any]:
    """Make one call; botocore's ClientError becomes :class:`AwsCallError` with the AWS code."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = await cx.client(service, region)
    try:
        resp = await getattr(client, operation)(**params)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise AwsCallError(service, operation, str(err.get("Code", "Unknown")), str(err.get("Message", ""))) from exc
    except BotoCoreError as exc:
        raise AwsCallError(service, operation, type(exc).__name__, str(exc)) from exc
    out = dict(resp)
    out.pop("ResponseMetadata", None)
    return out


async def aws_or_none(
    cx: Clients, service: str, region: str, operation: str, *, absent: str, **params: Any
) -> dict[str, Any] | None:
    """Like :func:`aws`, but ``None`` when AWS answers ``absent`` (the "not configured" code)."""
    try:
        return await aws(cx, service, region, operation, **params)
    except AwsCallError as exc:
        if exc.code == absent:
            return None
        raise


class Action:
    """Base class of every remediation action (subclass, set the ClassVars, register)."""

    name: ClassVar[str]
    summary: ClassVar[str]
    resource_types: ClassVar[tuple[str, ...]]
    read_permissions: ClassVar[tuple[str, ...]]
    write_permissions: ClassVar[tuple[str, ...]]
    tag_permissions: ClassVar[tuple[str, ...]] = ()

    @property
    def permissions(self) -> tuple[str, ...]:
        """Every IAM permission this action needs (read, write, tags), deduplicated in order."""
        return tuple(dict.fromkeys((*self.read_permissions, *self.write_permissions, *self.tag_permissions)))

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        raise NotImplementedError

    def compliant(self, state: dict[str, Any]) -> bool:
        raise NotImplementedError

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        raise NotImplementedError

    async def tags(self, cx: Clients, cmd: RemediationCommand) -> dict[str, str]:
        """Live tags of the resource; account/region-level settings have none."""
        return {}

    async def apply(self, cx: Clients, calls: list[ApiCall]) -> list[dict[str, Any]]:
        """Make exactly the planned calls, in order; the first failure stops and raises."""
        out = []
        for c in calls:
            out.append(await aws(cx, c.service, c.region, c.operation, **c.params))
        return out


def region_of(cmd: RemediationCommand) -> str:
    return cmd.region or "us-east-1"


def tag_list(items: Any, key: str = "Key", value: str = "Value") -> dict[str, str]:
    """``[{Key, Value}]`` → dict (tolerates the lower-case variants some services use)."""
    out: dict[str, str] = {}
    for t in items or []:
        if isinstance(t, dict) and key in t:
            out[str(t[key])] = str(t.get(value, ""))
    return out


_REGISTRY: dict[str, Action] = {}
A = TypeVar("A", bound=type[Action])


def register(cls: A) -> A:
    """Class decorator: register one instance under ``cls.name`` (names are unique)."""
    if cls.name in _REGISTRY:
        raise RuntimeError(f"remediation action {cls.name} registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def registry() -> dict[str, Action]:
    """Action name → action, loading the built-in action modules on first use."""
    _load_builtins()
    return dict(_REGISTRY)


_loaded: list[bool] = []


def _load_builtins() -> None:
    if _loaded:
        return
    import importlib

    for mod in ("s3", "ec2", "iam", "rds", "misc", "response"):
        importlib.import_module(f"cspm_stream.remediate.actions.{mod}")
    _loaded.append(True)


def get_action(name: str) -> Action | None:
    return registry().get(name)
