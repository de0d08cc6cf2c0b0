"""``related``: exact equivalents (prowler/securityhub) beside wider relations (see_also), validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from cspm_stream.errors import PolicyError
from cspm_stream.policy.loader import load_policy_file
from cspm_stream.policy.schema import policy_json_schema
from cspm_stream.policy.yamlio import read_yaml

BASE = """\
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


def _write(tmp: Path, related: str) -> Path:
    f = tmp / "my_policy.yaml"
    f.write_text(BASE + related)
    return f


def test_see_also_is_loaded_apart_from_exact_equivalents(tmp_path: Path) -> None:
    f = _write(
        tmp_path,
        "related:\n  prowler: [s3_bucket_default_encryption]\n  securityhub: [S3.17]\n"
        "  see_also: {prowler: [s3_bucket_kms_encryption], securityhub: [S3.4]}\n",
    )
    rel = load_policy_file(f).related
    assert rel.prowler == ("s3_bucket_default_encryption",) and rel.securityhub == ("S3.17",)
    assert rel.see_also.prowler == ("s3_bucket_kms_encryption",) and rel.see_also.securityhub == ("S3.4",)
    # only exact equivalents become OCSF related analytics (joined with the other tool's findings)
    assert [a["uid"] for a in rel.analytics()] == ["s3_bucket_default_encryption", "S3.17"]


def test_see_also_only_is_valid(tmp_path: Path) -> None:
    rel = load_policy_file(_write(tmp_path, "related: {see_also: {securityhub: [CloudWatch.14]}}\n")).related
    assert rel.prowler == () and rel.see_also.securityhub == ("CloudWatch.14",)


@pytest.mark.parametrize(
    ("related", "path", "reason"),
    [
        ("related: {see_also: {cis: ['1.1']}}\n", "related.see_also.cis", "unknown field"),
        ("related: {see_also: [s3_x_y]}\n", "related.see_also", "must be a mapping"),
        ("related: {also: {prowler: [s3_x_y]}}\n", "related.also", "unknown field"),
        (
            "related: {prowler: [s3_bucket_x], see_also: {prowler: [s3_bucket_x]}}\n",
            "related.see_also.prowler",
            "also listed as an exact equivalent",
        ),
        (
            "related: {securityhub: [S3.2], see_also: {securityhub: [S3.2]}}\n",
            "related.see_also.securityhub",
            "also listed as an exact equivalent",
        ),
        ("related: {prowler: [S3 bucket public]}\n", "related.prowler[0]", "must match"),
        ("related: {see_also: {securityhub: [s3-2]}}\n", "related.see_also.securityhub[0]", "must match"),
        ("related: {securityhub: [S3.2, S3.2]}\n", "related.securityhub", "twice"),
        ("related: {see_also: {prowler: [7]}}\n", "related.see_also.prowler", "non-empty strings"),
    ],
)
def test_bad_related_names_file_path_reason(tmp_path: Path, related: str, path: str, reason: str) -> None:
    f = _write(tmp_path, related)
    with pytest.raises(PolicyError) as exc:
        load_policy_file(f)
    assert exc.value.file == str(f) and exc.value.path == path and reason in exc.value.reason


def test_json_schema_knows_see_also(tmp_path: Path) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(policy_json_schema())
    good = read_yaml(_write(tmp_path, "related: {prowler: [s3_a_b], see_also: {prowler: [s3_c_d]}}\n"))
    assert not list(validator.iter_errors(good))
    for bad in (
        {"see_also": {"cis": ["1.1"]}},
        {"see_also": {"securityhub": ["bad id"]}},
        {"prowler": ["s3_a_b", "s3_a_b"]},
    ):
        doc = dict(good, related=bad)
        assert list(validator.iter_errors(doc)), bad
