"""Run the tests a playbook carries: detections in (built by the detection stage's own builder), commands out.

A test case::

    - name: backdoor key for another user
      detection:
        rule: 6b483e1e-...            # default: the playbook's first rule
        user_identity: {...}          # the CloudTrail userIdentity of the last triggering record
        resources: [{uid: arn:..., type: aws.iam.user}]
        first_seen: "2026-01-01T00:00:00Z"
        region: us-east-1             # default us-east-1; account: the user identity's or 123456789012
        repeat: false                 # true: a repeat inside the window (activity update)
      expect: none                    # or {resource_arn, resource_type, params: {...}} (params: a subset)
"""

from __future__ import annotations

from typing import Any

from cspm_stream.models import RemediationMode, Severity, ocsf
from cspm_stream.remediate.playbooks import Playbook, commands_for
from cspm_stream.settings import RemediationSettings
from cspm_stream.timeutil import to_ms

ACCOUNT = "123456789012"


def detection(pb: Playbook, spec: dict[str, Any]) -> dict[str, Any]:
    """The OCSF Detection Finding the detect stage would emit for ``spec``."""
    from cspm_stream.detect.findings import build
    from cspm_stream.detect.rules import RuleInfo

    rule = str(spec.get("rule") or pb.rules[0][0])
    ui = spec.get("user_identity") or {}
    account = str(spec.get("account") or ui.get("accountId") or ACCOUNT)
    first = to_ms(str(spec.get("first_seen") or "2026-01-01T00:00:00Z"))
    info = RuleInfo(
        id=rule,
        title=str(spec.get("title") or "test detection"),
        description="playbook test",
        severity=Severity.HIGH,
        level="high",
        tactics=(),
        techniques=(),
        runbook="",
        file="<playbook test>",
    )
    repeat = bool(spec.get("repeat"))
    det = {
        "uid": ocsf.finding_uid(rule, str(spec), "w"),
        "first": first,
        "last": first + 1000,
        "account": account,
        "region": str(spec.get("region") or "us-east-1"),
        "ui": ui,
        "ip": "203.0.113.9",
        "ua": "aws-cli/2",
        "resources": list(spec.get("resources") or []),
        "count": 2 if repeat else 1,
        "group": "g",
        "ws_iso": "2026-01-01T00:00:00Z",
    }
    evidence = [{"data": {"event_id": "e1", "event_name": "", "event_time": "", "event_source": ""}}]
    activity = ocsf.ACTIVITY_UPDATE if repeat else ocsf.ACTIVITY_CREATE
    return build(info, det, activity, ["e1"], evidence)


def run(pb: Playbook, conf: RemediationSettings | None = None) -> list[str]:
    """Failures of ``pb``'s own tests ('' list when every case holds)."""
    conf = conf or RemediationSettings(default_mode=RemediationMode.DRY_RUN)
    failures: list[str] = []
    for i, case in enumerate(pb.tests):
        name = f"{pb.id} test {i} ({case.get('name', '')})"
        notes: list[str] = []
        cmds = commands_for([pb], detection(pb, dict(case.get("detection") or {})), conf, skipped=notes)
        expect = case.get("expect")
        if expect in (None, "none"):
            if cmds:
                failures.append(f"{name}: expected no command, got {cmds[0].resource_arn}")
            continue
        if not isinstance(expect, dict):
            failures.append(f"{name}: expect must be 'none' or a mapping")
            continue
        if len(cmds) != 1:
            failures.append(f"{name}: expected one command, got {len(cmds)} ({'; '.join(notes)})")
            continue
        c = cmds[0]
        for key in ("resource_arn", "resource_type", "resource_id", "region"):
            if key in expect and getattr(c, key) != expect[key]:
                failures.append(f"{name}: {key} {getattr(c, key)!r} != {expect[key]!r}")
        for k, v in (expect.get("params") or {}).items():
            if c.params.get(k) != v:
                failures.append(f"{name}: params.{k} {c.params.get(k)!r} != {v!r}")
        if c.action != pb.action or c.params.get("playbook") != pb.id:
            failures.append(f"{name}: wrong action or playbook in the command")
    return failures
