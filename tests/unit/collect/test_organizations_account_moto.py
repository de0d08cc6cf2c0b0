"""AWS Organizations and account contacts on the wire: moto for an organization (SCPs, tag and AI opt-out policies,
delegated administrators) and for a standalone account; recorded responses for the primary contact (moto does not
serve GetContactInformation) — phone numbers and addresses are never kept."""

from __future__ import annotations

import json

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

ORG_POLICIES = [
    "organizations_account_part_of_organizations",
    "organizations_delegated_administrators",
    "organizations_opt_out_ai_services_policy",
    "organizations_tags_policies_enabled_and_attached",
    "organizations_scp_check_deny_regions",
    "organizations_scp_beyond_full_access_attached",
]


@pytest.fixture(scope="module")
def organization(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    o = moto_server.boto3_client("organizations")
    o.create_organization(FeatureSet="ALL")
    root = o.list_roots()["Roots"][0]["Id"]
    deny = {
        "Version": "2012-10-17",
        "Statement": {  # a single statement object, not a list
            "Effect": "Deny",
            "NotAction": ["iam:*", "sts:*"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
        },
    }
    scp = o.create_policy(
        Name="deny-regions", Description="regions", Type="SERVICE_CONTROL_POLICY", Content=json.dumps(deny)
    )
    o.attach_policy(PolicyId=scp["Policy"]["PolicySummary"]["Id"], TargetId=root)
    opt_out = {
        "services": {
            "default": {"opt_out_policy": {"@@assign": "optOut", "@@operators_allowed_for_child_policies": ["@@none"]}}
        }
    }
    o.create_policy(Name="ai-opt-out", Description="ai", Type="AISERVICES_OPT_OUT_POLICY", Content=json.dumps(opt_out))
    member = o.create_account(Email="tools@example.com", AccountName="tools")["CreateAccountStatus"]["AccountId"]
    o.register_delegated_administrator(AccountId=member, ServicePrincipal="guardduty.amazonaws.com")
    return collect_moto(moto_server, ["organizations"])


def test_organization(organization: Estate) -> None:
    org = organization.one("aws.organizations.organization", ACCOUNT_ID)
    assert org.arn == f"arn:aws:organizations::{ACCOUNT_ID}:organization-settings"
    deny = next(p for p in org.attributes["Policies"]["SERVICE_CONTROL_POLICY"] if p["Name"] == "deny-regions")
    assert isinstance(deny["Content"]["Statement"], list)
    assert "MasterAccountEmail" not in org.attributes["Organization"]
    v = organization.verdicts(ORG_POLICIES)
    got = {p: v[(p, ACCOUNT_ID)] for p in ORG_POLICIES}
    assert got == {
        "organizations_account_part_of_organizations": "pass",
        "organizations_delegated_administrators": "fail",
        "organizations_opt_out_ai_services_policy": "pass",  # attached or not: Prowler reads the policy text
        "organizations_tags_policies_enabled_and_attached": "fail",
        "organizations_scp_check_deny_regions": "pass",
        "organizations_scp_beyond_full_access_attached": "pass",
    }


def test_standalone_account(moto_server: MotoServer, organization: Estate) -> None:
    reset(moto_server)
    e = collect_moto(moto_server, ["organizations"])
    alone = e.one("aws.organizations.organization", ACCOUNT_ID)
    assert alone.errors == [] and alone.attributes == {
        "Organization": None,
        "Policies": None,
        "DelegatedAdministrators": None,
    }
    v = e.verdicts(ORG_POLICIES)
    got = {p: v[(p, ACCOUNT_ID)] for p in ORG_POLICIES}
    assert got == {
        "organizations_account_part_of_organizations": "fail",
        "organizations_delegated_administrators": "pass",
        "organizations_opt_out_ai_services_policy": "fail",
        "organizations_tags_policies_enabled_and_attached": "fail",
        "organizations_scp_check_deny_regions": "fail",
        "organizations_scp_beyond_full_access_attached": "pass",
    }


def test_alternate_contacts_on_moto(moto_server: MotoServer) -> None:
    reset(moto_server)
    moto_server.boto3_client("account").put_alternate_contact(
        AlternateContactType="SECURITY",
        EmailAddress="soc@example.com",
        Name="SOC",
        PhoneNumber="+1-206-555-0101",
        Title="SOC",
    )
    e = collect_moto(moto_server, ["account"])
    c = e.one("aws.account.contacts", ACCOUNT_ID)
    assert c.attributes["SecurityContact"] == {
        "Name": "SOC",
        "Title": "SOC",
        "EmailAddress": "soc@example.com",
        "HasPhoneNumber": True,
    }
    assert c.attributes["BillingContact"] is None  # not registered: null, not an error
    v = e.verdicts(["account_security_contact_registered", "account_billing_contact_registered"])
    assert (
        v[("account_security_contact_registered", ACCOUNT_ID)],
        v[("account_billing_contact_registered", ACCOUNT_ID)],
    ) == ("pass", "fail")
    # moto does not serve GetContactInformation: the primary contact and the comparison are errors, never passes
    assert ("aws.account.contacts", "PrimaryContact") in e.errors()
    p = "account_maintain_different_contact_details_to_security_billing_and_operations"
    assert e.verdicts([p])[(p, ACCOUNT_ID)] == "error"


def test_recorded_contacts() -> None:
    e, aws = collect_fixture("account", "account")
    assert aws.unanswered == []
    c = e.one("aws.account.contacts", ACCOUNT_ID)
    assert "+1-206" not in repr(c) and "Example Way" not in repr(c)
    # the missing operations contact counts as one more (empty) value, as Prowler counts it: all distinct
    assert c.attributes["Distinct"] == {"Names": 4, "PhoneNumbers": 4, "EmailAddresses": 3}
    v = e.verdicts(
        [
            "account_maintain_different_contact_details_to_security_billing_and_operations",
            "account_operations_contact_registered",
            "account_security_contact_registered",
        ]
    )
    assert v[("account_maintain_different_contact_details_to_security_billing_and_operations", ACCOUNT_ID)] == "pass"
    assert v[("account_operations_contact_registered", ACCOUNT_ID)] == "fail"
    assert v[("account_security_contact_registered", ACCOUNT_ID)] == "pass"
