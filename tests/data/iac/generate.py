"""Write the recorded Terraform sessions in this folder (``python tests/data/iac/generate.py``).

A CI pipeline (GitHub Actions through OIDC, role ``gha-terraform-deploy``) runs Terraform
(terraform-provider-aws 5.x, aws-sdk-go-v2) on a small stack: a KMS key, a VPC with three
subnets, an internet gateway, a route table and a security group, an IAM role and instance
profile, an S3 bucket with versioning, encryption, Block Public Access and a TLS-only policy,
twelve SSM SecureString parameters, ten Secrets Manager secrets, an RDS PostgreSQL instance, an
EC2 instance and a Lambda function with its log group. The calls are the ones the provider
makes, in its order and with its timings: ``apply`` creates and reads back every resource,
``refresh`` (a ``terraform plan``) reads everything, decrypting parameters and secrets, and
``destroy`` refreshes then deletes everything (emptying the bucket, waiting for RDS).

Records are written as CloudTrail delivers them (eventVersion 1.09/1.10, management and S3
data events, ``NoSuch*`` errors for absent bucket sub-resources). The output is
deterministic: ids derive from the record's position.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ACCT = "123456789012"
REGION = "us-east-1"
ROLE = "gha-terraform-deploy"
SESSION = "GitHubActions"
RUNNER_IP = "198.51.100.200"
TF = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.67.0"
    " (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.5 ua/2.1 os/linux lang/go#1.22.6"
    " md/GOOS#linux md/GOARCH#amd64 api/{api}#1.{minor}.3"
)
HERE = Path(__file__).parent
KEY_ID = "5f0c3a7e-2b1d-4c6e-9a8f-0d1e2f3a4b5c"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCT}:key/{KEY_ID}"
BUCKET = "acme-app-artifacts-prod"
VPC = "vpc-0c1d2e3f4a5b6c7d8"
SUBNETS = ["subnet-01a2b3c4d5e6f7a81", "subnet-01a2b3c4d5e6f7a82", "subnet-01a2b3c4d5e6f7a83"]
SG = "sg-0d1e2f3a4b5c6d7e8"
IGW = "igw-0e1f2a3b4c5d6e7f8"
RTB = "rtb-0f1a2b3c4d5e6f7a8"
INSTANCE = "i-0a9b8c7d6e5f4a3b2"
DB = "app-db"
FUNCTION = "app-handler"
PARAMS = [
    f"/app/prod/{n}"
    for n in (
        "db_password",
        "api_key",
        "jwt_secret",
        "stripe_key",
        "sendgrid_key",
        "oauth_client_secret",
        "redis_password",
        "sentry_dsn",
        "slack_webhook",
        "github_token",
        "signing_key",
        "encryption_key",
    )
]
SECRETS = [
    f"app/prod/{n}"
    for n in ("db", "stripe", "sendgrid", "oauth", "redis", "sentry", "slack", "github", "signing", "backup")
]


def identity() -> dict[str, Any]:
    return {
        "type": "AssumedRole",
        "principalId": f"AROA2JXQH7EXAMPLEGHA:{SESSION}",
        "arn": f"arn:aws:sts::{ACCT}:assumed-role/{ROLE}/{SESSION}",
        "accountId": ACCT,
        "accessKeyId": "ASIA2JXQH7EXAMPLEGHA",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROA2JXQH7EXAMPLEGHA",
                "arn": f"arn:aws:iam::{ACCT}:role/{ROLE}",
                "accountId": ACCT,
                "userName": ROLE,
            },
            "webIdFederationData": {
                "federatedProvider": f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.githubusercontent.com",
                "attributes": {},
            },
            "attributes": {"creationDate": "2026-03-10T14:01:58Z", "mfaAuthenticated": "false"},
        },
    }


class Session:
    """Appends records with a running clock (Terraform's parallel walk, compressed to a sequence)."""

    def __init__(self, name: str, start: str) -> None:
        self.name = name
        self.t = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        self.records: list[dict[str, Any]] = []

    def tick(self, seconds: float) -> None:
        self.t += dt.timedelta(seconds=seconds)

    def call(
        self,
        source: str,
        name: str,
        rp: Any = None,
        re: Any = None,
        *,
        read: bool = False,
        error: str | None = None,
        data: bool = False,
        resources: list[dict[str, Any]] | None = None,
        step: float = 0.4,
    ) -> None:
        api = source.split(".")[0]
        n = len(self.records)
        seed = f"{self.name}/{n}/{name}"
        rec: dict[str, Any] = {
            "eventVersion": "1.10" if data else "1.09",
            "userIdentity": identity(),
            "eventTime": self.t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": source,
            "eventName": name,
            "awsRegion": REGION,
            "sourceIPAddress": RUNNER_IP,
            "userAgent": TF.format(api=api, minor=int(hashlib.md5(api.encode()).hexdigest()[:2], 16) % 60 + 20),
        }
        if error:
            rec["errorCode"] = error
            rec["errorMessage"] = _messages.get(error, "The specified resource does not exist")
        rec["requestParameters"] = rp
        rec["responseElements"] = None if (error or read) else re
        if data:
            rec["additionalEventData"] = {
                "SignatureVersion": "SigV4",
                "CipherSuite": "TLS_AES_128_GCM_SHA256",
                "bytesTransferredIn": 0,
                "AuthenticationMethod": "AuthHeader",
                "x-amz-id-2": hashlib.sha1(seed.encode()).hexdigest(),
                "bytesTransferredOut": 0,
            }
        rec["requestID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "req/" + seed))
        rec["eventID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "evt/" + seed))
        rec["readOnly"] = read
        if resources is not None:
            rec["resources"] = resources
        rec["eventType"] = "AwsApiCall"
        rec["managementEvent"] = not data
        rec["recipientAccountId"] = ACCT
        rec["eventCategory"] = "Data" if data else "Management"
        host = "s3.amazonaws.com" if api == "s3" else f"{api}.{REGION}.amazonaws.com"
        rec["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": host,
        }
        self.records.append(rec)
        self.tick(step)


_messages = {
    "NoSuchBucketPolicy": "The bucket policy does not exist",
    "NoSuchCORSConfiguration": "The CORS configuration does not exist",
    "NoSuchWebsiteConfiguration": "The specified bucket does not have a website configuration",
    "NoSuchLifecycleConfiguration": "The lifecycle configuration does not exist",
    "ReplicationConfigurationNotFoundError": "The replication configuration was not found",
    "ObjectLockConfigurationNotFoundError": "Object Lock configuration does not exist for this bucket",
    "NoSuchTagSet": "The TagSet does not exist",
    "ResourceNotFoundException": "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
}

S3 = "s3.amazonaws.com"
EC2 = "ec2.amazonaws.com"
IAM = "iam.amazonaws.com"
KMS = "kms.amazonaws.com"
SSM = "ssm.amazonaws.com"
SM = "secretsmanager.amazonaws.com"
RDS = "rds.amazonaws.com"
LAMBDA = "lambda.amazonaws.com"
LOGS = "logs.amazonaws.com"
STS = "sts.amazonaws.com"


def trust(service: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def b(**kw: Any) -> dict[str, Any]:
    return {"bucketName": BUCKET, "Host": f"{BUCKET}.s3.{REGION}.amazonaws.com", **kw}


def bucket_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "AppRead",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCT}:role/app-lambda"},
                "Action": ["s3:GetObject"],
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            },
        ],
    }


def key_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "key-default-1",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )


# ---------------------------------------------------------------------- reads (shared by apply, refresh, destroy)


def read_all(s: Session) -> None:
    s.call(STS, "GetCallerIdentity", None, read=True, step=1.1)
    s.call(KMS, "DescribeKey", {"keyId": KEY_ARN}, read=True)
    s.call(KMS, "GetKeyPolicy", {"keyId": KEY_ARN, "policyName": "default"}, read=True)
    s.call(KMS, "GetKeyRotationStatus", {"keyId": KEY_ARN}, read=True)
    s.call(KMS, "ListResourceTags", {"keyId": KEY_ARN}, read=True)
    s.call(KMS, "ListAliases", {"keyId": KEY_ARN}, read=True)
    s.call(EC2, "DescribeVpcs", {"vpcSet": {"items": [{"vpcId": VPC}]}, "filterSet": {}}, read=True)
    for attr in ("enableDnsSupport", "enableDnsHostnames"):
        s.call(EC2, "DescribeVpcAttribute", {"vpcId": VPC, "attribute": attr}, read=True)
    s.call(
        EC2, "DescribeSubnets", {"subnetSet": {"items": [{"subnetId": x} for x in SUBNETS]}, "filterSet": {}}, read=True
    )
    s.call(
        EC2,
        "DescribeInternetGateways",
        {"internetGatewayIdSet": {"items": [{"internetGatewayId": IGW}]}, "filterSet": {}},
        read=True,
    )
    s.call(
        EC2, "DescribeRouteTables", {"routeTableIdSet": {"items": [{"routeTableId": RTB}]}, "filterSet": {}}, read=True
    )
    s.call(
        EC2, "DescribeSecurityGroups", {"securityGroupIdSet": {"items": [{"groupId": SG}]}, "filterSet": {}}, read=True
    )
    s.call(
        EC2,
        "DescribeSecurityGroupRules",
        {"DescribeSecurityGroupRulesRequest": {"Filter": {"Name": "group-id", "Value": {"content": SG}}}},
        read=True,
    )
    for r in ("app-lambda", "app-ec2"):
        s.call(IAM, "GetRole", {"roleName": r}, read=True)
        s.call(IAM, "ListRolePolicies", {"roleName": r}, read=True)
        s.call(IAM, "ListAttachedRolePolicies", {"roleName": r}, read=True)
    s.call(IAM, "GetRolePolicy", {"roleName": "app-lambda", "policyName": "read-config"}, read=True)
    s.call(IAM, "GetInstanceProfile", {"instanceProfileName": "app-ec2"}, read=True)
    s.call(S3, "HeadBucket", b(), read=True)
    s.call(S3, "GetBucketPolicy", b(policy=""), read=True)
    s.call(S3, "GetBucketAcl", b(acl=""), read=True)
    s.call(S3, "GetBucketCors", b(cors=""), read=True, error="NoSuchCORSConfiguration")
    s.call(S3, "GetBucketWebsite", b(website=""), read=True, error="NoSuchWebsiteConfiguration")
    s.call(S3, "GetBucketVersioning", b(versioning=""), read=True)
    s.call(S3, "GetAccelerateConfiguration", b(accelerate=""), read=True)
    s.call(S3, "GetBucketRequestPayment", b(requestPayment=""), read=True)
    s.call(S3, "GetBucketLogging", b(logging=""), read=True)
    s.call(S3, "GetBucketLifecycle", b(lifecycle=""), read=True, error="NoSuchLifecycleConfiguration")
    s.call(S3, "GetBucketReplication", b(replication=""), read=True, error="ReplicationConfigurationNotFoundError")
    s.call(S3, "GetBucketEncryption", b(encryption=""), read=True)
    s.call(
        S3,
        "GetBucketObjectLockConfiguration",
        b(**{"object-lock": ""}),
        read=True,
        error="ObjectLockConfigurationNotFoundError",
    )
    s.call(S3, "GetBucketTagging", b(tagging=""), read=True)
    s.call(S3, "GetBucketPublicAccessBlock", b(publicAccessBlock=""), read=True)
    for name in PARAMS:  # aws_ssm_parameter reads SecureString values with decryption
        s.call(SSM, "GetParameter", {"name": name, "withDecryption": True}, read=True, step=0.15)
        s.call(SSM, "ListTagsForResource", {"resourceType": "Parameter", "resourceId": name}, read=True, step=0.1)
    for name in SECRETS:
        arn = f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:{name}-{hashlib.md5(name.encode()).hexdigest()[:6]}"
        s.call(SM, "DescribeSecret", {"secretId": arn}, read=True, step=0.15)
        s.call(SM, "GetResourcePolicy", {"secretId": arn}, read=True, step=0.1)
        s.call(SM, "GetSecretValue", {"secretId": arn, "versionStage": "AWSCURRENT"}, read=True, step=0.15)
    s.call(RDS, "DescribeDBSubnetGroups", {"dBSubnetGroupName": "app-db"}, read=True)
    s.call(RDS, "DescribeDBParameterGroups", {"dBParameterGroupName": "app-pg16"}, read=True)
    s.call(RDS, "DescribeDBParameters", {"dBParameterGroupName": "app-pg16", "source": "user"}, read=True)
    s.call(RDS, "DescribeDBInstances", {"dBInstanceIdentifier": DB}, read=True)
    s.call(RDS, "ListTagsForResource", {"resourceName": f"arn:aws:rds:{REGION}:{ACCT}:db:{DB}"}, read=True)
    s.call(
        EC2, "DescribeInstances", {"instancesSet": {"items": [{"instanceId": INSTANCE}]}, "filterSet": {}}, read=True
    )
    for attr in ("disableApiTermination", "instanceInitiatedShutdownBehavior", "userData", "disableApiStop"):
        s.call(EC2, "DescribeInstanceAttribute", {"instanceId": INSTANCE, "attribute": attr}, read=True)
    s.call(
        EC2,
        "DescribeInstanceCreditSpecifications",
        {"DescribeInstanceCreditSpecificationsRequest": {"InstanceId": {"content": INSTANCE, "tag": 1}}},
        read=True,
    )
    s.call(
        EC2,
        "DescribeVolumes",
        {
            "volumeSet": {},
            "filterSet": {"items": [{"name": "attachment.instance-id", "valueSet": {"items": [{"value": INSTANCE}]}}]},
        },
        read=True,
    )
    s.call(LAMBDA, "GetFunction20150331v2", {"functionName": FUNCTION}, read=True)
    s.call(
        LAMBDA,
        "ListVersionsByFunction20150331",
        {"functionName": f"arn:aws:lambda:{REGION}:{ACCT}:function:{FUNCTION}"},
        read=True,
    )
    s.call(LAMBDA, "GetFunctionCodeSigningConfig", {"functionName": FUNCTION}, read=True)
    s.call(LAMBDA, "GetPolicy20150331v2", {"functionName": FUNCTION}, read=True)
    s.call(LOGS, "DescribeLogGroups", {"logGroupNamePrefix": f"/aws/lambda/{FUNCTION}"}, read=True)
    s.call(LOGS, "ListTagsLogGroup", {"logGroupName": f"/aws/lambda/{FUNCTION}"}, read=True)


# ---------------------------------------------------------------------- apply


def apply() -> list[dict[str, Any]]:
    s = Session("apply", "2026-03-10T14:02:11Z")
    s.call(STS, "GetCallerIdentity", None, read=True, step=2.3)
    s.call(
        KMS,
        "CreateKey",
        {
            "policy": key_policy(),
            "description": "app data",
            "keyUsage": "ENCRYPT_DECRYPT",
            "keySpec": "SYMMETRIC_DEFAULT",
            "bypassPolicyLockoutSafetyCheck": False,
            "tags": [{"tagKey": "ManagedBy", "tagValue": "terraform"}],
        },
        {"keyMetadata": {"keyId": KEY_ID, "arn": KEY_ARN, "keyState": "Enabled", "keyManager": "CUSTOMER"}},
    )
    s.call(KMS, "DescribeKey", {"keyId": KEY_ID}, read=True)
    s.call(KMS, "EnableKeyRotation", {"keyId": KEY_ID})
    s.call(KMS, "CreateAlias", {"aliasName": "alias/app-data", "targetKeyId": KEY_ID})
    s.call(
        EC2,
        "CreateVpc",
        {
            "cidrBlock": "10.40.0.0/16",
            "instanceTenancy": "default",
            "amazonProvidedIpv6CidrBlock": False,
            "tagSpecificationSet": {"items": [{"resourceType": "vpc", "tags": [{"key": "Name", "value": "app"}]}]},
        },
        {"vpc": {"vpcId": VPC, "state": "pending", "cidrBlock": "10.40.0.0/16"}},
    )
    s.call(EC2, "ModifyVpcAttribute", {"vpcId": VPC, "enableDnsHostnames": {"value": True}})
    s.call(
        EC2,
        "CreateInternetGateway",
        {
            "tagSpecificationSet": {
                "items": [{"resourceType": "internet-gateway", "tags": [{"key": "Name", "value": "app"}]}]
            }
        },
        {"internetGateway": {"internetGatewayId": IGW}},
    )
    s.call(EC2, "AttachInternetGateway", {"internetGatewayId": IGW, "vpcId": VPC})
    for i, sub in enumerate(SUBNETS):
        s.call(
            EC2,
            "CreateSubnet",
            {"vpcId": VPC, "cidrBlock": f"10.40.{i}.0/24", "availabilityZone": f"{REGION}{'abc'[i]}"},
            {"subnet": {"subnetId": sub}},
        )
    s.call(EC2, "CreateRouteTable", {"vpcId": VPC}, {"routeTable": {"routeTableId": RTB}})
    s.call(EC2, "CreateRoute", {"routeTableId": RTB, "destinationCidrBlock": "0.0.0.0/0", "gatewayId": IGW})
    for i, sub in enumerate(SUBNETS):
        s.call(
            EC2,
            "AssociateRouteTable",
            {"routeTableId": RTB, "subnetId": sub},
            {"associationId": f"rtbassoc-0a1b2c3d4e5f6a7b{i}"},
        )
    s.call(
        EC2,
        "CreateSecurityGroup",
        {"groupName": "app", "groupDescription": "app tier", "vpcId": VPC},
        {"_return": True, "groupId": SG},
    )
    s.call(
        EC2,
        "RevokeSecurityGroupEgress",
        {
            "groupId": SG,
            "ipPermissions": {"items": [{"ipProtocol": "-1", "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]},
        },
    )
    s.call(
        EC2,
        "AuthorizeSecurityGroupEgress",
        {
            "groupId": SG,
            "ipPermissions": {
                "items": [
                    {
                        "ipProtocol": "tcp",
                        "fromPort": 443,
                        "toPort": 443,
                        "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                    }
                ]
            },
        },
    )
    s.call(
        EC2,
        "AuthorizeSecurityGroupIngress",
        {
            "groupId": SG,
            "ipPermissions": {
                "items": [
                    {
                        "ipProtocol": "tcp",
                        "fromPort": 5432,
                        "toPort": 5432,
                        "ipRanges": {"items": [{"cidrIp": "10.40.0.0/16"}]},
                    }
                ]
            },
        },
    )

    s.call(
        IAM,
        "CreateRole",
        {
            "roleName": "app-lambda",
            "assumeRolePolicyDocument": trust("lambda.amazonaws.com"),
            "maxSessionDuration": 3600,
        },
    )
    s.call(
        IAM,
        "AttachRolePolicy",
        {"roleName": "app-lambda", "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
    )
    s.call(
        IAM,
        "PutRolePolicy",
        {
            "roleName": "app-lambda",
            "policyName": "read-config",
            "policyDocument": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["ssm:GetParameter", "secretsmanager:GetSecretValue"],
                            "Resource": [f"arn:aws:ssm:{REGION}:{ACCT}:parameter/app/prod/*"],
                        }
                    ],
                }
            ),
        },
    )
    s.call(IAM, "CreateRole", {"roleName": "app-ec2", "assumeRolePolicyDocument": trust("ec2.amazonaws.com")})
    s.call(IAM, "CreateInstanceProfile", {"instanceProfileName": "app-ec2"})
    s.call(IAM, "AddRoleToInstanceProfile", {"instanceProfileName": "app-ec2", "roleName": "app-ec2"})
    s.call(S3, "CreateBucket", b(CreateBucketConfiguration=None), resources=None)
    s.call(
        S3, "PutBucketTagging", b(tagging="", Tagging={"TagSet": {"Tag": {"Key": "ManagedBy", "Value": "terraform"}}})
    )
    s.call(S3, "PutBucketVersioning", b(versioning="", VersioningConfiguration={"Status": "Enabled"}))
    s.call(
        S3,
        "PutBucketEncryption",
        b(
            encryption="",
            ServerSideEncryptionConfiguration={
                "Rule": {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN},
                    "BucketKeyEnabled": True,
                }
            },
        ),
    )
    s.call(
        S3,
        "PutBucketPublicAccessBlock",
        b(
            publicAccessBlock="",
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        ),
    )
    s.call(S3, "PutBucketPolicy", b(policy="", bucketPolicy=bucket_policy()))
    s.call(
        S3,
        "PutObject",
        b(
            key="lambda/app-handler.zip",
            **{"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": KEY_ARN},
        ),
        data=True,
        resources=[
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{BUCKET}/lambda/app-handler.zip"},
            {"accountId": ACCT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{BUCKET}"},
        ],
    )
    for name in PARAMS:
        s.call(
            SSM,
            "PutParameter",
            {
                "name": name,
                "type": "SecureString",
                "value": "HIDDEN_DUE_TO_SECURITY_REASONS",
                "keyId": "alias/app-data",
                "overwrite": False,
                "tier": "Standard",
                "dataType": "text",
            },
            {"version": 1, "tier": "Standard"},
            step=0.2,
        )
        s.call(
            SSM,
            "AddTagsToResource",
            {"resourceType": "Parameter", "resourceId": name, "tags": [{"key": "ManagedBy", "value": "terraform"}]},
            step=0.1,
        )
        s.call(SSM, "GetParameter", {"name": name, "withDecryption": True}, read=True, step=0.2)
    for name in SECRETS:
        arn = f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:{name}-{hashlib.md5(name.encode()).hexdigest()[:6]}"
        s.call(
            SM,
            "CreateSecret",
            {
                "name": name,
                "kmsKeyId": KEY_ARN,
                "description": "",
                "forceOverwriteReplicaSecret": False,
                "clientRequestToken": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
            },
            {"aRN": arn, "name": name},
            step=0.2,
        )
        s.call(
            SM,
            "PutSecretValue",
            {
                "secretId": arn,
                "secretString": "HIDDEN_DUE_TO_SECURITY_REASONS",
                "clientRequestToken": str(uuid.uuid5(uuid.NAMESPACE_URL, name + "/v1")),
            },
            {"arn": arn, "versionStages": ["AWSCURRENT"]},
            step=0.2,
        )
        s.call(SM, "DescribeSecret", {"secretId": arn}, read=True, step=0.1)
        s.call(SM, "GetSecretValue", {"secretId": arn, "versionStage": "AWSCURRENT"}, read=True, step=0.1)
    s.call(
        RDS,
        "CreateDBSubnetGroup",
        {"dBSubnetGroupName": "app-db", "dBSubnetGroupDescription": "Managed by Terraform", "subnetIds": SUBNETS},
    )
    s.call(
        RDS,
        "CreateDBParameterGroup",
        {
            "dBParameterGroupName": "app-pg16",
            "dBParameterGroupFamily": "postgres16",
            "description": "Managed by Terraform",
        },
    )
    s.call(
        RDS,
        "ModifyDBParameterGroup",
        {
            "dBParameterGroupName": "app-pg16",
            "parameters": [
                {"parameterName": "rds.force_ssl", "parameterValue": "1", "applyMethod": "immediate"},
                {"parameterName": "log_connections", "parameterValue": "1", "applyMethod": "immediate"},
            ],
        },
    )
    s.call(
        RDS,
        "CreateDBInstance",
        {
            "dBInstanceIdentifier": DB,
            "dBInstanceClass": "db.t4g.medium",
            "engine": "postgres",
            "engineVersion": "16.3",
            "allocatedStorage": 50,
            "masterUsername": "app",
            "masterUserPassword": "****",
            "dBSubnetGroupName": "app-db",
            "dBParameterGroupName": "app-pg16",
            "vpcSecurityGroupIds": [SG],
            "publiclyAccessible": False,
            "storageEncrypted": True,
            "kmsKeyId": KEY_ARN,
            "backupRetentionPeriod": 7,
            "deletionProtection": False,
            "copyTagsToSnapshot": True,
            "multiAZ": False,
        },
        {
            "dBInstanceIdentifier": DB,
            "dBInstanceStatus": "creating",
            "publiclyAccessible": False,
            "storageEncrypted": True,
            "dBInstanceArn": f"arn:aws:rds:{REGION}:{ACCT}:db:{DB}",
        },
    )
    s.call(
        EC2,
        "RunInstances",
        {
            "instancesSet": {"items": [{"imageId": "ami-0f3c7d07486cad139", "minCount": 1, "maxCount": 1}]},
            "userData": "<sensitiveDataRemoved>",
            "instanceType": "t3.small",
            "blockDeviceMapping": {},
            "monitoring": {"enabled": False},
            "subnetId": SUBNETS[0],
            "disableApiTermination": False,
            "disableApiStop": False,
            "clientToken": "terraform-20260310140240123400000001",
            "iamInstanceProfile": {"name": "app-ec2"},
            "groupSet": {"items": [{"groupId": SG}]},
        },
        {
            "reservationId": "r-0a1b2c3d4e5f6a7b8",
            "ownerId": ACCT,
            "instancesSet": {"items": [{"instanceId": INSTANCE, "instanceType": "t3.small"}]},
        },
    )
    s.call(LOGS, "CreateLogGroup", {"logGroupName": f"/aws/lambda/{FUNCTION}", "kmsKeyId": KEY_ARN})
    s.call(LOGS, "PutRetentionPolicy", {"logGroupName": f"/aws/lambda/{FUNCTION}", "retentionInDays": 30})
    s.call(
        LAMBDA,
        "CreateFunction20150331",
        {
            "functionName": FUNCTION,
            "runtime": "python3.12",
            "role": f"arn:aws:iam::{ACCT}:role/app-lambda",
            "handler": "app.handler",
            "code": {"s3Bucket": BUCKET, "s3Key": "lambda/app-handler.zip"},
            "timeout": 30,
            "memorySize": 256,
            "publish": False,
            "vpcConfig": {"subnetIds": SUBNETS, "securityGroupIds": [SG]},
            "environment": {"variables": {"PARAM_PREFIX": "/app/prod/"}},
        },
        {
            "functionName": FUNCTION,
            "functionArn": f"arn:aws:lambda:{REGION}:{ACCT}:function:{FUNCTION}",
            "state": "Pending",
        },
    )
    s.call(
        LAMBDA,
        "AddPermission20150331v2",
        {
            "functionName": FUNCTION,
            "statementId": "AllowS3",
            "action": "lambda:InvokeFunction",
            "principal": "s3.amazonaws.com",
            "sourceArn": f"arn:aws:s3:::{BUCKET}",
            "sourceAccount": ACCT,
        },
    )
    for _ in range(14):  # waiters: RDS available after ~7 minutes, instance running, function active
        s.call(RDS, "DescribeDBInstances", {"dBInstanceIdentifier": DB}, read=True, step=15)
        s.call(
            EC2,
            "DescribeInstances",
            {"instancesSet": {"items": [{"instanceId": INSTANCE}]}, "filterSet": {}},
            read=True,
            step=15,
        )
    s.call(LAMBDA, "GetFunction20150331v2", {"functionName": FUNCTION}, read=True)
    read_all(s)
    return s.records


def refresh() -> list[dict[str, Any]]:
    s = Session("refresh", "2026-03-11T09:15:03Z")
    read_all(s)
    return s.records


def destroy() -> list[dict[str, Any]]:
    s = Session("destroy", "2026-03-12T17:40:20Z")
    read_all(s)
    s.call(LAMBDA, "RemovePermission20150331v2", {"functionName": FUNCTION, "statementId": "AllowS3"})
    s.call(LAMBDA, "DeleteFunction20150331", {"functionName": FUNCTION})
    s.call(LOGS, "DeleteLogGroup", {"logGroupName": f"/aws/lambda/{FUNCTION}"})
    for name in PARAMS:
        s.call(SSM, "DeleteParameter", {"name": name}, step=0.2)
    for name in SECRETS:
        arn = f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:{name}-{hashlib.md5(name.encode()).hexdigest()[:6]}"
        s.call(SM, "DeleteSecret", {"secretId": arn, "recoveryWindowInDays": 30}, {"arn": arn, "name": name}, step=0.2)
    s.call(EC2, "TerminateInstances", {"instancesSet": {"items": [{"instanceId": INSTANCE}]}})
    s.call(
        RDS, "DeleteDBInstance", {"dBInstanceIdentifier": DB, "skipFinalSnapshot": True, "deleteAutomatedBackups": True}
    )
    s.call(S3, "DeleteBucketPolicy", b(policy=""))
    s.call(S3, "DeleteBucketPublicAccessBlock", b(publicAccessBlock=""))
    s.call(S3, "DeleteBucketEncryption", b(encryption=""))
    s.call(S3, "ListObjectVersions", b(versions="", **{"encoding-type": "url"}), read=True)
    for _ in range(2):  # force_destroy empties the versioned bucket
        s.call(
            S3,
            "DeleteObjects",
            b(delete=""),
            data=True,
            resources=[
                {"type": "AWS::S3::Object", "ARNPrefix": f"arn:aws:s3:::{BUCKET}/"},
                {"accountId": ACCT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{BUCKET}"},
            ],
        )
    s.call(S3, "DeleteBucket", b())
    s.call(
        IAM,
        "DetachRolePolicy",
        {"roleName": "app-lambda", "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
    )
    s.call(IAM, "DeleteRolePolicy", {"roleName": "app-lambda", "policyName": "read-config"})
    s.call(IAM, "DeleteRole", {"roleName": "app-lambda"})
    for _ in range(6):
        s.call(
            EC2,
            "DescribeInstances",
            {"instancesSet": {"items": [{"instanceId": INSTANCE}]}, "filterSet": {}},
            read=True,
            step=10,
        )
    s.call(IAM, "RemoveRoleFromInstanceProfile", {"instanceProfileName": "app-ec2", "roleName": "app-ec2"})
    s.call(IAM, "DeleteInstanceProfile", {"instanceProfileName": "app-ec2"})
    s.call(IAM, "DeleteRole", {"roleName": "app-ec2"})
    for _ in range(16):
        s.call(RDS, "DescribeDBInstances", {"dBInstanceIdentifier": DB}, read=True, step=20)
    s.call(RDS, "DescribeDBInstances", {"dBInstanceIdentifier": DB}, read=True, error="DBInstanceNotFound")
    s.call(RDS, "DeleteDBSubnetGroup", {"dBSubnetGroupName": "app-db"})
    s.call(RDS, "DeleteDBParameterGroup", {"dBParameterGroupName": "app-pg16"})
    s.call(
        EC2,
        "RevokeSecurityGroupIngress",
        {
            "groupId": SG,
            "ipPermissions": {
                "items": [
                    {
                        "ipProtocol": "tcp",
                        "fromPort": 5432,
                        "toPort": 5432,
                        "ipRanges": {"items": [{"cidrIp": "10.40.0.0/16"}]},
                    }
                ]
            },
        },
    )
    s.call(EC2, "DeleteSecurityGroup", {"groupId": SG})
    for i in range(3):
        s.call(EC2, "DisassociateRouteTable", {"associationId": f"rtbassoc-0a1b2c3d4e5f6a7b{i}"})
    s.call(EC2, "DeleteRouteTable", {"routeTableId": RTB})
    for sub in SUBNETS:
        s.call(EC2, "DeleteSubnet", {"subnetId": sub})
    s.call(EC2, "DetachInternetGateway", {"internetGatewayId": IGW, "vpcId": VPC})
    s.call(EC2, "DeleteInternetGateway", {"internetGatewayId": IGW})
    s.call(EC2, "DeleteVpc", {"vpcId": VPC})
    s.call(KMS, "DeleteAlias", {"aliasName": "alias/app-data"})
    s.call(
        KMS,
        "ScheduleKeyDeletion",
        {"keyId": KEY_ARN, "pendingWindowInDays": 30},
        {
            "keyId": KEY_ARN,
            "keyState": "PendingDeletion",
            "pendingWindowInDays": 30,
            "deletionDate": "Apr 11, 2026, 5:52:00 PM",
        },
    )
    return s.records


def write(name: str, records: list[dict[str, Any]]) -> None:
    with (HERE / f"terraform_{name}.jsonl").open("w") as out:
        for rec in records:
            out.write(json.dumps(rec, separators=(",", ":")) + "\n")


def sessions() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    yield "apply", apply()
    yield "refresh", refresh()
    yield "destroy", destroy()


if __name__ == "__main__":
    for name, records in sessions():
        write(name, records)
        print(f"terraform_{name}.jsonl: {len(records)} records")
