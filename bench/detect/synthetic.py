"""A synthetic rule catalogue of any size, shaped like the real one (for the flatness benchmark).

Each rule selects one (eventSource, eventName) pair — most from the AWS APIs the mix never
calls, some from the ones it calls all the time — plus a second, non-index condition
(a request field, a user agent substring or a regex on the identity ARN), sometimes a
``not`` filter, sometimes a prefix instead of an exact name. So the index has real work to
do, and a catalogue that grows with rules the traffic does not touch should cost nothing.
"""

from __future__ import annotations

import random
import textwrap
from typing import Any

import yaml

SERVICES = [
    "ec2",
    "iam",
    "s3",
    "kms",
    "lambda",
    "rds",
    "sts",
    "logs",
    "monitoring",
    "dynamodb",
    "sqs",
    "sns",
    "secretsmanager",
    "ssm",
    "ecr",
    "eks",
    "glue",
    "sagemaker",
    "bedrock",
    "organizations",
]
VERBS = ["Create", "Delete", "Update", "Put", "Modify", "Attach", "Detach", "Enable", "Disable", "Get", "List"]
NOUNS = ["Widget", "Gadget", "Policy", "Key", "Role", "Bucket", "Queue", "Topic", "Table", "Cluster", "Model"]
HOT = [  # names the bench mix calls often: rules on these are evaluated for real
    ("s3", "GetObject"),
    ("s3", "PutObject"),
    ("ec2", "DescribeInstances"),
    ("kms", "Decrypt"),
    ("sts", "AssumeRole"),
]


def rule_docs(n: int, seed: int = 11, hot_share: float = 0.05) -> list[tuple[str, int, Any]]:
    """``n`` rule documents as the loader takes them: ``(file, index, parsed YAML)``.

    ``hot_share`` of them select one of the mix's busiest events (:data:`HOT`).
    """
    rng = random.Random(seed)
    docs: list[tuple[str, int, Any]] = []
    for i in range(n):
        if rng.random() < hot_share:
            svc, name = rng.choice(HOT)
        else:
            svc, name = rng.choice(SERVICES), rng.choice(VERBS) + rng.choice(NOUNS) + str(rng.randrange(50))
        name_sel = f"eventName|startswith: {name[:-1]}" if rng.random() < 0.1 else f"eventName: {name}"
        extra = rng.choice(
            [
                f"requestParameters.name|contains: secret{i}",
                f"userAgent|contains: tool{i}",
                f"userIdentity.arn|re: ':role/[a-z]+-{i}$'",
                "errorCode|exists: false",
            ]
        )
        filt = "\n  filter: {userIdentity.type: AWSService}\n  condition: selection and not filter" if i % 3 else ""
        text = textwrap.dedent(
            f"""\
            title: Synthetic rule {i}
            id: 5e000000-0000-4000-8000-{i:012d}
            logsource: {{product: aws, service: cloudtrail}}
            level: medium
            tags: [attack.discovery, attack.t1580]
            detection:
              selection:
                eventSource: {svc}.amazonaws.com
                {name_sel}
                {extra}
            """
        )
        text += filt[1:] + "\n" if filt else "  condition: selection\n"
        docs.append((f"synthetic/rule{i}.yml", 0, yaml.safe_load(text)))
    return docs
