"""Types whose describe call already returns everything: list once, split into an id item and a detail.

Policies read detail attributes (``Instance.PubliclyAccessible``), never raw list fields, so a type
listed by a full describe (DMS ``DescribeReplicationInstances``, FSx ``DescribeFileSystems`` ...) is
collected as a small item (its id fields) plus one detail holding the described record — with no
second call: :func:`listed` pages the describe once per job (``Calls.cached``) and the detail picks
the item's record from that result. A record missing from the result (it vanished between the
listing and the detail) is an error, never an empty pass.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from cspm_stream.collect.spec import Calls, CustomDetail, CustomLister, Item


def listed(
    service: str,
    operation: str,
    items: str,
    id_key: str,
    keep: Sequence[str],
    *,
    params: Mapping[str, Any] | None = None,
    transform: Callable[[dict[str, Any]], Any] | None = None,
) -> tuple[CustomLister, CustomDetail]:
    """(``list_fn``, detail ``fn``) over one paged describe call.

    The item is ``{k: record[k] for k in keep}`` (``id_key`` among them); the detail is
    ``transform(record)`` (the record itself by default).
    """
    cache_key = f"listed:{service}:{operation}:{sorted((params or {}).items())!r}"

    async def records(calls: Calls) -> dict[str, dict[str, Any]]:
        async def read() -> dict[str, dict[str, Any]]:
            found = await calls.paginate(service, operation, items, **dict(params or {}))
            return {str(r[id_key]): r for r in found if isinstance(r, dict) and r.get(id_key) is not None}

        out: dict[str, dict[str, Any]] = await calls.cached(cache_key, read)
        return out

    async def lister(calls: Calls) -> AsyncIterator[Item]:
        for record in (await records(calls)).values():
            yield {k: record.get(k) for k in keep if k in record}

    async def detail(calls: Calls, item: Item) -> Any:
        record = (await records(calls)).get(str(item[id_key]))
        if record is None:
            raise LookupError(f"{operation} no longer returns {item[id_key]!r}")
        return transform(record) if transform else record

    return lister, detail
