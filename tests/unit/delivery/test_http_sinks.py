"""PagerDuty, Jira and Splunk HEC sinks against local stand-ins that check the documented request shapes.

Each goes through the real :class:`SinkRunner` (retries, backoff, dead letters), so the
tests hold the same semantics as the older sinks: permanent refusals are dead-lettered at
once, retriable ones after ``max_attempts``, and no secret reaches a dead letter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from cspm_stream.delivery.model import Alert, alert_from_bytes
from cspm_stream.delivery.runner import SinkRunner
from cspm_stream.delivery.sinks.factory import build_sink
from cspm_stream.delivery.sinks.jira import JiraSink, uid_label
from cspm_stream.delivery.sinks.pagerduty import PagerDutySink
from cspm_stream.delivery.sinks.splunk_hec import SplunkHecSink
from cspm_stream.errors import ConfigError
from cspm_stream.models import FindingStatus, Severity, ocsf
from cspm_stream.settings import SinkSettings
from cspm_stream.testing.findings import compliance_finding, detection_finding, raw
from tests.unit.delivery.standins import JiraStandIn, PagerDutyStandIn, SplunkHecStandIn
from tests.unit.delivery.test_sinks import MemoryDlq

PD_KEY = "R0UTINGKEY0123456789abcdefABCDEF"
JIRA_TOKEN = "jira-pat-TOKEN-0123456789"
HEC_TOKEN = "11111111-2222-3333-4444-555555555555"


def conf(type_: str, **kw: Any) -> SinkSettings:
    kw.setdefault("backoff_s", 0.01)
    kw.setdefault("max_attempts", 3)
    return SinkSettings(type=type_, **kw)


def comp(state: FindingStatus, arn: str = "arn:aws:s3:::b1", **kw: Any) -> Alert:
    return alert_from_bytes(raw(compliance_finding(arn=arn, state=state, **kw)))


def det(activity: int = ocsf.ACTIVITY_CREATE) -> Alert:
    return alert_from_bytes(raw(detection_finding(activity_id=activity)))


async def deliver(sink: Any, kind: str, alerts: list[Alert], **kw: Any) -> MemoryDlq:
    dlq = MemoryDlq()
    async with SinkRunner([sink], {sink.name: conf(kind, **kw)}, dlq) as runner:
        for a in alerts:
            runner.submit(sink.name, a)
            await runner.join()  # in order: one finding's states arrive one after another
    return dlq


# --- PagerDuty ----------------------------------------------------------------------------------


@pytest.fixture
def pd() -> Iterator[PagerDutyStandIn]:
    with PagerDutyStandIn(PD_KEY) as s:
        assert isinstance(s, PagerDutyStandIn)
        yield s


async def test_pagerduty_triggers_then_resolves_the_same_alert(pd: PagerDutyStandIn) -> None:
    new, gone = comp(FindingStatus.NEW), comp(FindingStatus.RESOLVED)
    repeat = det(ocsf.ACTIVITY_UPDATE)
    sink = PagerDutySink("pd", pd.url + "/v2/enqueue", PD_KEY)
    dlq = await deliver(sink, "pagerduty", [new, det(), repeat, gone])
    assert not dlq.letters and not pd.errors
    assert new.uid == gone.uid
    assert pd.alerts[new.uid].status == "resolved"
    actions = [e["event_action"] for e in pd.alerts[new.uid].events]
    assert actions == ["trigger", "resolve"]
    first = pd.alerts[new.uid].events[0]
    assert first["payload"]["severity"] == "error"  # High → error
    assert first["payload"]["source"] == "arn:aws:s3:::b1"
    assert first["payload"]["custom_details"]["state"] == "new"
    # a detection repeated in its window triggers again under the same dedup key (PagerDuty folds it)
    assert [e["event_action"] for e in pd.alerts[repeat.uid].events] == ["trigger", "trigger"]
    assert pd.alerts[repeat.uid].events[0]["payload"]["severity"] == "critical"


async def test_pagerduty_suppressed_resolves_and_passed_never_triggers(pd: PagerDutyStandIn) -> None:
    sink = PagerDutySink("pd", pd.url + "/v2/enqueue", PD_KEY)
    muted = comp(FindingStatus.SUPPRESSED, arn="arn:aws:s3:::muted")
    passed = comp(FindingStatus.PASSED, arn="arn:aws:s3:::fine")
    await deliver(sink, "pagerduty", [muted, passed])
    assert [e["event_action"] for e in pd.alerts[muted.uid].events] == ["resolve"]
    assert [e["event_action"] for e in pd.alerts[passed.uid].events] == ["resolve"]
    assert not pd.errors


async def test_pagerduty_refusal_is_dead_lettered_with_the_key_masked(pd: PagerDutyStandIn) -> None:
    wrong = "WRONGKEY-9876543210-zyxwvutsrq"
    sink = PagerDutySink("pd", pd.url + "/v2/enqueue", wrong)
    dlq = await deliver(sink, "pagerduty", [comp(FindingStatus.NEW)])
    assert len(pd.requests) == 1  # a 400 is permanent: not retried
    (letter,) = dlq.letters
    assert "HTTP 400" in letter.reason and "Invalid routing key" in letter.reason
    assert wrong not in letter.reason and "***" in letter.reason


async def test_pagerduty_rate_limit_is_retried_then_dead_lettered(pd: PagerDutyStandIn) -> None:
    pd.fail_with = 429
    sink = PagerDutySink("pd", pd.url + "/v2/enqueue", PD_KEY)
    dlq = await deliver(sink, "pagerduty", [comp(FindingStatus.NEW)], max_attempts=3)
    assert len(pd.requests) == 3
    assert "gave up after 3 attempts" in dlq.letters[0].reason


def test_pagerduty_url_defaults_to_the_public_endpoint_and_key_comes_from_the_environment() -> None:
    c = conf("pagerduty", routing_key_env="PD_ROUTING_KEY")
    sink = build_sink("pd", c, {"PD_ROUTING_KEY": PD_KEY})
    assert isinstance(sink, PagerDutySink)
    assert sink._http.url == "https://events.pagerduty.com/v2/enqueue"
    with pytest.raises(ConfigError) as info:
        build_sink("pd", c, {})
    assert "PD_ROUTING_KEY" in str(info.value)


# --- Jira ------------------------------------------------------------------------------------------


def jira_sink(url: str, token: str = JIRA_TOKEN) -> JiraSink:
    return JiraSink("jira", url, token, project="SEC", issue_type="Bug")


async def test_jira_one_issue_per_uid_comment_on_repeat_transition_on_resolve() -> None:
    with JiraStandIn(JIRA_TOKEN) as jira:
        assert isinstance(jira, JiraStandIn)
        new = comp(FindingStatus.NEW)
        again = comp(FindingStatus.FAILING)
        other = comp(FindingStatus.NEW, arn="arn:aws:s3:::b2")
        dlq = await deliver(jira_sink(jira.url), "jira", [new, again, other, comp(FindingStatus.RESOLVED)])
        assert not dlq.letters and not jira.errors
        assert sorted(jira.issues) == ["SEC-1", "SEC-2"]
        first = jira.issues["SEC-1"]
        assert first.fields["issuetype"] == {"name": "Bug"}
        assert uid_label(new.uid) in first.fields["labels"] and "cspm-stream" in first.fields["labels"]
        assert (
            new.uid in first.fields["description"] and "Fix: Enable Block Public Access" in first.fields["description"]
        )
        assert first.status == "Done"
        assert len(first.comments) == 2 and "still active" in first.comments[0] and "resolved" in first.comments[1]
        assert jira.issues["SEC-2"].status == "To Do" and not jira.issues["SEC-2"].comments
        # the finding re-opens: the same issue goes back to an open status, never a second issue
        await deliver(jira_sink(jira.url), "jira", [comp(FindingStatus.NEW)])
        assert len(jira.issues) == 2 and first.status == "To Do" and len(first.comments) == 3


async def test_jira_restart_finds_the_issue_by_label_and_lagging_search_is_covered() -> None:
    with JiraStandIn(JIRA_TOKEN, search_lag=5) as jira:
        assert isinstance(jira, JiraStandIn)
        sink = jira_sink(jira.url)
        await deliver(sink, "jira", [comp(FindingStatus.NEW), comp(FindingStatus.FAILING)])
        assert len(jira.issues) == 1 and len(jira.issues["SEC-1"].comments) == 1  # remembered, not re-created
        jira.search_lag = 0
        await deliver(jira_sink(jira.url), "jira", [comp(FindingStatus.FAILING)])  # a fresh process
        assert len(jira.issues) == 1 and len(jira.issues["SEC-1"].comments) == 2


async def test_jira_data_center_search_and_cloud_basic_auth() -> None:
    token = "someone@example.com:ATATT3xFfGF0-api-token-123"
    with JiraStandIn(token, data_center=True) as jira:
        assert isinstance(jira, JiraStandIn)
        sink = jira_sink(jira.url, token)
        dlq = await deliver(sink, "jira", [comp(FindingStatus.NEW), comp(FindingStatus.RESOLVED)])
        assert not dlq.letters and not jira.errors
        assert jira.issues["SEC-1"].status == "Done"
        paths = [p for _, p, _, _ in jira.requests]
        assert paths.count("/rest/api/2/search/jql") == 1  # tried once, then the classic endpoint only
        assert "/rest/api/2/search" in paths


async def test_jira_resolve_without_issue_does_nothing_and_unauthorized_is_dead_lettered() -> None:
    with JiraStandIn(JIRA_TOKEN) as jira:
        assert isinstance(jira, JiraStandIn)
        dlq = await deliver(jira_sink(jira.url), "jira", [comp(FindingStatus.RESOLVED)])
        assert not dlq.letters and not jira.issues
        dlq = await deliver(jira_sink(jira.url, "wrong-token-000111222"), "jira", [comp(FindingStatus.NEW)])
        assert "HTTP 401" in dlq.letters[0].reason and "wrong-token" not in dlq.letters[0].reason


async def test_jira_named_resolve_transition_must_exist() -> None:
    with JiraStandIn(JIRA_TOKEN) as jira:
        assert isinstance(jira, JiraStandIn)
        sink = JiraSink("jira", jira.url, JIRA_TOKEN, project="SEC", resolve_transition="Close as fixed")
        dlq = await deliver(sink, "jira", [comp(FindingStatus.NEW), comp(FindingStatus.RESOLVED)])
        assert "no transition to a Done status" in dlq.letters[0].reason
        sink = JiraSink("jira", jira.url, JIRA_TOKEN, project="SEC", resolve_transition="done")
        dlq = await deliver(sink, "jira", [comp(FindingStatus.RESOLVED)])
        assert not dlq.letters and jira.issues["SEC-1"].status == "Done"


def test_jira_issue_keys_from_answers_never_leave_the_configured_url() -> None:
    """A hostile answer cannot steer a request elsewhere: keys are checked, paths are plain."""
    from cspm_stream.delivery.sinks.jira import _ISSUE_KEY

    for bad in ("SEC-1/../../admin", "http://evil/SEC-1", "SEC-1?x=1", "sec-1", "SEC-", "SEC-1#"):
        assert not _ISSUE_KEY.fullmatch(bad)


# --- Splunk HEC --------------------------------------------------------------------------------


async def test_splunk_hec_event_envelope() -> None:
    with SplunkHecStandIn(HEC_TOKEN) as hec:
        assert isinstance(hec, SplunkHecStandIn)
        sink = SplunkHecSink("splunk", hec.url + "/services/collector/event", HEC_TOKEN, index="security")
        a = comp(FindingStatus.NEW)
        dlq = await deliver(sink, "splunk_hec", [a])
        assert not dlq.letters and not hec.errors
        (ev,) = hec.events
        assert ev["event"] == orjson.loads(a.raw) and ev["index"] == "security"
        assert ev["time"] == a.time_ms / 1000 and ev["host"] == a.account_id
        assert ev["fields"] == {"cspm_state": "new", "cspm_uid": a.uid}


async def test_splunk_busy_is_retried_and_bad_token_is_permanent() -> None:
    with SplunkHecStandIn(HEC_TOKEN) as hec:
        assert isinstance(hec, SplunkHecStandIn)
        hec.busy = True
        sink = SplunkHecSink("splunk", hec.url + "/services/collector/event", HEC_TOKEN)
        dlq = await deliver(sink, "splunk_hec", [comp(FindingStatus.NEW)], max_attempts=2)
        assert len(hec.requests) == 2 and "HTTP 503" in dlq.letters[0].reason
        hec.busy = False
        hec.requests.clear()
        bad = "99999999-8888-7777-6666-555555555555"
        sink = SplunkHecSink("splunk", hec.url + "/services/collector/event", bad)
        dlq = await deliver(sink, "splunk_hec", [comp(FindingStatus.NEW)])
        assert len(hec.requests) == 1 and "HTTP 403" in dlq.letters[0].reason and bad not in dlq.letters[0].reason


# --- settings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sink", "key", "why"),
    [
        ({"type": "pagerduty"}, "routing_key_env", "needs routing_key_env"),
        ({"type": "pagerduty", "routing_key_env": "CSPM_PD"}, "routing_key_env", "reserved"),
        ({"type": "jira", "url": "https://j.example", "project": "SEC"}, "token_env", "needs token_env"),
        ({"type": "jira", "url": "https://j.example", "project": "S E", "token_env": "T"}, "project", "project key"),
        ({"type": "jira", "project": "SEC", "token_env": "T"}, "url", "needs url"),
        ({"type": "splunk_hec", "url": "ftp://h.example", "token_env": "T"}, "url", "http"),
        ({"type": "sns", "topic_arn": "arn:aws:sqs:us-east-1:123456789012:q"}, "topic_arn", "not an SNS topic ARN"),
        ({"type": "securityhub", "region": "mars-1"}, "region", "not an AWS region"),
        ({"type": "securityhub", "region": "eu-west-1", "endpoint_url": "file:///x"}, "endpoint_url", "http"),
    ],
)
def test_bad_sink_settings_fail_at_load_naming_the_key(sink: dict[str, Any], key: str, why: str) -> None:
    from cspm_stream import settings

    with pytest.raises(ConfigError) as info:
        settings.load(data={"alerts": {"sinks": {"x": sink}, "routes": [{"name": "r", "sink": "x"}]}}, environ={})
    assert info.value.key == f"alerts.sinks.x.{key}" and why in str(info.value)


def test_detection_severity_mapping_covers_every_severity() -> None:
    from cspm_stream.delivery.sinks.pagerduty import _SEVERITY

    assert set(_SEVERITY) == set(Severity)
