"""IAM policy documents compiled once into statements the evaluator can ask quickly.

Any JSON shape is accepted (the document comes from AWS, or from whoever can write the
inventory topic): a field of the wrong type contributes nothing, and sizes are bounded
(:data:`MAX_STATEMENTS` per document, :data:`MAX_ENTRIES` patterns per field); a document
cut at a bound says so in :attr:`Document.notes`.

A statement keeps its Action/NotAction patterns (case-insensitive), Resource/NotResource
patterns (case-sensitive, policy variables substituted per principal when matched), its
condition clauses, and for trust policies its Principal/NotPrincipal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from cspm_stream.iamgraph.conditions import Clause, compile_condition
from cspm_stream.iamgraph.patterns import action_match, literal_aware_match, substitute, wildcard_match

MAX_STATEMENTS = 500
MAX_ENTRIES = 500
ALL_ACTIONS = frozenset({"*", "*:*"})


def _strings(v: Any) -> tuple[tuple[str, ...], bool]:
    """String entries of a field (one string or a list), and whether it was cut at the bound."""
    items = v if isinstance(v, list) else [v]
    out = tuple(x for x in items[:MAX_ENTRIES] if isinstance(x, str))
    return out, len(items) > MAX_ENTRIES


@dataclass(frozen=True, slots=True)
class Principals:
    """A trust policy's ``Principal`` (or ``NotPrincipal``): who it names."""

    everyone: bool = False  # "*" or {"AWS": "*"}
    aws: tuple[str, ...] = ()  # ARNs or account ids
    services: tuple[str, ...] = ()  # lowercase
    federated: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Any) -> Principals:
        if raw == "*":
            return cls(everyone=True)
        if not isinstance(raw, dict):
            return cls()
        aws, _ = _strings(raw.get("AWS"))
        svc, _ = _strings(raw.get("Service"))
        fed, _ = _strings(raw.get("Federated"))
        return cls(everyone="*" in aws, aws=aws, services=tuple(s.lower() for s in svc), federated=fed)


@dataclass(frozen=True, slots=True)
class Statement:
    allow: bool
    actions: tuple[str, ...]  # lowercase patterns; with ``not_action`` the excluded ones
    not_action: bool
    resources: tuple[str, ...]  # patterns; with ``not_resource`` the excluded ones
    not_resource: bool
    conditions: tuple[Clause, ...]
    source: str  # where it comes from: "policy arn:aws:iam::...:policy/x" or "inline policy p of role r"
    sid: str = ""
    principals: Principals | None = None
    not_principal: bool = False
    #: the service prefixes the patterns name ("*" when a prefix has a wildcard): a quick reject
    services: frozenset[str] = frozenset({"*"})
    #: no condition and no policy variable: decided from the action and resource alone
    plain: bool = True
    #: plain, and Resource ``*``: the same answer for every resource
    uniform: bool = True

    # -------------------------------------------------------------- actions
    def covers_action(self, action: str) -> bool:
        """Does Action/NotAction cover the lowercase ``action``?"""
        svc = self.services
        if "*" not in svc and action.partition(":")[0] not in svc:
            hit = False
        else:
            hit = any(action_match(p, action) for p in self.actions)
        return not hit if self.not_action else hit

    @property
    def all_actions(self) -> bool:
        """Action names every action (``*`` / ``*:*``)."""
        return not self.not_action and any(p in ALL_ACTIONS for p in self.actions)

    # -------------------------------------------------------------- resources
    @property
    def any_resource(self) -> bool:
        """Resource ``*``: every resource (a NotResource excludes some, so it is not)."""
        return not self.not_resource and "*" in self.resources

    @property
    def resource_independent(self) -> bool:
        """The same verdict for every resource (Resource ``*``)."""
        return self.any_resource

    def covers_resource(self, resource: str, variables: Mapping[str, str | None]) -> tuple[bool, tuple[str, ...]]:
        """(matches?, policy variables that had to be assumed to match)."""
        if self.any_resource:
            return True, ()
        hit = False
        assumed: tuple[str, ...] = ()
        for p in self.resources:
            if "${" in p:
                sub = substitute(p, variables)
                if literal_aware_match(sub, resource, ignorecase=False):
                    hit = True
                    assumed = sub.unknown
                    if not sub.unknown:
                        assumed = ()
                        break
            elif wildcard_match(p, resource, ignorecase=False):
                hit, assumed = True, ()
                break
        if self.not_resource:
            return (not hit), ()
        return hit, assumed

    def covers_some_resource(self) -> bool:
        """Could this statement apply to *some* resource (any Resource at all, or a NotResource)?"""
        return self.not_resource or bool(self.resources)

    # -------------------------------------------------------------- trust
    def names_principal(self, arn: str, account_id: str) -> bool:
        """Does Principal (or NotPrincipal, inverted) name this same-account IAM principal?

        ``arn:aws:iam::<acct>:root`` or the bare account id names every principal of the
        account (whose own policy must then allow the call, as IAM requires)."""
        pr = self.principals
        if pr is None:
            return False
        hit = pr.everyone or any(
            a == arn or a == account_id or a == f"arn:aws:iam::{account_id}:root" or _arn_like(a, arn) for a in pr.aws
        )
        return not hit if self.not_principal else hit

    def names_arn(self, arn: str) -> bool:
        """Does Principal name exactly this IAM principal's ARN (not its account, not ``*``)?

        Within one account such a statement grants the call by itself: the principal's own
        policies need not allow it (STS AssumeRole API reference)."""
        pr = self.principals
        return pr is not None and not self.not_principal and arn in pr.aws

    def names_service(self, service: str) -> bool:
        pr = self.principals
        if pr is None:
            return False
        hit = pr.everyone or service in pr.services
        return not hit if self.not_principal else hit


def _arn_like(pattern: str, arn: str) -> bool:
    return "*" in pattern and wildcard_match(pattern, arn, ignorecase=False)


@dataclass(frozen=True, slots=True)
class Document:
    """A compiled policy document."""

    statements: tuple[Statement, ...]
    notes: tuple[str, ...] = ()
    #: the document could not be read at all (not an object / not JSON)
    unreadable: bool = False
    #: action -> (Allow statements, Deny statements) covering it (filled on demand)
    _by_action: dict[str, tuple[tuple[Statement, ...], tuple[Statement, ...]]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def for_action(self, action: str) -> tuple[tuple[Statement, ...], tuple[Statement, ...]]:
        """(Allow, Deny) statements whose Action/NotAction covers the lowercase ``action``
        (remembered: a managed policy attached to many principals is matched once)."""
        found = self._by_action.get(action)
        if found is None:
            hits = [s for s in self.statements if s.covers_action(action)]
            found = (tuple(s for s in hits if s.allow), tuple(s for s in hits if not s.allow))
            self._by_action[action] = found
        return found

    @property
    def allows_all(self) -> bool:
        """Has an Allow of every action on every resource, without condition."""
        return any(s.allow and s.all_actions and s.any_resource and not s.conditions for s in self.statements)


EMPTY = Document(())


def compile_document(doc: Any, source: str) -> Document:
    """Compile a policy document (a dict, or its JSON text) from ``source``."""
    if isinstance(doc, str | bytes):
        try:
            doc = orjson.loads(doc)
        except orjson.JSONDecodeError:
            return Document((), (f"{source}: not JSON",), True)
    if not isinstance(doc, dict):
        return Document((), (f"{source}: not a policy document",), doc is not None)
    raw = doc.get("Statement")
    items = raw if isinstance(raw, list) else [raw]
    notes: list[str] = []
    if len(items) > MAX_STATEMENTS:
        notes.append(f"{source}: only the first {MAX_STATEMENTS} statements were read")
    out: list[Statement] = []
    for st in items[:MAX_STATEMENTS]:
        if not isinstance(st, dict):
            continue
        effect = st.get("Effect")
        if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
            continue
        not_action = "NotAction" in st
        actions, cut_a = _strings(st.get("NotAction") if not_action else st.get("Action"))
        not_resource = "NotResource" in st
        resources, cut_r = _strings(st.get("NotResource") if not_resource else st.get("Resource"))
        if cut_a or cut_r:
            notes.append(f"{source}: a statement's patterns were cut at {MAX_ENTRIES}")
        if "Principal" in st or "NotPrincipal" in st:
            not_principal = "NotPrincipal" in st and "Principal" not in st
            principals: Principals | None = Principals.parse(st.get("NotPrincipal" if not_principal else "Principal"))
        else:
            principals, not_principal = None, False
        sid = st.get("Sid")
        conditions = compile_condition(st.get("Condition"))
        plain = not conditions and not any("${" in r for r in resources)
        low = tuple(a.lower() for a in actions)
        services = frozenset("*" if ("*" in p or "?" in p) else p for p in (a.partition(":")[0] for a in low))
        out.append(
            Statement(
                allow=effect.lower() == "allow",
                actions=low,
                services=services,
                not_action=not_action,
                resources=resources,
                not_resource=not_resource,
                conditions=conditions,
                plain=plain,
                uniform=plain and not not_resource and "*" in resources,
                source=source,
                sid=sid if isinstance(sid, str) else "",
                principals=principals,
                not_principal=not_principal,
            )
        )
    return Document(tuple(out), tuple(notes))


@lru_cache(maxsize=32768)
def compile_text(text: str, source: str) -> Document:
    """:func:`compile_document` of a JSON text, remembered (the same managed policy is attached many times)."""
    return compile_document(text, source)


@dataclass(slots=True)
class DocumentCache:
    """Compiled documents by (canonical JSON, source): identical inline policies compile once."""

    docs: dict[tuple[bytes, str], Document] = field(default_factory=dict)

    def get(self, doc: Any, source: str) -> Document:
        try:
            key = (orjson.dumps(doc, option=orjson.OPT_SORT_KEYS), source)
        except TypeError:
            return compile_document(doc, source)
        found = self.docs.get(key)
        if found is None:
            found = self.docs[key] = compile_document(doc, source)
        return found
