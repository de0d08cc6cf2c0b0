"""The privilege-escalation methods the analysis knows, as data.

Three families (after Rhino Security Labs' catalogue and Bishop Fox's grouping):

* **modify** — the actor rewrites the permissions of a principal it controls (itself, or
  one it can become): :data:`MODIFY_METHODS`;
* **gain** — the actor obtains another principal's credentials or runs code as it:
  :data:`GAIN_METHODS`, and iam:PassRole with new compute (:data:`PASSROLE_METHODS`);
* **existing compute** — the actor changes code or configuration that already runs as a
  role (:data:`COMPUTE_METHODS`).

Each method is named by a stable id (used in findings and ``cspm-stream paths --format json``)
and a one-line description.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PassRoleMethod:
    """iam:PassRole of a role to new compute, then running it.

    ``service``: the service principal the role must trust (and ``iam:PassedToService``);
    ``create``: every action needed to create the compute; ``run``: alternatives (any one,
    each all of its actions) that make it run now (empty: it runs when created)."""

    id: str
    service: str
    create: tuple[str, ...]
    run: tuple[tuple[str, ...], ...] = ()
    needs_instance_profile: bool = False
    description: str = ""


PASSROLE_METHODS: tuple[PassRoleMethod, ...] = (
    PassRoleMethod(
        "passrole-lambda",
        "lambda.amazonaws.com",
        ("lambda:CreateFunction",),
        (
            ("lambda:InvokeFunction",),
            ("lambda:CreateEventSourceMapping",),
            ("lambda:CreateFunctionUrlConfig", "lambda:InvokeFunctionUrl"),
        ),
        description="pass the role to a new Lambda function, then invoke it (or attach an event source or a function URL)",
    ),
    PassRoleMethod(
        "passrole-ec2",
        "ec2.amazonaws.com",
        ("ec2:RunInstances",),
        needs_instance_profile=True,
        description="launch an EC2 instance with an instance profile holding the role (user data runs at boot)",
    ),
    PassRoleMethod(
        "passrole-glue-dev-endpoint",
        "glue.amazonaws.com",
        ("glue:CreateDevEndpoint",),
        description="create a Glue development endpoint with the role and log in to it",
    ),
    PassRoleMethod(
        "passrole-glue-job",
        "glue.amazonaws.com",
        ("glue:CreateJob",),
        (("glue:StartJobRun",), ("glue:CreateTrigger",)),
        description="create a Glue job with the role, then start it (or schedule it with a trigger)",
    ),
    PassRoleMethod(
        "passrole-cloudformation",
        "cloudformation.amazonaws.com",
        ("cloudformation:CreateStack",),
        description="create a CloudFormation stack with the role as its service role",
    ),
    PassRoleMethod(
        "passrole-cloudformation-changeset",
        "cloudformation.amazonaws.com",
        ("cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"),
        description="create and execute a CloudFormation change set with the role as its service role",
    ),
    PassRoleMethod(
        "passrole-datapipeline",
        "datapipeline.amazonaws.com",
        ("datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"),
        (("datapipeline:ActivatePipeline",),),
        description="create a Data Pipeline with the role, define a shell command activity and activate it",
    ),
    PassRoleMethod(
        "passrole-sagemaker-notebook",
        "sagemaker.amazonaws.com",
        ("sagemaker:CreateNotebookInstance",),
        (("sagemaker:CreatePresignedNotebookInstanceUrl",),),
        description="create a SageMaker notebook instance with the role and open it through a presigned URL",
    ),
    PassRoleMethod(
        "passrole-sagemaker-training-job",
        "sagemaker.amazonaws.com",
        ("sagemaker:CreateTrainingJob",),
        description="run a SageMaker training job (the attacker's container) with the role",
    ),
    PassRoleMethod(
        "passrole-sagemaker-processing-job",
        "sagemaker.amazonaws.com",
        ("sagemaker:CreateProcessingJob",),
        description="run a SageMaker processing job (the attacker's container) with the role",
    ),
    PassRoleMethod(
        "passrole-codebuild",
        "codebuild.amazonaws.com",
        ("codebuild:CreateProject",),
        (("codebuild:StartBuild",), ("codebuild:StartBuildBatch",)),
        description="create a CodeBuild project with the role as its service role, then start a build",
    ),
    PassRoleMethod(
        "passrole-ecs",
        "ecs-tasks.amazonaws.com",
        ("ecs:RegisterTaskDefinition",),
        (("ecs:RunTask",), ("ecs:StartTask",), ("ecs:CreateService",)),
        description="register an ECS task definition with the role as its task role, then run it",
    ),
)

#: gaining another principal directly: id -> description
GAIN_METHODS: dict[str, str] = {
    "assume-role": "sts:AssumeRole: the role's trust policy allows the principal and its own policies allow the call",
    "update-assume-role-policy": "rewrite the role's trust policy (iam:UpdateAssumeRolePolicy), then assume it",
    "create-access-key": "create an access key for another user (iam:CreateAccessKey)",
    "create-login-profile": "give another user a console password (iam:CreateLoginProfile)",
    "update-login-profile": "reset another user's console password (iam:UpdateLoginProfile)",
}

#: existing compute that runs as a role: id -> (compute kind, actions (any one), description)
COMPUTE_METHODS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "update-lambda-code": (
        "lambda-function",
        ("lambda:UpdateFunctionCode",),
        "replace the code of an existing Lambda function that runs as the role",
    ),
    "update-lambda-configuration": (
        "lambda-function",
        ("lambda:UpdateFunctionConfiguration",),
        "change an existing Lambda function's configuration (a layer, the handler) to run the actor's code as the role",
    ),
    "update-glue-dev-endpoint": (
        "glue-dev-endpoint",
        ("glue:UpdateDevEndpoint",),
        "add the actor's SSH key to an existing Glue development endpoint that runs as the role",
    ),
}

#: rewriting a principal's permissions: id -> description
MODIFY_METHODS: dict[str, str] = {
    "put-user-policy": "write an inline Allow * on * into the user (iam:PutUserPolicy)",
    "attach-user-policy": "attach an administrator policy to the user (iam:AttachUserPolicy)",
    "put-group-policy": "write an inline Allow * on * into a group of the user (iam:PutGroupPolicy)",
    "attach-group-policy": "attach an administrator policy to a group of the user (iam:AttachGroupPolicy)",
    "add-user-to-group": "add the user to a group whose policies allow * on * (iam:AddUserToGroup)",
    "put-role-policy": "write an inline Allow * on * into the role (iam:PutRolePolicy)",
    "attach-role-policy": "attach an administrator policy to the role (iam:AttachRolePolicy)",
    "create-policy-version": "write a new default version of a customer managed policy attached to the principal (iam:CreatePolicyVersion)",
    "set-default-policy-version": "make an older version allowing * on * the default of a policy attached to the principal (iam:SetDefaultPolicyVersion)",
}

ALL_METHOD_IDS: tuple[str, ...] = (
    *MODIFY_METHODS,
    *GAIN_METHODS,
    *(m.id for m in PASSROLE_METHODS),
    *COMPUTE_METHODS,
)


def description(method_id: str) -> str:
    """The one-line description of a method id."""
    for table in (MODIFY_METHODS, GAIN_METHODS):
        if method_id in table:
            return table[method_id]
    if method_id in COMPUTE_METHODS:
        return COMPUTE_METHODS[method_id][2]
    for m in PASSROLE_METHODS:
        if m.id == method_id:
            return m.description
    return method_id
