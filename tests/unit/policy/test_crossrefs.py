"""Cross-references of the built-in policies (see the policies README, "Cross-references").

* ``related.prowler`` names exact equivalents: a Prowler check is listed as exact by at most one
  policy per resource type (one Prowler finding maps to one of our findings);
* every Prowler id (exact or ``see_also``) is a check of the Prowler release the side-by-side
  benchmark runs (``bench/scan/crossref.py``), so a renamed or invented id fails here.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from cspm_stream.policy.loader import builtin_policy_dir, load_policies
from cspm_stream.policy.model import Policy

CHECKS_FILE = Path(__file__).parent / "data" / "prowler-5.46.0-aws-checks.txt"


@pytest.fixture(scope="module")
def policies() -> list[Policy]:
    return load_policies([builtin_policy_dir()], strict=True)


def prowler_checks() -> frozenset[str]:
    lines = CHECKS_FILE.read_text().splitlines()
    return frozenset(x.strip() for x in lines if x.strip() and not x.startswith("#"))


def owners_by_check(pols: list[Policy]) -> dict[str, list[Policy]]:
    out: dict[str, list[Policy]] = defaultdict(list)
    for p in pols:
        for c in p.related.prowler:
            out[c].append(p)
    return out


def shared_exact(pols: list[Policy]) -> list[str]:
    """Prowler checks listed as exact by two policies of the same resource type."""
    bad = []
    for check, owners in sorted(owners_by_check(pols).items()):
        types: dict[str, list[str]] = defaultdict(list)
        for p in owners:
            types[p.resource_type].append(p.id)
        bad += [f"{check}: {', '.join(ids)} ({rtype})" for rtype, ids in types.items() if len(ids) > 1]
    return bad


def test_a_prowler_check_maps_to_one_policy_per_resource_type(policies: list[Policy]) -> None:
    bad = shared_exact(policies)
    assert not bad, "Prowler checks claimed as exact by several policies of one resource type:\n" + "\n".join(bad)


def test_the_rule_catches_a_second_claimant(policies: list[Policy]) -> None:
    import dataclasses

    ssh = next(p for p in policies if p.id == "ec2_sg_ingress_ssh_world_excl_all_ports")
    clone = dataclasses.replace(ssh, id="ec2_sg_copy")
    assert shared_exact([ssh, clone]) == [
        "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22: ec2_sg_ingress_ssh_world_excl_all_ports, "
        "ec2_sg_copy (aws.ec2.security_group)"
    ]
    # the same check on another resource type (root user vs IAM users) is allowed: each is exact on its type
    root = next(p for p in policies if p.id == "iam_root_single_active_access_key")
    users = next(p for p in policies if p.id == "iam_user_single_active_access_key")
    assert shared_exact([root, users]) == []


def test_prowler_ids_are_checks_of_the_benchmarked_release(policies: list[Policy]) -> None:
    known = prowler_checks()
    assert len(known) > 500
    bad = sorted(
        f"{p.id}: {c}" for p in policies for c in (*p.related.prowler, *p.related.see_also.prowler) if c not in known
    )
    assert not bad, "not Prowler 5.46.0 AWS checks:\n" + "\n".join(bad)


def test_see_also_never_repeats_an_exact_id(policies: list[Policy]) -> None:
    for p in policies:
        assert not set(p.related.prowler) & set(p.related.see_also.prowler), p.id
        assert not set(p.related.securityhub) & set(p.related.see_also.securityhub), p.id


def test_the_examples_of_the_brief_are_separated(policies: list[Policy]) -> None:
    by_id = {p.id: p for p in policies}
    # SSH or RDP is not the port-22 check; the port-22 check has its own exact twin
    admin = by_id["ec2_sg_ingress_admin_ports_ipv4_world"].related
    assert (
        not admin.prowler and "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22" in admin.see_also.prowler
    )
    # MFA for every user is not the console-users check; the console policy is its exact equivalent
    assert by_id["iam_user_mfa_enabled"].related.prowler == ()
    assert by_id["iam_user_mfa_console"].related.prowler == ("iam_user_mfa_enabled_console_access",)
    # a public bucket policy is not the public-write check
    assert "s3_bucket_policy_public_write_access" in by_id["s3_bucket_policy_public"].related.see_also.prowler
    # multi-region logging per region vs per trail
    assert by_id["cloudtrail_enabled_in_region"].related.prowler == ("cloudtrail_multi_region_enabled",)
    assert "cloudtrail_multi_region_enabled" in by_id["cloudtrail_trail_logging"].related.see_also.prowler
