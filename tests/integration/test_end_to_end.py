"""All five jobs end to end: moto account → daemon (every role) on the real broker → alerts, report.

This is ``make demo`` with assertions: the seeded misconfigurations are found, the safe
resources are not, the replayed attack is detected from a CloudTrail log file delivered
through S3 → SQS, the attacker's real change triggers a rescan and a new finding, dry-run
remediation publishes plans (one line per action and resource) and changes nothing, the
report shows a real posture score, every OCSF record consumed is written and validates against
py-ocsf-models, and nothing but the demo's own lines reaches the terminal.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson
import pytest

from cspm_stream.demo import DEMO_SERVICES, run_demo
from cspm_stream.testing.ocsf_models import failing

pytestmark = pytest.mark.integration


def _resources(alerts: list[dict], state: str) -> set[str]:
    return {
        (a.get("resources") or [{}])[0].get("uid", "")
        for a in alerts
        if a.get("class_uid") == 2003 and a.get("unmapped", {}).get("state") == state
    }


async def test_demo_pipeline_end_to_end(
    kafka_bootstrap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = await run_demo(argparse.Namespace(output=str(tmp_path / "report.html"), timeout=150.0))
    printed = capsys.readouterr()
    alerts = result.display.alerts
    new = _resources(alerts, "new")
    seeded = result.seeded

    # compliance: every seeded misconfiguration has an open finding on its resource
    for label, rid in seeded.bad.items():
        if label == "weak password policy":
            assert any((":iam:" in r and "account" in r) or r.endswith(":root") for r in new) or any(
                "password" in a["finding_info"]["title"].lower() for a in alerts if a.get("class_uid") == 2003
            ), label
            continue
        assert any(rid in r for r in new), f"no NEW finding for {label} ({rid})"

    # ... and the safe ones stay quiet (the tight SG only fails after the attacker opens it)
    assert not any(
        seeded.good["private encrypted bucket"] in r and "public" in a["finding_info"]["title"].lower()
        for a in alerts
        if a.get("class_uid") == 2003
        for r in [a["resources"][0]["uid"]]
        if a["unmapped"]["state"] == "new"
    )
    rotated_key = seeded.good["KMS key with rotation"]
    assert not any(
        rotated_key in r and "rotation" in a["finding_info"]["title"].lower()
        for a in alerts
        if a.get("class_uid") == 2003
        for r in [a["resources"][0]["uid"]]
        if a["unmapped"]["state"] == "new"
    )

    # threat detection: the attack's steps are detected, with the CloudTrail eventIDs as evidence
    detections = [a for a in alerts if a.get("class_uid") == 2004]
    titles = " | ".join(d["finding_info"]["title"] for d in detections).lower()
    for needle in ("without mfa", "cloudtrail logging stopped", "snapshot", "accessdenied", "deleted"):
        assert needle in titles, f"no detection mentioning {needle!r}: {titles}"
    assert all(d["evidences"] and all(e["data"]["event_id"] for e in d["evidences"]) for d in detections)
    assert all(d["actor"]["user"]["uid"].endswith("user/demo-intruder") for d in detections)

    # closed loop: the attacker's real ingress change → rescan → NEW finding on the tight SG
    tight_sg = seeded.good["security group internal https"]
    assert any(tight_sg in r for r in new), "the rescan after AuthorizeSecurityGroupIngress found nothing"
    # ... and that finding names who changed it: the attacker, from the CloudTrail record
    opened = [
        a
        for a in alerts
        if a.get("class_uid") == 2003 and a["unmapped"]["state"] == "new" and tight_sg in a["resources"][0]["uid"]
    ]
    assert opened and all(a["actor"]["user"]["uid"].endswith("user/demo-intruder") for a in opened), opened
    assert all(a["api"]["operation"] == "AuthorizeSecurityGroupIngress" for a in opened)
    assert any("by arn:aws:iam::" in ln and tight_sg in ln for ln in printed.out.splitlines())

    # remediation in dry-run: plans published, nothing applied
    assert result.display.plans, "no remediation plans"
    # ... one of them a response to a detection (playbook: the backdoor user's console login)
    assert any(
        p["action"] == "iam_delete_login_profile"
        and p["resource_arn"].endswith(":user/svc-backup")
        and p["status"] == "planned"
        and p["calls"][0]["operation"] == "delete_login_profile"
        for p in result.display.plans
    ), "no detection-triggered response among the dry-run plans"
    statuses = {p["status"] for p in result.display.plans}
    assert "planned" in statuses and statuses <= {"planned", "noop"}, statuses  # never "succeeded"
    assert all(p["mode"] == "dry-run" for p in result.display.plans)
    lines = [ln for ln in printed.out.splitlines() if "⚙ remediation" in ln]
    keys = [tuple(ln.split()[3:5]) for ln in lines]  # (action, resource)
    assert len(keys) == len(set(keys)) == len(result.display.planned), "one line per (action, resource)"

    # no library noise: moto runs in its own process, library logs go to a file
    assert "Unable to find appropriate backend" not in printed.out + printed.err
    assert "Failed fetch offsets" not in printed.out + printed.err and "Traceback" not in printed.err
    # the scan covers the services the demo account uses, and says so; a service moto has no
    # backend for is reported once and left out, not shown as an error on every check
    assert set(result.unsupported) == {"accessanalyzer"}
    assert printed.out.count(f"{result.unsupported['accessanalyzer']}: not served by this endpoint") == 1
    scanned = sorted(set(DEMO_SERVICES) - {"accessanalyzer"})
    assert f"● scanning {', '.join(scanned)}:" in printed.out
    assert {a["unmapped"]["service"] for a in alerts if a.get("class_uid") == 2003} <= set(scanned)

    # every OCSF record the demo consumed, written and valid
    assert result.findings_path is not None and result.detections_path is not None
    findings = [orjson.loads(ln) for ln in result.findings_path.read_bytes().splitlines()]
    detections_read = [orjson.loads(ln) for ln in result.detections_path.read_bytes().splitlines()]
    assert {f["unmapped"]["state"] for f in findings} >= {"passed", "new"}  # passes are kept too
    assert len(detections_read) >= len(detections)
    assert failing(findings) == {} and failing(detections_read) == {}

    # reporting: a real score, passed / (passed + failed) over the current checks
    assert result.report_exit == 0
    html = result.report_path.read_text()
    assert "<svg" in html and "cis-aws" in html.lower()
    assert result.report_json_path is not None
    summary = orjson.loads(result.report_json_path.read_bytes())["summary"]
    checks, score = summary["checks"], summary["score"]
    assert checks["passed"] > 0 and checks["failed"] > 0
    assert score["value"] == pytest.approx(100 * checks["passed"] / (checks["passed"] + checks["failed"]))
    assert result.display.counts["dlq"] == 0
    assert result.seconds < 180
