"""Part-C services moto does not serve, on recorded responses validated against botocore's service model: Elastic
Beanstalk (option values that may be secrets never kept), AppStream, Lightsail, Storage Gateway — each trap next to its
compliant twin, paging followed, an unreadable detail reported as ERROR."""

from __future__ import annotations

import json

from tests.unit.collect.breadth_util import collect_fixture


def test_elasticbeanstalk() -> None:
    e, aws = collect_fixture("elasticbeanstalk", "elasticbeanstalk")
    assert aws.unanswered == []
    assert e.ids("aws.elasticbeanstalk.environment") == {"orders-prod", "legacy", "locked"}
    prod = e.one("aws.elasticbeanstalk.environment", "orders-prod")
    assert prod.arn == "arn:aws:elasticbeanstalk:us-east-1:123456789012:environment/orders/orders-prod"
    text = json.dumps(prod.attributes)
    assert "Sup3rS3cret" not in text and "An0therS3cret" not in text
    secret = [o for o in prod.attributes["OptionSettings"] if o["OptionName"] == "DB_PASSWORD"]
    assert secret == [
        {
            "Namespace": "aws:elasticbeanstalk:application:environment",
            "OptionName": "DB_PASSWORD",
            "valueLength": 20,
            "valueKind": None,
            "holdsSecret": True,
        }
    ]
    pols = [
        "elasticbeanstalk_environment_cloudwatch_logging_enabled",
        "elasticbeanstalk_environment_enhanced_health_reporting",
        "elasticbeanstalk_environment_managed_updates_enabled",
    ]
    v = e.verdicts(pols)
    for p in pols:
        assert (v[(p, "orders-prod")], v[(p, "legacy")], v[(p, "locked")]) == ("pass", "fail", "error"), p


def test_appstream() -> None:
    e, aws = collect_fixture("appstream", "appstream")
    assert aws.unanswered == []
    assert e.one("aws.appstream.fleet", "analysts").tags == {"team": "analytics"}
    pols = [
        "appstream_fleet_default_internet_access_disabled",
        "appstream_fleet_maximum_session_duration",
        "appstream_fleet_session_disconnect_timeout",
        "appstream_fleet_session_idle_disconnect_timeout",
    ]
    v = e.verdicts(pols)
    assert {p: (v[(p, "analysts")], v[(p, "kiosk")]) for p in pols} == {p: ("pass", "fail") for p in pols}


def test_lightsail() -> None:
    e, aws = collect_fixture("lightsail", "lightsail")
    assert aws.unanswered == []
    assert e.ids("aws.lightsail.instance") == {"blog", "shop"}  # second page read
    assert e.one("aws.lightsail.instance", "blog").tags == {"team": "marketing"}
    v = e.verdicts(
        [
            "lightsail_instance_public_port_open",
            "lightsail_instance_automated_snapshots",
            "lightsail_database_public",
            "lightsail_static_ip_unused",
        ]
    )
    assert (v[("lightsail_instance_public_port_open", "blog")], v[("lightsail_instance_public_port_open", "shop")]) == (
        "pass",
        "fail",
    )
    assert (
        v[("lightsail_instance_automated_snapshots", "blog")],
        v[("lightsail_instance_automated_snapshots", "shop")],
    ) == ("pass", "fail")
    assert (v[("lightsail_database_public", "blog-db")], v[("lightsail_database_public", "shop-db")]) == (
        "pass",
        "fail",
    )
    assert (v[("lightsail_static_ip_unused", "blog-ip")], v[("lightsail_static_ip_unused", "spare-ip")]) == (
        "pass",
        "fail",
    )


def test_storagegateway() -> None:
    e, aws = collect_fixture("storagegateway", "storagegateway")
    assert aws.unanswered == []
    assert e.ids("aws.storagegateway.file_share") == {"share-1A2B3C4D", "share-5E6F7A8B"}  # second page read
    assert e.one("aws.storagegateway.file_share", "share-1A2B3C4D").tags == {"team": "office"}
    v = e.verdicts(["storagegateway_fileshare_encryption_enabled", "storagegateway_gateway_fault_tolerant"])
    assert v[("storagegateway_fileshare_encryption_enabled", "share-1A2B3C4D")] == "pass"
    assert v[("storagegateway_fileshare_encryption_enabled", "share-5E6F7A8B")] == "fail"
    assert v[("storagegateway_gateway_fault_tolerant", "sgw-12A3456B")] == "pass"
    assert v[("storagegateway_gateway_fault_tolerant", "sgw-98F7654E")] == "fail"


def test_directory_service() -> None:
    e, aws = collect_fixture("ds", "ds")
    assert aws.unanswered == []
    corp = e.one("aws.ds.directory", "d-1111111111")
    assert "r4dius" not in json.dumps(corp.attributes)  # the RADIUS shared secret is never kept
    assert corp.tags == {"team": "identity"}
    assert corp.attributes["SnapshotLimits"]["ManualSnapshotsRemaining"] == 4
    lab = e.one("aws.ds.directory", "d-2222222222")
    assert lab.attributes["SnapshotLimits"] is None and lab.errors == []  # SimpleAD: no limits to read
    assert e.ids("aws.ds.certificate") == {"c-1111111111", "c-3333333333"}  # SimpleAD has no LDAPS
    cert = e.one("aws.ds.certificate", "c-3333333333")
    assert cert.arn == "arn:aws:ds:us-east-1:123456789012:directory/d-3333333333/certificate/c-3333333333"
    pols = [
        "directoryservice_directory_log_forwarding_enabled",
        "directoryservice_directory_monitor_notifications",
        "directoryservice_directory_snapshots_limit",
        "directoryservice_radius_server_security_protocol",
        "directoryservice_supported_mfa_radius_enabled",
    ]
    v = e.verdicts([*pols, "directoryservice_ldap_certificate_expiration"])
    got = {p: tuple(v[(p, d)] for d in ("d-1111111111", "d-2222222222", "d-3333333333")) for p in pols}
    assert got == {
        "directoryservice_directory_log_forwarding_enabled": ("pass", "fail", "fail"),
        "directoryservice_directory_monitor_notifications": ("pass", "fail", "fail"),
        "directoryservice_directory_snapshots_limit": ("pass", "pass", "fail"),  # 2 left
        "directoryservice_radius_server_security_protocol": ("pass", "fail", "fail"),
        "directoryservice_supported_mfa_radius_enabled": ("pass", "fail", "fail"),
    }
    assert v[("directoryservice_ldap_certificate_expiration", "c-1111111111")] == "pass"
    assert v[("directoryservice_ldap_certificate_expiration", "c-3333333333")] == "fail"


def test_glacier() -> None:
    e, aws = collect_fixture("glacier", "glacier")
    assert aws.unanswered == []
    assert e.one("aws.glacier.vault", "plain").attributes["AccessPolicy"] is None  # no policy: not configured
    assert e.one("aws.glacier.vault", "archive").tags == {"team": "records"}
    v = e.verdicts(["glacier_vaults_policy_public_access"])
    assert {k[1]: x for k, x in v.items()} == {"archive": "pass", "shared": "fail", "plain": "pass"}


def test_dlm() -> None:
    e, aws = collect_fixture("dlm", "dlm")
    assert aws.unanswered == []
    region = e.one("aws.dlm.region")
    assert region.attributes["HasSnapshots"] is True  # found on the second page
    assert (
        e.verdicts(["dlm_ebs_snapshot_lifecycle_policy_exists"])[
            ("dlm_ebs_snapshot_lifecycle_policy_exists", "us-east-1")
        ]
        == "fail"
    )
    e2, _ = collect_fixture("dlm", "dlm_empty")
    assert (
        e2.verdicts(["dlm_ebs_snapshot_lifecycle_policy_exists"])[
            ("dlm_ebs_snapshot_lifecycle_policy_exists", "us-east-1")
        ]
        == "pass"
    )
