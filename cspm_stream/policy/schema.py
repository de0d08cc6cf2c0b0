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

#: resource types of the inventory contract (shared_contracts.md)
KNOWN_RESOURCE_TYPES = frozenset(
    """
    aws.s3.bucket aws.s3.account aws.ec2.security_group aws.ec2.instance aws.ec2.volume aws.ec2.snapshot
    aws.ec2.image aws.ec2.vpc aws.ec2.network_acl aws.ec2.region aws.iam.user aws.iam.role aws.iam.group
    aws.iam.policy aws.iam.account aws.rds.instance aws.rds.cluster aws.rds.snapshot aws.kms.key
    aws.cloudtrail.trail aws.cloudtrail.region aws.logs.monitoring aws.config.region aws.guardduty.region
    aws.lambda.function aws.sns.topic aws.sqs.queue aws.secretsmanager.secret aws.ecr.repository
    aws.eks.cluster aws.elbv2.load_balancer aws.cloudfront.distribution aws.dynamodb.table
    aws.efs.file_system aws.organizations.account aws.accessanalyzer.region aws.securityhub.region
    aws.apigateway.rest_api aws.apigateway.domain_name aws.apigateway.stage aws.apigatewayv2.api aws.apigatewayv2.stage aws.elb.load_balancer
    aws.elasticache.cluster aws.elasticache.replication_group aws.redshift.cluster aws.opensearch.domain
    aws.acm.certificate aws.route53.hosted_zone aws.route53.domain aws.wafv2.web_acl aws.backup.vault
    aws.backup.plan aws.backup.region aws.backup.recovery_point aws.kinesis.stream aws.firehose.delivery_stream
    aws.glue.data_catalog aws.glue.connection aws.glue.job aws.glue.dev_endpoint aws.glue.ml_transform
    aws.glue.crawler aws.athena.workgroup aws.emr.cluster aws.emr.region aws.ecs.task_definition aws.ecs.cluster
    aws.ecs.service aws.ecs.task_set aws.autoscaling.group aws.autoscaling.launch_configuration
    aws.ec2.launch_template aws.cloudwatch.alarm aws.logs.log_group
    aws.waf.web_acl aws.waf.rule aws.waf.rule_group aws.wafregional.web_acl aws.wafregional.rule aws.wafregional.rule_group
    """.split()
)

#: framework ids of the contract
KNOWN_FRAMEWORKS = frozenset(
    "cis-aws-3.0.0 cis-aws-5.0.0 cis-aws-6.0.0 cis-aws-7.0.0 pci-dss-4.0 hipaa gdpr nist-800-53-rev5 soc2 iso-27001-2022 aws-fsbp".split()
)

#: remediation action names (shared_contracts.md), referenced by policies
KNOWN_ACTIONS = frozenset(
    {
        "s3_block_public_access",
        "s3_account_block_public_access",
        "s3_enable_default_encryption",
        "s3_enable_versioning",
        "s3_remove_public_acl_grants",
        "ec2_revoke_public_ingress",
        "ec2_enable_ebs_default_encryption",
        "ec2_remove_public_snapshot_sharing",
        "ec2_remove_public_ami_sharing",
        "ec2_require_imdsv2",
        "iam_deactivate_access_key",
        "iam_delete_login_profile",
        "iam_detach_admin_policy",
        "iam_set_password_policy",
        "rds_make_private",
        "rds_enable_deletion_protection",
        "rds_remove_public_snapshot_sharing",
        "kms_enable_rotation",
        "cloudtrail_start_logging",
        "cloudtrail_enable_log_validation",
        "guardduty_enable",
        "ecr_enable_scan_on_push",
        "sqs_enable_encryption",
    }
)


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
                    "action": {"enum": sorted(KNOWN_ACTIONS)},
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
