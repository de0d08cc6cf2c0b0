"""Amazon Bedrock (regional): model invocation logging, guardrails, custom models, agents and prompts.

``aws.bedrock.region`` (one per account and Region): ``LoggingConfig`` (GetModelInvocationLoggingConfiguration
``loggingConfig``: ``cloudWatchConfig.logGroupName``, ``s3Config.bucketName``, ``textDataDeliveryEnabled``...; null
when logging is off — the API answers an empty configuration).

``aws.bedrock.guardrail``: the ListGuardrails item (``id``, ``arn``, ``name``, ``status``, ``version``) plus
``Guardrail`` (GetGuardrail of the working draft: ``contentPolicy.filters`` with ``type``/``inputStrength``,
``sensitiveInformationPolicy`` — absent when none — with ``piiEntities``/``regexes`` and their
``action``/``outputAction``/``outputEnabled``, ``contextualGroundingPolicy.filters`` with
``type``/``threshold``/``action``/``enabled``; blocked-message texts dropped).

``aws.bedrock.custom_model``: the ListCustomModels item plus ``CustomModel`` (GetCustomModel: ``modelKmsKeyArn``,
``baseModelArn``, ``jobArn``; hyper-parameters dropped).

``aws.bedrock.agent`` (Agents for Amazon Bedrock): the ListAgents item plus ``Agent`` (GetAgent ``agent``:
``guardrailConfiguration.guardrailIdentifier``, ``customerEncryptionKeyArn``, ``agentResourceRoleArn``,
``idleSessionTTLInSeconds``; the instruction text dropped).

``aws.bedrock.prompt`` (Prompt management): the ListPrompts item plus ``Prompt`` (GetPrompt:
``customerEncryptionKeyArn``, ``version``; the prompt variants — templates — dropped).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Detail, ResourceSpec, key, region_arn, region_id


def _without(*names: str) -> Any:
    def extract(resp: dict[str, Any]) -> Any:
        return {k: v for k, v in resp.items() if k != "ResponseMetadata" and k not in names}

    return extract


def _agent(resp: dict[str, Any]) -> Any:
    agent = dict(resp.get("agent") or {})
    agent.pop("instruction", None)
    agent.pop("promptOverrideConfiguration", None)
    return agent


SPECS = [
    ResourceSpec(
        resource_type="aws.bedrock.region",
        service="bedrock",
        list_op=None,
        id=region_id,
        arn=region_arn("bedrock", "model-invocation-logging"),
        details=(
            Detail(
                "LoggingConfig",
                "get_model_invocation_logging_configuration",
                extract=lambda r: r.get("loggingConfig") or None,
            ),
        ),
    ),
    ResourceSpec(
        resource_type="aws.bedrock.guardrail",
        service="bedrock",
        list_op="list_guardrails",
        items="guardrails",
        id=key("id"),
        arn=key("arn"),
        details=(
            Detail(
                "Guardrail",
                "get_guardrail",
                lambda i: {"guardrailIdentifier": i["id"]},
                _without("blockedInputMessaging", "blockedOutputsMessaging"),
            ),
        ),
    ),
    ResourceSpec(
        resource_type="aws.bedrock.custom_model",
        service="bedrock",
        list_op="list_custom_models",
        items="modelSummaries",
        id=key("modelName"),
        arn=key("modelArn"),
        details=(
            Detail(
                "CustomModel",
                "get_custom_model",
                lambda i: {"modelIdentifier": i["modelArn"]},
                _without("hyperParameters", "trainingDataConfig", "validationDataConfig"),
            ),
        ),
    ),
    ResourceSpec(
        resource_type="aws.bedrock.agent",
        service="bedrock-agent",
        list_op="list_agents",
        items="agentSummaries",
        id=key("agentId"),
        arn=lambda item, scope: (
            f"arn:{scope.partition}:bedrock:{scope.region}:{scope.account_id}:agent/{item['agentId']}"
        ),
        details=(Detail("Agent", "get_agent", lambda i: {"agentId": i["agentId"]}, _agent),),
    ),
    ResourceSpec(
        resource_type="aws.bedrock.prompt",
        service="bedrock-agent",
        list_op="list_prompts",
        items="promptSummaries",
        id=key("id"),
        arn=key("arn"),
        details=(Detail("Prompt", "get_prompt", lambda i: {"promptIdentifier": i["id"]}, _without("variants")),),
    ),
]
