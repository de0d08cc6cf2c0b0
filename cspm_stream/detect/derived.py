"""Derived fields: virtual ``cspm.*`` fields that rules use like CloudTrail fields.

Some questions a rule must ask are not one CloudTrail field: "is the actor a deployer
(Terraform, CloudFormation, CDK, Pulumi)?", "which accounts other than ours does this
request name?", "does the caller act on their own IAM user?". Each is computed here,
lazily (only when a candidate rule reads it) and at most once per record, and rules
read it as ``cspm.<name>``::

    filter_deployer:
      cspm.deployer: true
    condition: selection and not filter_deployer

So per-rule filters stay data. The vocabulary (``cspm-stream rules fields`` prints it):

``cspm.deployer`` (bool)
    The actor is infrastructure-as-code at work. Signals (any one suffices): a deployer
    user agent (``Terraform/``, ``HashiCorp``, ``OpenTofu``, ``aws-cdk``, ``Pulumi``,
    ``cloudformation.amazonaws.com``); ``userIdentity.invokedBy`` or ``sourceIPAddress``
    ``cloudformation.amazonaws.com``; an assumed-role session name or role name of a
    deployer (``AWSCloudFormation``, ``aws-cdk-*``, ``cdk-*-cfn-exec-role-*``,
    ``cdk-*-deploy-role-*``, ``*terraform*``, ``*pulumi*``, ``*opentofu*``, or one of
    ``detection.deployer_session_patterns``); the identity or its session issuer matches
    one of ``detection.deployer_principals`` (ARN globs). Never a deployer: the root user,
    and a console session (``sessionCredentialFromConsole``, ``ConsoleLogin``, sign-in
    events) — a person at the console is not a pipeline, whatever role they use.
    The user agent is chosen by the caller: rules that must not be evaded by a spoofed
    agent read ``cspm.deployer_via`` instead.
``cspm.deployer_tool`` (string)
    ``terraform``, ``opentofu``, ``cloudformation``, ``cdk``, ``pulumi`` or ``configured``
    (a configured principal or session pattern); absent when not a deployer.
``cspm.deployer_via`` (list)
    Which signals said so: ``user_agent``, ``invoked_by``, ``session_name``,
    ``role_name``, ``principal``; absent when not a deployer.
``cspm.foreign_accounts`` (list)
    12-digit AWS account ids named anywhere in ``requestParameters`` (inside ARNs,
    principals, sharing lists, and JSON policy documents held as strings) other than
    the record's own account (``recipientAccountId``, else the actor's) and
    ``detection.trusted_accounts``. A token counts only when it is exactly 12 digits
    between non-alphanumeric characters (resource ids such as ``vol-0a1b…`` never do);
    numbers (sizes, counts) are ignored. Absent when there are none.
``cspm.actor_account`` (string)
    The actor's account: ``userIdentity.accountId``, else the account of its ARN.
``cspm.target_is_self`` (bool)
    The IAM user the request names (``requestParameters.userName``) is the caller's own
    user, or the request names no user (IAM then acts on the caller). A root or role
    caller naming a user is never "self".
``cspm.principal`` (string)
    The principal the record is keyed by: the role for assumed-role sessions, else the
    identity ARN, else the account (what correlations group by by default).
``cspm.session_name`` (string)
    The role session name of an assumed-role or federated identity.
``cspm.console`` (bool)
    The call was made from the AWS console (``sessionCredentialFromConsole`` is true,
    or the event is a console sign-in).

``cspm.public_policy`` (bool)
    A policy document in ``requestParameters`` (bucket, key, queue, topic, repository,
    secret, file-system or trust policy; an object or JSON text) grants access to everyone,
    by the posture check ``resource_policy_public``'s analysis (Principal ``*`` without a
    narrowing condition such as aws:SourceAccount/SourceArn/SourceVpce/PrincipalOrgID).
``cspm.batch_size`` (number)
    The length of the longest list in ``requestParameters`` (the names one ``GetParameters``
    call reads); absent when there is none.
``cspm.lifecycle_expiration_days`` (list)
    Per *enabled* rule of a ``PutBucketLifecycle``: the days after which it expires objects
    (``Days``, or ``Date`` counted from the event time) or old versions (``NoncurrentDays``).
``cspm.foreign_resource_accounts`` (list)
    Account ids of the record's ``resources`` other than its own and the trusted ones.
``cspm.unused_region`` (bool)
    ``awsRegion`` is not one of ``detection.approved_regions``; when none are configured,
    the region is an opt-in region (:data:`OPT_IN_REGIONS`, launched since March 2019 and
    disabled until someone enables them). False when the record has no region.
``cspm.plaintext_secrets`` (list)
    Names of plaintext environment variables in the request (CodeBuild, ECS, Batch,
    Lambda, ...) whose value looks like a credential or whose name says secret while the
    value is not a reference (:mod:`cspm_stream.detect.secret_shapes`).
``cspm.ec2_credentials`` (list)
    Which EC2-issued credentials the actor holds: ``instance_profile`` for an assumed-role
    session (``userIdentity.type`` AssumedRole) whose session name is an instance id
    (ARN ending ``:assumed-role/<role>/i-<8 to 17 hex digits>``: the credentials an instance
    profile hands out through IMDS), ``instance_identity`` for the EC2 instance identity
    role (ARN containing ``:assumed-role/aws:ec2-instance/``, case-insensitively; for a
    record without an ARN, session issuer ``aws:ec2-instance``). Both for an identity-role
    session named for an instance. A function of ``userIdentity`` alone: the rule index keys on it, so rules
    about instance credentials cost nothing on other records. Absent otherwise.
``cspm.person`` (bool)
    The credentials are a person's, not a workload's: an IAM user or the root user, a federated
    user, an IAM Identity Center user, or an IAM Identity Center role session (ARN
    ``:assumed-role/AWSReservedSSO_…``). Other role sessions (applications, pipelines, AWS
    services, instance profiles) are not, whoever assumed them (a console session of any role
    is ``cspm.console``). A function of ``userIdentity`` alone: the rule index keys on it.
``cspm.tools`` (list)
    Canonical names of security tools the user agent announces: penetration-testing
    distributions (``kali``, ``parrot``, ``pentoo``), offensive frameworks
    (``stratus-red-team``, ``pacu``, ``cloudfox``, ``weirdaal``), ``trufflehog`` and audit
    tools (``scoutsuite``, ``prowler``, ``cloudsploit``, ``steampipe``, ``pmapper``,
    ``cloudmapper``); computed once per distinct agent (:mod:`cspm_stream.detect.agent_tools`).

Every computation accepts any JSON type anywhere (a field that is not the expected
type counts as absent). New entries: add a function decorated with :func:`derived`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from cspm_stream import safe_regex
from cspm_stream.detect import agent_tools, request_shapes
from cspm_stream.detect.secret_shapes import plaintext_secrets as request_shapes_secrets
from cspm_stream.models.activity import principal_key

Record = dict[str, Any]

#: the namespace of derived fields in rule field names
NAMESPACE = "cspm"


@dataclass(frozen=True, slots=True)
class DerivedField:
    name: str
    kind: str  # bool | string | number | list
    doc: str
    compute: Callable[[Record, Deriver], Any]


#: name (without the ``cspm.`` prefix) → field; filled by :func:`derived` below
FIELDS: dict[str, DerivedField] = {}


def derived(name: str, kind: str, doc: str) -> Callable[[Callable[[Record, Deriver], Any]], Callable[..., Any]]:
    """Register ``fn(record, deriver)`` as ``cspm.<name>`` (``None``/``[]`` = absent)."""

    def deco(fn: Callable[[Record, Deriver], Any]) -> Callable[[Record, Deriver], Any]:
        FIELDS[name] = DerivedField(name, kind, doc, fn)
        return fn

    return deco


@dataclass(frozen=True)
class DerivedConfig:
    """The operator's part of the vocabulary (from the ``detection`` settings)."""

    deployer_principals: tuple[str, ...] = ()
    deployer_session_patterns: tuple[str, ...] = ()
    trusted_accounts: frozenset[str] = frozenset()
    approved_regions: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, d: Any) -> DerivedConfig:
        return cls(
            tuple(getattr(d, "deployer_principals", ()) or ()),
            tuple(getattr(d, "deployer_session_patterns", ()) or ()),
            frozenset(getattr(d, "trusted_accounts", ()) or ()),
            frozenset(getattr(d, "approved_regions", ()) or ()),
        )


class Deriver:
    """Computes ``cspm.*`` values lazily, once per record (the last record is cached by identity).

    One instance is shared by every rule compiled with it. Records are evaluated one at a
    time, so the cache holds only the record being evaluated; holding a reference to it
    means a new record can never be mistaken for it.
    """

    def __init__(self, config: DerivedConfig | None = None) -> None:
        self.config = config or DerivedConfig()
        self._principals = [safe_regex.glob(p) for p in self.config.deployer_principals]
        self._sessions = [safe_regex.glob(p) for p in self.config.deployer_session_patterns]
        self._rec: Record | None = None
        self._vals: dict[str, Any] = {}
        #: deployer signals by user agent / by identity (see _deployer), bounded
        self._agent_memo: dict[str, str] = {}
        self._identity_memo: dict[tuple[str, str, str, str], tuple[tuple[str, str], ...]] = {}

    def value(self, rec: Record, name: str) -> Any:
        if rec is not self._rec:
            self._rec = rec
            self._vals = {}
        try:
            return self._vals[name]
        except KeyError:
            v = self._vals[name] = FIELDS[name].compute(rec, self)
            return v

    def values(self, rec: Record) -> dict[str, Any]:
        """Every derived field of ``rec`` that is present (for explanations and tests)."""
        out = {}
        for name in FIELDS:
            v = self.value(rec, name)
            if v is not None and v != []:
                out[f"{NAMESPACE}.{name}"] = v
        return out


# ---------------------------------------------------------------------- safe readers


def _d(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _s(v: Any) -> str:
    return v if isinstance(v, str) else ""


#: bound on each memo of this module (a stream repeats a few thousand principals and agents)
_MEMO_MAX = 8192


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> Any:
    """Store ``value`` under ``key`` in a bounded memo (emptied when full); return ``value``."""
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = value
    return value


def identity(rec: Record) -> dict[str, Any]:
    return _d(rec.get("userIdentity"))


def issuer(rec: Record) -> dict[str, Any]:
    return _d(_d(identity(rec).get("sessionContext")).get("sessionIssuer"))


def own_account(rec: Record) -> str:
    return _s(rec.get("recipientAccountId")) or _s(identity(rec).get("accountId"))


# ---------------------------------------------------------------------- deployers

#: user-agent fragments (lower case) → tool
_AGENTS: tuple[tuple[str, str], ...] = (
    ("opentofu", "opentofu"),
    ("terraform/", "terraform"),
    ("terraform-provider", "terraform"),
    ("hashicorp", "terraform"),
    ("aws-cdk", "cdk"),
    ("pulumi", "pulumi"),
    ("cloudformation.amazonaws.com", "cloudformation"),
)
#: built-in session/role name globs → tool
_SESSION_GLOBS: tuple[tuple[str, str], ...] = (
    ("AWSCloudFormation*", "cloudformation"),
    ("aws-cdk-*", "cdk"),
    ("*opentofu*", "opentofu"),
    ("*terraform*", "terraform"),
    ("*pulumi*", "pulumi"),
)
_ROLE_GLOBS: tuple[tuple[str, str], ...] = (
    ("cdk-*-cfn-exec-role-*", "cdk"),
    ("cdk-*-deploy-role-*", "cdk"),
    ("*opentofu*", "opentofu"),
    ("*terraform*", "terraform"),
    ("*pulumi*", "pulumi"),
)
_SESSION_RX = [(safe_regex.glob(g), tool) for g, tool in _SESSION_GLOBS]
_ROLE_RX = [(safe_regex.glob(g), tool) for g, tool in _ROLE_GLOBS]
_CFN = "cloudformation.amazonaws.com"


def session_name(rec: Record) -> str:
    ident = identity(rec)
    kind = _s(ident.get("type"))
    arn = _s(ident.get("arn"))
    if kind in ("AssumedRole", "FederatedUser") or ":assumed-role/" in arn or ":federated-user/" in arn:
        tail = arn.rsplit("/", 1)
        return tail[1] if len(tail) == 2 else ""
    return ""


def _role_name(rec: Record) -> str:
    iss = issuer(rec)
    name = _s(iss.get("userName"))
    if name:
        return name
    arn = _s(iss.get("arn"))
    return arn.rsplit("/", 1)[-1] if ":role/" in arn else ""


def is_console(rec: Record) -> bool:
    """``cspm.console``; asked of every record (the rule index keys on it), so written for speed."""
    flag = rec.get("sessionCredentialFromConsole")
    if flag is not None and (flag is True or (flag.__class__ is str and flag.lower() == "true")):
        return True
    # a value that is not a string never equals these (as _s would make it "")
    return rec.get("eventName") == "ConsoleLogin" or rec.get("eventSource") == "signin.amazonaws.com"


def _deployer(rec: Record, dv: Deriver) -> tuple[str, tuple[str, ...]] | None:
    """(tool, signals) or None.

    The user-agent and identity signals are functions of their inputs alone, remembered per
    agent and per (session, role, ARNs) by the deriver (bounded): a stream repeats a few
    thousand of each, and the session and role globs are the costly part.
    """
    ident = identity(rec)
    if _s(ident.get("type")) == "Root" or dv.value(rec, "console"):
        return None
    tool = ""
    via: list[str] = []
    ua = _s(rec.get("userAgent"))
    if ua:
        agent_tool = dv._agent_memo.get(ua)
        if agent_tool is None:
            agent_tool = _remember(dv._agent_memo, ua, _agent_tool(ua.lower()))
        if agent_tool:
            tool = agent_tool
            via.append("user_agent")
    if _s(ident.get("invokedBy")) == _CFN or _s(rec.get("sourceIPAddress")) == _CFN:
        tool = tool or "cloudformation"
        via.append("invoked_by")
    key = (session_name(rec), _role_name(rec), _s(ident.get("arn")), _s(issuer(rec).get("arn")))
    found = dv._identity_memo.get(key)
    if found is None:
        found = _remember(dv._identity_memo, key, _identity_signals(dv, *key))
    for t, signal in found:
        tool = tool or t
        via.append(signal)
    return (tool, tuple(via)) if via else None


def _agent_tool(ua: str) -> str:
    for frag, t in _AGENTS:
        if frag in ua:
            return t
    return ""


def _identity_signals(dv: Deriver, session: str, role: str, arn: str, issuer_arn: str) -> tuple[tuple[str, str], ...]:
    """The (tool, signal) pairs the identity gives: session name, role name, configured principal."""
    out: list[tuple[str, str]] = []
    if session:
        for rx, t in _SESSION_RX:
            if rx.fullmatch(session):
                out.append((t, "session_name"))
                break
        else:
            if any(rx.fullmatch(session) for rx in dv._sessions):
                out.append(("configured", "session_name"))
    if role:
        for rx, t in _ROLE_RX:
            if rx.fullmatch(role):
                out.append((t, "role_name"))
                break
    if dv._principals:
        arns = [a for a in (arn, issuer_arn) if a]
        if any(rx.fullmatch(a) for rx in dv._principals for a in arns):
            out.append(("configured", "principal"))
    return tuple(out)


@derived("deployer", "bool", "the actor is a deployer (Terraform, CloudFormation, CDK, Pulumi, configured)")
def _deployer_flag(rec: Record, dv: Deriver) -> bool:
    return dv.value(rec, "_deployer") is not None


@derived("deployer_tool", "string", "terraform | opentofu | cloudformation | cdk | pulumi | configured")
def _deployer_tool(rec: Record, dv: Deriver) -> str | None:
    d = dv.value(rec, "_deployer")
    return d[0] if d is not None else None


@derived("deployer_via", "list", "signals that recognised the deployer (user_agent, invoked_by, ...)")
def _deployer_via(rec: Record, dv: Deriver) -> list[str] | None:
    d = dv.value(rec, "_deployer")
    return list(d[1]) if d is not None else None


# ---------------------------------------------------------------------- accounts


#: a 12-digit token between non-alphanumerics; fixed-width lookarounds, so linear time (built-in, not rule input)
_ACCOUNT_TOKEN = re.compile(r"(?<![A-Za-z0-9])[0-9]{12}(?![A-Za-z0-9])", re.ASCII)


def account_ids(values: Iterable[Any]) -> list[str]:
    """Every 12-digit token (between non-alphanumerics) in the strings nested in ``values``."""
    found: list[str] = []
    stack = list(values)
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if len(node) >= 12:
                found.extend(_ACCOUNT_TOKEN.findall(node))
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


@derived("foreign_accounts", "list", "12-digit account ids in requestParameters other than ours and trusted ones")
def _foreign_accounts(rec: Record, dv: Deriver) -> list[str] | None:
    rp = rec.get("requestParameters")
    if rp is None:
        return None
    own = own_account(rec)
    trusted = dv.config.trusted_accounts
    ids = sorted({a for a in account_ids([rp]) if a != own and a not in trusted})
    return ids or None


@derived("actor_account", "string", "the actor's account (userIdentity.accountId, else from its ARN)")
def _actor_account(rec: Record, dv: Deriver) -> str | None:
    ident = identity(rec)
    acct = _s(ident.get("accountId"))
    if acct:
        return acct
    parts = _s(ident.get("arn")).split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


@derived("actor_account_trusted", "bool", "the actor's account is one of detection.trusted_accounts")
def _actor_account_trusted(rec: Record, dv: Deriver) -> bool:
    acct = _actor_account(rec, dv)
    return acct is not None and acct in dv.config.trusted_accounts


@derived("target_is_self", "bool", "the IAM user named in the request is the caller's own (or none is named)")
def _target_is_self(rec: Record, dv: Deriver) -> bool:
    rp = rec.get("requestParameters")
    target = rp.get("userName") if isinstance(rp, dict) else None
    if target is None:
        return True
    if not isinstance(target, str):
        return False
    ident = identity(rec)
    if _s(ident.get("type")) != "IAMUser":
        return False
    own = _s(ident.get("userName"))
    if not own:
        arn = _s(ident.get("arn"))
        own = arn.rsplit("/", 1)[-1] if ":user/" in arn else ""
    return bool(own) and own.lower() == target.lower()


@derived("principal", "string", "the principal records are keyed by (role for sessions, else identity ARN)")
def _principal(rec: Record, dv: Deriver) -> str:
    return principal_key({"userIdentity": identity(rec), "recipientAccountId": _s(rec.get("recipientAccountId"))})


@derived("session_name", "string", "the role session name of an assumed-role or federated identity")
def _session_name(rec: Record, dv: Deriver) -> str | None:
    return session_name(rec) or None


@derived("console", "bool", "the call came from the AWS console (or is a console sign-in)")
def _console(rec: Record, dv: Deriver) -> bool:
    return is_console(rec)


# ---------------------------------------------------------------------- request shapes (cspm_stream.detect.request_shapes)


@derived("public_policy", "bool", "a policy document in the request grants access to everyone (no narrowing condition)")
def _public_policy(rec: Record, dv: Deriver) -> bool:
    return request_shapes.public_policy(rec)


@derived("batch_size", "number", "the length of the longest list in requestParameters (names per batch call)")
def _batch_size(rec: Record, dv: Deriver) -> int | None:
    return request_shapes.batch_size(rec)


@derived("lifecycle_expiration_days", "list", "days after which ENABLED lifecycle rules delete objects or old versions")
def _lifecycle_expiration_days(rec: Record, dv: Deriver) -> list[int] | None:
    return request_shapes.lifecycle_expiration_days(rec)


@derived("foreign_resource_accounts", "list", "account ids in the record's resources other than ours and trusted ones")
def _foreign_resource_accounts(rec: Record, dv: Deriver) -> list[str] | None:
    own, trusted = own_account(rec), dv.config.trusted_accounts
    ids = sorted(a for a in request_shapes.resource_accounts(rec) if a != own and a not in trusted)
    return ids or None


#: regions AWS enables only on opt-in (launched since March 2019): unused unless the operator says otherwise
OPT_IN_REGIONS = frozenset(
    "af-south-1 ap-east-1 ap-east-2 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 "
    "ap-southeast-7 ca-west-1 eu-central-2 eu-south-1 eu-south-2 il-central-1 me-central-1 me-south-1 "
    "mx-central-1".split()
)


@derived("unused_region", "bool", "awsRegion is outside detection.approved_regions (if set), else an opt-in region")
def _unused_region(rec: Record, dv: Deriver) -> bool:
    region = _s(rec.get("awsRegion"))
    if not region:
        return False
    approved = dv.config.approved_regions
    return region not in approved if approved else region in OPT_IN_REGIONS


@derived("plaintext_secrets", "list", "names of plaintext environment variables in the request that hold a credential")
def _plaintext_secrets(rec: Record, dv: Deriver) -> list[str] | None:
    return request_shapes_secrets(rec)


@derived("tools", "list", "security tools the user agent names (kali, stratus-red-team, trufflehog, prowler, ...)")
def _tools(rec: Record, dv: Deriver) -> list[str] | None:
    return agent_tools.tools(rec)


#: an instance profile's session: the session name is the instance id (case-sensitive, as EC2 writes it)
_INSTANCE_SESSION = safe_regex.compile(r":assumed-role/[^/]+/i-[0-9a-f]{8,17}$")
_INSTANCE_IDENTITY_ARN = ":assumed-role/aws:ec2-instance/"
_INSTANCE_IDENTITY_ROLE = "aws:ec2-instance"
_IDENTITY = ("instance_identity",)
_KINDS: tuple[tuple[str, ...], ...] = ((), ("instance_profile",), _IDENTITY, ("instance_profile", "instance_identity"))


def ec2_credential_kinds(rec: Record) -> tuple[str, ...]:
    """``cspm.ec2_credentials`` as a tuple (``()``: none): a function of ``userIdentity`` alone.

    Read off the ARN; the session issuer is read only when the record has no ARN (nested
    objects of a cold record cost a cache miss each). A value that is not a string counts as
    absent. The rule index asks :func:`identity_key`, which remembers the answer per ARN.
    """
    ident = rec.get("userIdentity")
    if ident.__class__ is not dict:
        return ()
    arn = ident.get("arn")
    if arn.__class__ is str:
        shape = (1 if _INSTANCE_SESSION.search(arn) else 0) | (2 if _INSTANCE_IDENTITY_ARN in arn.lower() else 0)
        if shape & 1:
            kind = ident.get("type")
            if kind != "AssumedRole" and (kind.__class__ is not str or kind.lower() != "assumedrole"):
                shape &= 2
        return _KINDS[shape]
    # no ARN (a record cut short): the session issuer still names the identity role
    ctx = ident.get("sessionContext")
    iss = ctx.get("sessionIssuer") if ctx.__class__ is dict else None
    user = iss.get("userName") if iss.__class__ is dict else None
    return _IDENTITY if user.__class__ is str and user.lower() == _INSTANCE_IDENTITY_ROLE else ()


_PERSON_TYPES = frozenset({"iamuser", "root", "federateduser", "identitycenteruser"})
_SSO_SESSION = ":assumed-role/awsreservedsso_"


def is_person(rec: Record) -> bool:
    """``cspm.person``: a function of ``userIdentity`` alone (the index asks :func:`identity_key`)."""
    ident = rec.get("userIdentity")
    if ident.__class__ is not dict:
        return False
    kind = _s(ident.get("type")).lower()
    return kind in _PERSON_TYPES or (kind == "assumedrole" and _SSO_SESSION in _s(ident.get("arn")).lower())


@derived(
    "person", "bool", "the credentials are a person's: IAM or root user, federated or IAM Identity Center user/session"
)
def _person(rec: Record, dv: Deriver) -> bool:
    return is_person(rec)


@derived("ec2_credentials", "list", "EC2-issued credentials the actor holds: instance_profile, instance_identity")
def _ec2_credentials(rec: Record, dv: Deriver) -> list[str] | None:
    return list(ec2_credential_kinds(rec)) or None


#: (type, ARN) -> identity_key's answer
_IDENTITY_KEYS: dict[tuple[str, str], tuple[tuple[str, ...], bool]] = {}


def identity_key(rec: Record) -> Hashable:
    """``(cspm.ec2_credentials, cspm.person)`` at once: both read ``userIdentity`` only, so one key
    function serves both in the rule index (remembered per type and ARN; computed directly for a
    record without a string ARN, where the instance identity is read off the session issuer)."""
    ident = rec.get("userIdentity")
    if ident.__class__ is not dict:
        return ((), False)
    kind, arn = ident.get("type"), ident.get("arn")
    if arn.__class__ is not str or (kind is not None and kind.__class__ is not str):
        return (ec2_credential_kinds(rec), is_person(rec))
    key = (kind or "", arn)
    hit = _IDENTITY_KEYS.get(key)
    if hit is None:
        hit = _remember(_IDENTITY_KEYS, key, (ec2_credential_kinds(rec), is_person(rec)))
    return hit


#: derived fields that are a function of one top-level record field alone (besides the index fields,
#: which are in the key anyway): name -> (that field, a hashable form of the value). The rule index
#: keys on them like on eventName (:data:`cspm_stream.detect.compiler.KEY_DERIVED`), so a rule
#: selecting ``cspm.tools`` costs nothing on a record whose user agent names no tool, and one
#: selecting ``cspm.console`` nothing on API calls made outside the console. Fields computed from
#: the same source may share one key function (``identity_key``): the index calls it once.
KEYED: dict[str, tuple[str, Callable[[Record], Hashable]]] = {
    "tools": ("userAgent", agent_tools.tool_names),
    "ec2_credentials": ("userIdentity", identity_key),
    "person": ("userIdentity", identity_key),
    # a function of sessionCredentialFromConsole given eventName and eventSource, both in the index key
    "console": ("sessionCredentialFromConsole", is_console),
}

# internal: shared by the three deployer fields (not a rule field: its name starts with "_")
FIELDS["_deployer"] = DerivedField("_deployer", "internal", "", _deployer)


def public_fields() -> dict[str, DerivedField]:
    """The fields rules may name (``cspm.<name>``)."""
    return {k: v for k, v in FIELDS.items() if not k.startswith("_")}
