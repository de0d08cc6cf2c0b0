from __future__ import annotations

from cspm_stream.models import ocsf
from cspm_stream.models.enums import FindingStatus, Verdict
from cspm_stream.policy.catalog import Catalog
from cspm_stream.policy.ocsf import ResourceRef, build_compliance_finding

ARN = "arn:aws:s3:::my-bucket"


def build(cat: Catalog, status: FindingStatus, verdict: Verdict, activity: int = 1, mute: str | None = None) -> dict:
    pol = cat.policies["fx_s3_public_acl"]
    return build_compliance_finding(
        policy=pol,
        resource=ResourceRef(ARN, "aws.s3.bucket", "us-east-1", "123456789012", {"env": "prod", "a": "b"}),
        status=status,
        verdict=verdict,
        activity_id=activity,
        first_seen_ms=1000,
        last_seen_ms=2000,
        time_ms=2000,
        compliance=cat.compliance(pol.id),
        mute_reason=mute,
    )


def test_new_fail_finding(fixture_catalog: Catalog) -> None:
    f = build(fixture_catalog, FindingStatus.NEW, Verdict.FAIL)
    ocsf.validate(f)
    assert f["class_uid"] == 2003 and f["type_uid"] == 200301 and f["schema"] == "ocsf.compliance_finding.v1"
    assert f["finding_info"]["uid"] == ocsf.finding_uid("fx_s3_public_acl", ARN) == ocsf.uid_of(f)
    assert f["status_id"] == 1 and f["severity_id"] == 5 and f["time"] == 2000
    assert f["compliance"] == {
        "standards": ["fixture-fw"],
        "requirements": ["fixture-fw:1.1"],
        "control": "fx_s3_public_acl",
        "status_id": 3,
        "status": "Fail",
    }
    assert f["resources"] == [
        {
            "uid": ARN,
            "type": "aws.s3.bucket",
            "region": "us-east-1",
            "account_uid": "123456789012",
            "labels": ["a=b", "env=prod"],
        }
    ]
    fi = f["finding_info"]
    assert (fi["first_seen_time"], fi["last_seen_time"], fi["types"]) == (1000, 2000, ["aws.s3.bucket"])
    assert fi["analytic"] == {
        "uid": "fx_s3_public_acl",
        "name": f["finding_info"]["title"],
        "type_id": 1,
        "type": "Rule",
    }
    assert fi["related_analytics"] == [
        {"uid": "s3_bucket_public_access", "name": "prowler", "type_id": 1, "type": "Rule"},
        {"uid": "S3.2", "name": "securityhub", "type_id": 1, "type": "Rule"},
    ]
    assert f["remediation"]["desc"] == "Remove the public grants."
    assert f["remediation"]["references"][0].startswith("https://")
    assert f["unmapped"] == {
        "policy_id": "fx_s3_public_acl",
        "state": "new",
        "remediation_action": "s3_remove_public_acl_grants",
        "service": "s3",
    }
    assert f["cloud"] == {
        "provider": "AWS",
        "account": {"uid": "123456789012", "name": "123456789012", "type_id": 10, "type": "AWS Account"},
        "region": "us-east-1",
    }
    assert f["status_code"] == "FAIL"


def test_status_mapping(fixture_catalog: Catalog) -> None:
    sup = build(fixture_catalog, FindingStatus.SUPPRESSED, Verdict.FAIL, 2, mute="dev only")
    assert (sup["status_id"], sup["compliance"]["status_id"], sup["unmapped"]["mute_reason"]) == (3, 3, "dev only")
    res = build(fixture_catalog, FindingStatus.RESOLVED, Verdict.PASS, 3)
    assert (res["status_id"], res["activity_id"], res["compliance"]["status_id"], res["compliance"]["status"]) == (
        4,
        3,
        1,
        "Pass",
    )
    err = build(fixture_catalog, FindingStatus.ERROR, Verdict.ERROR)
    assert (err["status_id"], err["status"], err["unmapped"]["state"]) == (99, "Error", "error")
    assert (err["compliance"]["status_id"], err["status_code"]) == (2, "ERROR")  # Warning: no result
    ok = build(fixture_catalog, FindingStatus.PASSED, Verdict.PASS)
    assert (ok["status_id"], ok["status"], ok["compliance"]["status_id"], ok["unmapped"]["state"]) == (
        99,
        "Passed",
        1,
        "passed",
    )
