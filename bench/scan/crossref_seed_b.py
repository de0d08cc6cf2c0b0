"""Traps and decoys for the part-B exact equivalents moto serves (bench.scan.crossref): SageMaker, Bedrock,
CodeBuild, Cognito, Step Functions, EventBridge, MSK, Amazon MQ, DMS, FSx, Transfer Family, WorkSpaces,
Organizations, account contacts, Inspector, Macie and Systems Manager — each non-compliant resource beside a
compliant twin. Services moto does not serve (Network Firewall policies, MSK Connect, guardrails ...) are
exercised by the recorded wire tests instead."""

from __future__ import annotations

import json

from bench.scan.crossref_seed import Seeder

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/crossref-service"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0b1c2d3e4f5a60718"]


def _sagemaker(s: Seeder) -> None:
    sm = s.client("sagemaker")
    s.do(
        "sagemaker notebook locked",
        lambda: sm.create_notebook_instance(
            NotebookInstanceName="xr-locked",
            InstanceType="ml.t3.medium",
            RoleArn=ROLE,
            SubnetId=SUBNETS[0],
            SecurityGroupIds=["sg-0123456789abcdef0"],
            DirectInternetAccess="Disabled",
            RootAccess="Disabled",
            KmsKeyId=KEY,
        ),
    )
    s.do(
        "sagemaker notebook open",
        lambda: sm.create_notebook_instance(
            NotebookInstanceName="xr-open",
            InstanceType="ml.t3.medium",
            RoleArn=ROLE,
            RootAccess="Enabled",
            DirectInternetAccess="Enabled",
        ),
    )
    image = {"Image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/model:1"}
    s.do(
        "sagemaker model vpc",
        lambda: sm.create_model(
            ModelName="xr-vpc",
            ExecutionRoleArn=ROLE,
            PrimaryContainer=image,
            VpcConfig={"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": SUBNETS},
        ),
    )
    s.do(
        "sagemaker model public",
        lambda: sm.create_model(ModelName="xr-public", ExecutionRoleArn=ROLE, PrimaryContainer=image),
    )
    job = {
        "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": "s3://xr/out"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    }
    s.do(
        "sagemaker training hardened",
        lambda: sm.create_training_job(
            TrainingJobName="xr-hardened",
            ResourceConfig={
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 10,
                "VolumeKmsKeyId": KEY,
            },
            VpcConfig={"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": SUBNETS},
            EnableNetworkIsolation=True,
            EnableInterContainerTrafficEncryption=True,
            **job,
        ),
    )
    s.do(
        "sagemaker training plain",
        lambda: sm.create_training_job(
            TrainingJobName="xr-plain",
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            **job,
        ),
    )
    variant = {"VariantName": "v", "ModelName": "xr-vpc", "InstanceType": "ml.m5.large"}
    s.do(
        "sagemaker endpoint config ha",
        lambda: sm.create_endpoint_config(
            EndpointConfigName="xr-ha", ProductionVariants=[{**variant, "InitialInstanceCount": 2}], KmsKeyId=KEY
        ),
    )
    s.do(
        "sagemaker endpoint config single",
        lambda: sm.create_endpoint_config(
            EndpointConfigName="xr-single", ProductionVariants=[{**variant, "InitialInstanceCount": 1}]
        ),
    )
    s.do(
        "sagemaker domain",
        lambda: sm.create_domain(
            DomainName="xr-iam",
            AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": ROLE},
            SubnetIds=SUBNETS,
            VpcId="vpc-0123456789abcdef0",
        ),
    )
    s.do("sagemaker model package group", lambda: sm.create_model_package_group(ModelPackageGroupName="xr-churn"))


def _bedrock(s: Seeder) -> None:
    b = s.client("bedrock")
    s.do(
        "bedrock logging",
        lambda: b.put_model_invocation_logging_configuration(
            loggingConfig={"s3Config": {"bucketName": "xr-bedrock-logs"}, "textDataDeliveryEnabled": False}
        ),
    )
    agents = s.client("bedrock-agent")
    s.do(
        "bedrock agent",
        lambda: agents.create_agent(
            agentName="xr-agent", agentResourceRoleArn=ROLE, foundationModel="anthropic.claude"
        ),
    )


def _codebuild(s: Seeder) -> None:
    cb = s.client("codebuild")
    env = {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0", "computeType": "BUILD_GENERAL1_SMALL"}
    s.do(
        "codebuild tidy",
        lambda: cb.create_project(
            name="xr-tidy",
            source={"type": "GITHUB", "location": "https://github.com/example-org/api.git"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment=env,
            serviceRole=ROLE,
            logsConfig={
                "cloudWatchLogs": {"status": "ENABLED"},
                "s3Logs": {"status": "ENABLED", "location": "xr/logs", "encryptionDisabled": False},
            },
        ),
    )
    s.do("codebuild tidy build", lambda: cb.start_build(projectName="xr-tidy"))
    s.do(
        "codebuild risky",
        lambda: cb.create_project(
            name="xr-risky",
            source={
                "type": "BITBUCKET",
                "location": "https://ci:app-password@bitbucket.org/example/api.git",
                "buildspec": "buildspec.yml",
            },
            artifacts={"type": "NO_ARTIFACTS"},
            environment=env,
            serviceRole=ROLE,
            logsConfig={
                "cloudWatchLogs": {"status": "DISABLED"},
                "s3Logs": {"status": "ENABLED", "location": "xr/logs", "encryptionDisabled": True},
            },
        ),
    )


def _cognito(s: Seeder) -> None:
    idp = s.client("cognito-idp")
    strong = {
        "MinimumLength": 14,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 7,
    }

    def pools() -> None:
        good = idp.create_user_pool(
            PoolName="xr-strong",
            Policies={"PasswordPolicy": strong},
            DeletionProtection="ACTIVE",
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        )["UserPool"]["Id"]
        bad = idp.create_user_pool(
            PoolName="xr-weak",
            Policies={
                "PasswordPolicy": {
                    **strong,
                    "MinimumLength": 8,
                    "RequireSymbols": False,
                    "TemporaryPasswordValidityDays": 30,
                }
            },
        )["UserPool"]["Id"]
        idp.set_user_pool_mfa_config(
            UserPoolId=good, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
        )
        idp.create_user_pool_client(
            UserPoolId=good, ClientName="web", PreventUserExistenceErrors="ENABLED", EnableTokenRevocation=True
        )
        idp.create_user_pool_client(
            UserPoolId=bad, ClientName="legacy", PreventUserExistenceErrors="LEGACY", EnableTokenRevocation=False
        )

    s.do("cognito user pools", pools)
    ci = s.client("cognito-identity")
    s.do(
        "cognito identity pools",
        lambda: (
            ci.create_identity_pool(IdentityPoolName="xr_members", AllowUnauthenticatedIdentities=False),
            ci.create_identity_pool(IdentityPoolName="xr_guests", AllowUnauthenticatedIdentities=True),
        ),
    )


def _workflows(s: Seeder) -> None:
    sf = s.client("stepfunctions")
    definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/xr/states:*"
    s.do(
        "stepfunctions logged",
        lambda: sf.create_state_machine(
            name="xr-logged",
            definition=definition,
            roleArn=ROLE,
            loggingConfiguration={
                "level": "ERROR",
                "includeExecutionData": False,  # AWS always reports it; moto only echoes what it is given
                "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group}}],
            },
        ),
    )
    s.do(
        "stepfunctions silent",
        lambda: sf.create_state_machine(
            name="xr-silent",
            definition=definition,
            roleArn=ROLE,
            loggingConfiguration={"level": "OFF", "includeExecutionData": False},
        ),
    )


def _streaming(s: Seeder) -> None:
    k = s.client("kafka")
    s.do(
        "msk provisioned",
        lambda: k.create_cluster_v2(
            ClusterName="xr-msk",
            Provisioned={
                "BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large", "ClientSubnets": SUBNETS},
                "KafkaVersion": "3.6.0",
                "NumberOfBrokerNodes": 2,
            },
        ),
    )
    s.do(
        "msk serverless",
        lambda: k.create_cluster_v2(
            ClusterName="xr-msk-serverless", Serverless={"VpcConfigs": [{"SubnetIds": SUBNETS}]}
        ),
    )
    mq = s.client("mq")
    common = {
        "EngineVersion": "5.18",
        "HostInstanceType": "mq.m5.large",
        "EngineType": "ACTIVEMQ",
        "Users": [{"Username": "app", "Password": "crossref-password-1"}],
    }
    s.do(
        "mq hardened",
        lambda: mq.create_broker(
            BrokerName="xr-hardened",
            DeploymentMode="ACTIVE_STANDBY_MULTI_AZ",
            PubliclyAccessible=False,
            AutoMinorVersionUpgrade=True,
            Logs={"General": True, "Audit": True},
            **common,
        ),
    )
    s.do(
        "mq exposed",
        lambda: mq.create_broker(
            BrokerName="xr-exposed",
            DeploymentMode="SINGLE_INSTANCE",
            PubliclyAccessible=True,
            AutoMinorVersionUpgrade=False,
            Logs={"General": True, "Audit": False},
            **common,
        ),
    )


def _migration(s: Seeder) -> None:
    dms = s.client("dms")
    s.do(
        "dms instances",
        lambda: (
            dms.create_replication_instance(
                ReplicationInstanceIdentifier="xr-sturdy",
                ReplicationInstanceClass="dms.r5.large",
                MultiAZ=True,
                AutoMinorVersionUpgrade=True,
                PubliclyAccessible=False,
            ),
            dms.create_replication_instance(
                ReplicationInstanceIdentifier="xr-fragile",
                ReplicationInstanceClass="dms.r5.large",
                MultiAZ=False,
                AutoMinorVersionUpgrade=False,
                PubliclyAccessible=True,
            ),
        ),
    )
    conn = {"ServerName": "db.internal", "Port": 3306, "Username": "dms", "Password": "crossref-db-pass"}
    s.do(
        "dms endpoints",
        lambda: (
            dms.create_endpoint(
                EndpointIdentifier="xr-tls", EndpointType="source", EngineName="mysql", SslMode="verify-full", **conn
            ),
            dms.create_endpoint(
                EndpointIdentifier="xr-clear", EndpointType="target", EngineName="mysql", SslMode="none", **conn
            ),
        ),
    )
    fsx = s.client("fsx")
    s.do(
        "fsx lustre",
        lambda: (
            fsx.create_file_system(
                FileSystemType="LUSTRE",
                StorageCapacity=1200,
                SubnetIds=SUBNETS[:1],
                LustreConfiguration={"DeploymentType": "PERSISTENT_2", "CopyTagsToBackups": True},
            ),
            fsx.create_file_system(
                FileSystemType="LUSTRE",
                StorageCapacity=1200,
                SubnetIds=SUBNETS[:1],
                LustreConfiguration={"DeploymentType": "PERSISTENT_2", "CopyTagsToBackups": False},
            ),
        ),
    )
    tr = s.client("transfer")
    s.do(
        "transfer servers",
        lambda: (
            tr.create_server(
                Protocols=["SFTP"], EndpointType="VPC", SecurityPolicyName="TransferSecurityPolicy-FIPS-2025-03"
            ),
            tr.create_server(
                Protocols=["FTP"], EndpointType="PUBLIC", SecurityPolicyName="TransferSecurityPolicy-2024-01"
            ),
        ),
    )


def _management(s: Seeder) -> None:
    o = s.client("organizations")

    def org() -> None:
        o.create_organization(FeatureSet="ALL")
        root = o.list_roots()["Roots"][0]["Id"]
        deny = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "NotAction": ["iam:*"],
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
                }
            ],
        }
        p = o.create_policy(
            Name="xr-regions", Description="regions", Type="SERVICE_CONTROL_POLICY", Content=json.dumps(deny)
        )
        o.attach_policy(PolicyId=p["Policy"]["PolicySummary"]["Id"], TargetId=root)

    s.do("organization", org)
    s.do(
        "account security contact",
        lambda: s.client("account").put_alternate_contact(
            AlternateContactType="SECURITY",
            EmailAddress="soc@example.com",
            Name="SOC",
            PhoneNumber="+1-206-555-0101",
            Title="SOC",
        ),
    )
    s.do("inspector", lambda: s.client("inspector2").enable(accountIds=[ACCOUNT], resourceTypes=["EC2", "ECR"]))
    s.do("macie", lambda: s.client("macie2").enable_macie())
    ssm = s.client("ssm")
    doc = json.dumps(
        {
            "schemaVersion": "2.2",
            "description": "x",
            "mainSteps": [{"action": "aws:runShellScript", "name": "x", "inputs": {"runCommand": ["echo"]}}],
        }
    )

    def documents() -> None:
        for name in ("xr-private-doc", "xr-public-doc", "xr-partner-doc"):
            ssm.create_document(Content=doc, Name=name, DocumentType="Command")
        ssm.modify_document_permission(Name="xr-public-doc", PermissionType="Share", AccountIdsToAdd=["all"])
        ssm.modify_document_permission(Name="xr-partner-doc", PermissionType="Share", AccountIdsToAdd=["210987654321"])

    s.do("ssm documents", documents)


def seed_breadth_b(s: Seeder) -> None:
    for fn in (_sagemaker, _bedrock, _codebuild, _cognito, _workflows, _streaming, _migration, _management):
        fn(s)
