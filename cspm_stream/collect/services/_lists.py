"""Listing helpers shared by service specs: children of a parent, batched describes, map → list.

Everything here runs through the job's :class:`~cspm_stream.collect.spec.Calls` handle, so each
page and each describe is budgeted, retried and failure-classified like any other call; a failure
propagates and the collector records the type's listing as failed (never a partial, silent list).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from cspm_stream.collect.spec import Calls, CustomLister, Item


def children(
    service: str,
    parent_op: str,
    parent_items: str,
    child_op: str,
    child_items: str,
    params: Callable[[Item], dict[str, Any]],
    annotate: Callable[[Item], Item],
    parent_params: Mapping[str, Any] | None = None,
) -> CustomLister:
    """A ``list_fn``: every parent (paginated), then every child of each parent (paginated).

    Each child item is merged with ``annotate(parent)`` (e.g. ``{"restApiId": .., "restApiName": ..}``)
    so ids and ARNs can be derived from the child alone.
    """

    async def list_children(calls: Calls) -> AsyncIterator[Item]:
        parents = await calls.paginate(service, parent_op, parent_items, **dict(parent_params or {}))
        for parent in parents:
            if not isinstance(parent, dict):
                parent = {"Value": parent}
            for child in await calls.paginate(service, child_op, child_items, **params(parent)):
                if isinstance(child, dict):
                    yield {**child, **annotate(parent)}

    return list_children


async def describe_in_batches(
    calls: Calls,
    service: str,
    operation: str,
    ids: Sequence[str],
    param: str,
    items: str,
    batch: int,
    **extra: Any,
) -> list[Any]:
    """``operation(param=ids[i:i+batch], **extra)[items]`` for every batch, concatenated."""
    out: list[Any] = []
    for i in range(0, len(ids), batch):
        resp = await calls.call(service, operation, **{param: list(ids[i : i + batch])}, **extra)
        out.extend(resp.get(items) or [])
    return out


def map_as_list(value: Any, key_name: str = "Key") -> list[dict[str, Any]]:
    """``{"*/*": {...}}`` → ``[{"Key": "*/*", ...}]`` so policies can use any-of/all-of over a map."""
    if not isinstance(value, dict):
        return []
    return [{key_name: k, **v} if isinstance(v, dict) else {key_name: k, "Value": v} for k, v in value.items()]
