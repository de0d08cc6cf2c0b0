"""Listing by hand for operations botocore has no paginator for (their pages still carry a token).

:func:`token_lister` is a ``list_fn``: every page through the job's
:class:`~cspm_stream.collect.spec.Calls` handle (budgeted, retried, failure-classified), the token fed back
until the answer has none; a token seen twice ends the listing (a server repeating itself would loop forever).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import jmespath

from cspm_stream.collect.spec import Calls, CustomLister, Item

MAX_PAGES = 10_000


def token_lister(
    service: str,
    operation: str,
    items: str,
    *,
    request_key: str = "NextToken",
    response_key: str = "NextToken",
    params: Mapping[str, Any] | None = None,
) -> CustomLister:
    """A ``list_fn`` yielding ``items`` (a jmespath) of every page of ``operation``."""

    async def list_all(calls: Calls) -> AsyncIterator[Item]:
        req = dict(params or {})
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            page = await calls.call(service, operation, **req)
            for item in jmespath.search(items, page) or []:
                if isinstance(item, dict):
                    yield item
            token = page.get(response_key)
            if not token or not isinstance(token, str) or token in seen:
                return
            seen.add(token)
            req[request_key] = token

    return list_all
