"""Toxic combinations: the built-in files (contract and their own tests), loader errors, relations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cspm_stream.combos import RELATIONS, Combination, check_policies, graph_of, load, run_test
from cspm_stream.combos.loader import builtin_dir, load_file
from cspm_stream.errors import DefinitionError
from cspm_stream.policy.catalog import load_catalog
from cspm_stream.policy.frameworks import builtin_framework_dir
from cspm_stream.policy.loader import builtin_policy_dir

BUILTIN = load()
FILES = sorted(builtin_dir().glob("*.yaml"))


@pytest.fixture(scope="module")
def policies() -> dict[str, Any]:
    return load_catalog([builtin_policy_dir()], [builtin_framework_dir()]).policies


def test_the_four_required_combinations_exist() -> None:
    ids = {c.id for c in BUILTIN}
    assert {
        "toxic_public_instance_privileged_role",
        "toxic_public_function_url_admin_role",
        "toxic_public_bucket_unencrypted_unlogged",
        "toxic_public_snapshot_unencrypted_db",
    } <= ids
    assert len(FILES) == len(BUILTIN)


@pytest.mark.parametrize("c", BUILTIN, ids=lambda c: c.id)
def test_builtin_combination_contract(c: Combination, policies: dict[str, Any]) -> None:
    assert not check_policies([c], policies), "a part names an unknown policy"
    assert c.id not in policies, "a combination id must not be a policy id"
    for part in c.parts:
        for pid in part.policies:
            assert policies[pid].resource_type in (c.anchor, "aws.iam.role", "aws.iam.principal") or any(
                v != "self" for v in part.via
            ), f"{pid} cannot fail on the anchor itself"
    sev = [policies[p].severity for part in c.parts for p in part.policies]
    weakest_part = min(min(policies[p].severity for p in part.policies) for part in c.parts)
    assert c.severity >= max(sev), "a combination is at least as severe as any of its checks"
    assert c.severity > weakest_part, "a combination is more severe than its weakest part"


@pytest.mark.parametrize(
    ("c", "t"),
    [(c, t) for c in BUILTIN for t in c.tests],
    ids=lambda x: getattr(x, "name", x.id) if hasattr(x, "id") else x.name,
)
def test_builtin_combination_examples(c: Combination, t: Any) -> None:
    ok, detail = run_test(c, t)
    assert ok, detail


def _write(tmp_path: Path, text: str, name: str = "toxic_x_y.yaml") -> Path:
    f = tmp_path / name
    f.write_text(text)
    return f


BASE = """id: toxic_x_y
title: t
description: d
rationale: r
severity: critical
anchor: aws.ec2.instance
parts:
- {name: a, via: self, policies: [ec2_instance_no_public_ip]}
- {name: b, via: instance_role, policies: [iam_privilege_escalation_path]}
remediation: {text: fix}
tests:
- {name: p, expect: pass, anchor: 'arn:x', resources: [], failing: []}
- {name: f, expect: fail, anchor: 'arn:x', resources: [], failing: []}
"""


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("via: instance_role", "via: nowhere"), "parts[1].via"),
        (("via: instance_role", "via: function_role"), "parts[1].via"),
        (("severity: critical", "severity: extreme"), "severity"),
        (("id: toxic_x_y", "id: toxic_other"), "id"),
        (("- {name: b, via: instance_role, policies: [iam_privilege_escalation_path]}\n", ""), "parts"),
        (("{name: f, expect: fail", "{name: f, expect: pass"), "tests"),
        (("remediation: {text: fix}", "remediation: {text: fix, references: [ftp://x]}"), "remediation.references"),
        (("anchor: aws.ec2.instance", "anchor: 'ec2 instance'"), "anchor"),
        (("title: t", "title: t\nextra: 1"), "extra"),
    ],
)
def test_loader_errors_name_the_file_and_path(tmp_path: Path, change: tuple[str, str], where: str) -> None:
    f = _write(tmp_path, BASE.replace(*change))
    with pytest.raises(DefinitionError) as exc:
        load_file(f)
    assert exc.value.path == where and str(f) in str(exc.value)


def test_unknown_policy_is_reported(tmp_path: Path, policies: dict[str, Any]) -> None:
    c = load_file(_write(tmp_path, BASE.replace("iam_privilege_escalation_path", "iam_privilege_escalation_typo")))
    (err,) = check_policies([c], policies)
    assert "iam_privilege_escalation_typo" in str(err)


def test_not_utf8_is_a_load_error(tmp_path: Path) -> None:
    f = tmp_path / "toxic_x_y.yaml"
    f.write_bytes(b"id: \xff\xfe")
    with pytest.raises(DefinitionError, match="UTF-8"):
        load_file(f)


# ---------------------------------------------------------------- relations, both ways
INSTANCE = "arn:aws:ec2:eu-west-1:111122223333:instance/i-1"
SG = "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-9"
PROFILE = "arn:aws:iam::111122223333:instance-profile/p"
ROLE = "arn:aws:iam::111122223333:role/r"


def _estate() -> Any:
    return graph_of(
        [
            (
                "aws.ec2.instance",
                INSTANCE,
                {"SecurityGroups": [{"GroupId": "sg-9"}], "IamInstanceProfile": {"Arn": PROFILE}},
            ),
            ("aws.iam.role", ROLE, {"InstanceProfiles": [{"Arn": PROFILE}]}),
            ("aws.lambda.function", "arn:aws:lambda:eu-west-1:111122223333:function:f", {"Role": ROLE}),
        ],
        [],
    )


def test_relations_forward_and_reverse_agree() -> None:
    g = _estate()
    fwd = {
        name: RELATIONS[name].forward(INSTANCE, g.resource(INSTANCE)[1], g)
        for name in ("instance_security_groups", "instance_role")
    }
    assert fwd == {"instance_security_groups": [SG], "instance_role": [ROLE]}
    assert RELATIONS["instance_security_groups"].reverse(SG, g) == [INSTANCE]
    assert RELATIONS["instance_role"].reverse(ROLE, g) == [INSTANCE]
    assert RELATIONS["function_role"].reverse(ROLE, g) == ["arn:aws:lambda:eu-west-1:111122223333:function:f"]


def test_anchors_reaching_follow_updates() -> None:
    c = next(x for x in BUILTIN if x.id == "toxic_public_instance_privileged_role")
    g = _estate()
    assert c.anchors_reaching(ROLE, g) == {INSTANCE}
    assert c.anchors_reaching(SG, g) == {INSTANCE}
    # the instance moves to another group and loses its profile: nothing reaches it any more
    g.upsert(
        INSTANCE, "aws.ec2.instance", {"SecurityGroups": ["sg-1"], "NetworkInterfaces": [], "IamInstanceProfile": ""}
    )
    assert c.anchors_reaching(ROLE, g) == set() and c.anchors_reaching(SG, g) == set()
    g.remove(INSTANCE)
    assert c.anchors_reaching(f"{SG[:-4]}sg-1", g) == set()


def test_outcome_lists_every_part_with_finding_uids() -> None:
    c = next(x for x in BUILTIN if x.id == "toxic_public_instance_privileged_role")
    g = _estate()
    for pid, arn in (
        ("ec2_instance_no_public_ip", INSTANCE),
        ("ec2_sg_ingress_any_port_world", SG),
        ("iam_privilege_escalation_path", ROLE),
    ):
        g.fail(arn, pid, True)
    out = c.evaluate(INSTANCE, g)
    assert out.holds and [h.part for h in out.hits] == ["public_ip", "open_security_group", "privileged_role"]
    assert all(len(h.finding_uid) == 32 for h in out.hits) and "finding" in out.detail()
    g.fail(SG, "ec2_sg_ingress_any_port_world", False)
    assert not c.evaluate(INSTANCE, g).holds


@pytest.mark.parametrize("bad", [None, 1, "x", [], [1, None], {"GroupId": 5}, [{"GroupId": ["a"]}]])
def test_relation_projection_tolerates_any_json(bad: Any) -> None:
    g = graph_of(
        [
            (
                "aws.ec2.instance",
                INSTANCE,
                {"SecurityGroups": bad, "NetworkInterfaces": bad, "IamInstanceProfile": bad},
            ),
            ("aws.lambda.function", "arn:aws:lambda:r:1:function:f", {"Role": bad}),
        ],
        [],
    )
    for c in BUILTIN:
        c.evaluate(INSTANCE, g)
