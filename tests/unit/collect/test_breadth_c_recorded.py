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
