"""Contract of the built-in rule pack: metadata, examples, Stratus Red Team coverage, and its tests pass."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from cspm_stream.detect.catalog import builtin_rules_dir
from cspm_stream.detect.loader import load_paths
from cspm_stream.detect.mitre import TACTICS
from cspm_stream.detect.ruletests import run_rule_tests

PACK = builtin_rules_dir()
RULE_FILES = sorted(p for p in PACK.rglob("*.yml") if not p.name.endswith(".tests.yml"))

STRATUS_AWS = """
credential-access.ec2-get-password-data credential-access.ec2-steal-instance-credentials
credential-access.secretsmanager-batch-retrieve-secrets credential-access.secretsmanager-retrieve-secrets
credential-access.ssm-retrieve-securestring-parameters
defense-evasion.cloudtrail-delete defense-evasion.cloudtrail-event-selectors defense-evasion.cloudtrail-lifecycle-rule
defense-evasion.cloudtrail-stop defense-evasion.dns-delete-logs defense-evasion.organizations-leave
defense-evasion.vpc-remove-flow-logs
discovery.ec2-download-user-data discovery.ec2-enumerate-from-instance discovery.ses-enumerate
execution.ec2-launch-unusual-instances execution.ec2-user-data execution.ssm-send-command execution.ssm-start-session
exfiltration.ec2-security-group-open-port-22-ingress exfiltration.ec2-share-ami exfiltration.ec2-share-ebs-snapshot
exfiltration.rds-share-snapshot exfiltration.s3-backdoor-bucket-policy
impact.bedrock-invoke-model impact.s3-ransomware-batch-deletion impact.s3-ransomware-client-side-encryption
impact.s3-ransomware-individual-deletion
initial-access.console-login-without-mfa
lateral-movement.ec2-instance-connect lateral-movement.ec2-serial-console-send-ssh-public-key
persistence.iam-backdoor-role persistence.iam-backdoor-user persistence.iam-create-admin-user
persistence.iam-create-backdoor-role persistence.iam-create-user-login-profile persistence.lambda-backdoor-function
persistence.lambda-layer-extension persistence.lambda-overwrite-code persistence.rolesanywhere-create-trust-anchor
persistence.sts-federation-token
privilege-escalation.iam-update-user-login-profile
""".split()


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _main(path: Path) -> dict[str, Any]:
    return _docs(path)[-1]  # a correlation file ends with the correlation rule


def test_pack_loads_without_errors_and_is_large_enough() -> None:
    rs = load_paths([PACK])
    assert rs.errors == []
    assert len(RULE_FILES) >= 60
    assert len(rs.correlations) >= 4
    kinds = {c.ctype.value for c in rs.correlations}
    assert {"event_count", "value_count", "temporal", "temporal_ordered"} <= kinds
    for c in rs.correlations:
        assert c.group_by and c.span_ms > 0


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_rule_metadata(path: Path) -> None:
    docs = _docs(path)
    assert path.parent.parent == PACK
    for doc in docs:
        for key in (
            "title",
            "id",
            "name",
            "status",
            "description",
            "author",
            "date",
            "tags",
            "level",
            "falsepositives",
            "runbook",
        ):
            assert doc.get(key), f"{path.name}: {doc.get('title')}: missing {key}"
        assert uuid.UUID(doc["id"]).version == 4
        assert doc["author"] == "cspm_stream"
        assert "\n" not in doc["runbook"].strip()
        tactics = [t for t in doc["tags"] if t.removeprefix("attack.") in TACTICS]
        techniques = [t for t in doc["tags"] if re.fullmatch(r"attack\.t\d{4}(\.\d{3})?", t)]
        assert tactics and techniques, f"{path.name}: MITRE tactic and technique tags needed"
        if "correlation" not in doc:
            assert doc["logsource"] == {"product": "aws", "service": "cloudtrail"}
            assert doc["detection"]["condition"]
    main = docs[-1]
    assert main["name"] == f"cspm_{path.stem}"
    if len(docs) > 1:
        assert "correlation" in main and main["correlation"]["generate"] is False


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_examples_beside_each_rule(path: Path) -> None:
    tests_file = path.with_name(path.stem + ".tests.yml")
    doc = yaml.safe_load(tests_file.read_text())
    assert doc["rule"] == _main(path)["id"]
    expects = {t["expect"] for t in doc["tests"]}
    assert expects == {"match", "no_match"}
    for t in doc["tests"]:
        for ev in t["events"]:
            assert {"eventID", "eventTime", "eventSource", "eventName", "userIdentity", "awsRegion"} <= ev.keys()
        if "correlation" in _main(path):
            assert isinstance(t["detections"], int)


def test_ids_unique() -> None:
    ids = [d["id"] for p in RULE_FILES for d in _docs(p)]
    assert len(ids) == len(set(ids))


def test_every_stratus_red_team_aws_technique_is_covered() -> None:
    refs = " ".join(str(r) for p in RULE_FILES for d in _docs(p) for r in d.get("references", []))
    missing = [t for t in STRATUS_AWS if f"aws.{t}/" not in refs]
    assert missing == []


def test_every_example_passes() -> None:
    report = run_rule_tests([PACK])
    failed = [f"{r.file}::{r.name}: {r.reason}" for r in report.results if not r.ok]
    assert report.load_errors == []
    assert failed == []
    assert len(report.results) >= 2 * len(RULE_FILES)
