"""Declarative description of one AWS resource type, run by :class:`~cspm_stream.collect.Collector`.

A :class:`ResourceSpec` says how to list a type (client, operation, jmespath to the
items, paginated or not), how to derive id and ARN from an item, and which detail
calls enrich each item. Each :class:`Detail` writes one attribute named after its
call (``GetBucketAcl`` → ``Acl``); a detail whose error code is in
``not_configured`` stores ``None`` (legitimately not configured); any other failure
leaves the key absent and records an :class:`~cspm_stream.models.AttributeFailure`.

Region-level pseudo resources (``aws.ec2.region``, ``aws.config.region`` ...) have
``list_op=None``: the collector makes one empty item per (account, region) and the
details fill it in. Details that need several calls use ``fn`` (an async function
receiving a :class:`Calls` handle) — the collector still catches their failures
per attribute. Types whose listing needs several calls (children of a parent, e.g.
the stages of every REST API) use ``list_fn``; a failure there is a failed listing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Item = dict[str, Any]

GLOBAL = "global"  # ScanJob.region of account-wide (global) services


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an item was collected: partition-aware ARN building needs account and region."""

    account_id: str
    region: str  # the API region used (never "global")
    partition: str = "aws"


class Calls(Protocol):
    """What a custom detail may do: rate-limited, retried, failure-classified AWS calls."""

    scope: Scope

    async def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]: ...

    async def call_in(self, region: str, service: str, operation: str, **params: Any) -> dict[str, Any]: ...

    async def paginate(self, service: str, operation: str, items: str, **params: Any) -> list[Any]: ...

    async def cached(self, key: str, factory: Callable[[], Awaitable[Any]]) -> Any: ...


CustomDetail = Callable[[Calls, Item], Awaitable[Any]]
#: items listed by several calls (children of a parent: API Gateway stages per API, ECS services per cluster)
CustomLister = Callable[[Calls], AsyncIterator[Item]]


def _whole(resp: dict[str, Any]) -> Any:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def member(name: str) -> Callable[[dict[str, Any]], Any]:
    """Extract one member of a response (``PublicAccessBlockConfiguration`` ...)."""

    def get(resp: dict[str, Any]) -> Any:
        return resp.get(name)

    get.__name__ = f"member_{name}"
    return get


@dataclass(frozen=True, slots=True)
class Detail:
    """One attribute filled by one call (or by ``fn``) per item."""

    key: str
    operation: str = ""  # botocore snake_case name, e.g. "get_bucket_acl"
    params: Callable[[Item], dict[str, Any]] = lambda item: {}
    extract: Callable[[dict[str, Any]], Any] = _whole
    not_configured: frozenset[str] = frozenset()
    paginate_items: str | None = None  # jmespath: paginate and concatenate these
    service: str | None = None  # another client than the spec's (e.g. "s3control")
    fn: CustomDetail | None = None
    when: Callable[[Item], bool] | None = None  # skip the detail (key absent, no error) when False
    locates: bool = False  # runs first: the item's region (``region_of``) may need it


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """How to collect one resource type."""

    resource_type: str
    service: str
    list_op: str | None  # None: one pseudo item per (account, region)
    id: Callable[[Item, Scope], str]
    arn: Callable[[Item, Scope], str]
    items: str = ""  # jmespath of the item list in each page
    list_params: Mapping[str, Any] = field(default_factory=dict)
    paginated: bool = True
    page_size_param: str | None = None  # name of MaxItems/MaxResults for a page-size override
    details: tuple[Detail, ...] = ()
    tags: Callable[[Item], dict[str, str]] | None = None
    global_: bool = False
    list_not_configured: frozenset[str] = frozenset()  # list errors meaning "no such resources here"
    region_of: Callable[[Item, Scope], str] | None = None  # per-item region (S3 buckets)
    #: call the details in the item's own region (``region_of``, after the ``locates`` details):
    #: an S3 bucket's configuration is read from, and charged to, the bucket's region
    item_region_calls: bool = False
    post: Callable[[Item], Item] | None = None  # normalise (e.g. parse policy documents)
    item_filter: Callable[[Item, Scope], bool] | None = None
    one_params: Callable[[str], dict[str, Any]] | None = None  # list params that fetch one id (rescan)
    list_fn: CustomLister | None = None  # replaces list_op's listing (list_op then only names the call)
    parent_id: Callable[[Item], str] | None = None  # a rescan naming the parent's id collects all its children

    @property
    def service_name(self) -> str:
        return self.resource_type.split(".")[1]


def unwrap_or_whole(resp: dict[str, Any]) -> Any:
    """The only member of a response, or the whole response (minus metadata) when it has several."""
    body = {k: v for k, v in resp.items() if k != "ResponseMetadata"}
    return next(iter(body.values())) if len(body) == 1 else body


def policy_member(name: str) -> Callable[[dict[str, Any]], Any]:
    """A policy document member, parsed into a dict."""
    from cspm_stream.collect.normalize import parse_policy

    def get(resp: dict[str, Any]) -> Any:
        return parse_policy(resp.get(name))

    get.__name__ = f"policy_{name}"
    return get


def tags_from_list(key: str = "Tags", k: str = "Key", v: str = "Value") -> Callable[[Item], dict[str, str]]:
    """Tags from ``[{"Key": .., "Value": ..}]`` under ``key``."""

    def get(item: Item) -> dict[str, str]:
        raw = item.get(key) or []
        if isinstance(raw, dict):
            return {str(a): str(b) for a, b in raw.items()}
        return {str(t.get(k)): str(t.get(v, "")) for t in raw if isinstance(t, dict) and t.get(k) is not None}

    return get


def tags_from_dict(key: str) -> Callable[[Item], dict[str, str]]:
    def get(item: Item) -> dict[str, str]:
        raw = item.get(key) or {}
        return {str(a): str(b) for a, b in raw.items()} if isinstance(raw, dict) else {}

    return get


def key(name: str) -> Callable[[Item, Scope], str]:
    """Id or ARN read from one key of the item."""

    def get(item: Item, scope: Scope) -> str:
        return str(item[name])

    return get


def arn_fmt(template: str, id_key: str) -> Callable[[Item, Scope], str]:
    """ARN from a template with ``{partition} {region} {account} {id}``."""

    def get(item: Item, scope: Scope) -> str:
        return template.format(
            partition=scope.partition, region=scope.region, account=scope.account_id, id=item[id_key]
        )

    return get


def region_id(item: Item, scope: Scope) -> str:
    return scope.region


def region_arn(service: str, suffix: str = "region-settings") -> Callable[[Item, Scope], str]:
    """ARN of a region-level pseudo resource: ``arn:aws:<service>:<region>:<account>:region-settings``."""

    def get(item: Item, scope: Scope) -> str:
        return f"arn:{scope.partition}:{service}:{scope.region}:{scope.account_id}:{suffix}"

    return get


def account_arn(service: str) -> Callable[[Item, Scope], str]:
    """ARN of an account-level pseudo resource: ``arn:aws:<service>::<account>:account-settings``."""

    def get(item: Item, scope: Scope) -> str:
        return f"arn:{scope.partition}:{service}::{scope.account_id}:account-settings"

    return get


def account_id(item: Item, scope: Scope) -> str:
    return scope.account_id
