"""``scan --format sarif`` (validated against the OASIS SARIF 2.1.0 schema) and ``--format asff``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from cspm_stream.cli import main
from cspm_stream.models import FindingStatus, Severity
from cspm_stream.report.sarif import resource_uri, to_asff_list, to_sarif
from cspm_stream.testing.findings import compliance_finding
from cspm_stream.testing.moto import MotoServer

SCHEMA = orjson.loads((Path(__file__).parents[2] / "data" / "sarif" / "sarif-schema-2.1.0.json").read_bytes())


def validate(doc: dict[str, Any]) -> None:
    """Schema validation with format checks (uri, uri-reference: rfc3986-validator)."""
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_schema_validation_is_real() -> None:
    """The validator refuses what SARIF forbids, so a passing document means something."""
    ok = to_sarif([compliance_finding()])
    validate(ok)
    for broken in (
        {**ok, "version": "2.0.0"},
        {**ok, "runs": [{**ok["runs"][0], "results": [{"ruleId": "x", "level": "fatal", "message": {"text": "m"}}]}]},
        {**ok, "runs": [{**ok["runs"][0], "results": [{"ruleId": "x", "message": {}}]}]},
        {**ok, "runs": [{"tool": {"driver": {"name": "x", "informationUri": "not a uri"}}}]},
    ):
        with pytest.raises(AssertionError):
            validate(broken)


def test_rules_results_levels_kinds_and_suppressions() -> None:
    findings = [
        compliance_finding(policy_id="p_high", arn="arn:aws:s3:::one", severity=Severity.HIGH),
        compliance_finding(policy_id="p_high", arn="arn:aws:s3:::two", severity=Severity.HIGH),
        compliance_finding(policy_id="p_low", arn="arn:aws:s3:::one", severity=Severity.LOW),
        compliance_finding(
            policy_id="p_med", arn="arn:aws:s3:::muted", state=FindingStatus.SUPPRESSED, severity=Severity.MEDIUM
        ),
        compliance_finding(policy_id="p_err", arn="arn:aws:s3:::err", state=FindingStatus.ERROR),
        compliance_finding(policy_id="p_ok", arn="arn:aws:s3:::fine", state=FindingStatus.PASSED),
    ]
    doc = to_sarif(findings)
    validate(doc)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["p_high", "p_low", "p_med", "p_err", "p_ok"]
    assert rules[0]["defaultConfiguration"]["level"] == "error"
    assert rules[0]["properties"]["security-severity"] == "8.0" and rules[1]["properties"]["security-severity"] == "3.0"
    assert rules[0]["helpUri"] == "https://docs.aws.amazon.com/"
    assert "Enable Block Public Access" in rules[0]["help"]["text"]
    assert "cis-aws-3.0.0" in rules[0]["properties"]["tags"]
    res = run["results"]
    assert [r["ruleIndex"] for r in res] == [0, 0, 1, 2, 3, 4]
    assert [(r["kind"], r["level"]) for r in res] == [
        ("fail", "error"),
        ("fail", "error"),
        ("fail", "note"),
        ("fail", "warning"),
        ("review", "none"),
        ("pass", "none"),
    ]
    assert res[3]["suppressions"] == [{"kind": "external", "status": "accepted", "justification": "accepted risk"}]
    assert "suppressions" not in res[0]
    assert res[4]["message"]["text"].startswith("Not evaluated: could not read an attribute")
    loc = res[0]["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == "arn:aws:s3:::one"
    assert loc["logicalLocations"][0] == {"fullyQualifiedName": "arn:aws:s3:::one", "name": "one", "kind": "resource"}
    assert res[0]["partialFingerprints"]["cspmFindingUid/v1"] == findings[0]["finding_info"]["uid"]
    assert res[0]["properties"]["requirements"] == ["cis-aws-3.0.0:1.1"]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f#1",
        "arn:aws:s3:::bucket with space",
        "arn:aws:iam::123456789012:user/üser%41?x",
        "not-an-arn",
    ],
)
def test_hostile_resource_ids_stay_valid_uris(arn: str) -> None:
    doc = to_sarif([compliance_finding(arn=arn)])
    validate(doc)
    loc = doc["runs"][0]["results"][0]["locations"][0]
    assert loc["logicalLocations"][0]["fullyQualifiedName"] == arn  # exact, for people and dedup
    uri = loc["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == resource_uri(arn) and " " not in uri and "#" not in uri


def test_real_policy_text_becomes_rule_help() -> None:
    from cspm_stream.policy.catalog import catalog_from_settings
    from cspm_stream.settings import load

    catalog = catalog_from_settings(load(environ={}).policy)
    pid, pol = next((k, p) for k, p in sorted(catalog.policies.items()) if p.rationale and p.remediation.text)
    doc = to_sarif([compliance_finding(policy_id=pid, resource_type=pol.resource_type)], catalog.policies)
    validate(doc)
    (rule,) = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rule["shortDescription"]["text"] == " ".join(pol.title.split())
    assert " ".join(pol.remediation.text.split())[:50] in rule["help"]["text"]
    assert rule["properties"]["severity"] == pol.severity.label.lower()


def test_asff_list_is_what_securityhub_imports() -> None:
    findings = [compliance_finding(arn="arn:aws:s3:::a"), compliance_finding(arn="arn:aws:s3:::b", state="resolved")]
    docs = to_asff_list(findings)
    assert [d["Id"] for d in docs] == [f["finding_info"]["uid"] for f in findings]
    for d in docs:
        for key in (
            "SchemaVersion",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "Types",
            "CreatedAt",
            "UpdatedAt",
            "Severity",
            "Title",
            "Description",
            "Resources",
        ):
            assert key in d
    assert docs[1]["RecordState"] == "ARCHIVED" and docs[1]["Workflow"]["Status"] == "RESOLVED"


# --- the command ---------------------------------------------------------------------------------

BUCKET = "h11-sarif-bucket"


@pytest.fixture
def moto(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)
    s3 = moto_server.boto3_client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=BUCKET)
    return moto_server


def _scan(moto: MotoServer, fmt: str, out: Path) -> int:
    args = ["scan", "--endpoint-url", moto.endpoint_url, "--regions", "us-east-1", "--services", "s3"]
    return main([*args, "--format", fmt, "-o", str(out)])


def test_scan_format_sarif_on_moto(moto: MotoServer, tmp_path: Path) -> None:
    sarif = tmp_path / "scan.sarif"
    assert _scan(moto, "sarif", sarif) == 0
    doc = orjson.loads(sarif.read_bytes())
    validate(doc)
    run = doc["runs"][0]
    arn = f"arn:aws:s3:::{BUCKET}"
    mine = [r for r in run["results"] if r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == arn]
    assert mine and all(r["kind"] in ("fail", "review") for r in mine)
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert sorted(set(rule_ids)) == sorted(rule_ids) == sorted({r["ruleId"] for r in run["results"]})
    assert all(rule["help"]["text"] for rule in run["tool"]["driver"]["rules"])


def test_scan_format_asff_on_moto(moto: MotoServer, tmp_path: Path) -> None:
    out = tmp_path / "scan.asff.json"
    assert _scan(moto, "asff", out) == 0
    docs = orjson.loads(out.read_bytes())
    arn = f"arn:aws:s3:::{BUCKET}"
    mine = [d for d in docs if d["Resources"][0]["Id"] == arn]
    assert mine and all(d["Compliance"]["Status"] in ("FAILED", "NOT_AVAILABLE") for d in mine)
    assert all(d["Resources"][0]["Type"] == "AwsS3Bucket" for d in mine)
