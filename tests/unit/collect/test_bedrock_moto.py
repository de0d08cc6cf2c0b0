"""Amazon Bedrock on the wire: moto for invocation logging (on in one Region, off in the other), custom models and
agents; recorded responses for guardrails and managed prompts (moto serves neither)."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/bedrock"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    b = moto_server.boto3_client("bedrock")
    b.put_model_invocation_logging_configuration(
        loggingConfig={"s3Config": {"bucketName": "bedrock-logs"}, "textDataDeliveryEnabled": True}
    )
    agents = moto_server.boto3_client("bedrock-agent")
    agents.create_agent(
        agentName="keyed", agentResourceRoleArn=ROLE, foundationModel="anthropic.claude", customerEncryptionKeyArn=KEY
    )
    agents.create_agent(agentName="unkeyed", agentResourceRoleArn=ROLE, foundationModel="anthropic.claude")
    return collect_moto(moto_server, ["bedrock"], regions=("us-east-1", "eu-west-1"))


def test_logging_per_region(estate: Estate) -> None:
    v = estate.verdicts(
        ["bedrock_model_invocation_logging_enabled", "bedrock_model_invocation_logging_text_data_enabled"]
    )
    assert v[("bedrock_model_invocation_logging_enabled", "us-east-1")] == "pass"
    assert v[("bedrock_model_invocation_logging_enabled", "eu-west-1")] == "fail"
    assert v[("bedrock_model_invocation_logging_text_data_enabled", "us-east-1")] == "pass"
    assert v[("bedrock_model_invocation_logging_text_data_enabled", "eu-west-1")] == "pass"  # logging off: out of scope


def test_agents(estate: Estate) -> None:
    names = {
        s.attributes["agentName"]: s.resource_id for s in estate.by_type["aws.bedrock.agent"] if s.region == "us-east-1"
    }
    assert set(names) == {"keyed", "unkeyed"}
    keyed = estate.one("aws.bedrock.agent", names["keyed"])
    assert keyed.arn == f"arn:aws:bedrock:us-east-1:{ACCOUNT_ID}:agent/{names['keyed']}"
    v = estate.verdicts(["bedrock_agent_encrypted_with_cmk", "bedrock_agent_guardrail_enabled"])
    assert (
        v[("bedrock_agent_encrypted_with_cmk", names["keyed"])],
        v[("bedrock_agent_encrypted_with_cmk", names["unkeyed"])],
    ) == (
        "pass",
        "fail",
    )
    assert v[("bedrock_agent_guardrail_enabled", names["unkeyed"])] == "fail"


def test_guardrails_unserved_by_moto_are_errors(estate: Estate) -> None:
    assert ("aws.bedrock.guardrail", "*") in estate.errors()
    assert not [s for s in estate.by_type.get("aws.bedrock.guardrail", []) if s.resource_id != "*"]


def test_recorded_guardrails() -> None:
    e, aws = collect_fixture("bedrock", "bedrock")
    assert aws.unanswered == []
    strict = e.one("aws.bedrock.guardrail", "gr1strict00")
    assert "blockedInputMessaging" not in strict.attributes["Guardrail"]
    pols = {
        "bedrock_guardrail_prompt_attack_filter_enabled": ("pass", "fail"),
        "bedrock_guardrail_sensitive_information_filter_enabled": ("pass", "fail"),
        "bedrock_guardrail_sensitive_information_filter_enforced": ("pass", "pass"),  # loose has no PII filters
        "bedrock_guardrail_contextual_grounding_filter_enabled": ("pass", "fail"),
    }
    v = e.verdicts(list(pols))
    assert {p: (v[(p, "gr1strict00")], v[(p, "gr2loose000")]) for p in pols} == pols
    v = e.verdicts(["bedrock_model_invocation_logging_text_data_enabled"])
    assert v[("bedrock_model_invocation_logging_text_data_enabled", "us-east-1")] == "fail"  # logging without text


def test_recorded_prompts() -> None:
    e, aws = collect_fixture("bedrock", "bedrock", resource_types=["aws.bedrock.prompt"])
    assert aws.unanswered == []
    assert "variants" not in e.one("aws.bedrock.prompt", "PRMT000001").attributes["Prompt"]
    v = e.verdicts(["bedrock_prompt_encrypted_with_cmk"])
    assert (
        v[("bedrock_prompt_encrypted_with_cmk", "PRMT000001")],
        v[("bedrock_prompt_encrypted_with_cmk", "PRMT000002")],
    ) == (
        "pass",
        "fail",
    )
