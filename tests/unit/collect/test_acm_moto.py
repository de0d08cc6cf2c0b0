"""ACM certificates on the wire (moto): every key type listed, in-use scope, expiry and key length with decoys."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import MotoServer
from tests.unit.collect.breadth_util import Estate, collect_moto
from tests.unit.collect.certs import self_signed
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto


def _use(moto: MotoServer, name: str, arn: str) -> None:
    moto.boto3_client("elb").create_load_balancer(
        LoadBalancerName=name,
        Listeners=[
            {
                "Protocol": "HTTPS",
                "LoadBalancerPort": 443,
                "InstanceProtocol": "HTTP",
                "InstancePort": 80,
                "SSLCertificateId": arn,
            }
        ],
        AvailabilityZones=["us-east-1a"],
    )


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> tuple[Estate, dict[str, str]]:
    reset(moto_server)
    acm = moto_server.boto3_client("acm")

    def imported(domain: str, key_size: int, days: int) -> str:
        pem, key = self_signed(domain, key_size=key_size, days=days)
        arn = str(acm.import_certificate(Certificate=pem, PrivateKey=key)["CertificateArn"])
        return arn.rsplit("/", 1)[-1]

    ids = {
        "expiring-in-use": imported("soon.example.com", 2048, 5),
        "expiring-unused": imported("spare.example.com", 2048, 5),
        "healthy-in-use": imported("ok.example.com", 2048, 400),
        "weak-key": imported("weak.example.com", 1024, 400),
    }
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/"
    _use(moto_server, "soon", arn + ids["expiring-in-use"])
    _use(moto_server, "ok", arn + ids["healthy-in-use"])
    return collect_moto(moto_server, ["acm"]), ids


def test_snapshots_list_every_key_type(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    assert e.ids("aws.acm.certificate") == set(ids.values())  # RSA_1024 too, not only ACM's default filter
    soon = e.one("aws.acm.certificate", ids["expiring-in-use"])
    assert soon.attributes["InUse"] is True and soon.attributes["Type"] == "IMPORTED"
    assert soon.attributes["Certificate"]["Options"]["CertificateTransparencyLoggingPreference"] == "ENABLED"
    assert e.errors() == set()


def test_verdicts(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    pols = {
        # policy: (expiring-in-use, expiring-unused, healthy-in-use, weak-key)
        "acm_certificates_expiration_check": ("fail", "pass", "pass", "pass"),
        "acm_certificate_expires_within_30_days": ("fail", "fail", "pass", "pass"),
        "acm_certificate_rsa_key_length": ("pass", "pass", "pass", "fail"),
        "acm_certificates_transparency_logs_enabled": ("pass", "pass", "pass", "pass"),  # imported
    }
    v = e.verdicts(list(pols))
    order = ("expiring-in-use", "expiring-unused", "healthy-in-use", "weak-key")
    assert {p: tuple(v[(p, ids[c])] for c in order) for p in pols} == pols
