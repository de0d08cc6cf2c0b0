"""The recorded-response validator and replayer (cspm_stream.testing.recorded)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from cspm_stream.testing.recorded import (
    RecordedShapeError,
    check,
    collect_recorded,
    exchanges_from,
    load_exchanges,
    parsed,
    validate,
)

DOMAIN = {
    "DomainName": "example.com",
    "AutoRenew": True,
    "TransferLock": False,
    "Expiry": "2026-01-01T00:00:00Z",
}


def test_a_response_matching_the_model_is_valid() -> None:
    assert validate("route53domains", "ListDomains", {"Domains": [DOMAIN], "NextPageMarker": "x"}) == []
    # both spellings of the operation name
    assert validate("route53domains", "list_domains", {"Domains": []}) == []


@pytest.mark.parametrize(
    ("response", "problem"),
    [
        ({"Domains": [{**DOMAIN, "Locked": True}]}, "$.Domains[0].Locked: unknown member"),
        ({"Domains": [{**DOMAIN, "AutoRenew": "yes"}]}, "$.Domains[0].AutoRenew: expected a boolean"),
        ({"Domains": [{**DOMAIN, "Expiry": "next year"}]}, "$.Domains[0].Expiry: expected an ISO 8601"),
        ({"Domains": {"DomainName": "x"}}, "$.Domains: expected a list"),
        ({"Domains": [], "Extra": 1}, "$.Extra: unknown member"),
    ],
)
def test_a_drifted_response_is_named_precisely(response: dict[str, object], problem: str) -> None:
    problems = validate("route53domains", "ListDomains", response)
    assert any(p.startswith(problem) for p in problems), problems
    with pytest.raises(RecordedShapeError):
        check("route53domains", "ListDomains", response)


def test_enums_integers_and_maps_are_checked() -> None:
    good = {"Status": "Enabled", "MFADelete": "Disabled"}
    assert validate("s3", "GetBucketVersioning", good) == []
    assert validate("s3", "GetBucketVersioning", {"Status": "On"})[0].startswith("$.Status: 'On' is not one of")
    tags = {"ResourceTags": {"Tags": {"k": 1}}}
    assert validate("lambda", "ListTags", {"Tags": {"k": "v"}}) == []
    assert "expected a string" in validate("lambda", "ListTags", tags["ResourceTags"])[0]
    bad_int = validate("sqs", "ListQueues", {"QueueUrls": ["u"], "NextToken": 3})
    assert "expected a string" in bad_int[0]
    assert validate("kinesis", "DescribeStreamSummary", {"StreamDescriptionSummary": {"RetentionPeriodHours": True}})


def test_required_members_are_checked() -> None:
    fs = {k: v for k, v in FS.items() if k != "OwnerId"}
    problems = validate("efs", "DescribeFileSystems", {"FileSystems": [fs]})
    assert problems == ["$.FileSystems[0].OwnerId: required member of FileSystemDescription missing"]


def test_parsed_turns_timestamps_into_datetimes() -> None:
    import botocore.session

    shape = botocore.session.get_session().get_service_model("route53domains").operation_model("ListDomains")
    out = parsed(shape.output_shape, {"Domains": [DOMAIN]})
    assert out["Domains"][0]["Expiry"] == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert out["Domains"][0]["DomainName"] == "example.com"


def test_fixture_documents_are_validated_on_load(tmp_path: Path) -> None:
    f = tmp_path / "bad.json"
    f.write_text(
        json.dumps({"service": "efs", "exchanges": [{"operation": "DescribeFileSystems", "response": {"X": 1}}]})
    )
    with pytest.raises(RecordedShapeError, match=r"bad.json: exchanges\[0\].*\$\.X: unknown member"):
        load_exchanges(f)
    for doc, reason in [
        ({"exchanges": []}, "'service'"),
        ({"service": "efs", "exchanges": []}, "non-empty"),
        ({"service": "efs", "exchanges": [{"operation": "Nope", "response": {}}]}, "no operation"),
        ({"service": "efs", "exchanges": [{"operation": "DescribeFileSystems"}]}, "exactly one"),
        ({"service": "efs", "exchanges": [{"operation": "DescribeFileSystems", "error": {}}]}, "Code"),
    ]:
        with pytest.raises(RecordedShapeError, match=reason):
            exchanges_from(doc, "doc")


FS = {
    "OwnerId": "123456789012",
    "CreationToken": "t",
    "FileSystemId": "fs-1",
    "FileSystemArn": "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1",
    "CreationTime": "2024-05-01T10:00:00Z",
    "LifeCycleState": "available",
    "NumberOfMountTargets": 0,
    "SizeInBytes": {"Value": 6144},
    "PerformanceMode": "generalPurpose",
    "Encrypted": True,
    "Tags": [{"Key": "env", "Value": "prod"}],
}


async def test_the_collector_runs_on_recorded_exchanges() -> None:
    doc = {
        "service": "efs",
        "exchanges": [
            {"operation": "DescribeFileSystems", "response": {"FileSystems": [FS, {**FS, "FileSystemId": "fs-2"}]}},
            {
                "operation": "DescribeBackupPolicy",
                "params": {"FileSystemId": "fs-1"},
                "response": {"BackupPolicy": {"Status": "ENABLED"}},
            },
            {
                "operation": "DescribeBackupPolicy",
                "params": {"FileSystemId": "fs-2"},
                "error": {"Code": "AccessDeniedException", "Message": "no"},
                "status": 403,
            },
            {
                "operation": "DescribeFileSystemPolicy",
                "error": {"Code": "PolicyNotFound", "Message": "none"},
                "status": 404,
            },
            {
                "operation": "DescribeAccessPoints",
                "params": {"FileSystemId": "fs-1"},
                "response": {
                    "AccessPoints": [
                        {
                            "AccessPointId": "fsap-1",
                            "FileSystemId": "fs-1",
                            "RootDirectory": {"Path": "/data"},
                            "PosixUser": {"Uid": 1000, "Gid": 1000},
                            "LifeCycleState": "available",
                        }
                    ]
                },
            },
            {"operation": "DescribeAccessPoints", "params": {"FileSystemId": "fs-2"}, "response": {"AccessPoints": []}},
        ],
    }
    snaps, aws = await collect_recorded("efs", exchanges_from(doc, "doc"))
    by_id = {s.resource_id: s for s in snaps}
    one, two = by_id["fs-1"], by_id["fs-2"]
    assert one.attributes["BackupPolicy"] == {"Status": "ENABLED"}
    assert one.attributes["FileSystemPolicy"] is None and one.errors == []
    assert one.attributes["CreationTime"] == "2024-05-01T10:00:00.000Z"  # datetime → ISO through plain()
    assert one.tags == {"env": "prod"}
    (point,) = one.attributes["AccessPoints"]
    assert point["AccessPointId"] == "fsap-1" and point["RootDirectory"]["Path"] == "/data"
    assert two.attributes["AccessPoints"] == []
    assert "BackupPolicy" not in two.attributes
    assert [(e.attribute, e.code) for e in two.errors] == [("BackupPolicy", "AccessDeniedException")]
    assert aws.unanswered == []
    assert ("efs", "DescribeBackupPolicy", {"FileSystemId": "fs-2"}) in aws.calls


async def test_an_unrecorded_call_is_an_error_never_an_empty_answer() -> None:
    doc = {"service": "efs", "exchanges": [{"operation": "DescribeFileSystems", "response": {"FileSystems": [FS]}}]}
    snaps, aws = await collect_recorded("efs", exchanges_from(doc, "doc"))
    (snap,) = snaps
    assert {e.attribute for e in snap.errors} == {"AccessPoints", "BackupPolicy", "FileSystemPolicy"}
    assert {e.code for e in snap.errors} == {"NotRecorded"}
    assert len(aws.unanswered) == 3
