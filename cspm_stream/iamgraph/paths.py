"""Privilege-escalation paths: who can become admin, and how.

:class:`Analysis` takes one account's IAM state and gives every user and role a
:class:`Result`:

* ``admin`` — it already is admin (:meth:`~cspm_stream.iamgraph.evaluate.Perms.admin`);
* ``escalates`` — a path of hops leads it to admin: it can rewrite its own permissions
  (a *modify* method), or obtain a principal that is admin or escalates (a *gain* method,
  iam:PassRole with new compute, existing compute), or rewrite then obtain another
  principal; each hop names the method, the resource acted on and every permission used;
* ``none`` — no known method leads it to admin (``blocked`` names near misses: a method
  its policies allow but a Deny, its boundary or an SCP stops);
* ``excluded`` — a service-linked role (its permissions and trust are AWS's).

The search runs backwards from the admins (Dijkstra over (conditional hops, hops)): each
principal's path is the shortest one among those needing the fewest conditions. Only the
principals whose policies name a method's actions at all are tried as actors
(:class:`~cspm_stream.iamgraph.actors.ActorIndex`), so the cost grows with the principals that
can act, not with the square of the account. Results and hops: :mod:`cspm_stream.iamgraph.results`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cspm_stream.iamgraph.actors import ActorIndex
from cspm_stream.iamgraph.conditions import Context, evaluate
from cspm_stream.iamgraph.evaluate import Decision, Perms
from cspm_stream.iamgraph.methods import COMPUTE_METHODS, PASSROLE_METHODS, PassRoleMethod
from cspm_stream.iamgraph.model import (
    ADMINISTRATOR_ACCESS,
    MAX_POLICY_VERSIONS,
    ROLE,
    USER,
    AccountIAM,
    ManagedPolicy,
    Principal,
)
from cspm_stream.iamgraph.patterns import wildcard_match
from cspm_stream.iamgraph.policydoc import Document, Statement
from cspm_stream.iamgraph.results import ADMIN, ESCALATES, EXCLUDED, NONE, Cost, Hop, Result, short_arn

MAX_BLOCKED = 5
#: the context-key families a target principal's tags fill completely
TARGET_PREFIXES = ("aws:resourcetag/", "iam:resourcetag/")

_MODIFY_ACTIONS = (
    "iam:putuserpolicy",
    "iam:attachuserpolicy",
    "iam:putgrouppolicy",
    "iam:attachgrouppolicy",
    "iam:addusertogroup",
    "iam:putrolepolicy",
    "iam:attachrolepolicy",
    "iam:createpolicyversion",
    "iam:setdefaultpolicyversion",
)


@dataclass(slots=True)
class _Option:
    """One way to take a hop: the permissions it uses (``needs``) and other requirements
    (``checks``: a trust policy, the target's admin ceiling), each with its decision."""

    method: str
    via: str
    needs: list[tuple[str, Decision]] = field(default_factory=list)
    checks: list[tuple[str, Decision]] = field(default_factory=list)

    def hop(self, actor: str, target: str) -> Hop | None:
        conds: list[str] = []
        for _, d in (*self.checks, *self.needs):
            if not d.allowed:
                return None
            conds.extend(d.conditions)
        return Hop(self.method, actor, target, self.via, tuple(p for p, _ in self.needs), tuple(dict.fromkeys(conds)))

    def blocked(self) -> str | None:
        """The first permission stopped by a Deny, a boundary or an SCP (a near miss), if any."""
        for perm, d in (*self.checks, *self.needs):
            if not d.allowed:
                return f"{self.method}: {perm}: {d.reason}" if d.blocked_by in ("deny", "boundary", "scp") else None
        return None


def _pick(options: Iterable[_Option], actor: str, target: str, blocked: list[str]) -> Hop | None:
    conditional: Hop | None = None
    for o in options:
        h = o.hop(actor, target)
        if h is None:
            why = o.blocked()
            if why is not None and len(blocked) < MAX_BLOCKED:
                blocked.append(why)
            continue
        if not h.conditions:
            return h
        if conditional is None:
            conditional = h
    return conditional


class Analysis:
    """Effective permissions and escalation paths of every principal of one account."""

    def __init__(self, account: AccountIAM) -> None:
        self.account = account
        self.perms: dict[str, Perms] = {}
        for p in account.principals.values():
            scps = None if p.service_linked else account.scps
            boundary = None
            if p.boundary_arn is not None:
                pol = account.policies.get(p.boundary_arn)
                if pol is None:
                    p.notes.append(f"permission boundary {p.boundary_arn} not collected: treated as not limiting")
                else:
                    boundary = pol.default
            self.perms[p.arn] = Perms(p, self._identity(p), boundary, scps)
        self._tkeys: dict[str, tuple[dict[str, str | tuple[str, ...] | None], tuple[str, ...]]] = {}
        self._admin_policies = [
            ADMINISTRATOR_ACCESS,
            *sorted(a for a, pol in account.policies.items() if a != ADMINISTRATOR_ACCESS and pol.default.allows_all),
        ]
        self._admin_groups = sorted(
            g.arn
            for g in account.groups.values()
            if any(d.allows_all for d in g.inline)
            or any((pol := account.policies.get(a)) is not None and pol.default.allows_all for a in g.attached)
        )
        self._compute_by_role: dict[str, list[Any]] = {}
        for c in account.compute:
            self._compute_by_role.setdefault(c.role_arn, []).append(c)
        self._usable: dict[str, list[PassRoleMethod]] = {}
        self.actors = ActorIndex(account, self.perms)
        self._service_trust: dict[tuple[str, str], Decision] = {}
        self._named: dict[str, set[str]] | None = None

    # ------------------------------------------------------------------ building
    def _identity(self, p: Principal) -> list[Document]:
        acc = self.account
        out: list[Document] = []
        for d in p.inline:
            out.append(d)
            p.notes.extend(d.notes)
        arns = list(p.attached)
        for g in p.groups:
            grp = acc.groups.get(g)
            if grp is None:
                p.notes.append(f"group {g} not collected: its policies are not counted")
                continue
            for d in grp.inline:
                out.append(d)
                p.notes.extend(d.notes)
            arns.extend(grp.attached)
        for a in dict.fromkeys(arns):
            pol = acc.policies.get(a)
            if pol is None:
                p.notes.append(f"policy {a} not collected: its permissions are not counted")
                continue
            out.append(pol.default)
            p.notes.extend(pol.default.notes)
        return out

    def _target_keys(self, t: Principal) -> tuple[dict[str, str | tuple[str, ...] | None], tuple[str, ...]]:
        keys = self._tkeys.get(t.arn)
        if keys is None:
            known: dict[str, str | tuple[str, ...] | None] = {"aws:resourceaccount": t.account_id}
            for k, v in t.tags.items():
                known[f"aws:resourcetag/{k.lower()}"] = v
                known[f"iam:resourcetag/{k.lower()}"] = v
            keys = self._tkeys[t.arn] = (known, TARGET_PREFIXES)
        return keys

    def _on(self, actor: Perms, action: str, t: Principal, *, granted: bool = False, **more: str | None) -> Decision:
        """``actor`` calling ``action`` on IAM principal ``t`` (its tags and account known);
        ``granted``: ``t``'s resource policy (its trust) names the actor (see :meth:`Perms.decide`)."""
        known, _ = self._target_keys(t)
        extra: dict[str, str | tuple[str, ...] | None] = dict(known)
        for k, v in more.items():
            extra[k.replace("_", ":", 1)] = v
        return actor.decide(action, t.arn, extra, prefixes=TARGET_PREFIXES, granted=granted)

    def _assume(self, actor: Perms, t: Principal, *, named: bool, written: bool = False) -> tuple[str, Decision]:
        """The sts:AssumeRole permission of ``actor`` on role ``t``: its identity policies' Allow,
        or, when ``named`` (the trust policy names the actor's ARN), the trust policy's own grant —
        within one account that needs no identity Allow; a Deny, the boundary and SCPs still apply."""
        perm = f"sts:AssumeRole on {t.arn}"
        d = self._on(actor, "sts:assumerole", t)
        if d.allowed or not named:
            return perm, d
        g = self._on(actor, "sts:assumerole", t, granted=True)
        if not g.allowed:
            return perm, g if g.blocked_by != "none" else d
        which = "the trust policy it writes" if written else "its trust policy"
        return f"{perm} (granted by {which} naming {short_arn(actor.principal.arn)})", g

    def _named_in_trusts(self) -> dict[str, set[str]]:
        """Principal ARN → the roles whose trust policy names that ARN in an Allow of sts:AssumeRole."""
        if self._named is None:
            out: dict[str, set[str]] = {}
            for t in self.account.principals.values():
                if t.kind != ROLE or t.service_linked:
                    continue
                for a in self._trust_scope(t)[1]:
                    out.setdefault(a, set()).add(t.arn)
            self._named = out
        return self._named

    # ------------------------------------------------------------------ trust
    def trusts(self, role: Principal, actor: Principal, *, directly: bool = False) -> Decision:
        """Does ``role``'s trust policy let ``actor`` call sts:AssumeRole? ``directly``: only its
        statements naming ``actor``'s ARN allow (a Deny naming the actor in any way still blocks)."""
        trust = role.trust
        if trust is None:
            return Decision(False, reason=f"role {role.name} has no readable trust policy", blocked_by="none")
        ctx = self.perms[actor.arn].ctx

        def names(s: Statement) -> bool:
            if directly and s.allow:
                return s.names_arn(actor.arn)
            return s.names_principal(actor.arn, actor.account_id)

        return _trust_decision(trust.statements, ctx, names, role.name)

    def trusts_service(self, role: Principal, service: str) -> Decision:
        """Does ``role``'s trust policy let ``service`` assume it (remembered per role and service)?"""
        key = (role.arn, service)
        found = self._service_trust.get(key)
        if found is None:
            found = self._service_trust[key] = self._trusts_service(role, service)
        return found

    def _trusts_service(self, role: Principal, service: str) -> Decision:
        trust = role.trust
        if trust is None:
            return Decision(False, reason=f"role {role.name} has no readable trust policy", blocked_by="none")
        ctx = Context({"aws:sourceaccount": role.account_id, "aws:principalservicename": service})
        return _trust_decision(trust.statements, ctx, lambda s: s.names_service(service), role.name)

    def _trust_scope(self, role: Principal) -> tuple[bool, set[str]]:
        """(trusts principals of the account in general, the same-account ARNs it names)."""
        general = False
        named: set[str] = set()
        if role.trust is None:
            return False, named
        root = f"arn:aws:iam::{role.account_id}:root"
        for s in role.trust.statements:
            if not s.allow or s.principals is None:
                continue
            if s.not_principal or s.principals.everyone:
                general = True
                continue
            if not s.covers_action("sts:assumerole"):
                continue
            for a in s.principals.aws:
                if a in (root, role.account_id) or "*" in a:
                    general = True
                elif a in self.account.principals:
                    named.add(a)
        return general, named

    # ------------------------------------------------------------------ methods
    def _usable_methods(self, actor: Perms) -> list[PassRoleMethod]:
        """The PassRole methods whose create and run permissions ``actor`` holds (on some resource)."""
        found = self._usable.get(actor.principal.arn)
        if found is not None:
            return found
        found = []
        for m in PASSROLE_METHODS:
            if all(actor.may_try(a.lower()) for a in m.create):
                found.append(m)
        self._usable[actor.principal.arn] = found
        return found

    def gain(self, actor: Perms, t: Principal, blocked: list[str]) -> Hop | None:
        """The best way for ``actor`` to obtain ``t``'s permissions, or None."""
        a = actor.principal
        if a.arn == t.arn:
            return None
        options: list[_Option] = []
        if t.kind == ROLE:
            if t.service_linked:
                return None
            named = t.arn in self._named_in_trusts().get(a.arn, ())
            if named or actor.may_try("sts:assumerole"):
                trust = self.trusts(t, a)
                if trust.allowed:
                    o = _Option("assume-role", t.arn)
                    perm, d = self._assume(actor, t, named=named)
                    if d.allowed and perm != f"sts:AssumeRole on {t.arn}":  # granted by the trust alone
                        trust = self.trusts(t, a, directly=True)
                    o.checks.append(("trust policy", trust))
                    o.needs.append((perm, d))
                    options.append(o)
            if actor.may_try("iam:updateassumerolepolicy"):
                # the trust the actor writes names its ARN: the identity Allow is not needed
                o = _Option("update-assume-role-policy", t.arn)
                o.needs.append(
                    (f"iam:UpdateAssumeRolePolicy on {t.arn}", self._on(actor, "iam:updateassumerolepolicy", t))
                )
                o.needs.append(self._assume(actor, t, named=True, written=True))
                options.append(o)
            if actor.may_try("iam:passrole"):
                for m in self._usable_methods(actor):
                    if not self.trusts_service(t, m.service).allowed:
                        continue
                    options.append(self._passrole_option(actor, t, m))
            for c in self._compute_by_role.get(t.arn, ()):
                for mid, (kind, actions, _) in COMPUTE_METHODS.items():
                    if kind != c.kind or not any(actor.may_try(x.lower()) for x in actions):
                        continue
                    for x in actions:
                        o = _Option(mid, c.arn)
                        o.needs.append((f"{x} on {c.arn}", actor.decide(x.lower(), c.arn)))
                        options.append(o)
        else:
            if actor.may_try("iam:createaccesskey"):
                o = _Option("create-access-key", t.arn)
                o.needs.append((f"iam:CreateAccessKey on {t.arn}", self._on(actor, "iam:createaccesskey", t)))
                if t.access_keys >= 2:  # IAM allows two keys per user: one must go first
                    o.needs.append(
                        (
                            f"iam:DeleteAccessKey on {t.arn} (the user has 2 keys)",
                            self._on(actor, "iam:deleteaccesskey", t),
                        )
                    )
                options.append(o)
            if t.login_profile and actor.may_try("iam:updateloginprofile"):
                o = _Option("update-login-profile", t.arn)
                o.needs.append((f"iam:UpdateLoginProfile on {t.arn}", self._on(actor, "iam:updateloginprofile", t)))
                options.append(o)
            if not t.login_profile and actor.may_try("iam:createloginprofile"):
                o = _Option("create-login-profile", t.arn)
                o.needs.append((f"iam:CreateLoginProfile on {t.arn}", self._on(actor, "iam:createloginprofile", t)))
                options.append(o)
        return _pick(options, a.arn, t.arn, blocked)

    def _passrole_option(self, actor: Perms, t: Principal, m: PassRoleMethod) -> _Option:
        o = _Option(m.id, t.arn)
        known, _ = self._target_keys(t)
        extra = dict(known)
        extra["iam:passedtoservice"] = m.service
        o.needs.append((f"iam:PassRole on {t.arn} to {m.service}", actor.decide("iam:passrole", t.arn, (extra))))
        for x in m.create:
            o.needs.append((x, actor.decide_any(x.lower())))
        if m.run:
            best: tuple[tuple[str, ...], list[Decision]] | None = None
            for alt in m.run:
                ds = [actor.decide_any(x.lower()) for x in alt]
                if all(d.allowed for d in ds):
                    if best is None or (not any(d.conditions for d in ds) and any(d.conditions for d in best[1])):
                        best = (alt, ds)
            if best is None:
                o.needs.append(
                    (
                        " or ".join("+".join(alt) for alt in m.run),
                        Decision(False, reason="not allowed", blocked_by="none"),
                    )
                )
            else:
                o.needs.extend(zip(best[0], best[1], strict=True))
        if m.needs_instance_profile and not t.instance_profiles:
            ip = actor.decide_any("iam:createinstanceprofile")
            add = self._on(actor, "iam:addroletoinstanceprofile", t)
            o.needs.append(("iam:CreateInstanceProfile (the role has no instance profile)", ip))
            o.needs.append((f"iam:AddRoleToInstanceProfile on {t.arn}", add))
        return o

    def make_admin(self, actor: Perms, t: Principal, blocked: list[str]) -> Hop | None:
        """The best way for ``actor`` to make ``t`` admin by rewriting its permissions, or None."""
        acc = self.account
        tp = self.perms[t.arn]
        lead: list[tuple[str, Decision]] = []
        ceiling = tp.ceiling()
        if not ceiling.allowed:
            if ceiling.blocked_by != "boundary":
                if any(actor.may_try(x) for x in _MODIFY_ACTIONS) and len(blocked) < MAX_BLOCKED:
                    blocked.append(f"{short_arn(t.arn)} cannot become admin: {ceiling.reason}")
                return None
            # the boundary caps it: can the actor remove it (or replace it with a permissive one)?
            kind = "User" if t.kind == USER else "Role"
            removal = None
            for verb in ("Delete", "Put"):
                act = f"iam:{verb}{kind}PermissionsBoundary"
                # Delete names the current boundary; Put the new one (the attacker picks a permissive one)
                named = t.boundary_arn if verb == "Delete" else ADMINISTRATOR_ACCESS
                d = self._on(actor, act.lower(), t, iam_permissionsboundary=named)
                if d.allowed:
                    removal = (f"{act} on {t.arn}", d)
                    break
            after = tp.ceiling(ignore_boundary=True)
            if removal is None or not after.allowed:
                if any(actor.may_try(x) for x in _MODIFY_ACTIONS) and len(blocked) < MAX_BLOCKED:
                    blocked.append(f"{short_arn(t.arn)} cannot become admin: {ceiling.reason}")
                return None
            lead.append(removal)
            ceiling = after
        removed = bool(lead)
        options: list[_Option] = []
        pb = None if removed else t.boundary_arn

        def opt(method: str, via: str, perm: str, d: Decision, *more: tuple[str, Decision]) -> None:
            o = _Option(method, via, list(lead), [("admin once granted", ceiling)])
            o.needs.append((perm, d))
            o.needs.extend(more)
            options.append(o)

        if t.kind == USER:
            if actor.may_try("iam:putuserpolicy"):
                opt(
                    "put-user-policy",
                    t.arn,
                    f"iam:PutUserPolicy on {t.arn}",
                    self._on(actor, "iam:putuserpolicy", t, iam_permissionsboundary=pb),
                )
            if actor.may_try("iam:attachuserpolicy"):
                d, pol, more = self._attach(actor, "iam:attachuserpolicy", t, pb)
                opt("attach-user-policy", t.arn, f"iam:AttachUserPolicy on {t.arn} ({pol})", d, *more)
            for g in t.groups:
                if actor.may_try("iam:putgrouppolicy"):
                    opt("put-group-policy", g, f"iam:PutGroupPolicy on {g}", actor.decide("iam:putgrouppolicy", g))
                if actor.may_try("iam:attachgrouppolicy"):
                    d, pol, more = self._attach(actor, "iam:attachgrouppolicy", None, None, resource=g)
                    opt("attach-group-policy", g, f"iam:AttachGroupPolicy on {g} ({pol})", d, *more)
            if actor.may_try("iam:addusertogroup"):
                for g in self._admin_groups:
                    if g not in t.groups:
                        opt("add-user-to-group", g, f"iam:AddUserToGroup on {g}", actor.decide("iam:addusertogroup", g))
        else:
            if actor.may_try("iam:putrolepolicy"):
                opt(
                    "put-role-policy",
                    t.arn,
                    f"iam:PutRolePolicy on {t.arn}",
                    self._on(actor, "iam:putrolepolicy", t, iam_permissionsboundary=pb),
                )
            if actor.may_try("iam:attachrolepolicy"):
                d, pol, more = self._attach(actor, "iam:attachrolepolicy", t, pb)
                opt("attach-role-policy", t.arn, f"iam:AttachRolePolicy on {t.arn} ({pol})", d, *more)
        attached = list(t.attached)
        for g in t.groups:
            grp = acc.groups.get(g)
            if grp is not None:
                attached.extend(grp.attached)
        for parn in dict.fromkeys(attached):
            mp = acc.policies.get(parn)
            if mp is None or mp.aws_managed:
                continue
            if actor.may_try("iam:createpolicyversion"):
                opt("create-policy-version", parn, *self._new_version(actor, mp))
            if actor.may_try("iam:setdefaultpolicyversion"):
                for vid, doc in mp.others:
                    if doc.allows_all:
                        d = actor.decide("iam:setdefaultpolicyversion", parn, ({"iam:policyarn": parn}))
                        opt(
                            "set-default-policy-version",
                            parn,
                            f"iam:SetDefaultPolicyVersion on {parn} (version {vid} allows * on *)",
                            d,
                        )
                        break
        return _pick(options, actor.principal.arn, t.arn, blocked)

    def _new_version(self, actor: Perms, mp: ManagedPolicy) -> tuple[str, Decision, *tuple[tuple[str, Decision], ...]]:
        """Writing a new default version of customer managed policy ``mp``: iam:CreatePolicyVersion,
        and iam:DeletePolicyVersion first when it already has the five versions IAM keeps."""
        parn = mp.arn
        d = actor.decide("iam:createpolicyversion", parn, {"iam:policyarn": parn})
        if mp.versions < MAX_POLICY_VERSIONS:
            return f"iam:CreatePolicyVersion on {parn}", d
        delete = actor.decide("iam:deletepolicyversion", parn, {"iam:policyarn": parn})
        return (
            f"iam:CreatePolicyVersion on {parn}",
            d,
            (f"iam:DeletePolicyVersion on {parn} (the policy has {mp.versions} versions)", delete),
        )

    def _attach(
        self, actor: Perms, action: str, t: Principal | None, pb: str | None, *, resource: str = ""
    ) -> tuple[Decision, str, tuple[tuple[str, Decision], ...]]:
        """Attaching an administrator policy: the first one ``iam:PolicyARN`` conditions let through;
        failing that, a customer managed policy they let through that the actor can first make
        admin (a new default version, or an older admin version made the default). Returns the
        attach decision, the policy, and the permissions of that rewrite."""

        def attach(parn: str) -> Decision:
            if t is not None:
                return self._on(actor, action, t, iam_policyarn=parn, iam_permissionsboundary=pb)
            return actor.decide(action, resource, {"iam:policyarn": parn})

        first: Decision | None = None
        chosen = ""
        for parn in self._admin_policies:
            d = attach(parn)
            if d.unconditional:
                return d, parn, ()
            if first is None or (d.allowed and not first.allowed):
                first = d
                chosen = parn
        assert first is not None
        if first.allowed or not (
            actor.may_try("iam:createpolicyversion") or actor.may_try("iam:setdefaultpolicyversion")
        ):
            return first, chosen, ()
        if t is not None:
            probe = self._on(actor, action, t, iam_permissionsboundary=pb)  # iam:PolicyARN left unknown
        else:
            probe = actor.decide(action, resource)
        if not probe.allowed:  # not for any policy: the resource, a Deny, the boundary or an SCP
            return first, chosen, ()
        for mp in self._rewritable(actor, action):
            d = attach(mp.arn)
            if not d.allowed:
                continue
            rewrite = self._make_policy_admin(actor, mp)
            if rewrite and all(x.allowed for _, x in rewrite):
                return d, mp.arn, rewrite
        return first, chosen, ()

    def _rewritable(self, actor: Perms, action: str) -> list[ManagedPolicy]:
        """Customer managed policies the actor may rewrite and its ``action`` statements might let it
        attach: those its CreatePolicyVersion/SetDefaultPolicyVersion name, else those an
        ``iam:PolicyARN`` condition of its ``action`` statements names (at most 50)."""
        acc = self.account
        named = self.actors.reach(actor, ("iam:createpolicyversion", "iam:setdefaultpolicyversion"))
        if named is not None:
            return [mp for a in sorted(named) if (mp := acc.policies.get(a)) is not None and not mp.aws_managed]
        patterns = {
            v
            for st in actor.allow_statements(action)
            for c in st.conditions
            if c.key == "iam:policyarn" and "not" not in c.base
            for v in c.values
        }
        out: list[ManagedPolicy] = []
        for a in sorted(acc.policies):
            mp = acc.policies[a]
            if not mp.aws_managed and any(wildcard_match(p, a, ignorecase=False) for p in patterns):
                out.append(mp)
                if len(out) >= 50:
                    break
        return out

    def _make_policy_admin(self, actor: Perms, mp: ManagedPolicy) -> tuple[tuple[str, Decision], ...]:
        """The permissions that make managed policy ``mp`` allow * on * (empty: no way)."""
        if actor.may_try("iam:createpolicyversion"):
            perm, d, *more = self._new_version(actor, mp)
            if d.allowed and all(x.allowed for _, x in more):
                return ((perm, d), *more)
        if actor.may_try("iam:setdefaultpolicyversion"):
            for vid, doc in mp.others:
                if doc.allows_all:
                    d = actor.decide("iam:setdefaultpolicyversion", mp.arn, {"iam:policyarn": mp.arn})
                    if d.allowed:
                        return ((f"iam:SetDefaultPolicyVersion on {mp.arn} (version {vid} allows * on *)", d),)
                    break
        return ()

    # ------------------------------------------------------------------ search
    def run(self) -> dict[str, Result]:
        """Every principal's result."""
        acc = self.account
        best: dict[str, tuple[Cost, tuple[Hop, ...], str, tuple[str, ...]]] = {}
        heap: list[tuple[Cost, int, str, tuple[Hop, ...], str, tuple[str, ...]]] = []
        blocked: dict[str, list[str]] = {arn: [] for arn in acc.principals}
        seq = 0

        queued: dict[str, Cost] = {}  # the lowest cost each principal was queued with

        def push(cost: Cost, arn: str, path: tuple[Hop, ...], status: str, conds: tuple[str, ...] = ()) -> None:
            nonlocal seq
            if arn in queued and queued[arn] <= cost:
                return
            queued[arn] = cost
            seq += 1
            heapq.heappush(heap, (cost, seq, arn, path, status, conds))

        active = [p for p in acc.principals.values() if not p.service_linked]
        modifiers: list[Perms] = []
        for p in active:
            perms = self.perms[p.arn]
            adm = perms.admin()
            if adm.allowed:
                push((1 if adm.conditions else 0, 0), p.arn, (), ADMIN, adm.conditions)
                continue
            if any(perms.may_try(x) for x in _MODIFY_ACTIONS):
                modifiers.append(perms)
        for perms in modifiers:
            p = perms.principal
            hop = self.make_admin(perms, p, blocked[p.arn])
            if hop is not None:
                push(_cost((hop,)), p.arn, (hop,), ESCALATES)
            for t in self._forward_targets(perms):
                if t.arn == p.arn:
                    continue
                g = self.gain(perms, t, blocked[p.arn])
                if g is None:
                    continue
                m = self.make_admin(perms, t, blocked[p.arn])
                if m is not None:
                    push(_cost((m, g)), p.arn, (m, g), ESCALATES)
        while heap:
            cost, _, arn, path, status, conds = heapq.heappop(heap)
            if arn in best:
                continue
            best[arn] = (cost, path, status, conds)
            t = acc.principals[arn]
            # popped in cost order: a hop from here costs at least ``floor``; an actor already queued
            # at or below it cannot do better through this principal
            floor = (cost[0], cost[1] + 1)
            for actor in self._candidates(t):
                a = actor.principal.arn
                if a in best or a == arn or (a in queued and queued[a] <= floor):
                    continue
                hop = self.gain(actor, t, blocked[a])
                if hop is not None:
                    push((cost[0] + (1 if hop.conditions else 0), cost[1] + 1), a, (hop, *path), ESCALATES)
        out: dict[str, Result] = {}
        for p in acc.principals.values():
            notes = tuple(dict.fromkeys(p.notes))
            if p.service_linked:
                out[p.arn] = Result(p.arn, p.kind, EXCLUDED, notes=notes)
                continue
            found = best.get(p.arn)
            if found is None:
                out[p.arn] = Result(p.arn, p.kind, NONE, blocked=tuple(dict.fromkeys(blocked[p.arn])), notes=notes)
                continue
            _, path, status, conds = found
            if status == ADMIN:
                out[p.arn] = Result(p.arn, p.kind, ADMIN, conditions=conds, notes=notes)
            else:
                final = path[-1].target
                tail = best.get(final)
                tail_conds = tail[3] if tail is not None and tail[2] == ADMIN else ()
                out[p.arn] = Result(p.arn, p.kind, ESCALATES, path, conditions=tail_conds, notes=notes)
        return out

    def _forward_targets(self, actor: Perms) -> list[Principal]:
        """Principals ``actor`` might both rewrite and obtain (a superset, for modify-then-obtain)."""
        acc = self.account
        a = actor.principal
        # adding a user to an admin group makes any user a target; the other actions name theirs
        modify = None if actor.may_try("iam:addusertogroup") else self.actors.reach(actor, _MODIFY_ACTIONS)
        if modify is not None:  # the principals those resources (a principal, group, policy) belong to
            owners = self.actors.owners()
            modify = {o for r in modify for o in owners.get(r, (r,))}
        users = self.actors.reach(actor, ("iam:createaccesskey", "iam:createloginprofile", "iam:updateloginprofile"))
        roles = self.actors.reach(actor, ("sts:assumerole", "iam:updateassumerolepolicy", "iam:passrole"))
        if roles is not None:  # roles whose trust names the actor need no identity Allow
            roles |= self._named_in_trusts().get(a.arn, set())
        compute = self.actors.reach(actor, tuple(x.lower() for _, acts, _ in COMPUTE_METHODS.values() for x in acts))
        if compute is not None:
            compute = {c.role_arn for c in acc.compute if c.arn in compute}
        out: list[Principal] = []
        pool = acc.principals.values() if modify is None else (acc.principals[x] for x in modify if x in acc.principals)
        for t in pool:
            if t.arn == a.arn or t.service_linked:
                continue
            if t.kind == USER:
                if users is None or t.arn in users:
                    out.append(t)
            elif (
                roles is None
                or t.arn in roles
                or (t.arn in self._compute_by_role and (compute is None or t.arn in compute))
            ):
                out.append(t)
        return out

    def _candidates(self, t: Principal) -> Iterable[Perms]:
        """Who might obtain ``t`` (a superset; :meth:`gain` decides)."""
        seen: dict[str, Perms] = {}

        def add(action: str, resource: str) -> None:
            for p in self.actors.who(action, resource):
                seen.setdefault(p.principal.arn, p)

        if t.kind == USER:
            for action in ("iam:createaccesskey", "iam:createloginprofile", "iam:updateloginprofile"):
                add(action, t.arn)
            return seen.values()
        if t.service_linked:
            return ()
        general, named = self._trust_scope(t)
        for p in self.actors.who("sts:assumerole", t.arn):
            if general or p.principal.arn in named:
                seen.setdefault(p.principal.arn, p)
        for a in sorted(named):  # the trust policy names them: no identity Allow needed
            if a in self.perms and not self.account.principals[a].service_linked:
                seen.setdefault(a, self.perms[a])
        add("iam:updateassumerolepolicy", t.arn)
        if t.trust is not None and any(
            s.allow and s.principals is not None and s.principals.services for s in t.trust.statements
        ):
            for p in self.actors.who("iam:passrole", t.arn):
                if any(self.trusts_service(t, m.service).allowed for m in self._usable_methods(p)):
                    seen.setdefault(p.principal.arn, p)
        for c in self._compute_by_role.get(t.arn, ()):
            for kind, actions, _ in COMPUTE_METHODS.values():
                if kind == c.kind:
                    for x in actions:
                        add(x.lower(), c.arn)
        return seen.values()


def _cost(path: tuple[Hop, ...]) -> Cost:
    return (sum(1 for h in path if h.conditions), len(path))


def _trust_decision(stmts: tuple[Statement, ...], ctx: Context, names: Any, role: str) -> Decision:
    unless: list[str] = []
    allowed: Decision | None = None
    for s in stmts:
        if not s.covers_action("sts:assumerole") or not names(s):
            continue
        v, undecided = evaluate(s.conditions, ctx)
        if v is False:
            continue
        if not s.allow:
            if v is True:
                return Decision(False, reason=f"trust policy of role {role} denies it", blocked_by="deny")
            unless.append(f"unless {' and '.join(c.text() for c in undecided)} (trust policy of role {role})")
            continue
        if v is True:
            allowed = Decision(True)
        elif allowed is None:
            allowed = Decision(
                True, (f"allowed if {' and '.join(c.text() for c in undecided)} (trust policy of role {role})",)
            )
    if allowed is None:
        return Decision(False, reason=f"trust policy of role {role} does not allow it", blocked_by="none")
    conds = allowed.conditions + tuple(unless)
    return Decision(True, conds) if conds else allowed
