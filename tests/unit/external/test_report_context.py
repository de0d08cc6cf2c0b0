"""The report shows who changed it and every source: CSV columns and the HTML "Who changed it" table."""

from __future__ import annotations

import csv
import io

from cspm_stream.external.sources import add_sources
from cspm_stream.models.change import Change
from cspm_stream.policy.ocsf import add_change
from cspm_stream.report import build_report, collect
from cspm_stream.report.render_data import render_csv
from cspm_stream.report.render_html import render_html
from cspm_stream.testing.findings import T0_MS, compliance_finding

SG = "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0open"
CHANGE = Change(
    event_id="e-1",
    event_name="AuthorizeSecurityGroupIngress",
    event_source="ec2.amazonaws.com",
    event_time="2026-11-28T16:21:00Z",
    principal_arn="arn:aws:iam::123456789012:user/<script>mallory",
    principal_type="IAMUser",
    principal_name="mallory",
    source_ip="203.0.113.66",
)


def _report() -> object:
    opened = compliance_finding(policy_id="ec2_sg_ingress_ssh_world", arn=SG, resource_type="aws.ec2.security_group")
    add_change(opened, CHANGE)
    add_sources(
        opened,
        {"product": "cspm_stream", "uid": "u", "verdict": "fail", "status": "new"},
        [{"product": "AWS Security Hub", "uid": "x", "verdict": "fail", "status": "ACTIVE"}],
    )
    quiet = compliance_finding(policy_id="s3_bucket_public_access_block", arn="arn:aws:s3:::b")
    return build_report(collect([opened, quiet]), [], now_ms=T0_MS + 1000)


def test_csv_names_who_changed_it_and_the_sources() -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(_report()))))  # type: ignore[arg-type]
    sg = next(r for r in rows if r["resource_uid"] == SG)
    assert sg["changed_by"] == CHANGE.principal_arn
    assert sg["sources"] == "cspm_stream;AWS Security Hub"
    other = next(r for r in rows if r["resource_uid"] == "arn:aws:s3:::b")
    assert other["changed_by"] == "" and other["sources"] == ""


def test_html_lists_the_change_escaped() -> None:
    html = render_html(_report())  # type: ignore[arg-type]
    assert "Who changed it" in html
    assert "user/&lt;script&gt;mallory" in html and "<script>mallory" not in html
    assert "203.0.113.66" in html and "AuthorizeSecurityGroupIngress" in html
    assert "cspm_stream, AWS Security Hub" in html
