"""A fifth account seeded with traps and decoys, security / identity / monitoring / network side: Cognito
(MFA OPTIONAL, threat protection in audit mode, password policies, guest identities), WAFv2 (logging, empty
web ACLs, rule metrics), EventBridge bus policies, SSM parameters holding secrets, ACM key algorithms,
CloudWatch alarm actions, log group encryption and retention, API Gateway v2 routes and stages, AppSync
authentication and field logging, Secrets Manager keys, KMS rotation applicability, Network Firewall, and the
region-wide switches of AWS Config, GuardDuty and Security Hub (one scenario per account, moto reset between).

Same rule as ``test_traps_and_decoys.py``: each row of an ``EXPECTED`` table is one verdict as AWS means it
(the comment names the AWS meaning: the Security Hub control or the AWS documentation); a failing row is a
product bug, never a row to adjust. Rows moto cannot express are left out rather than faked:

* Network Firewall policy default actions (NetworkFirewall.4/5/...): moto has no DescribeFirewallPolicy.
* AWS Organizations SCP rows: one organization per account and no decoy AWS documents for the policies we have.
* A Secrets Manager rotation that last ran long ago: moto stamps LastRotatedDate with the current time.
* ``apigatewayv2_api_authorizers_enabled``: moto has no GetAuthorizers (the detail reads as an error).
* WebSocket routes other than ``$connect`` (API Gateway lets authorization be set on ``$connect`` only) are
  left out: APIGateway.8's Config rule still judges every route, so the two AWS meanings disagree.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from cspm_stream.testing import MotoServer
from tests.integration.test_traps_and_decoys_2 import _doc, _reset, _scan
from tests.unit.collect.certs import self_signed

pytestmark = pytest.mark.moto

REGION = "us-east-1"
ACCT = "123456789012"  # moto's account
OTHER = "210987654321"
ORG = "o-abc123def4"
PASS, FAIL = 1, 3
SERVICES = "cognito,wafv2,events,ssm,acm,cloudwatch,logs,apigatewayv2,appsync,secretsmanager,kms,networkfirewall"


# ------------------------------------------------------------------------------------------------ Cognito


def seed_cognito(m: MotoServer, ids: dict[str, str]) -> None:
    idp = m.boto3_client("cognito-idp", REGION)
    strong = {
        "MinimumLength": 14,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 7,
    }
    weak = {**strong, "MinimumLength": 8, "RequireSymbols": False, "TemporaryPasswordValidityDays": 30}
    pools: dict[str, dict[str, Any]] = {
        "tnd5-pool-mfa-on": {
            "Policies": {"PasswordPolicy": strong},
            "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"},
        },
        "tnd5-pool-mfa-optional": {
            "Policies": {"PasswordPolicy": strong},
            "UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"},
        },
        "tnd5-pool-mfa-off": {"Policies": {"PasswordPolicy": weak}},
    }
    for name, kw in pools.items():
        ids[name] = idp.create_user_pool(PoolName=name, **kw)["UserPool"]["Id"]
    for name, mfa in (("tnd5-pool-mfa-on", "ON"), ("tnd5-pool-mfa-optional", "OPTIONAL")):
        idp.set_user_pool_mfa_config(
            UserPoolId=ids[name], SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration=mfa
        )
    ci = m.boto3_client("cognito-identity", REGION)
    for name, guests in (("tnd5_idp_guests", True), ("tnd5_idp_no_guests", False)):
        ids[name] = ci.create_identity_pool(IdentityPoolName=name, AllowUnauthenticatedIdentities=guests)[
            "IdentityPoolId"
        ]


# -------------------------------------------------------------------------------------------------- WAFv2


def _visibility(name: str, on: bool = True) -> dict[str, Any]:
    return {"SampledRequestsEnabled": on, "CloudWatchMetricsEnabled": on, "MetricName": name}


def seed_wafv2(m: MotoServer, ids: dict[str, str]) -> None:
    waf = m.boto3_client("wafv2", REGION)
    managed = {
        "Name": "common",
        "Priority": 0,
        "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}},
        "OverrideAction": {"None": {}},
        "VisibilityConfig": _visibility("common"),
    }
    rate_dark = {
        "Name": "rate",
        "Priority": 1,
        "Statement": {"RateBasedStatement": {"Limit": 1000, "AggregateKeyType": "IP"}},
        "Action": {"Block": {}},
        "VisibilityConfig": _visibility("rate", on=False),
    }
    acls = {
        "tnd5-acl-managed-logged": [managed],
        "tnd5-acl-empty": [],  # default action Allow and no rule: inspects nothing
        "tnd5-acl-rate-no-metrics": [rate_dark],
    }
    arns = {}
    for name, rules in acls.items():
        summary = waf.create_web_acl(
            Name=name,
            Scope="REGIONAL",
            DefaultAction={"Allow": {}},
            Rules=rules,
            VisibilityConfig=_visibility(name.replace("-", "")),
        )["Summary"]
        ids[name] = f"{name}/{summary['Id']}"  # ARN ends webacl/<name>/<id>
        arns[name] = summary["ARN"]
    m.boto3_client("logs", REGION).create_log_group(logGroupName="aws-waf-logs-tnd5")
    waf.put_logging_configuration(
        LoggingConfiguration={
            "ResourceArn": arns["tnd5-acl-managed-logged"],
            "LogDestinationConfigs": [f"arn:aws:logs:{REGION}:{ACCT}:log-group:aws-waf-logs-tnd5"],
        }
    )


# ------------------------------------------------------------------------------------------- EventBridge


def seed_events(m: MotoServer, ids: dict[str, str]) -> None:
    ev = m.boto3_client("events", REGION)

    def put(principal: Any, condition: dict[str, Any] | None = None, bus: str = "") -> dict[str, Any]:
        st: dict[str, Any] = {
            "Sid": "tnd5",
            "Effect": "Allow",
            "Principal": principal,
            "Action": "events:PutEvents",
            "Resource": f"arn:aws:events:{REGION}:{ACCT}:event-bus/{bus}",
        }
        if condition:
            st["Condition"] = condition
        return st

    buses: dict[str, dict[str, Any] | None] = {
        "tnd5-bus-open": put("*"),
        "tnd5-bus-org": put("*", {"StringEquals": {"aws:PrincipalOrgID": ORG}}),
        # a wildcard organisation id: every principal of every organisation
        "tnd5-bus-org-wildcard": put("*", {"StringLike": {"aws:PrincipalOrgID": "o-*"}}),
        "tnd5-bus-other-account": put({"AWS": f"arn:aws:iam::{OTHER}:root"}),
        "tnd5-bus-own-account": put({"AWS": f"arn:aws:iam::{ACCT}:root"}),
        # Principal "*" pinned to this account by aws:PrincipalAccount: no outsider can put events
        "tnd5-bus-star-own-account": put("*", {"StringEquals": {"aws:PrincipalAccount": ACCT}}),
        "tnd5-bus-no-policy": None,
    }
    for name, st in buses.items():
        ev.create_event_bus(Name=name)
        ids[name] = name
        if st is not None:
            st["Resource"] = f"arn:aws:events:{REGION}:{ACCT}:event-bus/{name}"
            ev.put_permission(EventBusName=name, Policy=_doc(st))
    ids["default"] = "default"


# ---------------------------------------------------------------------------------------------------- SSM


def seed_ssm(m: MotoServer, ids: dict[str, str]) -> None:
    ssm = m.boto3_client("ssm", REGION)
    params = {
        "/tnd5/db/password": "String",
        "/tnd5/db-secure/password": "SecureString",
        "/tnd5/db/password_length": "String",  # a policy setting, not a secret
        "/tnd5/db/password_arn": "String",  # a pointer to the secret, not the secret
        "/tnd5/stripe/api-key": "String",  # an API key, hyphenated
        "/tnd5/tls/private-key": "String",  # a private key, hyphenated
    }
    for name, kind in params.items():
        ssm.put_parameter(Name=name, Value="not-a-real-value-0123456789", Type=kind)
        ids[name] = "parameter" + name


# ---------------------------------------------------------------------------------------------------- ACM


def _ec_cert(domain: str) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=300))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


def seed_acm(m: MotoServer, ids: dict[str, str]) -> None:
    acm = m.boto3_client("acm", REGION)
    certs = {
        "tnd5-cert-ecdsa-p256": _ec_cert("tnd5-ecdsa.example.com"),
        "tnd5-cert-rsa4096": self_signed("tnd5-rsa4096.example.com", key_size=4096, days=300),
        "tnd5-cert-rsa2048-29-days": self_signed("tnd5-29.example.com", key_size=2048, days=29),
    }
    for name, (pem, key) in certs.items():
        arn = acm.import_certificate(Certificate=pem, PrivateKey=key)["CertificateArn"]
        ids[name] = arn.rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------------- CloudWatch and Logs


def seed_monitoring(m: MotoServer, ids: dict[str, str]) -> None:
    cw, logs, kms = (m.boto3_client(s, REGION) for s in ("cloudwatch", "logs", "kms"))
    topic = m.boto3_client("sns", REGION).create_topic(Name="tnd5-oncall")["TopicArn"]
    common: dict[str, Any] = {
        "MetricName": "Errors",
        "Namespace": "tnd5",
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    }
    alarms: dict[str, dict[str, Any]] = {
        "tnd5-alarm-good": {"AlarmActions": [topic]},
        # an action for ALARM is configured, but alarm actions are deactivated
        "tnd5-alarm-actions-disabled": {"AlarmActions": [topic], "ActionsEnabled": False},
        # actions configured and enabled, but only for the OK state
        "tnd5-alarm-ok-only": {"OKActions": [topic]},
    }
    for name, kw in alarms.items():
        cw.put_metric_alarm(AlarmName=name, **common, **kw)
        ids[name] = name
    key = kms.create_key(Description="tnd5-logs")["KeyMetadata"]["Arn"]
    logs.create_log_group(logGroupName="tnd5-lg-cmk", kmsKeyId=key)
    logs.create_log_group(logGroupName="tnd5-lg-plain")
    for name, days in (("tnd5-lg-365-days", 365), ("tnd5-lg-180-days", 180), ("tnd5-lg-3653-days", 3653)):
        logs.create_log_group(logGroupName=name)
        logs.put_retention_policy(logGroupName=name, retentionInDays=days)
    for name in ("tnd5-lg-cmk", "tnd5-lg-plain", "tnd5-lg-365-days", "tnd5-lg-180-days", "tnd5-lg-3653-days"):
        ids[name] = name


# --------------------------------------------------------------------------------- API Gateway v2, AppSync


def seed_apigatewayv2(m: MotoServer, ids: dict[str, str]) -> None:
    api = m.boto3_client("apigatewayv2", REGION)
    pool = ids.get("tnd5-pool-mfa-on", "pool")

    def http(name: str, routes: dict[str, str], jwt: bool = False) -> str:
        aid: str = api.create_api(Name=name, ProtocolType="HTTP")["ApiId"]
        ids[name] = aid
        az = None
        if jwt:
            az = api.create_authorizer(
                ApiId=aid,
                Name="jwt",
                AuthorizerType="JWT",
                IdentitySource=["$request.header.Authorization"],
                JwtConfiguration={"Audience": ["tnd5"], "Issuer": f"https://cognito-idp.{REGION}.amazonaws.com/{pool}"},
            )["AuthorizerId"]
        for key, auth in routes.items():
            kw: dict[str, Any] = {"AuthorizerId": az} if auth == "JWT" else {}
            api.create_route(ApiId=aid, RouteKey=key, AuthorizationType=auth, **kw)
        return aid

    http("tnd5-http-jwt", {"GET /a": "JWT", "GET /b": "JWT"}, jwt=True)
    http("tnd5-http-iam", {"GET /a": "AWS_IAM", "ANY /{proxy+}": "AWS_IAM"})
    aid = http("tnd5-http-one-open", {"GET /a": "AWS_IAM", "GET /health": "NONE"})
    logs = m.boto3_client("logs", REGION)
    logs.create_log_group(logGroupName="tnd5-apigw-access")
    api.create_stage(
        ApiId=aid,
        StageName="tnd5-stage-logged",
        AccessLogSettings={
            "DestinationArn": f"arn:aws:logs:{REGION}:{ACCT}:log-group:tnd5-apigw-access",
            "Format": "$context.requestId $context.identity.sourceIp",
        },
    )
    api.create_stage(ApiId=aid, StageName="tnd5-stage-unlogged")
    ids["tnd5-stage-logged"] = "tnd5-stage-logged"
    ids["tnd5-stage-unlogged"] = "tnd5-stage-unlogged"


def seed_appsync(m: MotoServer, ids: dict[str, str]) -> None:
    gql = m.boto3_client("appsync", REGION)
    role = f"arn:aws:iam::{ACCT}:role/tnd5-appsync-logs"
    apis: dict[str, dict[str, Any]] = {
        "tnd5-gql-api-key": {"authenticationType": "API_KEY"},
        "tnd5-gql-iam-error-log": {
            "authenticationType": "AWS_IAM",
            "logConfig": {"fieldLogLevel": "ERROR", "cloudWatchLogsRoleArn": role},
        },
        "tnd5-gql-iam-no-log": {
            "authenticationType": "AWS_IAM",
            "logConfig": {"fieldLogLevel": "NONE", "cloudWatchLogsRoleArn": role},
        },
        "tnd5-gql-iam-info-log": {
            "authenticationType": "AWS_IAM",
            "logConfig": {"fieldLogLevel": "INFO", "cloudWatchLogsRoleArn": role},
        },
    }
    for name, kw in apis.items():
        ids[name] = gql.create_graphql_api(name=name, **kw)["graphqlApi"]["apiId"]


# ------------------------------------------------------------------------------- Secrets Manager and KMS


def seed_secrets_and_keys(m: MotoServer, ids: dict[str, str]) -> None:
    sm, kms = m.boto3_client("secretsmanager", REGION), m.boto3_client("kms", REGION)
    cmk = kms.create_key(Description="tnd5-secrets")["KeyMetadata"]["Arn"]
    for name, kw in (
        ("tnd5-secret-cmk", {"KmsKeyId": cmk}),
        # the AWS managed key named explicitly: still not a customer managed key
        ("tnd5-secret-aws-managed-key", {"KmsKeyId": "alias/aws/secretsmanager"}),
        ("tnd5-secret-default-key", {}),
    ):
        ids[name] = sm.create_secret(Name=name, SecretString="not-a-real-secret", **kw)["ARN"]

    def key(name: str, **kw: Any) -> str:
        kid: str = kms.create_key(Description=name, **kw)["KeyMetadata"]["KeyId"]
        ids[name] = kid
        return kid

    kms.enable_key_rotation(KeyId=key("tnd5-key-rotated"))
    key("tnd5-key-hmac", KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    key("tnd5-key-rsa", KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    kms.schedule_key_deletion(KeyId=key("tnd5-key-pending"), PendingWindowInDays=7)
    kms.disable_key(KeyId=key("tnd5-key-disabled"))


# ------------------------------------------------------------------------------------- Network Firewall


def seed_networkfirewall(m: MotoServer, ids: dict[str, str]) -> None:
    ec2, nfw = m.boto3_client("ec2", REGION), m.boto3_client("network-firewall", REGION)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subs = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    by_az: dict[str, str] = {}
    for s in subs:
        by_az.setdefault(s["AvailabilityZone"], s["SubnetId"])
    two = [{"SubnetId": by_az[az]} for az in sorted(by_az)[:2]]
    policy = f"arn:aws:network-firewall:{REGION}:{ACCT}:firewall-policy/tnd5"
    nfw.create_firewall(
        FirewallName="tnd5-fw-protected",
        FirewallPolicyArn=policy,
        VpcId=vpc,
        SubnetMappings=two,
        DeleteProtection=True,
        SubnetChangeProtection=True,
    )
    # both protections switched off explicitly (CreateFirewall may initialise them to true)
    nfw.create_firewall(
        FirewallName="tnd5-fw-unprotected",
        FirewallPolicyArn=policy,
        VpcId=vpc,
        SubnetMappings=two[:1],
        DeleteProtection=False,
        SubnetChangeProtection=False,
    )
    m.boto3_client("logs", REGION).create_log_group(logGroupName="tnd5-nfw-alerts")
    nfw.update_logging_configuration(
        FirewallName="tnd5-fw-protected",
        LoggingConfiguration={
            "LogDestinationConfigs": [
                {
                    "LogType": "ALERT",
                    "LogDestinationType": "CloudWatchLogs",
                    "LogDestination": {"logGroup": "tnd5-nfw-alerts"},
                }
            ]
        },
    )
    ids["tnd5-fw-protected"], ids["tnd5-fw-unprotected"] = "tnd5-fw-protected", "tnd5-fw-unprotected"


def seed(m: MotoServer) -> dict[str, str]:
    ids: dict[str, str] = {}
    for fn in (
        seed_cognito,
        seed_wafv2,
        seed_events,
        seed_ssm,
        seed_acm,
        seed_monitoring,
        seed_apigatewayv2,
        seed_appsync,
        seed_secrets_and_keys,
        seed_networkfirewall,
    ):
        fn(m, ids)
    return ids


SSM_SECRET = "ssm_parameter_secret_is_secure_string"
EXPECTED: list[tuple[str, str, int, str]] = [
    # --- Cognito user pools: MFA, threat protection, password policy (Cognito.1, Cognito.2, Cognito.3)
    ("cognito_user_pool_mfa_enabled", "tnd5-pool-mfa-on", PASS, "MfaConfiguration ON: every user must use MFA"),
    ("cognito_user_pool_mfa_enabled", "tnd5-pool-mfa-optional", FAIL, "OPTIONAL: users are not required to use MFA"),
    ("cognito_user_pool_mfa_enabled", "tnd5-pool-mfa-off", FAIL, "OFF"),
    ("cognito_user_pool_advanced_security_enabled", "tnd5-pool-mfa-on", PASS, "Cognito.1: ENFORCED"),
    ("cognito_user_pool_advanced_security_enabled", "tnd5-pool-mfa-optional", FAIL, "Cognito.1: AUDIT only observes"),
    ("cognito_user_pool_advanced_security_enabled", "tnd5-pool-mfa-off", FAIL, "Cognito.1: threat protection off"),
    ("cognito_user_pool_password_policy_strong", "tnd5-pool-mfa-on", PASS, "14 chars, all classes, 7 days"),
    ("cognito_user_pool_password_policy_strong", "tnd5-pool-mfa-off", FAIL, "no symbol, 30-day temporary password"),
    ("cognito_user_pool_password_policy_minimum_length_14", "tnd5-pool-mfa-on", PASS, "14 characters"),
    ("cognito_user_pool_password_policy_minimum_length_14", "tnd5-pool-mfa-off", FAIL, "8 characters"),
    ("cognito_user_pool_password_policy_symbol", "tnd5-pool-mfa-off", FAIL, "RequireSymbols false"),
    ("cognito_user_pool_temporary_password_expiration", "tnd5-pool-mfa-off", FAIL, "temporary password valid 30 days"),
    ("cognito_user_pool_temporary_password_expiration", "tnd5-pool-mfa-on", PASS, "7 days"),
    ("cognito_identity_pool_guest_access_disabled", "tnd5_idp_guests", FAIL, "Cognito.2: guest access on"),
    ("cognito_identity_pool_guest_access_disabled", "tnd5_idp_no_guests", PASS, "Cognito.2"),
    # --- WAFv2 web ACLs (WAF.10, WAF.11, WAF.12)
    ("wafv2_webacl_logging_enabled", "tnd5-acl-managed-logged", PASS, "WAF.11: logs to CloudWatch Logs"),
    ("wafv2_webacl_logging_enabled", "tnd5-acl-empty", FAIL, "WAF.11: no logging configuration"),
    ("wafv2_webacl_with_rules", "tnd5-acl-empty", FAIL, "WAF.10: no rule, default Allow inspects nothing"),
    ("wafv2_webacl_with_rules", "tnd5-acl-managed-logged", PASS, "WAF.10: one managed rule group"),
    ("wafv2_webacl_rule_logging_enabled", "tnd5-acl-rate-no-metrics", FAIL, "WAF.12: rule metrics off"),
    ("wafv2_webacl_rule_logging_enabled", "tnd5-acl-managed-logged", PASS, "WAF.12: metrics on"),
    ("wafv2_webacl_managed_rule_groups_enabled", "tnd5-acl-rate-no-metrics", FAIL, "no managed rule group"),
    ("wafv2_webacl_managed_rule_groups_enabled", "tnd5-acl-managed-logged", PASS, "AWSManagedRulesCommonRuleSet"),
    # --- EventBridge event bus resource policies
    ("eventbridge_bus_not_public", "tnd5-bus-open", FAIL, "Principal * without condition"),
    ("eventbridge_bus_not_public", "tnd5-bus-org", PASS, "aws:PrincipalOrgID one organisation"),
    ("eventbridge_bus_not_public", "tnd5-bus-org-wildcard", FAIL, "StringLike o-*: every organisation"),
    ("eventbridge_bus_not_public", "tnd5-bus-other-account", PASS, "one named account is not public"),
    ("eventbridge_bus_not_public", "tnd5-bus-star-own-account", PASS, "aws:PrincipalAccount is this account"),
    ("eventbridge_bus_cross_account_access", "tnd5-bus-other-account", FAIL, "another account may put events"),
    ("eventbridge_bus_cross_account_access", "tnd5-bus-own-account", PASS, "this account's root only"),
    ("eventbridge_bus_cross_account_access", "tnd5-bus-star-own-account", PASS, "Principal * pinned to this account"),
    ("eventbridge_bus_cross_account_access", "tnd5-bus-no-policy", PASS, "no resource policy"),
    ("eventbridge_custom_bus_resource_policy_attached", "tnd5-bus-own-account", PASS, "EventBridge.3"),
    ("eventbridge_custom_bus_resource_policy_attached", "tnd5-bus-no-policy", FAIL, "EventBridge.3: custom bus"),
    ("eventbridge_custom_bus_resource_policy_attached", "default", PASS, "EventBridge.3 judges custom buses only"),
    # --- SSM parameters: SecureString is for passwords, keys and other sensitive data (Parameter Store docs)
    (SSM_SECRET, "/tnd5/db/password", FAIL, "a password as plain String"),
    (SSM_SECRET, "/tnd5/db-secure/password", PASS, "SecureString"),
    (SSM_SECRET, "/tnd5/db/password_length", PASS, "a length setting, not a secret"),
    (SSM_SECRET, "/tnd5/db/password_arn", PASS, "a pointer to the secret"),
    (SSM_SECRET, "/tnd5/stripe/api-key", FAIL, "an API key, hyphenated"),
    (SSM_SECRET, "/tnd5/tls/private-key", FAIL, "a private key, hyphenated"),
    # --- ACM (ACM.1, ACM.2)
    ("acm_certificate_rsa_key_length", "tnd5-cert-ecdsa-p256", PASS, "ACM.2 judges RSA keys; ECDSA P-256 is N/A"),
    ("acm_certificate_rsa_key_length", "tnd5-cert-rsa4096", PASS, "RSA 4096"),
    ("acm_certificate_expires_within_30_days", "tnd5-cert-rsa2048-29-days", FAIL, "ACM.1: 29 days < 30"),
    ("acm_certificate_expires_within_30_days", "tnd5-cert-ecdsa-p256", PASS, "300 days"),
    # --- CloudWatch alarms (CloudWatch.15: an action for ALARM; CloudWatch.17: actions activated)
    ("cloudwatch_alarm_actions_enabled", "tnd5-alarm-good", PASS, "CloudWatch.17"),
    ("cloudwatch_alarm_actions_enabled", "tnd5-alarm-actions-disabled", FAIL, "CloudWatch.17: actions deactivated"),
    ("cloudwatch_alarm_actions_alarm_state_configured", "tnd5-alarm-good", PASS, "CloudWatch.15"),
    ("cloudwatch_alarm_actions_alarm_state_configured", "tnd5-alarm-ok-only", FAIL, "CloudWatch.15: OK action only"),
    ("cloudwatch_alarm_actions_alarm_state_configured", "tnd5-alarm-actions-disabled", PASS, "an ALARM action is set"),
    # --- CloudWatch Logs: KMS key, retention (CloudWatch.16: at least 365 days)
    ("cloudwatch_log_group_kms_encryption_enabled", "tnd5-lg-cmk", PASS, "a KMS key"),
    ("cloudwatch_log_group_kms_encryption_enabled", "tnd5-lg-plain", FAIL, "CloudWatch Logs' own encryption only"),
    ("cloudwatch_log_group_retention_policy_specific_days_enabled", "tnd5-lg-365-days", PASS, "365 = the minimum"),
    ("cloudwatch_log_group_retention_policy_specific_days_enabled", "tnd5-lg-3653-days", PASS, "ten years"),
    ("cloudwatch_log_group_retention_policy_specific_days_enabled", "tnd5-lg-180-days", FAIL, "180 < 365"),
    # --- API Gateway v2 (APIGateway.8: routes authorized; APIGateway.9: access logging on stages)
    ("apigatewayv2_route_authorization_type", "tnd5-http-jwt", PASS, "JWT on every route"),
    ("apigatewayv2_route_authorization_type", "tnd5-http-iam", PASS, "AWS_IAM on every route, no authorizer needed"),
    ("apigatewayv2_route_authorization_type", "tnd5-http-one-open", FAIL, "GET /health is NONE"),
    ("apigatewayv2_api_access_logging_enabled", "tnd5-stage-logged", PASS, "APIGateway.9"),
    ("apigatewayv2_api_access_logging_enabled", "tnd5-stage-unlogged", FAIL, "APIGateway.9"),
    # --- AppSync (AppSync.5: no API key; AppSync.2: field logging ERROR or ALL by default)
    ("appsync_graphql_api_no_api_key_authentication", "tnd5-gql-api-key", FAIL, "AppSync.5"),
    ("appsync_graphql_api_no_api_key_authentication", "tnd5-gql-iam-error-log", PASS, "AppSync.5: AWS_IAM"),
    ("appsync_field_level_logging_enabled", "tnd5-gql-iam-error-log", PASS, "AppSync.2: ERROR"),
    ("appsync_field_level_logging_enabled", "tnd5-gql-iam-no-log", FAIL, "AppSync.2: NONE"),
    ("appsync_field_level_logging_enabled", "tnd5-gql-iam-info-log", FAIL, "AppSync.2 passes ERROR or ALL only"),
    # --- Secrets Manager: customer managed key
    ("secretsmanager_cmk_encryption", "tnd5-secret-cmk", PASS, "a customer managed key"),
    ("secretsmanager_cmk_encryption", "tnd5-secret-aws-managed-key", FAIL, "alias/aws/secretsmanager is AWS managed"),
    ("secretsmanager_cmk_encryption", "tnd5-secret-default-key", FAIL, "aws/secretsmanager by default"),
    # --- KMS: what rotation applies to (KMS.4), what deletion means (KMS.3)
    ("kms_symmetric_cmk_rotation_enabled", "tnd5-key-rotated", PASS, "rotation on"),
    ("kms_symmetric_cmk_rotation_enabled", "tnd5-key-hmac", PASS, "HMAC keys cannot rotate automatically"),
    ("kms_symmetric_cmk_rotation_enabled", "tnd5-key-rsa", PASS, "asymmetric keys cannot rotate automatically"),
    ("kms_symmetric_cmk_rotation_enabled", "tnd5-key-pending", PASS, "pending deletion: N/A"),
    ("kms_symmetric_cmk_rotation_enabled", "tnd5-key-disabled", PASS, "disabled: N/A"),
    ("kms_cmk_not_pending_deletion", "tnd5-key-pending", FAIL, "KMS.3: scheduled for deletion"),
    ("kms_cmk_not_pending_deletion", "tnd5-key-disabled", PASS, "KMS.3: disabled is not deleted"),
    # --- Network Firewall (NetworkFirewall.1 multi-AZ, .2 logging, .9 deletion protection, .10 subnet change)
    ("networkfirewall_deletion_protection", "tnd5-fw-protected", PASS, "NetworkFirewall.9"),
    ("networkfirewall_deletion_protection", "tnd5-fw-unprotected", FAIL, "NetworkFirewall.9: off"),
    ("networkfirewall_logging_enabled", "tnd5-fw-protected", PASS, "NetworkFirewall.2: alert logs"),
    ("networkfirewall_logging_enabled", "tnd5-fw-unprotected", FAIL, "NetworkFirewall.2: no logging"),
    ("networkfirewall_multi_az", "tnd5-fw-protected", PASS, "NetworkFirewall.1: each subnet is in its own AZ"),
    ("networkfirewall_multi_az", "tnd5-fw-unprotected", FAIL, "NetworkFirewall.1: one AZ"),
    ("networkfirewall_subnet_change_protection", "tnd5-fw-protected", PASS, "NetworkFirewall.10"),
    ("networkfirewall_subnet_change_protection", "tnd5-fw-unprotected", FAIL, "NetworkFirewall.10"),
]


def _status(by_policy: dict[str, dict[str, int]], ids: dict[str, str], pid: str, name: str) -> int | None:
    """The verdict on the resource whose ARN ends with ``ids[name]`` after a ``/`` or ``:`` (or is it)."""
    token = ids.get(name, name)
    hits = [
        s
        for uid, s in by_policy.get(pid, {}).items()
        if uid == token or uid.endswith(("/" + token, ":" + token, ":" + token + ":*"))
    ]
    assert len(hits) <= 1, (pid, name, hits)
    return hits[0] if hits else None


def _check(by_policy: dict[str, dict[str, int]], ids: dict[str, str], rows: list[tuple[str, str, int, str]]) -> None:
    label = {PASS: "PASS", FAIL: "FAIL", None: "no finding"}
    wrong = [
        f"{pid} on {name}: expected {label[want]}, got {label.get(got, got)} ({why})"
        for pid, name, want, why in rows
        if (got := _status(by_policy, ids, pid, name)) != want
    ]
    assert not wrong, f"{len(wrong)} wrong verdicts of {len(rows)}:\n" + "\n".join(wrong)


@pytest.mark.timeout(300)
def test_traps_and_decoys_5(moto_server: MotoServer, tmp_path: Path) -> None:
    _reset(moto_server)
    ids = seed(moto_server)
    _check(_scan(moto_server, tmp_path / "findings.jsonl", SERVICES), ids, EXPECTED)


# ---------------------------------------------------------------- region-wide switches, one account each


def _config(m: MotoServer, *, all_supported: bool, start: bool) -> None:
    cfg = m.boto3_client("config", REGION)
    m.boto3_client("s3", REGION).create_bucket(Bucket="tnd5-config")
    group: dict[str, Any] = {"allSupported": all_supported, "includeGlobalResourceTypes": all_supported}
    if not all_supported:
        group["resourceTypes"] = ["AWS::EC2::Instance"]
    cfg.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
            "recordingGroup": group,
        }
    )
    cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "tnd5-config"})
    if start:
        cfg.start_configuration_recorder(ConfigurationRecorderName="default")


def _guardduty(m: MotoServer, *, enable: bool, s3: bool) -> None:
    status = "ENABLED" if s3 else "DISABLED"
    m.boto3_client("guardduty", REGION).create_detector(
        Enable=enable,
        DataSources={"S3Logs": {"Enable": s3}},
        Features=[{"Name": "S3_DATA_EVENTS", "Status": status}],
    )


def seed_switches_looking_on(m: MotoServer) -> None:
    """Everything exists, nothing runs: a recorder never started, a suspended detector, no Security Hub."""
    _config(m, all_supported=True, start=False)
    _guardduty(m, enable=False, s3=True)


def seed_switches_on(m: MotoServer) -> None:
    _config(m, all_supported=True, start=True)
    _guardduty(m, enable=True, s3=True)
    m.boto3_client("securityhub", REGION).enable_security_hub(EnableDefaultStandards=False)


def seed_switches_partial(m: MotoServer) -> None:
    """Running, but recording one resource type and with S3 Protection off."""
    _config(m, all_supported=False, start=True)
    _guardduty(m, enable=True, s3=False)


REGION_ROW = "region-settings"
SWITCH_SCENARIOS: dict[str, tuple[Any, list[tuple[str, int, str]]]] = {
    "looking-on": (
        seed_switches_looking_on,
        [
            ("config_recorder_enabled", FAIL, "Config.1: a recorder that was never started records nothing"),
            ("config_recorder_all_resources", PASS, "its recording group covers everything"),
            ("config_delivery_channel", PASS, "a delivery channel exists"),
            ("guardduty_enabled", FAIL, "GuardDuty.1: the detector is suspended (status DISABLED)"),
            ("guardduty_s3_protection_enabled", FAIL, "GuardDuty.10: no enabled detector to protect S3"),
            ("securityhub_enabled", FAIL, "Security Hub not enabled"),
        ],
    ),
    "on": (
        seed_switches_on,
        [
            ("config_recorder_enabled", PASS, "recording"),
            ("config_recorder_all_resources", PASS, "allSupported, global types included"),
            ("guardduty_enabled", PASS, "GuardDuty.1"),
            ("guardduty_s3_protection_enabled", PASS, "GuardDuty.10: S3_DATA_EVENTS enabled"),
            ("guardduty_detector_s3_protection", PASS, "S3 logs enabled"),
            ("securityhub_enabled", PASS, "DescribeHub answers"),
        ],
    ),
    "partial": (
        seed_switches_partial,
        [
            ("config_recorder_enabled", PASS, "recording"),
            ("config_recorder_all_resources", FAIL, "one resource type only"),
            ("guardduty_enabled", PASS, "GuardDuty.1: enabled"),
            ("guardduty_s3_protection_enabled", FAIL, "GuardDuty.10: S3_DATA_EVENTS disabled"),
            ("guardduty_detector_s3_protection", FAIL, "enabled detector without S3 logs"),
        ],
    ),
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("scenario", list(SWITCH_SCENARIOS))
def test_region_switches(moto_server: MotoServer, tmp_path: Path, scenario: str) -> None:
    _reset(moto_server)
    seed_fn, rows = SWITCH_SCENARIOS[scenario]
    seed_fn(moto_server)
    by_policy = _scan(moto_server, tmp_path / "findings.jsonl", "config,guardduty,securityhub")
    _check(by_policy, {}, [(pid, REGION_ROW, want, why) for pid, want, why in rows])
