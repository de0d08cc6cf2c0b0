"""Alerts show who changed it and every source of one problem (Slack); the OCSF record stays valid."""

from __future__ import annotations

from typing import Any

from cspm_stream.delivery.model import alert_from_bytes
from cspm_stream.delivery.sinks.slack import slack_message
from cspm_stream.external.sources import add_sources
from cspm_stream.models import dumps
from cspm_stream.models.change import Change
from cspm_stream.policy.ocsf import add_change
from cspm_stream.testing.findings import compliance_finding
from cspm_stream.testing.ocsf_models import ocsf_errors

CHANGE = Change(
    event_id="0d4a1c2e-aaaa-bbbb-cccc-1234567890ab",
    event_name="AuthorizeSecurityGroupIngress",
    event_source="ec2.amazonaws.com",
    event_time="2026-11-28T16:21:00Z",
    principal_arn="arn:aws:iam::123456789012:user/mallory",
    principal_type="IAMUser",
    principal_name="mallory",
    account_id="123456789012",
    source_ip="203.0.113.66",
    user_agent="aws-cli/2.15.0",
)


def _text(msg: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in msg["blocks"] if "text" in b)


def test_changed_by_and_sources_reach_the_slack_message() -> None:
    f = compliance_finding(
        policy_id="ec2_sg_ingress_ssh_world", arn="arn:aws:ec2:us-east-1:123456789012:security-group/sg-1"
    )
    add_change(f, CHANGE)
    ext = {"product": "AWS Security Hub", "uid": "arn:aws:securityhub:x", "verdict": "fail", "status": "ACTIVE"}
    add_sources(f, {"product": "cspm_stream", "uid": "u", "verdict": "fail", "status": "new"}, [ext])
    assert ocsf_errors(f) == []
    text = _text(slack_message(alert_from_bytes(dumps(f))))
    assert "*Changed by:* `arn:aws:iam::123456789012:user/mallory` from 203.0.113.66" in text
    assert "AuthorizeSecurityGroupIngress at 2026-11-28T16:21:00Z" in text
    assert "*Reported by:* cspm_stream, AWS Security Hub" in text


def test_last_changed_by_is_labelled_as_such_and_absent_means_absent() -> None:
    f = compliance_finding()
    assert "Changed by" not in _text(slack_message(alert_from_bytes(dumps(f))))
    f["unmapped"]["last_changed_by"] = CHANGE.summary()
    assert "*Last changed by:* `arn:aws:iam::123456789012:user/mallory`" in _text(
        slack_message(alert_from_bytes(dumps(f)))
    )
    f["unmapped"]["last_changed_by"] = {"principal_arn": ["not", "text"]}  # hostile: any JSON type anywhere
    assert isinstance(slack_message(alert_from_bytes(dumps(f))), dict)
