"""Who may act on what: per action, the principals whose identity policies name each resource.

The escalation search (:mod:`cspm_stream.iamgraph.paths`) tries as actors only the principals
whose policies name a method's action on the target at all — those naming it exactly, and those
whose resource patterns have wildcards — so it grows with the principals that can act, not with
the square of the account. Indexes are built per action on first use.
"""

from __future__ import annotations

from collections.abc import Iterable

from cspm_stream.iamgraph.evaluate import Perms
from cspm_stream.iamgraph.model import AccountIAM
from cspm_stream.iamgraph.patterns import substitute


class ActorIndex:
    """The actors of one account, indexed per action by the resources their policies name."""

    def __init__(self, account: AccountIAM, perms: dict[str, Perms]) -> None:
        self._account = account
        self._perms = perms
        self._index: dict[str, tuple[dict[str, list[Perms]], list[Perms]]] = {}
        #: per action, the exact resources each non-wildcard actor names
        self._targets: dict[str, dict[str, frozenset[str]]] = {}
        self._owners: dict[str, set[str]] | None = None

    def owners(self) -> dict[str, set[str]]:
        """Principal, group or managed policy ARN → the principals whose permissions it makes."""
        if self._owners is None:
            acc = self._account
            m: dict[str, set[str]] = {}
            for p in acc.principals.values():
                m.setdefault(p.arn, set()).add(p.arn)
                for x in p.attached:
                    m.setdefault(x, set()).add(p.arn)
                for g in p.groups:
                    m.setdefault(g, set()).add(p.arn)
                    grp = acc.groups.get(g)
                    for x in grp.attached if grp is not None else ():
                        m.setdefault(x, set()).add(p.arn)
            self._owners = m
        return self._owners

    def reach(self, actor: Perms, actions: Iterable[str]) -> set[str] | None:
        """The resources ``actor``'s identity policies name for ``actions`` (None: wildcards — any)."""
        out: set[str] = set()
        for action in actions:
            if action not in self._index:
                self._index[action] = self._index_actors(action)
            named = self._targets[action].get(actor.principal.arn)
            if named is None:
                if actor.may_try(action):
                    return None
                continue
            out.update(named)
        return out

    def who(self, action: str, resource: str) -> list[Perms]:
        """The principals whose identity policies may allow ``action`` on ``resource``: those naming
        it exactly, and those whose patterns have wildcards (tried on every resource)."""
        index = self._index.get(action)
        if index is None:
            index = self._index[action] = self._index_actors(action)
        exact, broad = index
        found = exact.get(resource)
        return [*found, *broad] if found else broad

    def _index_actors(self, action: str) -> tuple[dict[str, list[Perms]], list[Perms]]:
        exact: dict[str, list[Perms]] = {}
        broad: list[Perms] = []
        per_actor: dict[str, frozenset[str]] = {}
        for p in self._account.principals.values():
            if p.service_linked:
                continue
            perms = self._perms[p.arn]
            stmts = perms.allow_statements(action)
            if not stmts:
                continue
            targets: set[str] = set()
            wide = False
            for st in stmts:
                if st.not_resource:
                    wide = True
                    break
                for r in st.resources:
                    if "${" in r:
                        sub = substitute(r, perms.ctx.variables)
                        if sub.impossible:
                            continue
                        r = sub.pattern if not sub.unknown else "*"
                    r = _own_account(r, p.account_id)
                    if "*" in r or "?" in r or "\x00" in r:
                        wide = True
                        break
                    targets.add(r)
                if wide:
                    break
            if wide:
                broad.append(perms)
            else:
                for r in targets:
                    exact.setdefault(r, []).append(perms)
                per_actor[p.arn] = frozenset(targets)
        self._targets[action] = per_actor
        return exact, broad


def _own_account(pattern: str, account_id: str) -> str:
    """``arn:aws:iam::*:role/x`` names ``arn:aws:iam::<account>:role/x`` among this account's resources."""
    parts = pattern.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[4] == "*":
        parts[4] = account_id
        return ":".join(parts)
    return pattern
