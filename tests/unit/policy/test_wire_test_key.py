"""``wire_test``: how the collector feeding a policy is tested on the wire (moto or recorded), validated."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from cspm_stream.errors import PolicyError
from cspm_stream.policy.loader import builtin_policy_dir, load_policy_file
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


@pytest.mark.parametrize("value", ["moto", "recorded"])
def test_known_values_load_and_match_the_json_schema(tmp_path: Path, value: str) -> None:
    f = tmp_path / "my_policy.yaml"
    f.write_text(BASE + f"wire_test: {value}\n")
    assert load_policy_file(f).id == "my_policy"
    jsonschema.validate(read_yaml(f), policy_json_schema())


def test_the_key_is_optional(tmp_path: Path) -> None:
    f = tmp_path / "my_policy.yaml"
    f.write_text(BASE)
    assert load_policy_file(f).id == "my_policy"


@pytest.mark.parametrize("value", ["mocked", "true", "[moto]", "''"])
def test_other_values_are_refused_naming_file_key_and_reason(tmp_path: Path, value: str) -> None:
    f = tmp_path / "my_policy.yaml"
    f.write_text(BASE + f"wire_test: {value}\n")
    with pytest.raises(PolicyError) as exc:
        load_policy_file(f)
    assert exc.value.path == "wire_test" and "is not one of moto, recorded" in exc.value.reason
    assert str(f) in str(exc.value)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(read_yaml(f), policy_json_schema())


BREADTH_A = (
    "apigateway apigatewayv2 elb elasticache redshift opensearch acm route53 wafv2 backup kinesis firehose "
    "glue athena emr ecs autoscaling cloudwatch"
).split()


@pytest.mark.parametrize("service", BREADTH_A)
def test_breadth_policies_say_how_their_collector_is_tested(service: str) -> None:
    folder = builtin_policy_dir() / service
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    for f in files:
        assert read_yaml(f).get("wire_test") in ("moto", "recorded"), f"{f}: wire_test missing"
