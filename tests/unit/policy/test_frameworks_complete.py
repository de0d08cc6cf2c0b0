"""Each built-in framework file lists every requirement of its standard.

Reference counts are derived from the published standards (named per framework below), not
from the files: a requirement added, lost or renumbered in a file fails here.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from cspm_stream.policy.catalog import Catalog, load_catalog
from cspm_stream.policy.frameworks import builtin_framework_dir, check_references
from cspm_stream.policy.loader import builtin_policy_dir
from cspm_stream.policy.model import Framework


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog([builtin_policy_dir()], [builtin_framework_dir()])


def _fw(catalog: Catalog, fid: str) -> Framework:
    return catalog.frameworks[fid]


def _ids(fw: Framework) -> list[str]:
    return [r.id for r in fw.requirements]


# CIS AWS Foundations Benchmark: recommendations per section and the benchmark's own Manual
# recommendations (every other one is Automated), as published in v3.0.0, v5.0.0, v6.0.0, v7.0.0.
CIS = {
    "cis-aws-3.0.0": (
        {"1": 22, "2": 9, "3": 9, "4": 16, "5": 6},
        "1.1 1.18 1.2 1.21 1.22 1.3 2.1.3 5.5",
    ),
    "cis-aws-5.0.0": (
        {"1": 21, "2": 9, "3": 9, "4": 16, "5": 8},
        "1.1 1.2 1.5 1.6 1.10 1.20 1.21 2.1.2 2.1.3 2.2.4 3.1 3.4 4.1 4.2 4.3 4.4 4.5 4.6 4.7 4.8 4.9 4.10 4.11 4.12 "
        "4.13 4.14 4.15 5.6",
    ),
    "cis-aws-6.0.0": (
        {"2": 21, "3": 9, "4": 9, "5": 16, "6": 8},
        "2.1 2.2 2.5 2.6 2.10 2.20 2.21 3.1.2 3.1.3 3.2.4 4.1 4.4 5.1 5.2 5.3 5.4 5.5 5.6 5.7 5.8 5.9 5.10 5.11 5.12 "
        "5.13 5.14 5.15 6.6",
    ),
    "cis-aws-7.0.0": (
        {"2": 26, "3": 9, "4": 10, "5": 16, "6": 9},
        "2.1.1 2.1.2 2.1.3 2.1.4 2.1.5 2.1.6 2.2 2.3 2.6 2.7 2.19 2.20 2.21 3.1.2 3.1.3 3.2.4 4.1 4.4 4.10 5.1 5.2 5.3 "
        "5.4 5.5 5.6 5.7 5.8 5.9 5.10 5.11 5.12 5.13 5.14 5.15 6.6 6.8",
    ),
}


@pytest.mark.parametrize("fid", sorted(CIS))
def test_cis_lists_every_recommendation_with_the_benchmark_status(catalog: Catalog, fid: str) -> None:
    per_section, manual = CIS[fid]
    fw = _fw(catalog, fid)
    assert Counter(r.id.split(".")[0] for r in fw.requirements) == per_section
    assert all(r.section.split(" ")[0] == r.id.split(".")[0] for r in fw.requirements)
    got_manual = {r.id for r in fw.requirements if r.assessment == "manual"}
    assert got_manual == set(manual.split())
    assert {r.assessment for r in fw.requirements} == {"automated", "manual"}


@pytest.mark.parametrize("fid", sorted(CIS))
def test_cis_requirements_not_evaluated_say_why(catalog: Catalog, fid: str) -> None:
    for r in _fw(catalog, fid).requirements:
        if not r.automated:
            assert r.description, f"{fid} {r.id}: a requirement cspm_stream does not evaluate says why"


def test_pci_dss_4_0_1_lists_every_defined_requirement(catalog: Catalog) -> None:
    # PCI DSS v4.0.1: defined requirements (x.y.z and deeper) per principal requirement and appendix
    fw = _fw(catalog, "pci-dss-4.0")
    want = {"1": 19, "2": 11, "3": 29, "4": 6, "5": 13, "6": 19, "7": 12, "8": 29, "9": 27, "10": 27, "11": 21}
    want |= {"12": 37, "A1": 7, "A2": 3, "A3": 20}
    assert Counter(r.id.split(".")[0] for r in fw.requirements) == want
    assert len(fw.requirements) == 280
    assert all(r.id.count(".") >= 2 for r in fw.requirements), "section headers (x.y) are sections, not requirements"
    assert all(r.section.startswith(r.id.split(".")[0] + " ") for r in fw.requirements)
    for rid in ("1.3.1", "3.5.1.2", "8.3.10.1", "9.5.1.2.1", "10.2.1.7", "12.10.4.1", "A3.2.6.1"):
        assert rid in _ids(fw)


def test_hipaa_lists_every_standard_and_implementation_specification(catalog: Catalog) -> None:
    # 45 CFR 164.308-164.316: 22 standards and 43 implementation specifications (21 required,
    # 22 addressable); Appendix A to Subpart C lists the 18 standards and 36 specifications of 164.308-312
    fw = _fw(catalog, "hipaa")
    titles = [r.title for r in fw.requirements]
    assert sum(t.startswith("Standard: ") for t in titles) == 22
    assert sum(t.endswith("(Required)") for t in titles) == 21
    assert sum(t.endswith("(Addressable)") for t in titles) == 22
    assert Counter(r.id[:7] for r in fw.requirements) == {
        "164.308": 30,
        "164.310": 12,
        "164.312": 12,
        "164.314": 6,
        "164.316": 5,
    }
    appendix_a = [r for r in fw.requirements if r.id[:7] in ("164.308", "164.310", "164.312")]
    assert sum(r.title.startswith("Standard: ") for r in appendix_a) == 18
    assert sum(not r.title.startswith("Standard: ") for r in appendix_a) == 36
    for rid in (
        "164.308(a)(1)(ii)(D)",
        "164.308(b)(3)",
        "164.310(d)(2)(iv)",
        "164.312(e)(2)(ii)",
        "164.316(b)(2)(iii)",
    ):
        assert rid in _ids(fw)


def test_gdpr_lists_every_article(catalog: Catalog) -> None:
    # Regulation (EU) 2016/679: articles 1-99 in chapters I-XI
    fw = _fw(catalog, "gdpr")
    assert _ids(fw) == [f"Art.{n}" for n in range(1, 100)]
    chapters = Counter(r.section.split(" ")[1] for r in fw.requirements)
    assert chapters == {
        "I": 4, "II": 7, "III": 12, "IV": 20, "V": 7, "VI": 9, "VII": 17, "VIII": 8, "IX": 7, "X": 2, "XI": 6,
    }  # fmt: skip


def test_nist_800_53_lists_every_control_and_enhancement(catalog: Catalog) -> None:
    # OSCAL catalog of SP 800-53 Rev. 5: 1,189 controls and enhancements of which 182 are withdrawn
    # (update 1), plus IA-13 and IA-13(1)-(3) added by release 5.1.1: 1,011 in force, per family
    fw = _fw(catalog, "nist-800-53-rev5")
    assert len(fw.requirements) == 1011
    assert Counter(r.id.split("-")[0] for r in fw.requirements) == {
        "AC": 131, "AT": 15, "AU": 56, "CA": 25, "CM": 56, "CP": 49, "IA": 59, "IR": 40, "MA": 28, "MP": 20,
        "PE": 51, "PL": 11, "PM": 37, "PS": 17, "PT": 21, "RA": 22, "SA": 106, "SC": 139, "SI": 101, "SR": 27,
    }  # fmt: skip
    assert all(re.fullmatch(r"[A-Z]{2}-\d+(\(\d+\))?", r.id) for r in fw.requirements)
    ids = set(_ids(fw))
    assert {"AC-2(3)", "AU-9(3)", "IA-13(3)", "SC-7(5)", "SR-12"} <= ids
    assert not ids & {"AC-2(10)", "SC-42(3)", "SA-12"}, "withdrawn controls are not requirements"
    assert all(r.section.startswith(r.id.split("-")[0] + " ") for r in fw.requirements)
    enh = next(r for r in fw.requirements if r.id == "AC-2(3)")
    assert enh.title == "Account Management | Disable Accounts"


def test_soc2_lists_every_trust_services_criterion(catalog: Catalog) -> None:
    # AICPA 2017 Trust Services Criteria (revised points of focus 2022)
    series = {"CC1": 5, "CC2": 3, "CC3": 4, "CC4": 2, "CC5": 3, "CC6": 8, "CC7": 5, "CC8": 1, "CC9": 2}
    series |= {"A1": 3, "C1": 2, "PI1": 5, "P1": 1, "P2": 1, "P3": 2, "P4": 3, "P5": 2, "P6": 7, "P7": 1, "P8": 1}
    want = [f"{s}.{i}" for s, n in series.items() for i in range(1, n + 1)]
    assert _ids(_fw(catalog, "soc2")) == want


def test_iso_27001_lists_every_clause_and_annex_a_control(catalog: Catalog) -> None:
    # ISO/IEC 27001:2022: clauses 4-10 and Annex A (Table A.1) 5.1-5.37, 6.1-6.8, 7.1-7.14, 8.1-8.34
    fw = _fw(catalog, "iso-27001-2022")
    clauses = "4.1 4.2 4.3 4.4 5.1 5.2 5.3 6.1.1 6.1.2 6.1.3 6.2 6.3 7.1 7.2 7.3 7.4 7.5.1 7.5.2 7.5.3 8.1 8.2 8.3 9.1"
    clauses += " 9.2.1 9.2.2 9.3.1 9.3.2 9.3.3 10.1 10.2"
    annex = [f"A.{t}.{i}" for t, n in ((5, 37), (6, 8), (7, 14), (8, 34)) for i in range(1, n + 1)]
    assert _ids(fw) == clauses.split() + annex
    assert next(r.title for r in fw.requirements if r.id == "A.8.28") == "Secure coding"


def test_fsbp_lists_every_control_of_the_standard(catalog: Catalog) -> None:
    # Security Hub CSPM user guide, FSBP v1.0.0 "controls that apply to the standard": 336 controls
    fw = _fw(catalog, "aws-fsbp")
    per_service = Counter(r.section for r in fw.requirements)
    assert len(fw.requirements) == 336
    assert per_service["EC2"] == 31 and per_service["RDS"] == 38 and per_service["S3"] == 12
    assert per_service["IAM"] == 9 and per_service["GuardDuty"] == 10 and per_service["ELB"] == 15
    assert len(per_service) == 59
    assert all(r.id.split(".")[0] == r.section for r in fw.requirements)
    assert not {"IAM.9", "S3.7", "CloudWatch.1", "EC2.13"} & set(_ids(fw)), "controls of other standards only"


def test_every_file_names_its_source_and_review(catalog: Catalog) -> None:
    for fw in catalog.frameworks.values():
        assert fw.origin is not None and fw.origin.standard and fw.origin.requirements, fw.id
        assert fw.origin.mappings, f"{fw.id}: name what the mappings were compared against"
        assert fw.review is not None and fw.review.method and fw.review.date, fw.id


def test_ids_unique_and_policies_exist(catalog: Catalog) -> None:
    assert not check_references(catalog.frameworks.values(), catalog.policies)
    for fw in catalog.frameworks.values():
        ids = _ids(fw)
        assert len(ids) == len(set(ids)), fw.id
        for r in fw.requirements:
            assert len(r.policies) == len(set(r.policies)), (fw.id, r.id)


def test_requirements_with_policies_are_automated_and_only_those(catalog: Catalog) -> None:
    for fw in catalog.frameworks.values():
        for r in fw.requirements:
            assert r.automated == bool(r.policies), (fw.id, r.id)


@pytest.mark.parametrize("fid", ["pci-dss-4.0", "hipaa", "gdpr", "nist-800-53-rev5", "soc2", "iso-27001-2022"])
def test_automated_requirements_record_why_their_policies_evidence_them(catalog: Catalog, fid: str) -> None:
    missing = [r.id for r in _fw(catalog, fid).automated if not r.rationale]
    assert not missing, f"{fid}: automated requirements without a rationale: {missing}"


@pytest.mark.parametrize("fid", ["pci-dss-4.0", "hipaa", "gdpr", "nist-800-53-rev5", "soc2", "iso-27001-2022"])
def test_no_blanket_mapping(catalog: Catalog, fid: str) -> None:
    # a policy is evidence for the requirements its check can support, not for every requirement
    fw = _fw(catalog, fid)
    per_policy = Counter(p for r in fw.requirements for p in r.policies)
    automated = len(fw.automated)
    assert automated < len(fw.requirements) / 2
    if automated >= 5:
        assert max(per_policy.values()) < automated, f"{fid}: a policy is mapped to every automated requirement"


def test_evidence_lands_on_the_requirement_it_means(catalog: Catalog) -> None:
    # spot checks of the review: near misses must not map
    def reqs(fid: str, pid: str) -> set[str]:
        return {r.id for r in _fw(catalog, fid).requirements if pid in r.policies}

    assert reqs("pci-dss-4.0", "iam_password_policy_reuse_24") == {"8.3.7"}
    assert reqs("pci-dss-4.0", "s3_bucket_secure_transport_policy") == {"4.2.1"}
    assert "3.5.1" in reqs("pci-dss-4.0", "rds_instance_storage_encrypted")
    assert "4.2.1" not in reqs("pci-dss-4.0", "rds_instance_storage_encrypted")
    assert reqs("hipaa", "cloudwatch_alarm_console_authentication_failures") >= {"164.308(a)(5)(ii)(C)"}
    assert "164.312(a)(2)(iv)" not in reqs("hipaa", "s3_bucket_secure_transport_policy")
    assert reqs("gdpr", "s3_bucket_policy_public") == {"Art.25", "Art.32"}
    assert reqs("gdpr", "cloudtrail_multi_region_enabled") == {"Art.32"}
    assert "AU-9(3)" in reqs("nist-800-53-rev5", "cloudtrail_log_file_validation_enabled")
    assert "SC-28" not in reqs("nist-800-53-rev5", "elbv2_tls_security_policy")
    assert reqs("soc2", "kms_cmk_rotation_enabled") == {"CC6.1"}
    assert "A.8.24" in reqs("iso-27001-2022", "kms_cmk_rotation_enabled")
    assert not reqs("iso-27001-2022", "iam_user_mfa_console") & {"A.8.13", "A.8.24"}
