"""Amazon Cognito on the wire: moto for user pools, app clients (no client secret kept) and identity pools, each
beside a twin; recorded responses for threat-protection risk configurations and WAF associations (moto does not serve
DescribeRiskConfiguration, which must then ERROR the policies reading it)."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

STRONG = {
    "MinimumLength": 14,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 7,
}


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> tuple[Estate, dict[str, str]]:
    reset(moto_server)
    idp = moto_server.boto3_client("cognito-idp")
    strong = idp.create_user_pool(
        PoolName="strong",
        Policies={"PasswordPolicy": STRONG},
        DeletionProtection="ACTIVE",
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        UserPoolTags={"team": "identity"},
    )["UserPool"]["Id"]
    weak = idp.create_user_pool(
        PoolName="weak",
        Policies={"PasswordPolicy": {**STRONG, "MinimumLength": 8, "RequireSymbols": False}},
        DeletionProtection="INACTIVE",
    )["UserPool"]["Id"]
    idp.set_user_pool_mfa_config(
        UserPoolId=strong, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
    )
    idp.set_user_pool_mfa_config(
        UserPoolId=weak, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
    )
    good = idp.create_user_pool_client(
        UserPoolId=strong,
        ClientName="web",
        GenerateSecret=True,
        PreventUserExistenceErrors="ENABLED",
        EnableTokenRevocation=True,
    )["UserPoolClient"]
    bad = idp.create_user_pool_client(
        UserPoolId=weak, ClientName="legacy", PreventUserExistenceErrors="LEGACY", EnableTokenRevocation=False
    )["UserPoolClient"]
    ci = moto_server.boto3_client("cognito-identity")
    closed = ci.create_identity_pool(IdentityPoolName="members", AllowUnauthenticatedIdentities=False)["IdentityPoolId"]
    guests = ci.create_identity_pool(IdentityPoolName="guests", AllowUnauthenticatedIdentities=True)["IdentityPoolId"]
    ids = {
        "strong": strong,
        "weak": weak,
        "good_client": f"{strong}/{good['ClientId']}",
        "bad_client": f"{weak}/{bad['ClientId']}",
        "secret": good["ClientSecret"],
        "closed": closed,
        "guests": guests,
    }
    return collect_moto(moto_server, ["cognito"]), ids


def test_snapshots(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    pool = e.one("aws.cognito.user_pool", ids["strong"])
    assert pool.arn == f"arn:aws:cognito-idp:us-east-1:{ACCOUNT_ID}:userpool/{ids['strong']}"
    assert pool.tags == {"team": "identity"}
    assert pool.attributes["WebAcl"] is None  # no web ACL associated
    assert ids["secret"] not in repr(e.snaps)  # the app client secret is never kept
    assert e.one("aws.cognito.user_pool_client", ids["good_client"]).attributes["Client"]["ClientName"] == "web"


def test_verdicts_beside_their_twins(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    pairs = {
        "cognito_user_pool_mfa_enabled": ("strong", "weak"),
        "cognito_user_pool_deletion_protection_enabled": ("strong", "weak"),
        "cognito_user_pool_password_policy_minimum_length_14": ("strong", "weak"),
        "cognito_user_pool_password_policy_symbol": ("strong", "weak"),
        "cognito_user_pool_self_registration_disabled": ("strong", "weak"),
        "cognito_user_pool_client_prevent_user_existence_errors": ("good_client", "bad_client"),
        "cognito_user_pool_client_token_revocation_enabled": ("good_client", "bad_client"),
        "cognito_identity_pool_guest_access_disabled": ("closed", "guests"),
    }
    v = e.verdicts(list(pairs))
    got = {p: (v[(p, ids[a])], v[(p, ids[b])]) for p, (a, b) in pairs.items()}
    assert got == {p: ("pass", "fail") for p in pairs}
    v = e.verdicts(["cognito_user_pool_waf_acl_attached", "cognito_user_pool_password_policy_strong"])
    assert v[("cognito_user_pool_waf_acl_attached", ids["strong"])] == "fail"
    assert (
        v[("cognito_user_pool_password_policy_strong", ids["strong"])],
        v[("cognito_user_pool_password_policy_strong", ids["weak"])],
    ) == (
        "pass",
        "fail",
    )


def test_risk_configuration_unserved_is_an_error(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    assert ("aws.cognito.user_pool", "RiskConfiguration") in e.errors()
    v = e.verdicts(["cognito_user_pool_blocks_compromised_credentials_sign_in_attempts"])
    assert v[("cognito_user_pool_blocks_compromised_credentials_sign_in_attempts", ids["strong"])] == "error"


def test_recorded_threat_protection_and_waf() -> None:
    e, aws = collect_fixture("cognito", "cognito", resource_types=["aws.cognito.user_pool"])
    assert aws.unanswered == []
    pols = [
        "cognito_user_pool_advanced_security_enabled",
        "cognito_user_pool_blocks_compromised_credentials_sign_in_attempts",
        "cognito_user_pool_blocks_potential_malicious_sign_in_attempts",
        "cognito_user_pool_waf_acl_attached",
        "cognito_user_pool_account_recovery_sms_not_preferred",
        "cognito_user_pool_mfa_enabled",
    ]
    v = e.verdicts(pols)
    got = {p: (v[(p, "us-east-1_Guarded01")], v[(p, "us-east-1_Audited01")]) for p in pols}
    assert got == {p: ("pass", "fail") for p in pols}
