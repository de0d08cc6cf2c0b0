"""The policy file schema, generated from the operator and check registries.

:func:`policy_json_schema` returns a JSON Schema (draft 2020-12) document for
editors and external tooling; the loader enforces the same rules itself and
names file, path and reason on failure.
"""

from __future__ import annotations

import re
from typing import Any

from cspm_stream.policy.checks import registry as check_registry
from cspm_stream.policy.operators import OPERATORS

POLICY_ID_RE = re.compile(r"[a-z0-9][a-z0-9_]{2,127}")
RESOURCE_TYPE_RE = re.compile(r"aws\.[a-z0-9]+(_[a-z0-9]+)*\.[a-z0-9]+(_[a-z0-9]+)*")
#: a Prowler AWS check id (``s3_bucket_public_access``)
PROWLER_CHECK_RE = re.compile(r"[a-z0-9]+(_[a-z0-9]+)+")
#: an AWS Security Hub control id (``S3.2``, ``CloudWatch.14``)
SECURITYHUB_CONTROL_RE = re.compile(r"[A-Za-z0-9]+\.[0-9]+")
SEVERITIES = ("informational", "low", "medium", "high", "critical")
TOP_LEVEL_KEYS = (
    "id",
    "title",
    "description",
    "rationale",
    "severity",
    "resource_type",
    "condition",
    "remediation",
    "related",
    "compliance",
    "wire_test",
    "tests",
)
#: the top-level keys a policy file may leave out
OPTIONAL_KEYS = frozenset({"related", "compliance", "wire_test"})
#: ``wire_test``: how the policy's collector is tested on the wire — against moto in server mode, or
#: against recorded responses validated against botocore's service model (cspm_stream.testing.recorded)
WIRE_TESTS = ("moto", "recorded")


def known_resource_types() -> frozenset[str]:
    """Resource types of the inventory contract: those the collectors produce (their spec registry),
    and those the context stage derives (``aws.iam.principal``: a user's or role's escalation analysis)."""
    from cspm_stream.collect.services import resource_types
    from cspm_stream.iamgraph import DERIVED_RESOURCE_TYPES

    return resource_types() | DERIVED_RESOURCE_TYPES


#: framework ids of the contract
KNOWN_FRAMEWORKS = frozenset(
    "cis-aws-3.0.0 cis-aws-5.0.0 cis-aws-6.0.0 cis-aws-7.0.0 pci-dss-4.0 hipaa gdpr nist-800-53-rev5 soc2 iso-27001-2022 aws-fsbp".split()
)


def known_actions() -> frozenset[str]:
    """Remediation action names a policy may reference: the action registry's."""
    from cspm_stream.remediate.base import registry

    return frozenset(registry())


def condition_schema() -> dict[str, Any]:
    """``$defs.condition`` as a oneOf over every operator, boolean form and check."""
    leafs: list[dict[str, Any]] = []
    for op in OPERATORS.values():
        props: dict[str, Any] = {"path": {"type": "string", "minLength": 1}, "op": {"const": op.name}}
        required = ["path", "op"]
        if op.needs_value:
            props["value"] = op.value_schema or {}
            required.append("value")
        leafs.append(
            {
                "type": "object",
                "properties": props,
                "required": required,
                "additionalProperties": False,
                "description": op.doc,
            }
        )
    ref = {"$ref": "#/$defs/condition"}
    forms: list[dict[str, Any]] = [
        *leafs,
        {
            "type": "object",
            "properties": {"all": {"type": "array", "items": ref, "minItems": 1}},
            "required": ["all"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"any": {"type": "array", "items": ref, "minItems": 1}},
            "required": ["any"],
            "additionalProperties": False,
        },
        {"type": "object", "properties": {"not": ref}, "required": ["not"], "additionalProperties": False},
    ]
    for k in ("any-of", "all-of", "none-of"):
        forms.append(
            {
                "type": "object",
                "properties": {k: {"type": "string"}, "where": ref},
                "required": [k, "where"],
                "additionalProperties": False,
            }
        )
    for chk in check_registry().values():
        forms.append(
            {
                "type": "object",
                "properties": {"check": {"const": chk.name}, "args": chk.args_schema()},
                "required": ["check"],
                "additionalProperties": False,
                "description": chk.doc,
            }
        )
    return {"oneOf": forms}


def policy_json_schema() -> dict[str, Any]:
    """JSON Schema of a policy file."""
    strs = {"type": "array", "items": {"type": "string", "minLength": 1}}
    xref = {
        kind: {"type": "array", "uniqueItems": True, "items": {"type": "string", "pattern": f"^{rx.pattern}$"}}
        for kind, rx in (("prowler", PROWLER_CHECK_RE), ("securityhub", SECURITYHUB_CONTROL_RE))
    }
    test = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "expect": {"enum": ["pass", "fail", "error"]},
            "attributes": {"type": "object"},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "attribute": {"type": "string"},
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                    },
                    "required": ["attribute"],
                },
            },
            "now": {"type": "string"},
            "region": {"type": "string"},
            "account_id": {"type": "string"},
        },
        "required": ["name", "expect"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "cspm_stream posture policy",
        "type": "object",
        "additionalProperties": False,
        "required": [k for k in TOP_LEVEL_KEYS if k not in OPTIONAL_KEYS],
        "properties": {
            "id": {"type": "string", "pattern": f"^{POLICY_ID_RE.pattern}$"},
            "title": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "rationale": {"type": "string"},
            "severity": {"enum": list(SEVERITIES)},
            "resource_type": {"type": "string", "pattern": f"^{RESOURCE_TYPE_RE.pattern}$"},
            "condition": {"$ref": "#/$defs/condition"},
            "remediation": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "text": {"type": "string"},
                    "references": strs,
                    "action": {"enum": sorted(known_actions())},
                },
                "required": ["text"],
            },
            "related": {
                "type": "object",
                "additionalProperties": False,
                "description": (
                    "prowler/securityhub: exact equivalents only (same verdict, resource for resource: same "
                    "resource scope, thresholds, treatment of absent configuration and granularity); "
                    "see_also: related checks/controls whose verdicts differ. An id is in one or the other."
                ),
                "properties": {
                    **xref,
                    "see_also": {"type": "object", "additionalProperties": False, "properties": xref},
                },
            },
            "compliance": {"type": "object", "additionalProperties": strs},
            "wire_test": {
                "enum": list(WIRE_TESTS),
                "description": "how the collector feeding this policy is tested: moto server or recorded responses",
            },
            "tests": {"type": "array", "items": test, "minItems": 2},
        },
        "$defs": {"condition": condition_schema()},
    }
