from __future__ import annotations

from cspm_stream.models import Severity
from cspm_stream.policy.catalog import Catalog
from cspm_stream.policy.mutelist import parse_mutelist
from cspm_stream.policy.scanning import ScanEvaluator
from cspm_stream.testing import snapshot

PUBLIC = {
    "Acl": {"Grants": [{"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}}]},
    "Encryption": None,
    "Policy": None,
}


def test_scan_findings_totals_and_mutes(fixture_catalog: Catalog) -> None:
    ml = parse_mutelist("mutes: [{id: m, reason: known, owner: o, policy: fx_s3_no_encryption, arn: '.*:::b2'}]")
    ev = ScanEvaluator(fixture_catalog, fixture_catalog.engine(), ml, now_ts=1767225600.0)
    b1 = snapshot("aws.s3.bucket", PUBLIC, arn="arn:aws:s3:::b1")
    b2 = snapshot("aws.s3.bucket", PUBLIC, arn="arn:aws:s3:::b2")
    failed_only = list(ev.findings(b1, include_passed=False))
    assert sorted((f["unmapped"]["policy_id"], f["compliance"]["status_id"]) for f in failed_only) == [
        ("fx_s3_no_encryption", 3),
        ("fx_s3_public_acl", 3),
    ]
    everything = list(ev.findings(b2, include_passed=True))
    states = {f["unmapped"]["policy_id"]: (f["unmapped"]["state"], f["compliance"]["status_id"]) for f in everything}
    assert states == {
        "fx_s3_public_acl": ("new", 3),
        "fx_s3_no_encryption": ("suppressed", 3),
        "fx_s3_policy_public": ("passed", 1),
    }
    t = ev.totals
    assert (t.resources, t.evaluations, t.failed, t.passed, t.suppressed, t.errors) == (2, 6, 3, 2, 1, 0)
    assert t.failed_at_or_above(Severity.CRITICAL) == 2  # the public ACL twice
    assert t.failed_at_or_above(Severity.MEDIUM) == 3
    assert t.score == 100.0 * 2 / 5  # passed / (passed + failed): the muted check is in neither term
    assert t.summary().endswith("posture score 40.0%")
    # a type without policies is not counted
    assert list(ev.findings(snapshot("aws.sqs.queue", {}), include_passed=True)) == []
    assert ev.totals.resources == 2
