from __future__ import annotations

from pathlib import Path

import pytest

from cspm_stream.errors import DefinitionError, PolicyError
from cspm_stream.models.enums import Severity
from cspm_stream.policy.catalog import Catalog, load_catalog
from cspm_stream.policy.frameworks import FrameworkError
from cspm_stream.policy.loader import load_policies, load_policy_file
from cspm_stream.policy.schema import policy_json_schema
from cspm_stream.policy.yamlio import read_yaml

from .conftest import FIXTURES

GOOD = """\
id: my_policy
title: T
description: D
rationale: R
severity: high
resource_type: aws.s3.bucket
condition: {path: Encryption, op: absent}
remediation: {text: fix it}
tests:
  - {name: p, expect: pass, attributes: {Encryption: {}}}
  - {name: f, expect: fail, attributes: {Encryption: null}}
"""


def write(tmp: Path, text: str, name: str = "my_policy.yaml") -> Path:
    p = tmp / name
    p.write_text(text)
    return p


def test_good_policy(tmp_path: Path) -> None:
    pol = load_policy_file(write(tmp_path, GOOD))
    assert pol.id == "my_policy" and pol.severity is Severity.HIGH and pol.service == "s3"
    assert pol.condition.reads == frozenset({"Encryption"})


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        (("severity: high", "severity: urgent"), "severity", "not one of"),
        (("id: my_policy", "id: other_id"), "id", "file name stem"),
        (("resource_type: aws.s3.bucket", "resource_type: S3Bucket"), "resource_type", "aws.<service>.<type>"),
        (("op: absent}", "op: missing}"), "condition.op", "unknown operator"),
        (
            ("remediation: {text: fix it}", "remediation: {text: fix it, action: nuke_it}"),
            "remediation.action",
            "known action",
        ),
        (("title: T", "title: T\nauthor: me"), "author", "unknown field"),
        (("  - {name: p, expect: pass, attributes: {Encryption: {}}}\n", ""), "tests", "expect: pass"),
        (("{name: f, expect: fail", "{name: f, expect: failed"), "tests[1].expect", "not one of"),
        (
            ("remediation: {text: fix it}", "remediation: {text: fix it, references: [ftp://x]}"),
            "remediation.references[0]",
            "URL",
        ),
    ],
)
def test_errors_name_file_path_reason(tmp_path: Path, change: tuple[str, str], path: str, reason: str) -> None:
    f = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(PolicyError) as exc:
        load_policy_file(f)
    assert exc.value.file == str(f)
    assert exc.value.path == path
    assert reason in exc.value.reason
    assert str(f) in str(exc.value) and path in str(exc.value)


def test_lenient_mode_for_user_policies(tmp_path: Path) -> None:
    text = "id: my_policy\ntitle: T\nseverity: low\nresource_type: aws.s3.bucket\ncondition: {path: A, op: present}\n"
    f = write(tmp_path, text)
    with pytest.raises(PolicyError):
        load_policy_file(f, strict=True)
    assert load_policy_file(f, strict=False).tests == ()
    assert [p.id for p in load_policies([tmp_path])] == ["my_policy"]  # user folders are lenient


def test_invalid_yaml_and_duplicates(tmp_path: Path) -> None:
    write(tmp_path, "id: [unclosed", "broken.yaml")
    (tmp_path / "sub").mkdir()
    write(tmp_path, GOOD)
    write(tmp_path / "sub", GOOD)
    errors: list[PolicyError] = []
    pols = load_policies([tmp_path], errors=errors)
    assert [p.id for p in pols] == ["my_policy"]
    reasons = sorted(e.reason for e in errors)
    assert any("invalid YAML" in r for r in reasons)
    assert any("duplicate policy id" in r for r in reasons)


def test_timestamps_stay_strings(tmp_path: Path) -> None:
    f = write(tmp_path, "a: 2025-01-01T00:00:00Z\n", "x.yaml")
    assert read_yaml(f) == {"a": "2025-01-01T00:00:00Z"}


def test_fixture_catalog_mapping(fixture_catalog: Catalog) -> None:
    ref = fixture_catalog.compliance("fx_s3_no_encryption")
    assert ref.standards == ("fixture-fw", "fixture-extra")
    assert ref.requirements == ("fixture-fw:1.2", "fixture-extra:X.1")
    assert fixture_catalog.compliance("fx_s3_public_acl").requirements == ("fixture-fw:1.1",)
    eng = fixture_catalog.engine("fixture-fw")
    assert {p.id for p in eng.for_type("aws.s3.bucket")} == {
        "fx_s3_public_acl",
        "fx_s3_policy_public",
        "fx_s3_no_encryption",
    }
    with pytest.raises(PolicyError):
        fixture_catalog.engine("nope")


def test_framework_unknown_policy_reference(tmp_path: Path) -> None:
    fw = tmp_path / "fw"
    fw.mkdir()
    (fw / "my-fw.yaml").write_text(
        "id: my-fw\nname: n\nversion: '1'\nrequirements:\n  - {id: '1', title: t, policies: [fx_s3_public_acl, ghost]}\n"
    )
    errors: list[DefinitionError] = []
    load_catalog([FIXTURES / "policies"], [fw], errors=errors)
    assert len(errors) == 1
    assert isinstance(errors[0], FrameworkError)
    assert errors[0].path == "requirements[0].policies[1]" and "ghost" in errors[0].reason


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ("id: wrong\nname: n\nversion: '1'\nrequirements: [{id: '1', title: t}]\n", "id"),
        ("id: my-fw\nname: n\nversion: '1'\nrequirements: []\n", "requirements"),
        (
            "id: my-fw\nname: n\nversion: '1'\nrequirements: [{id: '1', title: t, automated: maybe}]\n",
            "requirements[0].automated",
        ),
        (
            "id: my-fw\nname: n\nversion: '1'\nrequirements: [{id: '1', title: t}, {id: '1', title: u}]\n",
            "requirements[1].id",
        ),
    ],
)
def test_framework_errors(tmp_path: Path, body: str, path: str) -> None:
    (tmp_path / "my-fw.yaml").write_text(body)
    with pytest.raises(FrameworkError) as exc:
        load_catalog([], [tmp_path])
    assert exc.value.path == path


def test_json_schema_accepts_fixtures_and_rejects_bad() -> None:
    import jsonschema

    schema = policy_json_schema()
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted((FIXTURES / "policies").rglob("*.yaml"))
    assert files
    for f in files:
        errs = list(validator.iter_errors(read_yaml(f)))
        assert not errs, (f, errs[0].message)
    bad = read_yaml(files[0])
    bad["condition"] = {"path": "A", "op": "nope", "value": 1}
    assert list(validator.iter_errors(bad))
