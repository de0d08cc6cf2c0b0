"""A third account seeded with traps and decoys, for services the first two rounds leave out: load balancers
(listener actions, TLS policies, attributes), CloudFront (per-behaviour viewer policy, origin access), API
Gateway (authorization per method, stage logging, resource policies), ECS task definitions, EKS endpoints and
control-plane logs, ECR repositories, Redshift, OpenSearch, Auto Scaling launch configurations, Step Functions,
Kinesis, SSM documents, Route 53 query logging, and the CIS metric-filter alarms.

Same rule as ``test_traps_and_decoys.py``: each row of an ``EXPECTED`` table is one verdict as AWS means it
(the comment names the AWS meaning); a failing row is a product bug, never a row to adjust. Rows moto cannot
express are left out rather than faked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from cspm_stream.testing import MotoServer
from tests.integration.test_traps_and_decoys_2 import _doc, _reset, _scan
from tests.unit.collect.certs import self_signed

pytestmark = pytest.mark.moto

REGION = "us-east-1"
ACCT = "123456789012"  # moto's account
PASS, FAIL = 1, 3
SERVICES = (
    "elbv2,elb,cloudfront,apigateway,ecs,eks,ecr,redshift,opensearch,acm,autoscaling,stepfunctions,kinesis,ssm,"
    "route53,logs"
)


def _subnets(ec2: Any) -> tuple[str, list[str]]:
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subs = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    by_az: dict[str, str] = {}
    for s in subs:
        by_az.setdefault(s["AvailabilityZone"], s["SubnetId"])
    return vpc, [by_az[az] for az in sorted(by_az)]


# ------------------------------------------------------------------------------------------ load balancers


def seed_elbv2(m: MotoServer, ids: dict[str, str]) -> None:
    ec2, elb = m.boto3_client("ec2", REGION), m.boto3_client("elbv2", REGION)
    vpc, subs = _subnets(ec2)
    cert = m.boto3_client("acm", REGION).request_certificate(DomainName="tnd3.example.com")["CertificateArn"]
    tg = elb.create_target_group(Name="tnd3-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    tcp_tg = elb.create_target_group(Name="tnd3-tg-tcp", Protocol="TCP", Port=443, VpcId=vpc)["TargetGroups"][0]
    forward = [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]

    def redirect(protocol: str) -> list[dict[str, Any]]:
        return [{"Type": "redirect", "RedirectConfig": {"Protocol": protocol, "Port": "443", "StatusCode": "HTTP_301"}}]

    def lb(name: str, kind: str = "application", n_subnets: int = 2, scheme: str = "internet-facing") -> str:
        arn = elb.create_load_balancer(Name=name, Subnets=subs[:n_subnets], Type=kind, Scheme=scheme)
        ids[name] = name
        return arn["LoadBalancers"][0]["LoadBalancerArn"]

    def listen(arn: str, proto: str, port: int, actions: list[dict[str, Any]], policy: str | None = None) -> None:
        kw: dict[str, Any] = {}
        if policy:
            kw = {"SslPolicy": policy, "Certificates": [{"CertificateArn": cert}]}
        elb.create_listener(LoadBalancerArn=arn, Protocol=proto, Port=port, DefaultActions=actions, **kw)

    arn = lb("tnd3-alb-redirect")  # HTTP redirected to HTTPS, HTTPS on a TLS 1.3 policy
    listen(arn, "HTTP", 80, redirect("HTTPS"))
    listen(arn, "HTTPS", 443, forward, "ELBSecurityPolicy-TLS13-1-2-2021-06")
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=arn,
        Attributes=[
            {"Key": "deletion_protection.enabled", "Value": "true"},
            {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": "tnd3-elb-logs"},
        ],
    )
    # a redirect that keeps the request's protocol: HTTP stays HTTP (only the port changes)
    listen(lb("tnd3-alb-redirect-keep-proto"), "HTTP", 80, redirect("#{protocol}"))
    listen(lb("tnd3-alb-http-forward"), "HTTP", 80, forward)
    # HTTP forward on a second listener beside a redirecting one
    arn = lb("tnd3-alb-one-of-two-http")
    listen(arn, "HTTP", 80, redirect("HTTPS"))
    listen(arn, "HTTP", 8080, forward)
    listen(lb("tnd3-alb-https-2016"), "HTTPS", 443, forward, "ELBSecurityPolicy-2016-08")
    listen(lb("tnd3-alb-https-fs-1-2"), "HTTPS", 443, forward, "ELBSecurityPolicy-FS-1-2-Res-2020-10")
    tcp_fwd = [{"Type": "forward", "TargetGroupArn": tcp_tg["TargetGroupArn"]}]
    listen(lb("tnd3-nlb-tcp", "network", 1), "TCP", 443, tcp_fwd)
    listen(lb("tnd3-nlb-tls-old", "network", 2, "internal"), "TLS", 443, tcp_fwd, "ELBSecurityPolicy-TLS-1-1-2017-01")
    listen(lb("tnd3-nlb-tls13", "network", 2), "TLS", 443, tcp_fwd, "ELBSecurityPolicy-TLS13-1-2-2021-06")


def seed_elb(m: MotoServer, ids: dict[str, str]) -> None:
    elb = m.boto3_client("elb", REGION)
    cert = f"arn:aws:iam::{ACCT}:server-certificate/tnd3"
    zones = [f"{REGION}a", f"{REGION}b"]
    listeners = {
        "tnd3-clb-http": [{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        "tnd3-clb-https-and-http": [
            {"Protocol": "HTTPS", "LoadBalancerPort": 443, "InstancePort": 80, "SSLCertificateId": cert},
            {"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80},
        ],
        "tnd3-clb-ssl-only": [
            {"Protocol": "SSL", "LoadBalancerPort": 443, "InstancePort": 443, "SSLCertificateId": cert}
        ],
    }
    pem, key = self_signed("tnd3.example.com")
    m.boto3_client("iam", REGION).upload_server_certificate(
        ServerCertificateName="tnd3", CertificateBody=pem.decode(), PrivateKey=key.decode()
    )
    for name, ls in listeners.items():
        elb.create_load_balancer(LoadBalancerName=name, Listeners=ls, AvailabilityZones=zones)
        ids[name] = name
    elb.create_load_balancer(
        LoadBalancerName="tnd3-clb-internal",
        Listeners=listeners["tnd3-clb-http"],
        AvailabilityZones=zones[:1],
        Scheme="internal",
    )
    ids["tnd3-clb-internal"] = "tnd3-clb-internal"
    elb.modify_load_balancer_attributes(
        LoadBalancerName="tnd3-clb-ssl-only",
        LoadBalancerAttributes={
            "AccessLog": {"Enabled": True, "S3BucketName": "tnd3-elb-logs", "EmitInterval": 60},
            "ConnectionDraining": {"Enabled": True, "Timeout": 300},
            "CrossZoneLoadBalancing": {"Enabled": True},
        },
    )


# -------------------------------------------------------------------------------------------- CloudFront


def _distribution(name: str, default_policy: str, origins: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    behaviours = extra.pop("behaviours", [])

    def behaviour(policy: str, path: str | None = None) -> dict[str, Any]:
        b: dict[str, Any] = {
            "TargetOriginId": origins[0]["Id"],
            "ViewerProtocolPolicy": policy,
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        }
        if path:
            b["PathPattern"] = path
        return b

    config: dict[str, Any] = {
        "CallerReference": name,
        "Comment": name,
        "Enabled": True,
        "Origins": {"Quantity": len(origins), "Items": origins},
        "DefaultCacheBehavior": behaviour(default_policy),
        **extra,
    }
    if behaviours:
        config["CacheBehaviors"] = {
            "Quantity": len(behaviours),
            "Items": [behaviour(p, path) for path, p in behaviours],
        }
    return config


def _s3_origin(bucket: str, oai: str = "", oac: str = "") -> dict[str, Any]:
    o: dict[str, Any] = {
        "Id": bucket,
        "DomainName": f"{bucket}.s3.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": oai},
    }
    if oac:
        o["OriginAccessControlId"] = oac
    return o


def _custom_origin(policy: str, protocols: list[str]) -> dict[str, Any]:
    return {
        "Id": "web",
        "DomainName": "origin.example.com",
        "CustomOriginConfig": {
            "HTTPPort": 80,
            "HTTPSPort": 443,
            "OriginProtocolPolicy": policy,
            "OriginSslProtocols": {"Quantity": len(protocols), "Items": protocols},
        },
    }


def seed_cloudfront(m: MotoServer, ids: dict[str, str]) -> None:
    cf = m.boto3_client("cloudfront", REGION)
    s3 = m.boto3_client("s3", REGION)
    for b in ("tnd3-cf-site", "tnd3-cf-logs"):
        s3.create_bucket(Bucket=b)
    oac = cf.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": "tnd3",
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )["OriginAccessControl"]["Id"]
    oai = "origin-access-identity/cloudfront/E2QWRUHEXAMPLE"  # legacy OAI (moto cannot create one)
    tls12 = ["TLSv1.2"]
    logging = {"Enabled": True, "IncludeCookies": False, "Bucket": "tnd3-cf-logs.s3.amazonaws.com", "Prefix": "cf/"}
    dists = [
        # the default behaviour redirects, an additional path behaviour still serves HTTP
        _distribution(
            "tnd3-cf-path-allows-http",
            "redirect-to-https",
            [_s3_origin("tnd3-cf-site", oac=oac)],
            behaviours=[("/static/*", "https-only"), ("/api/*", "allow-all")],
        ),
        _distribution(
            "tnd3-cf-all-https",
            "https-only",
            [_s3_origin("tnd3-cf-site", oac=oac)],
            behaviours=[("/api/*", "redirect-to-https")],
            Logging=logging,
            DefaultRootObject="index.html",
        ),
        _distribution("tnd3-cf-default-http", "allow-all", [_s3_origin("tnd3-cf-site", oai=oai)]),
        # custom origins: the edge-to-origin leg
        _distribution("tnd3-cf-origin-http-only", "https-only", [_custom_origin("http-only", tls12)]),
        _distribution(
            "tnd3-cf-origin-match-viewer-path-http",
            "https-only",
            [_custom_origin("match-viewer", tls12)],
            behaviours=[("/legacy/*", "allow-all")],
        ),
        _distribution(
            "tnd3-cf-origin-match-viewer-https", "redirect-to-https", [_custom_origin("match-viewer", tls12)]
        ),
        _distribution("tnd3-cf-origin-sslv3", "https-only", [_custom_origin("https-only", ["SSLv3", "TLSv1.2"])]),
        _distribution("tnd3-cf-origin-tls11", "https-only", [_custom_origin("https-only", ["TLSv1.1", "TLSv1.2"])]),
    ]
    for config in dists:
        d = cf.create_distribution(DistributionConfig=config)["Distribution"]
        ids[config["Comment"]] = d["Id"]


# ----------------------------------------------------------------------------- API Gateway, ECS, EKS, ECR


def seed_apigateway(m: MotoServer, ids: dict[str, str]) -> None:
    api = m.boto3_client("apigateway", REGION)
    pool = m.boto3_client("cognito-idp", REGION).create_user_pool(PoolName="tnd3")["UserPool"]["Arn"]

    def rest(name: str, auths: list[str], policy: str | None = None, authorizer: bool = False) -> str:
        kw = {"policy": policy} if policy else {}
        rid = api.create_rest_api(name=name, endpointConfiguration={"types": ["REGIONAL"]}, **kw)["id"]
        ids[name] = rid
        root = api.get_resources(restApiId=rid)["items"][0]["id"]
        az = None
        if authorizer:
            az = api.create_authorizer(
                restApiId=rid,
                name="cognito",
                type="COGNITO_USER_POOLS",
                providerARNs=[pool],
                identitySource="method.request.header.Authorization",
            )["id"]
        for i, auth in enumerate(auths):
            res = api.create_resource(restApiId=rid, parentId=root, pathPart=f"r{i}")["id"]
            kw2 = {"authorizerId": az} if auth == "COGNITO_USER_POOLS" else {}
            api.put_method(restApiId=rid, resourceId=res, httpMethod="GET", authorizationType=auth, **kw2)
            api.put_integration(restApiId=rid, resourceId=res, httpMethod="GET", type="MOCK")
        return rid

    rest("tnd3-api-cognito-all", ["COGNITO_USER_POOLS", "COGNITO_USER_POOLS"], authorizer=True)
    rest("tnd3-api-iam-all", ["AWS_IAM", "AWS_IAM"])  # SigV4 on every method: no anonymous caller
    rest("tnd3-api-one-open", ["AWS_IAM", "NONE"])
    star = {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    rest("tnd3-api-policy-open", ["AWS_IAM"], _doc(star))
    vpce = {**star, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}
    rest("tnd3-api-policy-vpce", ["AWS_IAM"], _doc(vpce))
    # the documented IP allow-list: Allow everyone, Deny every caller outside one range
    deny_ip = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "execute-api:Invoke",
        "Resource": "execute-api:/*",
        "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}},
    }
    rest("tnd3-api-policy-deny-not-ip", ["AWS_IAM"], _doc(star, deny_ip))
    # an IP *condition* on a Deny of other addresses only: the Allow stays open to the internet
    deny_one = {**deny_ip, "Condition": {"IpAddress": {"aws:SourceIp": ["198.51.100.7/32"]}}}
    rest("tnd3-api-policy-deny-one-ip", ["AWS_IAM"], _doc(star, deny_one))

    rid = ids["tnd3-api-iam-all"]
    dep = api.create_deployment(restApiId=rid)["id"]
    for stage in ("tnd3-stage-info", "tnd3-stage-off", "tnd3-stage-none"):
        api.create_stage(restApiId=rid, stageName=stage, deploymentId=dep)
        ids[stage] = stage
    api.update_stage(
        restApiId=rid,
        stageName="tnd3-stage-info",
        patchOperations=[
            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
            {"op": "replace", "path": "/tracingEnabled", "value": "true"},
        ],
    )
    api.update_stage(
        restApiId=rid,
        stageName="tnd3-stage-off",
        patchOperations=[{"op": "replace", "path": "/*/*/logging/loglevel", "value": "OFF"}],
    )


def _container(name: str = "app", **kw: Any) -> dict[str, Any]:
    return {"name": name, "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 128, "essential": True, **kw}


def seed_ecs(m: MotoServer, ids: dict[str, str]) -> None:
    ecs = m.boto3_client("ecs", REGION)
    ro = {"readonlyRootFilesystem": True}
    defs: dict[str, dict[str, Any]] = {
        "tnd3-td-privileged": {"containerDefinitions": [_container(privileged=True, user="1000", **ro)]},
        "tnd3-td-host-no-user": {"networkMode": "host", "containerDefinitions": [_container(**ro)]},
        "tnd3-td-host-user-1000": {"networkMode": "host", "containerDefinitions": [_container(user="1000", **ro)]},
        # host network, no user, but privileged: ECS.1 excludes privileged containers (ECS.4 judges them)
        "tnd3-td-host-privileged": {"networkMode": "host", "containerDefinitions": [_container(privileged=True, **ro)]},
        "tnd3-td-bridge-root": {"networkMode": "bridge", "containerDefinitions": [_container(user="root", **ro)]},
        # UID 0 is root whatever the name: host network, user "0:0"
        "tnd3-td-host-uid0": {"networkMode": "host", "containerDefinitions": [_container(user="0:0", **ro)]},
        # one read-only container beside a writable one
        "tnd3-td-one-writable": {
            "containerDefinitions": [_container("a", **ro), _container("b", readonlyRootFilesystem=False)]
        },
        "tnd3-td-pid-host": {"pidMode": "host", "containerDefinitions": [_container(user="1000", **ro)]},
        "tnd3-td-aws-key-env": {
            "containerDefinitions": [
                _container(environment=[{"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"}], **ro)
            ]
        },
        "tnd3-td-password-env": {
            "containerDefinitions": [
                _container(environment=[{"name": "DB_PASSWORD", "value": "hunter2-hunter2"}], **ro)
            ]
        },
        # the secret comes from Secrets Manager at start (secrets/valueFrom), the env var names only a host
        "tnd3-td-secret-ref": {
            "containerDefinitions": [
                _container(
                    environment=[{"name": "DB_HOST", "value": "db.internal"}],
                    secrets=[{"name": "DB_PASSWORD", "valueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:db"}],
                    **ro,
                )
            ]
        },
    }
    for family, body in defs.items():
        ecs.register_task_definition(family=family, **body)
        ids[family] = family


def seed_eks(m: MotoServer, ids: dict[str, str]) -> None:
    eks = m.boto3_client("eks", REGION)
    ec2 = m.boto3_client("ec2", REGION)
    _, subs = _subnets(ec2)
    role = f"arn:aws:iam::{ACCT}:role/tnd3-eks"
    all_logs = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    clusters: dict[str, dict[str, Any]] = {
        "tnd3-eks-public-world": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]},
        "tnd3-eks-public-office": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
        "tnd3-eks-private": {"endpointPublicAccess": False, "endpointPrivateAccess": True},
    }
    for name, vpc in clusters.items():
        eks.create_cluster(name=name, roleArn=role, resourcesVpcConfig={"subnetIds": subs[:2], **vpc})
        ids[name] = name
    logging = {
        "tnd3-eks-logs-all": [{"types": all_logs, "enabled": True}],
        "tnd3-eks-logs-audit-only": [{"types": ["audit"], "enabled": True}, {"types": all_logs[2:], "enabled": False}],
        # the five types listed, but the entry is disabled
        "tnd3-eks-logs-all-disabled": [{"types": all_logs, "enabled": False}],
    }
    for name, entries in logging.items():
        eks.create_cluster(
            name=name, roleArn=role, resourcesVpcConfig={"subnetIds": subs[:2]}, logging={"clusterLogging": entries}
        )
        ids[name] = name


def seed_ecr(m: MotoServer, ids: dict[str, str]) -> None:
    ecr = m.boto3_client("ecr", REGION)
    repos = {
        "tnd3-repo-hardened": {"imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True}},
        "tnd3-repo-default": {},
    }
    for name, kw in repos.items():
        ecr.create_repository(repositoryName=name, **kw)
        ids[name] = name
    rule = {
        "rulePriority": 1,
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 50},
        "action": {"type": "expire"},
    }
    ecr.put_lifecycle_policy(repositoryName="tnd3-repo-hardened", lifecyclePolicyText=json.dumps({"rules": [rule]}))


# --------------------------------------------------------------------- data stores, compute, certificates


def seed_redshift(m: MotoServer, ids: dict[str, str]) -> None:
    rs = m.boto3_client("redshift", REGION)
    common = {"NodeType": "ra3.xlplus", "MasterUsername": "tnd3admin", "MasterUserPassword": "Not-a-secret-123"}
    rs.create_cluster(ClusterIdentifier="tnd3-rs-public", PubliclyAccessible=True, Encrypted=False, **common)
    rs.create_cluster(ClusterIdentifier="tnd3-rs-private-enc", PubliclyAccessible=False, Encrypted=True, **common)
    rs.enable_logging(ClusterIdentifier="tnd3-rs-private-enc", BucketName="tnd3-rs-logs")
    ids["tnd3-rs-public"], ids["tnd3-rs-private-enc"] = "tnd3-rs-public", "tnd3-rs-private-enc"


def seed_opensearch(m: MotoServer, ids: dict[str, str]) -> None:
    es = m.boto3_client("opensearch", REGION)

    def policy(name: str, **cond: Any) -> str:
        st: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "es:*",
            "Resource": f"arn:aws:es:{REGION}:{ACCT}:domain/{name}/*",
        }
        if cond:
            st["Condition"] = cond
        return _doc(st)

    domains = {
        "tnd3-os-open": {"AccessPolicies": policy("tnd3-os-open")},
        "tnd3-os-ip": {"AccessPolicies": policy("tnd3-os-ip", IpAddress={"aws:SourceIp": ["203.0.113.0/24"]})},
        # an IP condition that admits every IPv4 address
        "tnd3-os-ip-world": {"AccessPolicies": policy("tnd3-os-ip-world", IpAddress={"aws:SourceIp": ["0.0.0.0/0"]})},
        "tnd3-os-n2n": {
            "NodeToNodeEncryptionOptions": {"Enabled": True},
            "EncryptionAtRestOptions": {"Enabled": True},
            "DomainEndpointOptions": {"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"},
        },
        "tnd3-os-plain": {
            "NodeToNodeEncryptionOptions": {"Enabled": False},
            "DomainEndpointOptions": {"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-0-2019-07"},
        },
    }
    for name, kw in domains.items():
        es.create_domain(DomainName=name, EngineVersion="OpenSearch_2.11", **kw)
        ids[name] = name


def seed_acm(m: MotoServer, ids: dict[str, str]) -> None:
    acm = m.boto3_client("acm", REGION)
    for name, days, bits in (
        ("tnd3-cert-10-days", 10, 2048),
        ("tnd3-cert-300-days", 300, 2048),
        ("tnd3-cert-rsa1024", 300, 1024),
    ):
        pem, key = self_signed(f"{name}.example.com", key_size=bits, days=days)
        arn = acm.import_certificate(Certificate=pem, PrivateKey=key)["CertificateArn"]
        ids[name] = arn.rsplit("/", 1)[-1]


def seed_autoscaling(m: MotoServer, ids: dict[str, str]) -> None:
    asg = m.boto3_client("autoscaling", REGION)
    image = "ami-12c6146b"  # one of moto's stock AMIs
    configs: dict[str, dict[str, Any]] = {
        "tnd3-lc-imdsv2": {"MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"}},
        "tnd3-lc-imdsv1": {"MetadataOptions": {"HttpTokens": "optional", "HttpEndpoint": "enabled"}},
        # the metadata service switched off: no IMDSv1 to abuse
        "tnd3-lc-imds-off": {"MetadataOptions": {"HttpTokens": "optional", "HttpEndpoint": "disabled"}},
        "tnd3-lc-public-ip": {"AssociatePublicIpAddress": True, "MetadataOptions": {"HttpTokens": "required"}},
        "tnd3-lc-no-public-ip": {"AssociatePublicIpAddress": False, "MetadataOptions": {"HttpTokens": "required"}},
    }
    for name, kw in configs.items():
        asg.create_launch_configuration(LaunchConfigurationName=name, ImageId=image, InstanceType="t3.micro", **kw)
        ids[name] = name


def seed_stepfunctions(m: MotoServer, ids: dict[str, str]) -> None:
    sfn = m.boto3_client("stepfunctions", REGION)
    logs = m.boto3_client("logs", REGION)
    logs.create_log_group(logGroupName="tnd3-sfn")
    group = f"arn:aws:logs:{REGION}:{ACCT}:log-group:tnd3-sfn:*"
    definition = json.dumps({"StartAt": "x", "States": {"x": {"Type": "Pass", "End": True}}})
    role = f"arn:aws:iam::{ACCT}:role/tnd3-sfn"
    for name, level in (("tnd3-sfn-all", "ALL"), ("tnd3-sfn-fatal", "FATAL"), ("tnd3-sfn-off", "OFF")):
        cfg: dict[str, Any] = {"level": level, "includeExecutionData": False}
        if level != "OFF":
            cfg["destinations"] = [{"cloudWatchLogsLogGroup": {"logGroupArn": group}}]
        sfn.create_state_machine(name=name, definition=definition, roleArn=role, loggingConfiguration=cfg)
        ids[name] = name


def seed_kinesis(m: MotoServer, ids: dict[str, str]) -> None:
    k = m.boto3_client("kinesis", REGION)
    key = m.boto3_client("kms", REGION).create_key(Description="tnd3-kinesis")["KeyMetadata"]["Arn"]
    for name in ("tnd3-stream-plain", "tnd3-stream-cmk", "tnd3-stream-aws-key"):
        k.create_stream(StreamName=name, ShardCount=1)
        ids[name] = name
    k.start_stream_encryption(StreamName="tnd3-stream-cmk", EncryptionType="KMS", KeyId=key)
    k.start_stream_encryption(StreamName="tnd3-stream-aws-key", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    k.increase_stream_retention_period(StreamName="tnd3-stream-cmk", RetentionPeriodHours=168)
    k.increase_stream_retention_period(StreamName="tnd3-stream-aws-key", RetentionPeriodHours=167)


def seed_ssm(m: MotoServer, ids: dict[str, str]) -> None:
    ssm = m.boto3_client("ssm", REGION)
    content = json.dumps(
        {
            "schemaVersion": "2.2",
            "description": "x",
            "mainSteps": [{"action": "aws:runShellScript", "name": "x", "inputs": {"runCommand": ["true"]}}],
        }
    )
    for name in ("tnd3-doc-public", "tnd3-doc-one-account", "tnd3-doc-private"):
        ssm.create_document(Name=name, Content=content, DocumentType="Command")
        ids[name] = name
    ssm.modify_document_permission(Name="tnd3-doc-public", PermissionType="Share", AccountIdsToAdd=["all"])
    ssm.modify_document_permission(
        Name="tnd3-doc-one-account", PermissionType="Share", AccountIdsToAdd=["210987654321"]
    )


def seed_route53(m: MotoServer, ids: dict[str, str]) -> None:
    r53 = m.boto3_client("route53", REGION)
    logs = m.boto3_client("logs", REGION)
    logs.create_log_group(logGroupName="/aws/route53/tnd3")
    for name, private in (
        ("tnd3-public-logged.example", False),
        ("tnd3-public-unlogged.example", False),
        ("tnd3-private.example", True),
    ):
        kw: dict[str, Any] = {"HostedZoneConfig": {"PrivateZone": private, "Comment": name}}
        if private:
            vpc = m.boto3_client("ec2", REGION).describe_vpcs()["Vpcs"][0]["VpcId"]
            kw["VPC"] = {"VPCRegion": REGION, "VPCId": vpc}
        zid = r53.create_hosted_zone(Name=name, CallerReference=name, **kw)["HostedZone"]["Id"].rsplit("/", 1)[-1]
        ids[name] = zid
    r53.create_query_logging_config(
        HostedZoneId=ids["tnd3-public-logged.example"],
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:{ACCT}:log-group:/aws/route53/tnd3:*",
    )


# ------------------------------------------------------------------------------- CIS metric-filter alarms

_IAM_EVENTS = (
    "DeleteGroupPolicy DeleteRolePolicy DeleteUserPolicy PutGroupPolicy PutRolePolicy PutUserPolicy CreatePolicy "
    "DeletePolicy CreatePolicyVersion DeletePolicyVersion AttachRolePolicy DetachRolePolicy AttachUserPolicy "
    "DetachUserPolicy AttachGroupPolicy DetachGroupPolicy"
).split()
_SG_EVENTS = "AuthorizeSecurityGroupIngress AuthorizeSecurityGroupEgress RevokeSecurityGroupIngress RevokeSecurityGroupEgress CreateSecurityGroup DeleteSecurityGroup".split()


def _any_event(names: list[str], sep: str = " || ") -> str:
    return "{ " + sep.join(f"($.eventName = {n})" for n in names) + " }"


#: metric filter name → (log group, pattern, alarm namespace, alarm topic)
_FILTERS: dict[str, tuple[str, str, str, str]] = {
    # the CIS root-usage pattern, clauses reordered and every space removed
    "root": (
        "tnd3-trail",
        '{$.eventType!="AwsServiceEvent"&&$.userIdentity.invokedBy NOT EXISTS&&$.userIdentity.type="Root"}',
        "CIS",
        "tnd3-oncall",
    ),
    # unauthorized calls: the AccessDenied* clause is missing
    "unauthorized": ("tnd3-trail", '{ ($.errorCode = "*UnauthorizedOperation") }', "CIS", "tnd3-oncall"),
    # IAM policy changes: all sixteen event names, in reverse order, spread over lines
    "iam": ("tnd3-trail", _any_event(list(reversed(_IAM_EVENTS)), " ||\n  "), "CIS", "tnd3-oncall"),
    # CloudTrail changes: a correct filter whose alarm watches a metric of the same name in another namespace
    "cloudtrail": (
        "tnd3-trail",
        _any_event(["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"]),
        "Other",
        "tnd3-oncall",
    ),
    # security groups: a correct filter and alarm, on a log group no trail delivers to
    "sg": ("tnd3-not-the-trail", _any_event(_SG_EVENTS), "CIS", "tnd3-oncall"),
    # NACL changes: correct filter and alarm, but the alarm's topic has no subscriber
    "nacl": (
        "tnd3-trail",
        _any_event(
            "CreateNetworkAcl CreateNetworkAclEntry DeleteNetworkAcl DeleteNetworkAclEntry "
            "ReplaceNetworkAclEntry ReplaceNetworkAclAssociation".split()
        ),
        "CIS",
        "tnd3-nobody",
    ),
    # S3 bucket policy changes: the CIS event names joined with && instead of || (no event is all of them)
    "s3policy": (
        "tnd3-trail",
        "{ ($.eventSource = s3.amazonaws.com) && "
        + " && ".join(
            f"($.eventName = {n})"
            for n in "PutBucketAcl PutBucketPolicy PutBucketCors PutBucketLifecycle PutBucketReplication "
            "DeleteBucketPolicy DeleteBucketCors DeleteBucketLifecycle DeleteBucketReplication".split()
        )
        + " }",
        "CIS",
        "tnd3-oncall",
    ),
    # gateway changes: one clause written != (every call but DetachInternetGateway), the rest as CIS
    "gateway": (
        "tnd3-trail",
        "{ ($.eventName != DetachInternetGateway) || "
        + " || ".join(
            f"($.eventName = {n})"
            for n in "CreateCustomerGateway DeleteCustomerGateway AttachInternetGateway CreateInternetGateway "
            "DeleteInternetGateway".split()
        )
        + " }",
        "CIS",
        "tnd3-oncall",
    ),
    # KMS key disable/deletion: the CIS filter distributed over its alternatives (same events)
    "kms": (
        "tnd3-trail",
        "{ ($.eventName = DisableKey && $.eventSource = kms.amazonaws.com) || "
        "($.eventSource = kms.amazonaws.com && $.eventName = ScheduleKeyDeletion) }",
        "CIS",
        "tnd3-oncall",
    ),
    # console sign-in without MFA: the CIS pattern, spaced out
    "signin": (
        "tnd3-trail",
        '{   ( $.eventName   =   "ConsoleLogin" )   &&   ( $.additionalEventData.MFAUsed   !=   "Yes" )   }',
        "CIS",
        "tnd3-oncall",
    ),
}


def seed_monitoring(m: MotoServer, ids: dict[str, str]) -> None:
    logs, cw, sns = (m.boto3_client(s, REGION) for s in ("logs", "cloudwatch", "sns"))
    m.boto3_client("s3", REGION).create_bucket(Bucket="tnd3-trail-logs")
    for group in ("tnd3-trail", "tnd3-not-the-trail"):
        logs.create_log_group(logGroupName=group)
    ct = m.boto3_client("cloudtrail", REGION)
    ct.create_trail(
        Name="tnd3-trail",
        S3BucketName="tnd3-trail-logs",
        IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{REGION}:{ACCT}:log-group:tnd3-trail:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCT}:role/tnd3-trail",
    )
    ct.start_logging(Name="tnd3-trail")
    topics = {t: sns.create_topic(Name=t)["TopicArn"] for t in ("tnd3-oncall", "tnd3-nobody")}
    m.boto3_client("sqs", REGION).create_queue(QueueName="tnd3-oncall")
    sns.subscribe(TopicArn=topics["tnd3-oncall"], Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:{ACCT}:tnd3-oncall")
    for name, (group, pattern, namespace, topic) in _FILTERS.items():
        logs.put_metric_filter(
            logGroupName=group,
            filterName=name,
            filterPattern=pattern,
            metricTransformations=[{"metricName": name, "metricNamespace": "CIS", "metricValue": "1"}],
        )
        cw.put_metric_alarm(
            AlarmName=name,
            MetricName=name,
            Namespace=namespace,
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[topics[topic]],
        )


def seed(m: MotoServer) -> dict[str, str]:
    ids: dict[str, str] = {"region-monitoring": "monitoring"}
    for fn in (
        seed_elbv2,
        seed_elb,
        seed_cloudfront,
        seed_apigateway,
        seed_ecs,
        seed_eks,
        seed_ecr,
        seed_redshift,
        seed_opensearch,
        seed_acm,
        seed_autoscaling,
        seed_stepfunctions,
        seed_kinesis,
        seed_ssm,
        seed_route53,
        seed_monitoring,
    ):
        fn(m, ids)
    return ids


MON = "region-monitoring"
EXPECTED: list[tuple[str, str, int, str]] = [
    # --- ELBv2: listeners and their actions (ELB.1), TLS policies (ELB.17), attributes
    ("elbv2_http_redirects_to_https", "tnd3-alb-redirect", PASS, "ELB.1: HTTP redirected to HTTPS"),
    ("elbv2_http_redirects_to_https", "tnd3-alb-redirect-keep-proto", FAIL, "#{protocol} keeps HTTP"),
    ("elbv2_http_redirects_to_https", "tnd3-alb-http-forward", FAIL, "HTTP forwarded in clear text"),
    ("elbv2_http_redirects_to_https", "tnd3-alb-one-of-two-http", FAIL, "port 8080 still forwards HTTP"),
    ("elbv2_http_redirects_to_https", "tnd3-alb-https-2016", PASS, "no HTTP listener"),
    ("elbv2_http_redirects_to_https", "tnd3-nlb-tcp", PASS, "ELB.1 is about ALBs"),
    ("elbv2_tls_security_policy", "tnd3-alb-https-2016", FAIL, "ELB.17: 2016-08 allows TLS 1.0"),
    ("elbv2_tls_security_policy", "tnd3-nlb-tls-old", FAIL, "ELB.17 covers NLB TLS listeners: TLS 1.1"),
    ("elbv2_tls_security_policy", "tnd3-nlb-tls13", PASS, "TLS 1.2+"),
    ("elbv2_tls_security_policy", "tnd3-alb-redirect", PASS, "TLS13-1-2-2021-06"),
    ("elbv2_https_listener_secure_policy", "tnd3-alb-https-2016", FAIL, "2016-08 is not a TLS 1.2 policy"),
    ("elbv2_https_listener_secure_policy", "tnd3-alb-https-fs-1-2", PASS, "FS-1-2-Res-2020-10"),
    ("elbv2_https_listener_secure_policy", "tnd3-nlb-tls-old", PASS, "HTTPS listeners only (Prowler's twin)"),
    ("elbv2_deletion_protection", "tnd3-alb-redirect", PASS, "ELB.6"),
    ("elbv2_deletion_protection", "tnd3-alb-http-forward", FAIL, "ELB.6: off by default"),
    ("elbv2_drop_invalid_header_fields", "tnd3-alb-redirect", PASS, "ELB.4"),
    ("elbv2_drop_invalid_header_fields", "tnd3-alb-http-forward", FAIL, "ELB.4: off by default"),
    ("elbv2_drop_invalid_header_fields", "tnd3-nlb-tcp", PASS, "NLBs see no HTTP headers"),
    ("elbv2_access_logging_enabled", "tnd3-alb-redirect", PASS, "access logs to S3"),
    ("elbv2_access_logging_enabled", "tnd3-nlb-tls13", FAIL, "every type, NLBs too"),
    ("elbv2_alb_access_logging_enabled", "tnd3-nlb-tls13", PASS, "ELB.5: ALBs only"),
    ("elbv2_alb_access_logging_enabled", "tnd3-alb-http-forward", FAIL, "ELB.5"),
    ("elbv2_nlb_tls_termination_enabled", "tnd3-nlb-tcp", FAIL, "TCP pass-through only"),
    ("elbv2_nlb_tls_termination_enabled", "tnd3-nlb-tls13", PASS, "TLS listener"),
    ("elbv2_nlb_tls_termination_enabled", "tnd3-alb-http-forward", PASS, "not an NLB"),
    ("elbv2_multi_az", "tnd3-nlb-tcp", FAIL, "ELB.13: one subnet"),
    ("elbv2_multi_az", "tnd3-nlb-tls13", PASS, "two zones"),
    # --- Classic load balancers
    ("elb_ssl_listeners", "tnd3-clb-https-and-http", FAIL, "ELB.3: an HTTP listener beside HTTPS"),
    ("elb_ssl_listeners", "tnd3-clb-ssl-only", PASS, "SSL only"),
    ("elb_ssl_listeners", "tnd3-clb-http", FAIL, "HTTP only"),
    ("elb_ssl_listeners_use_acm_certificate", "tnd3-clb-ssl-only", FAIL, "ELB.2: an IAM server certificate"),
    ("elb_ssl_listeners_use_acm_certificate", "tnd3-clb-http", PASS, "no TLS listener"),
    ("elb_internet_facing", "tnd3-clb-internal", PASS, "internal scheme"),
    ("elb_internet_facing", "tnd3-clb-http", FAIL, "internet-facing by default"),
    ("elb_logging_enabled", "tnd3-clb-ssl-only", PASS, "ELB.5"),
    ("elb_logging_enabled", "tnd3-clb-http", FAIL, "ELB.5"),
    ("elb_connection_draining_enabled", "tnd3-clb-ssl-only", PASS, "ELB.7"),
    ("elb_cross_zone_load_balancing_enabled", "tnd3-clb-ssl-only", PASS, "ELB.9"),
    ("elb_is_in_multiple_az", "tnd3-clb-internal", FAIL, "ELB.10: one zone"),
    # --- CloudFront: every cache behaviour, the edge-to-origin leg
    ("cloudfront_viewer_https_required", "tnd3-cf-path-allows-http", FAIL, "CloudFront.3: /api/* allow-all"),
    ("cloudfront_viewer_https_required", "tnd3-cf-all-https", PASS, "every behaviour HTTPS"),
    ("cloudfront_viewer_https_required", "tnd3-cf-default-http", FAIL, "default allow-all"),
    ("cloudfront_default_behavior_https", "tnd3-cf-path-allows-http", PASS, "default behaviour redirects"),
    ("cloudfront_default_behavior_https", "tnd3-cf-default-http", FAIL, "default allow-all"),
    ("cloudfront_origin_traffic_encrypted", "tnd3-cf-origin-http-only", FAIL, "CloudFront.9: http-only origin"),
    ("cloudfront_origin_traffic_encrypted", "tnd3-cf-origin-match-viewer-path-http", FAIL, "HTTP viewers -> HTTP"),
    ("cloudfront_origin_traffic_encrypted", "tnd3-cf-origin-match-viewer-https", PASS, "viewers use HTTPS"),
    ("cloudfront_origin_traffic_encrypted", "tnd3-cf-origin-sslv3", PASS, "https-only origin"),
    ("cloudfront_origins_encrypted_default_behavior", "tnd3-cf-origin-http-only", FAIL, "http-only origin"),
    ("cloudfront_origins_encrypted_default_behavior", "tnd3-cf-origin-match-viewer-https", PASS, "HTTPS"),
    ("cloudfront_origin_no_deprecated_ssl", "tnd3-cf-origin-sslv3", FAIL, "CloudFront.10: SSLv3"),
    ("cloudfront_origin_no_deprecated_ssl", "tnd3-cf-origin-tls11", PASS, "CloudFront.10 names SSLv3 only"),
    ("cloudfront_origin_no_ssl_tls10_tls11", "tnd3-cf-origin-tls11", FAIL, "TLS 1.1 to the origin"),
    ("cloudfront_origin_no_ssl_tls10_tls11", "tnd3-cf-origin-match-viewer-https", PASS, "TLS 1.2 only"),
    ("cloudfront_logging_enabled", "tnd3-cf-all-https", PASS, "CloudFront.5"),
    ("cloudfront_logging_enabled", "tnd3-cf-default-http", FAIL, "CloudFront.5"),
    ("cloudfront_default_root_object", "tnd3-cf-all-https", PASS, "CloudFront.1"),
    ("cloudfront_default_root_object", "tnd3-cf-default-http", FAIL, "CloudFront.1"),
    # --- API Gateway: authorization per method, resource policies, stage logging
    ("apigateway_restapi_authorizers_enabled", "tnd3-api-cognito-all", PASS, "Cognito authorizer"),
    ("apigateway_restapi_authorizers_enabled", "tnd3-api-iam-all", PASS, "IAM auth on every method"),
    ("apigateway_restapi_authorizers_enabled", "tnd3-api-one-open", FAIL, "one method open to anyone"),
    ("apigateway_restapi_public_with_authorizer", "tnd3-api-cognito-all", PASS, "regional, with an authorizer"),
    ("apigateway_restapi_public_with_authorizer", "tnd3-api-one-open", FAIL, "regional, no authorizer"),
    ("apigateway_restapi_public", "tnd3-api-iam-all", FAIL, "a REGIONAL endpoint is internet-facing"),
    ("apigateway_restapi_resource_policy_public", "tnd3-api-policy-open", FAIL, "Allow * unconditioned"),
    ("apigateway_restapi_resource_policy_public", "tnd3-api-policy-vpce", PASS, "one VPC endpoint"),
    ("apigateway_restapi_resource_policy_public", "tnd3-api-policy-deny-not-ip", PASS, "Deny outside one range"),
    ("apigateway_restapi_resource_policy_public", "tnd3-api-policy-deny-one-ip", FAIL, "one address denied"),
    ("apigateway_restapi_resource_policy_public", "tnd3-api-iam-all", PASS, "no resource policy"),
    ("apigateway_restapi_logging_enabled", "tnd3-stage-info", PASS, "INFO on */*"),
    ("apigateway_restapi_logging_enabled", "tnd3-stage-off", FAIL, "loggingLevel OFF"),
    ("apigateway_restapi_logging_enabled", "tnd3-stage-none", FAIL, "no method settings: off"),
    ("apigateway_restapi_tracing_enabled", "tnd3-stage-info", PASS, "APIGateway.3"),
    ("apigateway_restapi_tracing_enabled", "tnd3-stage-off", FAIL, "APIGateway.3"),
    # --- ECS task definitions
    ("ecs_task_definitions_no_privileged_containers", "tnd3-td-privileged", FAIL, "ECS.4"),
    ("ecs_task_definitions_no_privileged_containers", "tnd3-td-host-user-1000", PASS, "not privileged"),
    ("ecs_task_definitions_host_networking_mode_users", "tnd3-td-host-no-user", FAIL, "ECS.1: host, root"),
    ("ecs_task_definitions_host_networking_mode_users", "tnd3-td-host-user-1000", PASS, "host, UID 1000"),
    ("ecs_task_definitions_host_networking_mode_users", "tnd3-td-host-privileged", PASS, "ECS.1 skips privileged"),
    ("ecs_task_definitions_host_networking_mode_users", "tnd3-td-bridge-root", PASS, "bridge network"),
    ("ecs_task_definitions_host_networking_mode_users", "tnd3-td-host-uid0", PASS, "ECS.1 compares with 'root'"),
    ("ecs_task_definitions_host_networking_mode_root_uid", "tnd3-td-host-uid0", FAIL, "UID 0 is root"),
    ("ecs_task_definitions_host_networking_mode_root_uid", "tnd3-td-host-user-1000", PASS, "UID 1000"),
    ("ecs_task_definitions_host_networking_mode_root_uid", "tnd3-td-host-no-user", PASS, "the ECS.1 twin's finding"),
    ("ecs_task_definitions_containers_readonly_access", "tnd3-td-one-writable", FAIL, "ECS.5: container b"),
    ("ecs_task_definitions_containers_readonly_access", "tnd3-td-privileged", PASS, "read-only root"),
    ("ecs_task_definitions_host_namespace_not_shared", "tnd3-td-pid-host", FAIL, "ECS.3: pidMode host"),
    ("ecs_task_definitions_host_namespace_not_shared", "tnd3-td-host-no-user", PASS, "host network, own PIDs"),
    ("ecs_task_definition_no_aws_credentials_in_environment", "tnd3-td-aws-key-env", FAIL, "ECS.8"),
    ("ecs_task_definition_no_aws_credentials_in_environment", "tnd3-td-password-env", PASS, "no AWS key"),
    ("ecs_task_definition_no_secrets_in_environment", "tnd3-td-password-env", FAIL, "a password in plain text"),
    ("ecs_task_definition_no_secrets_in_environment", "tnd3-td-secret-ref", PASS, "secrets/valueFrom"),
    # --- EKS
    ("eks_endpoint_public_access_restricted", "tnd3-eks-public-world", FAIL, "0.0.0.0/0"),
    ("eks_endpoint_public_access_restricted", "tnd3-eks-public-office", PASS, "one office range"),
    ("eks_endpoint_public_access_restricted", "tnd3-eks-private", PASS, "no public endpoint"),
    ("eks_endpoint_not_public", "tnd3-eks-public-office", FAIL, "EKS.1: public, even restricted"),
    ("eks_endpoint_not_public", "tnd3-eks-private", PASS, "EKS.1"),
    ("eks_control_plane_all_log_types_enabled", "tnd3-eks-logs-all", PASS, "five types"),
    ("eks_control_plane_all_log_types_enabled", "tnd3-eks-logs-audit-only", FAIL, "audit only"),
    ("eks_control_plane_all_log_types_enabled", "tnd3-eks-logs-all-disabled", FAIL, "listed but disabled"),
    ("eks_audit_logging_enabled", "tnd3-eks-logs-audit-only", PASS, "EKS.8: audit enabled"),
    ("eks_audit_logging_enabled", "tnd3-eks-logs-all-disabled", FAIL, "EKS.8: audit disabled"),
    # --- ECR
    ("ecr_repository_scan_on_push", "tnd3-repo-hardened", PASS, "ECR.1"),
    ("ecr_repository_scan_on_push", "tnd3-repo-default", FAIL, "ECR.1"),
    ("ecr_repository_tag_immutability", "tnd3-repo-hardened", PASS, "ECR.2"),
    ("ecr_repository_tag_immutability", "tnd3-repo-default", FAIL, "MUTABLE by default"),
    ("ecr_repository_lifecycle_policy", "tnd3-repo-hardened", PASS, "ECR.3"),
    ("ecr_repository_lifecycle_policy", "tnd3-repo-default", FAIL, "ECR.3"),
    # --- Redshift
    ("redshift_cluster_public_access", "tnd3-rs-public", FAIL, "Redshift.1"),
    ("redshift_cluster_public_access", "tnd3-rs-private-enc", PASS, "Redshift.1"),
    ("redshift_cluster_encrypted_at_rest", "tnd3-rs-public", FAIL, "Redshift.10"),
    ("redshift_cluster_encrypted_at_rest", "tnd3-rs-private-enc", PASS, "Redshift.10"),
    ("redshift_cluster_audit_logging", "tnd3-rs-private-enc", PASS, "Redshift.4: audit logs to S3"),
    ("redshift_cluster_audit_logging", "tnd3-rs-public", FAIL, "Redshift.4"),
    # --- OpenSearch: the access policy's conditions, encryption between nodes, TLS floor
    ("opensearch_domain_access_policy_public", "tnd3-os-open", FAIL, "AWS:* without a condition"),
    ("opensearch_domain_access_policy_public", "tnd3-os-ip", PASS, "one address range"),
    ("opensearch_domain_access_policy_public", "tnd3-os-ip-world", FAIL, "aws:SourceIp 0.0.0.0/0 is everyone"),
    ("opensearch_domain_access_policy_public", "tnd3-os-n2n", PASS, "no access policy"),
    ("opensearch_service_domains_node_to_node_encryption_enabled", "tnd3-os-n2n", PASS, "ES.3"),
    ("opensearch_service_domains_node_to_node_encryption_enabled", "tnd3-os-plain", FAIL, "ES.3"),
    ("opensearch_service_domains_encryption_at_rest_enabled", "tnd3-os-n2n", PASS, "ES.1"),
    ("opensearch_service_domains_encryption_at_rest_enabled", "tnd3-os-plain", FAIL, "ES.1"),
    ("opensearch_domain_tls_1_2_policy", "tnd3-os-n2n", PASS, "ES.8: TLS 1.2 minimum"),
    ("opensearch_domain_tls_1_2_policy", "tnd3-os-plain", FAIL, "ES.8: HTTPS enforced, but TLS 1.0"),
    ("opensearch_domain_in_vpc", "tnd3-os-plain", FAIL, "ES.2: public endpoint"),
    # --- ACM
    ("acm_certificate_expires_within_30_days", "tnd3-cert-10-days", FAIL, "ACM.1: 10 days left"),
    ("acm_certificate_expires_within_30_days", "tnd3-cert-300-days", PASS, "ACM.1"),
    ("acm_certificate_rsa_key_length", "tnd3-cert-rsa1024", FAIL, "ACM.2: RSA 1024"),
    ("acm_certificate_rsa_key_length", "tnd3-cert-300-days", PASS, "RSA 2048"),
    ("acm_certificates_expiration_check", "tnd3-cert-10-days", PASS, "not in use (Prowler's twin)"),
    # --- Auto Scaling launch configurations
    ("autoscaling_launch_configuration_requires_imdsv2", "tnd3-lc-imdsv2", PASS, "AutoScaling.3"),
    ("autoscaling_launch_configuration_requires_imdsv2", "tnd3-lc-imdsv1", FAIL, "HttpTokens optional"),
    ("autoscaling_launch_configuration_requires_imdsv2", "tnd3-lc-imds-off", PASS, "metadata endpoint off"),
    ("autoscaling_launch_configuration_no_public_ip", "tnd3-lc-public-ip", FAIL, "AutoScaling.5"),
    ("autoscaling_launch_configuration_no_public_ip", "tnd3-lc-no-public-ip", PASS, "AutoScaling.5"),
    # --- Step Functions
    ("stepfunctions_statemachine_logging_enabled", "tnd3-sfn-fatal", PASS, "StepFunctions.1: FATAL is on"),
    ("stepfunctions_statemachine_logging_enabled", "tnd3-sfn-off", FAIL, "level OFF"),
    ("stepfunctions_statemachine_logging_error_level", "tnd3-sfn-fatal", FAIL, "FATAL misses failed states"),
    ("stepfunctions_statemachine_logging_error_level", "tnd3-sfn-all", PASS, "ALL"),
    # --- Kinesis
    ("kinesis_stream_encrypted_at_rest", "tnd3-stream-aws-key", PASS, "Kinesis.1: the AWS managed key"),
    ("kinesis_stream_encrypted_at_rest", "tnd3-stream-plain", FAIL, "Kinesis.1"),
    ("kinesis_stream_encrypted_with_cmk", "tnd3-stream-aws-key", FAIL, "alias/aws/kinesis is not a CMK"),
    ("kinesis_stream_encrypted_with_cmk", "tnd3-stream-cmk", PASS, "customer managed key"),
    ("kinesis_stream_data_retention_period", "tnd3-stream-cmk", PASS, "Kinesis.3: 168 hours"),
    ("kinesis_stream_data_retention_period", "tnd3-stream-aws-key", FAIL, "Kinesis.3: 167 hours"),
    # --- SSM documents
    ("ssm_document_not_public", "tnd3-doc-public", FAIL, "SSM.4: shared with all"),
    ("ssm_document_not_public", "tnd3-doc-one-account", PASS, "SSM.4: one named account is not public"),
    ("ssm_documents_set_as_public", "tnd3-doc-one-account", FAIL, "shared outside the account"),
    ("ssm_documents_set_as_public", "tnd3-doc-private", PASS, "not shared"),
    # --- Route 53
    ("route53_public_hosted_zones_cloudwatch_logging_enabled", "tnd3-public-logged.example", PASS, "Route53.2"),
    ("route53_public_hosted_zones_cloudwatch_logging_enabled", "tnd3-public-unlogged.example", FAIL, "Route53.2"),
    ("route53_public_hosted_zones_cloudwatch_logging_enabled", "tnd3-private.example", PASS, "private zone"),
    # --- CIS metric filters and alarms (one verdict per region)
    ("cloudwatch_alarm_root_account_usage", MON, PASS, "CIS pattern reordered, spaces removed"),
    ("cloudwatch_alarm_unauthorized_api_calls", MON, FAIL, "the AccessDenied* clause is missing"),
    ("cloudwatch_alarm_iam_policy_changes", MON, PASS, "all 16 events, reversed, over lines"),
    ("cloudwatch_alarm_console_signin_without_mfa", MON, PASS, "CIS pattern, extra spaces"),
    ("cloudwatch_alarm_cloudtrail_configuration_changes", MON, FAIL, "alarm on another namespace"),
    ("cloudwatch_alarm_security_group_changes", MON, FAIL, "filter on a log group no trail feeds"),
    ("cloudwatch_alarm_nacl_changes", MON, FAIL, "the alarm's topic has no subscriber"),
    ("cloudwatch_alarm_s3_bucket_policy_changes", MON, FAIL, "clauses joined with &&: matches no event"),
    ("cloudwatch_alarm_network_gateway_changes", MON, FAIL, "!= DetachInternetGateway never counts that call"),
    ("cloudwatch_alarm_cmk_disable_or_deletion", MON, PASS, "the CIS filter distributed over its alternatives"),
]


def _status(by_policy: dict[str, dict[str, int]], ids: dict[str, str], pid: str, name: str) -> int | None:
    """The verdict on the resource whose ARN names ``ids[name]`` as a whole segment (load balancer ARNs end
    in a hash, task definition ARNs in a revision)."""
    token = ids.get(name, name)
    hits = [s for uid, s in by_policy.get(pid, {}).items() if token in re.split(r"[/:]", uid)]
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
def test_traps_and_decoys_3(moto_server: MotoServer, tmp_path: Path) -> None:
    _reset(moto_server)
    ids = seed(moto_server)
    _check(_scan(moto_server, tmp_path / "findings.jsonl", SERVICES), ids, EXPECTED)
