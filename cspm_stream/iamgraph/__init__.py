"""IAM effective permissions and privilege-escalation paths (pure: no Kafka, no AWS, no clock).

From one account's collected IAM state (users, groups, roles, inline and managed policies
with their default and other versions, permission boundaries, trust policies, SCPs) this
package computes what each principal may do and whether it can become admin:

* :mod:`~cspm_stream.iamgraph.build` — inventory snapshots' attributes → :class:`AccountIAM`;
* :mod:`~cspm_stream.iamgraph.evaluate` — one principal's effective permissions
  (identity ∩ boundary ∩ SCPs, explicit deny wins, conditions three-valued and named);
* :mod:`~cspm_stream.iamgraph.methods` — the escalation methods, as data;
* :mod:`~cspm_stream.iamgraph.paths` — the search for paths to admin, every hop named
  (:mod:`~cspm_stream.iamgraph.actors`: who may act on what; :mod:`~cspm_stream.iamgraph.results`:
  what the search finds).

The context stage turns each principal's :class:`~cspm_stream.iamgraph.results.Result` into
attributes of a derived resource of type ``aws.iam.principal`` (:func:`principal_attributes`),
evaluated by the ``iam_privilege_escalation_path`` policy; ``cspm-stream paths`` prints them.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.iamgraph.build import IAM_TYPES, Resource, build_account
from cspm_stream.iamgraph.model import AccountIAM
from cspm_stream.iamgraph.paths import Analysis
from cspm_stream.iamgraph.results import ADMIN, ESCALATES, EXCLUDED, NONE, Hop, Result

#: the resource type of the derived per-principal records (not collected: computed)
PRINCIPAL_TYPE = "aws.iam.principal"
#: resource types that exist only as derived records, for the policy contract
DERIVED_RESOURCE_TYPES = frozenset({PRINCIPAL_TYPE})
#: the attributes every derived principal record carries (what policies on it may read)
PRINCIPAL_ATTRIBUTES = frozenset(
    {"Principal", "PrincipalType", "Status", "Conditional", "EscalationPath", "AdminConditions", "Blocked", "Notes"}
)


def analyse(account_id: str, resources: list[Resource]) -> dict[str, Result]:
    """Every principal's result for one account's resources."""
    return Analysis(build_account(account_id, resources)).run()


def principal_attributes(result: Result) -> dict[str, Any]:
    """The attributes of a principal's derived ``aws.iam.principal`` record (what the
    ``iam_privilege_escalation_path`` policy reads)."""
    d = result.to_dict()
    return {
        "Principal": result.principal,
        "PrincipalType": result.kind,
        "Status": result.status,
        "Conditional": result.conditional,
        "EscalationPath": d["path"] if result.status == ESCALATES else [],
        "AdminConditions": d["conditions"],
        "Blocked": d["blocked"],
        "Notes": d["notes"],
    }


__all__ = [
    "ADMIN",
    "DERIVED_RESOURCE_TYPES",
    "ESCALATES",
    "EXCLUDED",
    "IAM_TYPES",
    "NONE",
    "PRINCIPAL_ATTRIBUTES",
    "PRINCIPAL_TYPE",
    "AccountIAM",
    "Analysis",
    "Hop",
    "Resource",
    "Result",
    "analyse",
    "build_account",
    "principal_attributes",
]
