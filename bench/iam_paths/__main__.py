"""``python -m bench.iam_paths [--principals N] [--policies M] [--seed S]``: escalation-path
analysis of one synthetic account: time and peak memory. Prints JSON.

The account (default 5,000 principals, 20,000 customer managed policies) is built like a large
real one: 60% users and 40% roles; 50 groups; every principal has one inline policy and four
attached managed policies, every group three; most policies grant scoped service access, some
read-only wildcards, a few percent IAM or PassRole rights (scoped or not), a handful of roles
are administrators. Roles trust the account (30%), a named principal (20%) or a compute service
(50%: Lambda, EC2, Glue, ECS, CodeBuild, SageMaker); a fifth of the principals may call
sts:AssumeRole on every role (the shape that makes naive pair-wise search quadratic). There is
one SCP level (FullAWSAccess plus a deny of leaving the organization).

Measured: building the account from snapshot attributes and the analysis (every principal's
result), wall and CPU seconds (the machine may be shared: CPU time is the steadier figure),
the whole process's peak RSS, and the counts of admins / escalating principals.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from typing import Any

from cspm_stream.iamgraph.build import Resource, build_account
from cspm_stream.iamgraph.model import ADMINISTRATOR_ACCESS
from cspm_stream.iamgraph.paths import ADMIN, ESCALATES, Analysis
from cspm_stream.iamgraph.synthetic import (
    ACCOUNT,
    FULL_AWS_ACCESS,
    allow,
    arn,
    deny,
    doc,
    function,
    group,
    policy,
    role,
    scp_account,
    trust_account,
    trust_principals,
    trust_service,
    user,
)

SERVICES = ("s3", "dynamodb", "sqs", "sns", "kinesis", "logs", "ssm", "secretsmanager", "kms", "ec2")
COMPUTE = (
    "lambda.amazonaws.com",
    "ec2.amazonaws.com",
    "glue.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "codebuild.amazonaws.com",
    "sagemaker.amazonaws.com",
)


def _policy_doc(rng: random.Random, i: int) -> dict[str, Any]:
    roll = rng.random()
    svc = rng.choice(SERVICES)
    if roll < 0.70:  # scoped service access
        return doc(
            allow([f"{svc}:Get*", f"{svc}:List*", f"{svc}:Put*"], [f"arn:aws:{svc}:*:{ACCOUNT}:app-{i % 97}-*"]),
            allow(f"{svc}:Describe*"),
        )
    if roll < 0.90:  # read-only wildcards
        return doc(allow([f"{s}:Describe*" for s in rng.sample(SERVICES, 4)]), allow("cloudwatch:Get*"))
    if roll < 0.95:  # IAM self-service or scoped IAM
        return doc(
            allow(["iam:CreateAccessKey", "iam:UpdateLoginProfile"], "arn:aws:iam::*:user/${aws:username}"),
            allow("iam:Get*"),
        )
    if roll < 0.98:  # deployers: PassRole + compute, mostly scoped
        scope = "*" if rng.random() < 0.2 else arn("role", f"svc-{rng.randrange(400)}")
        return doc(
            allow("iam:PassRole", scope),
            allow(
                [
                    "lambda:CreateFunction",
                    "lambda:InvokeFunction",
                    "ecs:RunTask",
                    "ecs:RegisterTaskDefinition",
                    "ec2:RunInstances",
                ]
            ),
        )
    # risky IAM writes
    action = rng.choice(["iam:AttachUserPolicy", "iam:PutRolePolicy", "iam:CreatePolicyVersion", "iam:AddUserToGroup"])
    return doc(allow(action, "*" if rng.random() < 0.3 else arn("role", f"svc-{rng.randrange(400)}")))


def synthetic_account(principals: int, policies: int, seed: int) -> list[Resource]:
    rng = random.Random(seed)
    out: list[Resource] = [policy(f"p{i}", _policy_doc(rng, i)) for i in range(policies)]
    pol_arns = [arn("policy", f"p{i}") for i in range(policies)]
    n_groups = 50
    out += [group(f"g{i}", attached=rng.sample(pol_arns, 3)) for i in range(n_groups)]
    n_users = int(principals * 0.6)
    for i in range(n_users):
        stmts = [allow("s3:ListAllMyBuckets")]
        if rng.random() < 0.2:
            stmts.append(allow("sts:AssumeRole"))
        out.append(
            user(
                f"u{i}",
                attached=rng.sample(pol_arns, 4),
                inline=[doc(*stmts)],
                groups=[f"g{rng.randrange(n_groups)}"],
                keys=rng.randrange(3),
                login=rng.random() < 0.5,
            )
        )
    for i in range(principals - n_users):
        roll = rng.random()
        if roll < 0.3:
            trust = trust_account()
        elif roll < 0.5:
            trust = trust_principals(arn("user", f"u{rng.randrange(n_users)}"))
        else:
            trust = trust_service(rng.choice(COMPUTE))
        attached = [ADMINISTRATOR_ACCESS] if i % 250 == 0 else rng.sample(pol_arns, 4)
        stmts = [allow("sts:AssumeRole")] if rng.random() < 0.2 else [allow("logs:PutLogEvents")]
        out.append(
            role(f"svc-{i}", trust, attached=attached, inline=[doc(*stmts)], profiles=[f"ip{i}"] if i % 3 == 0 else [])
        )
        if i % 10 == 0:
            out.append(function(f"fn{i}", arn("role", f"svc-{i}")))
    out.append(scp_account([[FULL_AWS_ACCESS, doc(deny("organizations:LeaveOrganization"))]]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.iam_paths", description=__doc__.splitlines()[0] if __doc__ else None
    )
    ap.add_argument("--principals", type=int, default=5000)
    ap.add_argument("--policies", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    resources = synthetic_account(args.principals, args.policies, args.seed)
    t1, c1 = time.perf_counter(), time.process_time()
    account = build_account(ACCOUNT, resources)
    t2, c2 = time.perf_counter(), time.process_time()
    results = Analysis(account).run()
    t3, c3 = time.perf_counter(), time.process_time()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    statuses: dict[str, int] = {}
    for r in results.values():
        statuses[r.status] = statuses.get(r.status, 0) + 1
    longest = max((len(r.path) for r in results.values()), default=0)
    out = {
        "principals": len(account.principals),
        "managed_policies": len(account.policies),
        "resources": len(resources),
        "generate_s": round(t1 - t0, 3),
        "build_s": round(t2 - t1, 3),
        "analyse_s": round(t3 - t2, 3),
        "total_s": round(t3 - t1, 3),
        "build_cpu_s": round(c2 - c1, 3),
        "analyse_cpu_s": round(c3 - c2, 3),
        "peak_rss_mb": round(rss_kib / 1024, 1),
        "admin": statuses.get(ADMIN, 0),
        "escalates": statuses.get(ESCALATES, 0),
        "statuses": statuses,
        "longest_path": longest,
        "python": sys.version.split()[0],
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
