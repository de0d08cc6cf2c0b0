"""The context stage's state: what is kept per account, and its in-memory mirror.

State keys (JSON values; every key names its account, so an account's keys live on the
partition of the ``context`` topic its records arrive on)::

    m|<acct>                  {"v": version, "p": partition, "dirty": bool, "changed": ms,
                               "since": ms, "scan": pending scan id, "scan_done": bool, "at": ms}
    i|<acct>|<arn>            {"t": type, "a": attributes, "g": tags}        IAM analysis input
    r|<acct>|<arn>            {"t": type, "a": relation projection}          combination relations
    f|<acct>|<arn>            [policy ids failing on the resource]
    x|<acct>|<policy>|<arn>   {"s": finding state, "h": detail hash, "t", "r", "g"}   our findings
    accounts|<partition>      [account ids whose records arrive on that partition]

:class:`Account` mirrors one account in memory (the combination graph, the IAM input ARNs,
which findings have state) so that a record costs lookups, not scans. Its ``version``
follows ``m|<acct>.v``, bumped with every change: a mismatch (a record's changes were
discarded, or the partition's state was restored after a rebalance) makes :func:`rebuild`
read the whole table once and mirror every account again.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from cspm_stream.combos import Graph, index_entries


def meta_key(acct: str) -> str:
    return f"m|{acct}"


def iam_key(acct: str, arn: str) -> str:
    return f"i|{acct}|{arn}"


def rel_key(acct: str, arn: str) -> str:
    return f"r|{acct}|{arn}"


def failing_key(acct: str, arn: str) -> str:
    return f"f|{acct}|{arn}"


def finding_key(acct: str, policy_id: str, arn: str) -> str:
    return f"x|{acct}|{policy_id}|{arn}"


def accounts_key(partition: int) -> str:
    return f"accounts|{partition}"


@dataclass(slots=True)
class Account:
    id: str
    version: int = 0
    graph: Graph = field(default_factory=lambda: Graph(index_entries))
    iam: set[str] = field(default_factory=set)
    #: policy or combination id → ARNs with a stored finding state
    states: dict[str, set[str]] = field(default_factory=dict)


def rebuild(state: MutableMapping[str, Any]) -> dict[str, Account]:
    """Mirror every account found in ``state`` (one pass over the table)."""
    accounts: dict[str, Account] = {}

    def acc(a: str) -> Account:
        found = accounts.get(a)
        if found is None:
            found = accounts[a] = Account(a)
        return found

    failing: list[tuple[str, str, Any]] = []
    for key in list(state):
        kind, _, rest = key.partition("|")
        if kind not in ("m", "i", "r", "f", "x"):
            continue
        a, _, tail = rest.partition("|")
        value = state.get(key)
        if kind == "m":
            acc(a).version = int(value.get("v", 0)) if isinstance(value, dict) else 0
        elif kind == "i":
            acc(a).iam.add(tail)
        elif kind == "r" and isinstance(value, dict):
            acc(a).graph.upsert(tail, str(value.get("t", "")), value.get("a") or {})
        elif kind == "f":
            failing.append((a, tail, value))
        elif kind == "x":
            pid, _, arn = tail.partition("|")
            acc(a).states.setdefault(pid, set()).add(arn)
    for a, arn, value in failing:
        acc(a).graph.set_failing(arn, value if isinstance(value, list) else ())
    return accounts
