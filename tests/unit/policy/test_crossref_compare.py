"""The per-pair, per-resource comparison of bench.scan.crossref (pure functions, no moto, no Prowler)."""

from __future__ import annotations

from bench.scan.crossref import Pair, compare, key, rid

SG = Pair("ec2_sg_ingress_ssh_world_excl_all_ports", "aws.ec2.security_group", "ec2_sg_check")
USER = Pair("iam_user_single_active_access_key", "aws.iam.user", "iam_user_two_active_access_key")
ROOT = Pair("iam_root_single_active_access_key", "aws.iam.account", "iam_user_two_active_access_key")
REGION = Pair("guardduty_enabled", "aws.guardduty.region", "guardduty_is_enabled")


def test_resource_ids_from_arns_and_urls() -> None:
    assert rid("arn:aws:ec2:us-east-1:123456789012:security-group/sg-1") == "sg-1"
    assert rid("https://sqs.us-east-1.amazonaws.com/123456789012/q1") == "q1"
    assert rid("arn:aws:logs:us-east-1:123456789012:log-group:trail:*") == "trail"
    assert rid("arn:aws:iam::123456789012:root") == "root"


def test_keys_by_level() -> None:
    assert key(REGION, "arn:aws:guardduty:eu-west-1:1:detector/x", "eu-west-1", ours=False) == "eu-west-1"
    # the credential report's root row belongs to the account-level twin, not to the users' policy
    assert key(USER, "arn:aws:iam::1:root", "us-east-1", ours=False) is None
    assert key(ROOT, "arn:aws:iam::1:root", "us-east-1", ours=False) == "account"
    assert key(ROOT, "arn:aws:iam::1:user/alice", "us-east-1", ours=False) is None
    assert key(ROOT, "arn:aws:iam::1:account", "", ours=True) == "account"


def test_compare_folds_counts_and_separates() -> None:
    ours = {
        SG.policy: [
            ("arn:aws:ec2:us-east-1:1:security-group/sg-a", "us-east-1", "FAIL"),
            ("arn:aws:ec2:us-east-1:1:security-group/sg-b", "us-east-1", "PASS"),
            ("arn:aws:ec2:us-east-1:1:security-group/sg-c", "us-east-1", "ERROR"),
            ("arn:aws:ec2:us-east-1:1:security-group/sg-d", "us-east-1", "PASS"),
        ]
    }
    theirs = {
        SG.check: [
            ("arn:aws:ec2:us-east-1:1:security-group/sg-a", "us-east-1", "PASS"),
            ("arn:aws:ec2:us-east-1:1:security-group/sg-a", "us-east-1", "FAIL"),  # any FAIL wins
            ("arn:aws:ec2:us-east-1:1:security-group/sg-b", "us-east-1", "FAIL"),
            ("arn:aws:ec2:us-east-1:1:security-group/sg-c", "us-east-1", "FAIL"),
            ("arn:aws:ec2:us-east-1:1:security-group/sg-z", "us-east-1", "PASS"),
            ("arn:aws:ec2:us-east-1:1:security-group/sg-m", "us-east-1", "MANUAL"),  # no verdict
        ]
    }
    (r,) = compare([SG], ours, theirs)
    assert r.agree == ["sg-a"]
    assert r.disagree == [("sg-b", "PASS", "FAIL")]
    assert r.ours_error == ["sg-c"]  # a coverage gap, not a disagreement
    assert r.ours_only == {"PASS": 1}
    assert r.theirs_only == [("sg-z", "PASS")]
    assert r.both == 2
