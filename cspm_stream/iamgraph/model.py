"""The IAM state of one account, as the analysis sees it (plain, immutable after build)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cspm_stream.iamgraph.policydoc import Document

USER = "user"
ROLE = "role"

#: IAM keeps at most five versions of a managed policy: CreatePolicyVersion on a policy that has
#: five fails (LimitExceeded) unless one is deleted first (iam:DeletePolicyVersion)
MAX_POLICY_VERSIONS = 5

#: the one AWS managed policy whose content is known without collecting it: Allow * on *
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    arn: str
    name: str
    default: Document
    #: the non-default versions (id, document): SetDefaultPolicyVersion can make one current
    others: tuple[tuple[str, Document], ...] = ()
    aws_managed: bool = False
    #: how many versions it has: IAM keeps at most :data:`MAX_POLICY_VERSIONS`
    versions: int = 1


@dataclass(frozen=True, slots=True)
class Group:
    arn: str
    name: str
    attached: tuple[str, ...] = ()  # managed policy ARNs
    inline: tuple[Document, ...] = ()


@dataclass(slots=True)
class Principal:
    """A user or a role and everything its permissions are made of."""

    arn: str
    kind: str  # USER | ROLE
    name: str
    account_id: str
    unique_id: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    attached: tuple[str, ...] = ()  # managed policy ARNs attached to the principal itself
    inline: tuple[Document, ...] = ()
    groups: tuple[str, ...] = ()  # group ARNs (users)
    boundary_arn: str | None = None
    # users
    access_keys: int = 0
    login_profile: bool = False
    # roles
    trust: Document | None = None
    instance_profiles: tuple[str, ...] = ()
    service_linked: bool = False
    #: what could not be resolved (a policy not collected, an unreadable document)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class ComputeRef:
    """Existing compute running with a role: a Lambda function or a Glue development endpoint."""

    kind: str  # "lambda-function" | "glue-dev-endpoint"
    arn: str
    role_arn: str


@dataclass(slots=True)
class AccountIAM:
    account_id: str
    principals: dict[str, Principal] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    policies: dict[str, ManagedPolicy] = field(default_factory=dict)
    #: SCP levels (root, OUs..., account), each the SCPs attached there; None = not known
    #: (Organizations unreadable) or not applicable (the management account)
    scps: tuple[tuple[Document, ...], ...] | None = None
    scp_note: str = ""
    compute: tuple[ComputeRef, ...] = ()
    notes: list[str] = field(default_factory=list)

    def group_members(self) -> dict[str, list[str]]:
        """Group ARN → member user ARNs."""
        out: dict[str, list[str]] = {}
        for p in self.principals.values():
            for g in p.groups:
                out.setdefault(g, []).append(p.arn)
        return out
