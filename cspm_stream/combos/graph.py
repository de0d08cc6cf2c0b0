"""The resources and failing checks of one account, with the reverse indexes relations need (pure).

A :class:`Graph` holds, per resource ARN, its type and a small projection of its attributes
(:func:`~cspm_stream.combos.relations.project`), and the policy ids currently failing on it.
Indexes (``(name, key) → ARNs``) are kept up to date on every upsert and removal, so a
relation can be followed backwards (which instances use this security group?) in constant time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

IndexFn = Callable[[str, str, dict[str, Any]], list[tuple[str, str]]]


class Graph:
    """One account's view for combination evaluation."""

    __slots__ = ("_failing", "_index", "_index_fn", "_keys", "_resources")

    def __init__(self, index_fn: IndexFn) -> None:
        self._resources: dict[str, tuple[str, dict[str, Any]]] = {}
        self._failing: dict[str, frozenset[str]] = {}
        self._index: dict[tuple[str, str], set[str]] = {}
        self._keys: dict[str, list[tuple[str, str]]] = {}
        self._index_fn = index_fn

    # ------------------------------------------------------------------ resources
    def resource(self, arn: str) -> tuple[str, dict[str, Any]] | None:
        return self._resources.get(arn)

    def type_of(self, arn: str) -> str | None:
        found = self._resources.get(arn)
        return found[0] if found is not None else None

    def upsert(self, arn: str, rtype: str, attrs: dict[str, Any]) -> None:
        self._unindex(arn)
        self._resources[arn] = (rtype, attrs)
        keys = self._index_fn(arn, rtype, attrs)
        for k in keys:
            self._index.setdefault(k, set()).add(arn)
        if keys:
            self._keys[arn] = keys

    def remove(self, arn: str) -> None:
        self._unindex(arn)
        self._resources.pop(arn, None)

    def _unindex(self, arn: str) -> None:
        for k in self._keys.pop(arn, ()):
            found = self._index.get(k)
            if found is not None:
                found.discard(arn)
                if not found:
                    del self._index[k]

    def lookup(self, index: str, key: str) -> Iterable[str]:
        """The ARNs filed under ``(index, key)``."""
        return sorted(self._index.get((index, key), ()))

    def of_type(self, rtype: str) -> list[str]:
        return sorted(a for a, (t, _) in self._resources.items() if t == rtype)

    # ------------------------------------------------------------------ findings
    def failing(self, arn: str) -> frozenset[str]:
        return self._failing.get(arn, frozenset())

    def set_failing(self, arn: str, policies: Iterable[str]) -> None:
        found = frozenset(policies)
        if found:
            self._failing[arn] = found
        else:
            self._failing.pop(arn, None)

    def fail(self, arn: str, policy_id: str, failing: bool) -> bool:
        """Record one check's outcome; True when the failing set changed."""
        before = self.failing(arn)
        after = before | {policy_id} if failing else before - {policy_id}
        if after == before:
            return False
        self.set_failing(arn, after)
        return True
