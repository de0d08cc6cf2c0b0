"""Every YAML file the product reads refuses a key given twice, naming the file, the line and the key.

PyYAML silently keeps the last of two equal keys; the strict loaders (cspm_stream.strict_yaml) are
what settings, policies, frameworks, rules, rule tests, combinations, playbooks, mutelists, the
rescan map and the external mapping are read with.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cspm_stream import strict_yaml
from cspm_stream.cli import main
from cspm_stream.combos.loader import load as load_combinations
from cspm_stream.detect.loader import load_paths
from cspm_stream.detect.rescan import load_map
from cspm_stream.errors import DefinitionError
from cspm_stream.policy.catalog import load_catalog
from cspm_stream.remediate.playbooks import load as load_playbooks

ROOT = Path(__file__).resolve().parents[2]


def _shipped_yaml() -> list[Path]:
    files = [*sorted((ROOT / "cspm_stream").rglob("*.yaml")), *sorted((ROOT / "cspm_stream").rglob("*.yml"))]
    return files + sorted((ROOT / "config").glob("*.yaml"))


# --- the loader ---------------------------------------------------------------------------------


def test_a_duplicate_key_names_the_key_and_both_lines() -> None:
    with pytest.raises(strict_yaml.DuplicateKeyError) as info:
        strict_yaml.load("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n")
    assert info.value.key == "c"
    assert strict_yaml.problem(info.value) == "line 5, column 3: duplicate key 'c' (first at line 3)"


def test_keys_equal_after_construction_are_duplicates() -> None:
    # `1` and `0x1` are the same integer key: PyYAML would keep one of them
    with pytest.raises(strict_yaml.DuplicateKeyError):
        strict_yaml.load("1: a\n0x1: b\n")


def test_merge_keys_still_merge_and_may_be_overridden() -> None:
    doc = strict_yaml.load("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n")
    assert doc["use"] == {"x": 1, "y": 3}
    with pytest.raises(strict_yaml.DuplicateKeyError):
        strict_yaml.load("base: &b {x: 1}\nuse:\n  <<: *b\n  y: 3\n  y: 4\n")


def test_the_same_key_in_different_mappings_and_documents_is_fine() -> None:
    assert strict_yaml.load_all("a: {k: 1}\nb: {k: 2}\n---\na: 3\n") == [{"a": {"k": 1}, "b": {"k": 2}}, {"a": 3}]
    with pytest.raises(strict_yaml.DuplicateKeyError):
        strict_yaml.load_all("a: 1\n---\nb: 1\nb: 2\n")


def test_variants_keep_their_scalar_rules() -> None:
    assert strict_yaml.load("t: 2025-01-01T00:00:00Z\n", strict_yaml.TextLoader) == {"t": "2025-01-01T00:00:00Z"}
    assert strict_yaml.load("m: off\nb: true\n", strict_yaml.ConfigLoader) == {"m": "off", "b": True}
    assert strict_yaml.load("m: off\n") == {"m": False}  # YAML 1.1 as PyYAML reads it (Sigma rules)


def test_problem_never_quotes_the_text() -> None:
    with pytest.raises(yaml.YAMLError) as info:
        strict_yaml.load("password: hunter2\npassword: hunter3\n", strict_yaml.ConfigLoader)
    assert "hunter" not in strict_yaml.problem(info.value)


# --- every shipped file ---------------------------------------------------------------------------


def test_every_shipped_yaml_loads_under_the_strict_loader() -> None:
    refused: list[str] = []
    for path in _shipped_yaml():
        text = path.read_text(encoding="utf-8")
        try:
            docs = strict_yaml.load_all(text)
        except yaml.YAMLError as exc:
            refused.append(f"{path.relative_to(ROOT)}: {strict_yaml.problem(exc)}")
            continue
        assert docs == list(yaml.safe_load_all(text)), path  # same content as PyYAML reads
    assert not refused, "\n".join(refused)


def test_shipped_yaml_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _shipped_yaml()}
    assert {"config/cspm.yaml", "cspm_stream/detect/rescan_map.yaml", "cspm_stream/external/mapping.yaml"} <= names
    assert len(names) > 600


def test_alarm_action_switches_rescan_the_alarm_and_the_monitoring_view() -> None:
    m = load_map()
    for name in ("EnableAlarmActions", "DisableAlarmActions"):
        rec = {
            "eventSource": "monitoring.amazonaws.com",
            "eventName": name,
            "eventID": "e1",
            "awsRegion": "eu-west-1",
            "recipientAccountId": "123456789012",
            "userIdentity": {"type": "IAMUser", "accountId": "123456789012"},
            "requestParameters": {"alarmNames": ["root-usage"]},
        }
        got = {(t.resource_type, t.arn) for t in m.targets(rec)}
        assert got == {
            ("aws.logs.monitoring", "arn:aws:logs:eu-west-1:123456789012:monitoring"),
            ("aws.cloudwatch.alarm", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:root-usage"),
        }, name


# --- each loader refuses a duplicate, naming file, line and key -----------------------------------


def test_a_config_file_with_a_duplicate_key_fails_at_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "cspm.yaml"
    cfg.write_text("app:\n  id: one\nkafka:\n  partitions: 3\n  partitions: 6\n")
    code = main(["-c", str(cfg), "topics", "list"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert code == 2 and len(err) == 1, err
    assert str(cfg) in err[0] and "line 5" in err[0] and "duplicate key 'partitions'" in err[0], err


POLICY = """\
id: dup_policy
title: t
description: d
rationale: r
severity: low
resource_type: aws.s3.bucket
condition: {path: Name, op: eq, value: x}
severity: high
"""


def test_a_policy_file_with_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dup_policy.yaml").write_text(POLICY)
    errors: list[DefinitionError] = []
    cat = load_catalog([tmp_path], [], errors=errors)
    assert "dup_policy" not in cat.policies
    (e,) = errors
    assert "dup_policy.yaml" in str(e) and "line 8" in str(e) and "duplicate key 'severity'" in str(e)


def test_a_rule_file_with_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(
        "title: t\nid: 6f1c2d4e-0000-4000-8000-000000000001\nlogsource: {product: aws, service: cloudtrail}\n"
        "detection:\n  sel: {eventName: A}\n  sel: {eventName: B}\n  condition: sel\nlevel: low\n"
    )
    rs = load_paths([rule])
    (e,) = rs.errors
    assert e.file == str(rule) and "line 6" in e.reason and "duplicate key 'sel'" in e.reason


def test_a_rescan_map_with_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    entry = "  - {type: aws.s3.bucket, id: [requestParameters.bucketName]}\n"
    bad = tmp_path / "map.yaml"
    bad.write_text(f"s3.amazonaws.com PutBucketAcl:\n{entry}s3.amazonaws.com PutBucketAcl:\n{entry}")
    with pytest.raises(DefinitionError) as info:
        load_map(bad)
    assert str(bad) in str(info.value) and "line 3" in str(info.value)
    assert "duplicate key 's3.amazonaws.com PutBucketAcl'" in str(info.value)


def test_combination_and_playbook_files_with_a_duplicate_key_are_refused(tmp_path: Path) -> None:
    (tmp_path / "toxic_x.yaml").write_text("id: toxic_x\nanchor: aws.s3.bucket\nanchor: aws.ec2.instance\n")
    with pytest.raises(DefinitionError) as info:
        load_combinations([tmp_path])
    assert "toxic_x.yaml" in str(info.value) and "duplicate key 'anchor'" in str(info.value)
    pb = tmp_path / "pb"
    pb.mkdir()
    (pb / "p.yaml").write_text("id: p\nrules: [a]\nrules: [b]\n")
    with pytest.raises(DefinitionError) as info:
        load_playbooks([pb])
    assert "p.yaml" in str(info.value) and "line 3" in str(info.value) and "duplicate key 'rules'" in str(info.value)


# --- the fast walk builds what PyYAML's constructor builds ------------------------------------------


def _general(text: str, loader: type[strict_yaml.StrictLoader]) -> list[object]:
    """``load_all`` through PyYAML's general constructor only (the walk switched off)."""

    class General(loader):  # type: ignore[valid-type,misc]
        def construct_document(self, node: yaml.Node) -> object:
            return yaml.constructor.BaseConstructor.construct_document(self, node)

    return list(yaml.load_all(text, Loader=General))


def _outcome(load: object) -> object:
    try:
        return load()  # type: ignore[operator]
    except yaml.YAMLError as exc:
        return (type(exc).__name__, strict_yaml.problem(exc))


def test_every_project_yaml_file_loads_the_same_with_and_without_the_walk() -> None:
    files = [
        p for p in [*ROOT.rglob("*.yml"), *ROOT.rglob("*.yaml")] if ".venv" not in p.parts and ".git" not in p.parts
    ]
    assert len(files) > 1000
    shipped = set(_shipped_yaml())
    for f in files:
        text = f.read_text(encoding="utf-8")
        loaders = (strict_yaml.StrictLoader, strict_yaml.TextLoader, strict_yaml.ConfigLoader)
        for loader in loaders if f in shipped else loaders[:1]:
            fast = _outcome(lambda: strict_yaml.load_all(text, loader))
            assert fast == _outcome(lambda: _general(text, loader)), (f, loader.__name__)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # a repeated key: the same error, with both lines
        "base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n",  # merge keys
        "when: 2026-01-01T00:00:00Z\nday: 2026-01-02\n",  # timestamps (strings for TextLoader)
        "s: !!set {a, b}\nbin: !!binary aGk=\n",  # other tags
        "x: &a [1, 2]\ny: *a\n",  # an alias shares one object
        "? [1, 2]\n: unhashable key\n",
        "n: 0x1f\nf: .inf\nb: yes\nnull_: ~\noct: 0o17\nsexa: 1:30\n",  # YAML 1.1 scalars
        "big: " + "9" * 150 + "\n",  # refused number
        "deep: " + "[" * 3000 + "]" * 3000 + "\n",  # deeper than the walk recurses
        "r: &r [*r]\n",  # a structure holding itself
        "- a\n- {b: c, d: [e, {f: g}]}\n---\nsecond: doc\n",
    ],
)
def test_edge_documents_load_the_same_with_and_without_the_walk(text: str) -> None:
    for loader in (strict_yaml.StrictLoader, strict_yaml.TextLoader, strict_yaml.ConfigLoader):
        fast, general = _outcome(lambda: strict_yaml.load_all(text, loader)), _outcome(lambda: _general(text, loader))
        if text.startswith("r: &r"):  # recursive: compare the shape, not with == (infinite)
            assert type(fast) is type(general) is list and fast[0]["r"][0] is fast[0]["r"]  # type: ignore[index]
            continue
        assert fast == general, (text[:40], loader.__name__)
        if text.startswith("x: &a"):
            assert fast[0]["x"] is fast[0]["y"]  # type: ignore[index]
