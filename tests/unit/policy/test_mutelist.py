from __future__ import annotations

import os
from pathlib import Path

import pytest

from cspm_stream.policy.mutelist import MutelistError, MutelistSource, Subject, parse_mutelist

ML = """
mutes:
  - id: dev-buckets
    reason: dev sandbox
    owner: alice@example.com
    policy: "s3_*"
    arn: "arn:aws:s3:::dev-.*"
  - id: tagged
    reason: accepted risk
    owner: bob
    expires: 2026-06-01T00:00:00Z
    account: "123456789012"
    region: [eu-*]
    tags: {env: "test*"}
  - id: combo
    reason: r
    owner: o
    any:
      - {resource_type: "aws.ec2.*", not: {region: us-east-1}}
      - {policy: [iam_root_mfa]}
"""


def subj(**kw: object) -> Subject:
    base: dict[str, object] = dict(
        policy_id="s3_bucket_versioning",
        arn="arn:aws:s3:::prod-data",
        account_id="123456789012",
        region="us-east-1",
        resource_type="aws.s3.bucket",
        tags={},
    )
    base.update(kw)
    return Subject(**base)  # type: ignore[arg-type]


NOW = 1767225600.0  # 2026-01-01
LATER = 1798761600.0  # 2027-01-01


def test_matching() -> None:
    ml = parse_mutelist(ML)
    assert ml.match(subj(), NOW) is None
    m = ml.match(subj(arn="arn:aws:s3:::dev-x"), NOW)
    assert m is not None and m.id == "dev-buckets" and m.reason == "dev sandbox" and m.owner == "alice@example.com"
    assert ml.match(subj(arn="arn:aws:s3:::dev-x", policy_id="ec2_x"), NOW) is None
    # arn regex is a whole-string match
    assert ml.match(subj(arn="xarn:aws:s3:::dev-x"), NOW) is None
    tagged = subj(region="eu-west-1", tags={"env": "testing"})
    assert ml.match(tagged, NOW).id == "tagged"  # type: ignore[union-attr]
    assert ml.match(subj(region="eu-west-1", tags={"env": "prod"}), NOW) is None
    assert ml.match(tagged, LATER) is None  # expired
    assert ml.match(subj(resource_type="aws.ec2.instance", region="eu-west-1"), NOW).id == "combo"  # type: ignore[union-attr]
    assert ml.match(subj(resource_type="aws.ec2.instance"), NOW) is None
    assert ml.match(subj(policy_id="iam_root_mfa"), NOW).id == "combo"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "path", "reason"),
    [
        ("mutes: [{id: a, reason: r, owner: o}]", "mutes[0]", "no match criteria"),
        ("mutes: [{id: a, owner: o, policy: x}]", "mutes[0].reason", "required"),
        ("mutes: [{id: a, reason: r, owner: o, arn: '('}]", "mutes[0].arn", "invalid regex"),
        ("mutes: [{id: a, reason: r, owner: o, policy: x, expires: soon}]", "mutes[0].expires", "ISO 8601"),
        ("mutes: [{id: a, reason: r, owner: o, policy: x, colour: red}]", "mutes[0].colour", "unknown key"),
        ("mutes: [{id: a, reason: r, owner: o, any: [{regionz: x}]}]", "mutes[0].any[0].regionz", "unknown key"),
        (
            "mutes: [{id: a, reason: r, owner: o, policy: x}, {id: a, reason: r, owner: o, policy: y}]",
            "mutes[1].id",
            "duplicate",
        ),
    ],
)
def test_errors(text: str, path: str, reason: str) -> None:
    with pytest.raises(MutelistError) as exc:
        parse_mutelist(text, "ml.yaml")
    assert exc.value.file == "ml.yaml" and exc.value.path == path and reason in exc.value.reason


def test_fingerprint_changes_with_content() -> None:
    a = parse_mutelist(ML)
    assert a.fingerprint == parse_mutelist(ML).fingerprint
    assert a.fingerprint != parse_mutelist(ML + "\n# edited\n").fingerprint
    assert len(parse_mutelist("")) == 0


def test_hot_reload_by_mtime(tmp_path: Path) -> None:
    f = tmp_path / "mutelist.yaml"
    f.write_text("mutes: [{id: a, reason: r, owner: o, policy: 'p1'}]")
    src = MutelistSource(f, reload_s=5)
    first = src.load()
    assert len(first) == 1
    f.write_text("mutes: [{id: a, reason: r, owner: o, policy: 'p1'}, {id: b, reason: r, owner: o, policy: 'p2'}]")
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert len(src.get(100.0)) == 2  # mtime changed: reloaded
    assert src.get(101.0) is src.current  # unchanged within reload_s
    # a broken edit keeps the previous version and reports the error
    good = src.current
    f.write_text("mutes: [{id: a}]")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert src.get(200.0) is good
    assert src.last_error is not None and "reason" in src.last_error.path
    # throttled: no stat within reload_s
    f.write_text("mutes: []")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 3_000_000_000))
    assert src.get(201.0) is good
    assert len(src.get(300.0)) == 0


def test_unquoted_account_ids() -> None:
    ml = parse_mutelist("mutes: [{id: a, reason: r, owner: o, account: [12345678901, 123456789012]}]")
    assert ml.match(subj(account_id="012345678901"), NOW) is not None
    assert ml.match(subj(account_id="123456789012"), NOW) is not None
    assert ml.match(subj(account_id="999999999999"), NOW) is None
