"""ACM certificates (regional).

``aws.acm.certificate``: the ListCertificates summary (every key type: ``Includes.keyTypes`` lists them all —
ACM's default is RSA 1024/2048 only) with ``CertificateArn``, ``DomainName``, ``Type``, ``Status``,
``KeyAlgorithm``, ``InUse``, ``NotAfter``, ``RenewalEligibility``, plus

* ``Certificate``: DescribeCertificate (``Options.CertificateTransparencyLoggingPreference``, ``InUseBy``,
  ``RenewalSummary``, ``Issuer``, ``SignatureAlgorithm``);
* ``Tags``: ListTagsForCertificate.
"""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, ResourceSpec, key, member, tags_from_list

KEY_TYPES = [
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
]

SPECS = [
    ResourceSpec(
        resource_type="aws.acm.certificate",
        service="acm",
        list_op="list_certificates",
        list_params={"Includes": {"keyTypes": KEY_TYPES}},
        items="CertificateSummaryList",
        id=lambda item, scope: str(item["CertificateArn"]).rsplit("/", 1)[-1],
        arn=key("CertificateArn"),
        tags=tags_from_list(),
        details=(
            Detail(
                "Certificate",
                "describe_certificate",
                lambda i: {"CertificateArn": i["CertificateArn"]},
                member("Certificate"),
            ),
            Detail(
                "Tags", "list_tags_for_certificate", lambda i: {"CertificateArn": i["CertificateArn"]}, member("Tags")
            ),
        ),
    ),
]
