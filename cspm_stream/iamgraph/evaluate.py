"""Effective permissions of one principal: identity policies ∩ permission boundary ∩ SCPs.

:meth:`Perms.decide` answers "may this principal call ``action`` on ``resource``?" the way
IAM evaluates a request inside one account, for identity-based policies:

1. an applicable explicit ``Deny`` (identity policies, boundary or any SCP) wins;
2. otherwise an identity policy must ``Allow`` it, the permission boundary (if set) must
   allow it, and at every SCP level (root, each OU, the account) some SCP must allow it.

Conditions are three-valued (:mod:`cspm_stream.iamgraph.conditions`): an Allow whose
condition cannot be decided at rest still allows, and a Deny whose condition cannot be
decided does not block, and both are named in :attr:`Decision.conditions` ("allowed if …",
"unless …"): the analysis never dismisses an escalation on a guess, and says what it
depends on.

"Admin" (:meth:`Perms.admin`) is defined precisely as: an unconditional ``Allow`` of every
action (``*``) on every resource (``*``) in the identity policies, in the permission
boundary (if any) and at every SCP level, and at least one way to grant permissions left
by its Denies (one of :data:`IAM_CONTROL` not denied on every resource). Denies of other
actions, of some of those, or of specific resources (turning CloudTrail off, leaving the
organization, inline policies, a region lock) do not make a principal less than admin: it
still controls every identity of the account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cspm_stream.iamgraph.conditions import Context, describe, evaluate
from cspm_stream.iamgraph.model import USER, Principal
from cspm_stream.iamgraph.policydoc import Document, Statement

#: the IAM actions that grant permissions: a principal allowed ``*`` on ``*`` is admin while its
#: Denies leave it at least one of them on every resource (a Deny of some of them — a common
#: guardrail against inline policies — leaves the others; a Deny of ``iam:*`` leaves none)
IAM_CONTROL = (
    "iam:attachrolepolicy",
    "iam:attachuserpolicy",
    "iam:attachgrouppolicy",
    "iam:putrolepolicy",
    "iam:putuserpolicy",
    "iam:putgrouppolicy",
    "iam:createpolicyversion",
)

Extra = Mapping[str, str | tuple[str, ...] | None]


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one question. ``conditions``: what an allowed answer depends on
    (empty = unconditional); ``reason``/``blocked_by`` (``deny``, ``boundary``, ``scp``,
    ``none``): why not."""

    allowed: bool
    conditions: tuple[str, ...] = ()
    reason: str = ""
    blocked_by: str = ""

    @property
    def unconditional(self) -> bool:
        return self.allowed and not self.conditions


ALLOWED = Decision(True)


@dataclass(slots=True)
class _Index:
    id_allow: list[Statement]
    b_allow: list[Statement]
    scp_allow: list[list[Statement]]
    denies: list[Statement]
    #: no statement has a condition or a policy variable: the principal's own context suffices
    plain: bool = False
    #: every statement is ``Resource: *`` and unconditional: one answer for every resource
    uniform: bool = False
    answer: Decision | None = None


def principal_context(p: Principal) -> Context:
    """The request-context keys known at rest for requests made by ``p``."""
    known: dict[str, str | tuple[str, ...] | None] = {
        "aws:principalarn": p.arn,
        "aws:principalaccount": p.account_id,
        "aws:principaltype": "User" if p.kind == USER else "AssumedRole",
        "aws:principalisawsservice": "false",
        "aws:principalservicename": None,
        "aws:username": p.name if p.kind == USER else None,
    }
    if p.kind == USER and p.unique_id:
        known["aws:userid"] = p.unique_id
    for k, v in p.tags.items():
        known[f"aws:principaltag/{k.lower()}"] = v
    return Context(known, prefixes=("aws:principaltag/",))


class Perms:
    """What one principal may do. Built by :class:`~cspm_stream.iamgraph.paths.Analysis`."""

    __slots__ = ("_any", "_cache", "_tries", "boundary", "boundary_arn", "ctx", "identity", "principal", "scps")

    def __init__(
        self,
        principal: Principal,
        identity: list[Document],
        boundary: Document | None,
        scps: tuple[tuple[Document, ...], ...] | None,
    ) -> None:
        self.principal = principal
        self.identity = identity
        self.boundary = boundary
        self.boundary_arn = principal.boundary_arn
        self.scps = scps
        self.ctx = principal_context(principal)
        self._cache: dict[str, _Index] = {}
        self._any: dict[str, Decision] = {}
        self._tries: dict[str, bool] = {}

    def _index(self, action: str) -> _Index:
        ix = self._cache.get(action)
        if ix is not None:
            return ix
        id_allow: list[Statement] = []
        denies: list[Statement] = []
        for doc in self.identity:
            a, d = doc.for_action(action)
            id_allow.extend(a)
            denies.extend(d)
        b_allow: list[Statement] = []
        if self.boundary is not None:
            a, d = self.boundary.for_action(action)
            b_allow.extend(a)
            denies.extend(d)
        scp_allow: list[list[Statement]] = []
        for level in self.scps or ():
            allow_here: list[Statement] = []
            for doc in level:
                a, d = doc.for_action(action)
                allow_here.extend(a)
                denies.extend(d)
            scp_allow.append(allow_here)
        ix = _Index(id_allow, b_allow, scp_allow, denies)
        every = [*ix.id_allow, *ix.b_allow, *(s for lvl in scp_allow for s in lvl), *denies]
        ix.plain = all(s.plain for s in every)
        ix.uniform = all(s.uniform for s in every)
        self._cache[action] = ix
        return ix

    def _ctx(self, extra: Extra | None, prefixes: tuple[str, ...] = ()) -> Context:
        return self.ctx.with_keys(extra or {}, prefixes) if extra or prefixes else self.ctx

    # ------------------------------------------------------------------ questions
    def decide(
        self,
        action: str,
        resource: str,
        extra: Extra | None = None,
        *,
        prefixes: tuple[str, ...] = (),
        ignore_boundary: bool = False,
        granted: bool = False,
    ) -> Decision:
        """May the principal call ``action`` (lowercase) on ``resource``? ``extra``: more known
        context keys (``iam:passedtoservice``, the target's tags ...); ``prefixes``: key
        families ``extra`` lists completely (``aws:resourcetag/``). ``granted``: a resource-based
        policy of the same account names this principal's ARN and allows the call (a role trust
        policy naming it): no identity Allow is needed, but an explicit Deny, the permission
        boundary and the SCPs still apply (STS AssumeRole reference; IAM User Guide, "Update a
        role trust policy": the boundary must allow sts:AssumeRole)."""
        ix = self._index(action)
        if ix.uniform and not ignore_boundary and not granted:
            if ix.answer is None:
                ix.answer = self._decide(ix, action, "*", self.ctx, False)
            return ix.answer
        ctx = self.ctx if ix.plain else self._ctx(extra, prefixes)
        return self._decide(ix, action, resource, ctx, ignore_boundary, granted)

    def _decide(
        self, ix: _Index, action: str, resource: str, ctx: Context, ignore_boundary: bool, granted: bool = False
    ) -> Decision:
        variables = ctx.variables
        unless: list[str] = []
        for s in ix.denies:
            if ignore_boundary and self._in_boundary(s):
                continue
            hit, assumed = s.covers_resource(resource, variables)
            if not hit:
                continue
            v, undecided = evaluate(s.conditions, ctx)
            if v is False:
                continue
            if v is True and not assumed:
                return Decision(False, reason=f"explicit Deny in {s.source}", blocked_by="deny")
            unless.append(f"unless {describe(undecided) or 'the resource matches ' + ', '.join(assumed)} ({s.source})")
        ok, conds = (True, []) if granted else _allowed(ix.id_allow, resource, ctx)
        if not ok:
            return Decision(False, reason="no identity policy allows it", blocked_by="none")
        if self.boundary is not None and not ignore_boundary:
            ok, more = _allowed(ix.b_allow, resource, ctx)
            if not ok:
                return Decision(
                    False, reason=f"permission boundary {self.boundary_arn} does not allow it", blocked_by="boundary"
                )
            conds += more
        for i, level in enumerate(ix.scp_allow):
            ok, more = _allowed(level, resource, ctx)
            if not ok:
                return Decision(False, reason=f"no SCP at {_level(i)} allows it", blocked_by="scp")
            conds += more
        return Decision(True, tuple(dict.fromkeys(conds + unless))) if conds or unless else ALLOWED

    def decide_any(self, action: str, extra: Extra | None = None) -> Decision:
        """May the principal call ``action`` on some resource (a new one it names itself)?
        Only a Deny of every resource (``Resource: *``) blocks."""
        if extra is None:
            known = self._any.get(action)
            if known is None:
                known = self._any[action] = self._decide_any(action, None)
            return known
        return self._decide_any(action, extra)

    def _decide_any(self, action: str, extra: Extra | None) -> Decision:
        ix = self._index(action)
        ctx = self.ctx if ix.plain else self._ctx(extra)
        unless: list[str] = []
        for s in ix.denies:
            if not s.any_resource:
                continue
            v, undecided = evaluate(s.conditions, ctx)
            if v is False:
                continue
            if v is True:
                return Decision(False, reason=f"explicit Deny in {s.source}", blocked_by="deny")
            unless.append(f"unless {describe(undecided)} ({s.source})")
        ok, conds = _allowed_some(ix.id_allow, ctx)
        if not ok:
            return Decision(False, reason="no identity policy allows it", blocked_by="none")
        if self.boundary is not None:
            ok, more = _allowed_some(ix.b_allow, ctx)
            if not ok:
                return Decision(
                    False, reason=f"permission boundary {self.boundary_arn} does not allow it", blocked_by="boundary"
                )
            conds += more
        for i, level in enumerate(ix.scp_allow):
            ok, more = _allowed_some(level, ctx)
            if not ok:
                return Decision(False, reason=f"no SCP at {_level(i)} allows it", blocked_by="scp")
            conds += more
        return Decision(True, tuple(dict.fromkeys(conds + unless))) if conds or unless else ALLOWED

    def allow_statements(self, action: str) -> list[Statement]:
        """The identity-policy Allow statements naming ``action``."""
        return self._index(action).id_allow

    def may_try(self, action: str) -> bool:
        """Cheap pre-filter: does any identity Allow name ``action`` at all?"""
        ix = self._cache.get(action)
        if ix is not None:
            return bool(ix.id_allow)
        found = self._tries.get(action)
        if found is None:
            found = self._tries[action] = any(doc.for_action(action)[0] for doc in self.identity)
        return found

    # ------------------------------------------------------------------ admin
    def admin(self) -> Decision:
        """Is the principal admin (see the module docstring)?"""
        ok, conds = _allows_all([s for d in self.identity for s in d.statements], self.ctx)
        if not ok:
            return Decision(False, reason="no identity policy allows * on *", blocked_by="none")
        ceiling = self.ceiling()
        if not ceiling.allowed:
            return ceiling
        both = [*conds, *ceiling.conditions]
        return Decision(True, tuple(dict.fromkeys(both))) if both else ALLOWED

    def ceiling(self, *, ignore_boundary: bool = False) -> Decision:
        """Would the principal be admin if its identity policies allowed ``*`` on ``*``?
        (Its boundary, the SCPs and its Denies decide.) ``ignore_boundary``: as if its
        permission boundary were removed."""
        conds: list[str] = []
        if self.boundary is not None and not ignore_boundary:
            ok, more = _allows_all(list(self.boundary.statements), self.ctx)
            if not ok:
                return Decision(
                    False,
                    reason=f"permission boundary {self.boundary_arn} does not allow * on *",
                    blocked_by="boundary",
                )
            conds += more
        for i, level in enumerate(self.scps or ()):
            ok, more = _allows_all([s for d in level for s in d.statements], self.ctx)
            if not ok:
                return Decision(False, reason=f"no SCP at {_level(i)} allows * on *", blocked_by="scp")
            conds += more
        denied: Decision | None = None
        left: list[str] | None = None  # the conditions of the least-denied way to grant permissions
        for action in IAM_CONTROL:
            d = self._control(action, ignore_boundary)
            if not d.allowed:
                denied = denied or d
            elif left is None or len(d.conditions) < len(left):
                left = list(d.conditions)
                if not left:
                    break
        if left is None:
            assert denied is not None
            return denied
        conds += left
        return Decision(True, tuple(dict.fromkeys(conds))) if conds else ALLOWED

    def _control(self, action: str, ignore_boundary: bool) -> Decision:
        """Is ``action`` denied on every resource (whatever its identity policies allow)?"""
        unless: list[str] = []
        for s in self._index(action).denies:
            if ignore_boundary and self._in_boundary(s):
                continue
            if not (s.any_resource or s.not_resource):
                continue
            v, undecided = evaluate(s.conditions, self.ctx)
            if v is False:
                continue
            if v is True:
                return Decision(False, reason=f"explicit Deny of {action} in {s.source}", blocked_by="deny")
            unless.append(f"unless {describe(undecided)} ({s.source})")
        return Decision(True, tuple(unless)) if unless else ALLOWED

    def _in_boundary(self, s: Statement) -> bool:
        return self.boundary is not None and s in self.boundary.statements


def _level(i: int) -> str:
    return "the organization root" if i == 0 else f"level {i} of the organization"


def _allowed(stmts: list[Statement], resource: str, ctx: Context) -> tuple[bool, list[str]]:
    conditional: list[str] | None = None
    for s in stmts:
        hit, assumed = s.covers_resource(resource, ctx.variables)
        if not hit:
            continue
        v, undecided = evaluate(s.conditions, ctx)
        if v is False:
            continue
        if v is True and not assumed:
            return True, []
        if conditional is None:
            what = describe(undecided) if undecided else "the resource matches " + ", ".join(assumed)
            conditional = [f"allowed if {what} ({s.source})"]
    return (True, conditional) if conditional is not None else (False, [])


def _allowed_some(stmts: list[Statement], ctx: Context) -> tuple[bool, list[str]]:
    conditional: list[str] | None = None
    for s in stmts:
        if not s.covers_some_resource():
            continue
        v, undecided = evaluate(s.conditions, ctx)
        if v is False:
            continue
        if v is True:
            return True, []
        if conditional is None:
            conditional = [f"allowed if {describe(undecided)} ({s.source})"]
    return (True, conditional) if conditional is not None else (False, [])


def _allows_all(stmts: list[Statement], ctx: Context) -> tuple[bool, list[str]]:
    conditional: list[str] | None = None
    for s in stmts:
        if not (s.allow and s.all_actions and s.any_resource):
            continue
        v, undecided = evaluate(s.conditions, ctx)
        if v is False:
            continue
        if v is True:
            return True, []
        if conditional is None:
            conditional = [f"allowed if {describe(undecided)} ({s.source})"]
    return (True, conditional) if conditional is not None else (False, [])
