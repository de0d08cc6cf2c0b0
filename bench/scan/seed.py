"""Bulk seeding of a moto server: a few thousand resources of mixed types in two regions."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
DOC = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)


def _client(endpoint: str, service: str, region: str) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        config=Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=32),
    )


BASE = {
    "s3_bucket": 200,
    "iam_user": 150,
    "iam_role": 150,
    "iam_policy": 50,
    "sg": 250,
    "volume": 200,
    "instance": 40,
    "sqs": 150,
    "sns": 150,
    "kms": 40,
    "dynamodb": 30,
}


def plan(scale: float, regions: list[str]) -> dict[str, int]:
    """Counts per kind; ``scale`` = 1 gives about 3,000 resources, 0.1 about 250."""
    return {k: max(1, round(v * scale)) for k, v in BASE.items()}


def seed(endpoint: str, regions: list[str], scale: float = 1, workers: int = 8) -> dict[str, int]:
    """Create the resources; returns the number created per kind (regional kinds summed over regions)."""
    counts = plan(scale, regions)
    tasks: list[Callable[[], None]] = []
    g = {s: _client(endpoint, s, regions[0]) for s in ("s3", "iam")}

    def bucket(i: int) -> Callable[[], None]:
        def f() -> None:
            g["s3"].create_bucket(Bucket=f"bench-bucket-{i:05d}")
            if i % 3 == 0:
                g["s3"].put_bucket_versioning(
                    Bucket=f"bench-bucket-{i:05d}", VersioningConfiguration={"Status": "Enabled"}
                )

        return f

    tasks += [bucket(i) for i in range(counts["s3_bucket"])]
    tasks += [lambda i=i: g["iam"].create_user(UserName=f"bench-user-{i}") for i in range(counts["iam_user"])]
    tasks += [
        lambda i=i: g["iam"].create_role(RoleName=f"bench-role-{i}", AssumeRolePolicyDocument=TRUST)
        for i in range(counts["iam_role"])
    ]
    tasks += [
        lambda i=i: g["iam"].create_policy(PolicyName=f"bench-policy-{i}", PolicyDocument=DOC)
        for i in range(counts["iam_policy"])
    ]
    for region in regions:
        c = {s: _client(endpoint, s, region) for s in ("ec2", "sqs", "sns", "kms", "dynamodb")}
        vpc = c["ec2"].describe_vpcs()["Vpcs"][0]["VpcId"]
        tasks += [
            lambda c=c, i=i, vpc=vpc: c["ec2"].create_security_group(
                GroupName=f"bench-sg-{i}", Description="bench", VpcId=vpc
            )
            for i in range(counts["sg"])
        ]
        tasks += [
            lambda c=c, r=region: c["ec2"].create_volume(AvailabilityZone=f"{r}a", Size=1)
            for _ in range(counts["volume"])
        ]
        batches = [min(10, counts["instance"] - i) for i in range(0, counts["instance"], 10)]
        tasks += [
            lambda c=c, n=n: c["ec2"].run_instances(ImageId="ami-12c6146b", MinCount=n, MaxCount=n) for n in batches
        ]
        tasks += [lambda c=c, i=i: c["sqs"].create_queue(QueueName=f"bench-q-{i}") for i in range(counts["sqs"])]
        tasks += [lambda c=c, i=i: c["sns"].create_topic(Name=f"bench-t-{i}") for i in range(counts["sns"])]
        tasks += [lambda c=c: c["kms"].create_key(Description="bench") for _ in range(counts["kms"])]
        tasks += [
            lambda c=c, i=i: c["dynamodb"].create_table(
                TableName=f"bench-table-{i}",
                KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            for i in range(counts["dynamodb"])
        ]

    def attempt(task: Callable[[], None]) -> None:
        # moto's server is not fully thread-safe under concurrent writes: retry a failed create
        for n in range(5):
            try:
                task()
                return
            except Exception:
                if n == 4:
                    raise
                time.sleep(0.05 * (n + 1))

    with ThreadPoolExecutor(workers) as pool:
        for fut in [pool.submit(attempt, t) for t in tasks]:
            fut.result()
    regional = ("sg", "volume", "instance", "sqs", "sns", "kms", "dynamodb")
    return {k: v * (len(regions) if k in regional else 1) for k, v in counts.items()}
