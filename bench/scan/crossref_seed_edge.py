"""Traps and decoys for edge and container services: CloudFront, ELBv2, EKS (see crossref_seed.py)."""

from __future__ import annotations

from typing import Any

from bench.scan.crossref_seed import Seeder


def _distribution(
    ref: str,
    *,
    viewer: str,
    origin_policy: str,
    protocols: list[str],
    sni: str | None,
    groups: int | None,
    root: str,
    waf: str,
) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "CallerReference": ref,
        "Comment": ref,
        "Enabled": True,
        "DefaultRootObject": root,
        "WebACLId": waf,
        "Origins": {
            "Quantity": 2,
            "Items": [
                {"Id": "s3", "DomainName": "assets.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}},
                {
                    "Id": "api",
                    "DomainName": "api.example.com",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": origin_policy,
                        "OriginSslProtocols": {"Quantity": len(protocols), "Items": protocols},
                    },
                },
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "api",
            "ViewerProtocolPolicy": viewer,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "MinTTL": 0,
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
        "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
    }
    if sni:
        cfg["ViewerCertificate"] = {
            "ACMCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abcd",
            "SSLSupportMethod": sni,
            "MinimumProtocolVersion": "TLSv1.2_2021",
        }
    if groups is not None:
        members = [{"OriginId": "api"}, {"OriginId": "s3"}][:groups]
        cfg["OriginGroups"] = {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "g",
                    "FailoverCriteria": {"StatusCodes": {"Quantity": 1, "Items": [500]}},
                    "Members": {"Quantity": len(members), "Items": members},
                }
            ],
        }
    return cfg


def seed_edge(s: Seeder) -> None:
    cf = s.client("cloudfront")
    s.do(
        "cf:hardened",
        lambda: cf.create_distribution(
            DistributionConfig=_distribution(
                "xr-hardened",
                viewer="redirect-to-https",
                origin_policy="https-only",
                protocols=["TLSv1.2"],
                sni="sni-only",
                groups=2,
                root="index.html",
                waf="arn:aws:wafv2:us-east-1:123456789012:global/webacl/w/1",
            )
        ),
    )
    s.do(
        "cf:weak",
        lambda: cf.create_distribution(
            DistributionConfig=_distribution(
                "xr-weak",
                viewer="allow-all",
                origin_policy="match-viewer",
                protocols=["TLSv1", "TLSv1.2"],
                sni="vip",
                groups=2,
                root="",
                waf="",
            )
        ),
    )
    s.do(
        "cf:no-groups-default-cert",
        lambda: cf.create_distribution(
            DistributionConfig=_distribution(
                "xr-default",
                viewer="https-only",
                origin_policy="http-only",
                protocols=["SSLv3"],
                sni=None,
                groups=None,
                root="index.html",
                waf="",
            )
        ),
    )
    ec2 = s.client("ec2")
    subnets = [x["SubnetId"] for x in ec2.describe_subnets()["Subnets"]][:2]
    elb = s.client("elbv2")
    alb = s.do(
        "alb:weak",
        lambda: elb.create_load_balancer(Name="xr-alb", Subnets=subnets, Type="application")["LoadBalancers"][0][
            "LoadBalancerArn"
        ],
    )
    hard = s.do(
        "alb:hardened",
        lambda: elb.create_load_balancer(Name="xr-alb-hard", Subnets=subnets, Type="application")["LoadBalancers"][0][
            "LoadBalancerArn"
        ],
    )
    s.do("nlb:one-az", lambda: elb.create_load_balancer(Name="xr-nlb", Subnets=subnets[:1], Type="network"))
    if hard:
        s.do(
            "alb:attributes",
            lambda: elb.modify_load_balancer_attributes(
                LoadBalancerArn=hard,
                Attributes=[
                    {"Key": "deletion_protection.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.bucket", "Value": "xr-plain"},
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                    {"Key": "routing.http.desync_mitigation_mode", "Value": "defensive"},
                ],
            ),
        )
    if alb:
        s.do(
            "alb:monitor-mode",
            lambda: elb.modify_load_balancer_attributes(
                LoadBalancerArn=alb,
                Attributes=[
                    {"Key": "routing.http.desync_mitigation_mode", "Value": "monitor"},
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "false"},
                ],
            ),
        )
        tg = s.do(
            "alb:tg",
            lambda: elb.create_target_group(
                Name="xr-tg", Protocol="HTTP", Port=80, VpcId=ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
            )["TargetGroups"][0]["TargetGroupArn"],
        )
        cert = s.do(
            "acm:cert", lambda: s.client("acm").request_certificate(DomainName="xr.example.com")["CertificateArn"]
        )
        if tg and cert:
            s.do(
                "alb:https-old-policy",
                lambda: elb.create_listener(
                    LoadBalancerArn=alb,
                    Protocol="HTTPS",
                    Port=443,
                    SslPolicy="ELBSecurityPolicy-2016-08",
                    Certificates=[{"CertificateArn": cert}],
                    DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
                ),
            )
    eks = s.client("eks")
    role = "arn:aws:iam::123456789012:role/eks"
    vpc_cfg = {"subnetIds": subnets, "endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}
    s.do(
        "eks:open-old",
        lambda: eks.create_cluster(
            name="xr-open",
            version="1.27",
            roleArn=role,
            resourcesVpcConfig=vpc_cfg,
            logging={"clusterLogging": [{"types": ["audit"], "enabled": True}]},
        ),
    )
    s.do(
        "eks:hardened",
        lambda: eks.create_cluster(
            name="xr-hard",
            version="1.30",
            roleArn=role,
            resourcesVpcConfig={
                "subnetIds": subnets,
                "endpointPublicAccess": True,
                "publicAccessCidrs": ["203.0.113.0/24"],
            },
            logging={
                "clusterLogging": [
                    {"types": ["api", "audit", "authenticator", "controllerManager", "scheduler"], "enabled": True}
                ]
            },
            encryptionConfig=[
                {"resources": ["secrets"], "provider": {"keyArn": "arn:aws:kms:us-east-1:123456789012:key/1"}}
            ],
        ),
    )
