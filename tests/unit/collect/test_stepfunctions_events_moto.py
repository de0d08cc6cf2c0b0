"""Step Functions and EventBridge on the wire: moto for state machines (definitions never kept) and event buses
(public, cross-account and private policies, archives, dead-letter queues); recorded responses for global endpoints
(moto does not serve ListEndpoints)."""

from __future__ import annotations

import json

import pytest

from cspm_stream.collect.services.events import foreign_principals
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

DEFINITION = {
    "StartAt": "Charge",
    "States": {"Charge": {"Type": "Pass", "Result": {"api_key": "sk_live_not_kept"}, "End": True}},
}
LOG_GROUP = f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/states/orders:*"


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    sf = moto_server.boto3_client("stepfunctions")
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/states"
    sf.create_state_machine(
        name="logged",
        definition=json.dumps(DEFINITION),
        roleArn=role,
        loggingConfiguration={
            "level": "ERROR",
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": LOG_GROUP}}],
        },
        tracingConfiguration={"enabled": True},
    )
    sf.create_state_machine(
        name="silent", definition=json.dumps(DEFINITION), roleArn=role, loggingConfiguration={"level": "OFF"}
    )
    ev = moto_server.boto3_client("events")
    for bus in ("private", "public", "shared"):
        ev.create_event_bus(Name=bus)
    ev.put_permission(EventBusName="public", Action="events:PutEvents", Principal="*", StatementId="everyone")
    ev.put_permission(EventBusName="shared", Action="events:PutEvents", Principal="210987654321", StatementId="partner")
    ev.put_permission(EventBusName="private", Action="events:PutEvents", Principal=ACCOUNT_ID, StatementId="self")
    ev.create_archive(
        ArchiveName="private-archive",
        EventSourceArn=f"arn:aws:events:us-east-1:{ACCOUNT_ID}:event-bus/private",
        RetentionDays=30,
    )
    return collect_moto(moto_server, ["stepfunctions", "events"])


def test_state_machines(estate: Estate) -> None:
    logged = estate.one("aws.stepfunctions.state_machine", "logged")
    assert logged.arn == f"arn:aws:states:us-east-1:{ACCOUNT_ID}:stateMachine:logged"
    assert "definition" not in logged.attributes["StateMachine"]
    assert "sk_live_not_kept" not in repr(estate.snaps)
    pols = [
        "stepfunctions_statemachine_logging_enabled",
        "stepfunctions_statemachine_logging_error_level",
        "stepfunctions_statemachine_tracing_enabled",
    ]
    v = estate.verdicts(pols)
    assert {p: (v[(p, "logged")], v[(p, "silent")]) for p in pols} == {p: ("pass", "fail") for p in pols}
    v = estate.verdicts(["stepfunctions_statemachine_encrypted_with_cmk"])
    assert v[("stepfunctions_statemachine_encrypted_with_cmk", "logged")] == "fail"  # moto: AWS owned key


def test_event_buses(estate: Estate) -> None:
    assert estate.ids("aws.events.event_bus") == {"default", "private", "public", "shared"}
    assert estate.one("aws.events.event_bus", "shared").attributes["Bus"]["ForeignPrincipals"] == [
        "arn:aws:iam::210987654321:root"
    ]
    pols = {
        "eventbridge_bus_not_public": {"private": "pass", "public": "fail", "shared": "pass", "default": "pass"},
        "eventbridge_bus_cross_account_access": {
            "private": "pass",
            "public": "fail",
            "shared": "fail",
            "default": "pass",
        },
        "eventbridge_bus_archive_enabled": {"private": "pass", "public": "fail", "shared": "fail", "default": "pass"},
        "eventbridge_custom_bus_resource_policy_attached": {
            "private": "pass",
            "public": "pass",
            "shared": "pass",
            "default": "pass",
        },
    }
    v = estate.verdicts(list(pols))
    assert {p: {b: v[(p, b)] for b in want} for p, want in pols.items()} == pols


def test_foreign_principals_shapes() -> None:
    doc = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT_ID}:role/x", "111122223333"]}},
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}},
            {"Effect": "Deny", "Principal": "*"},
            {"Effect": "Allow", "Principal": "*"},
        ]
    }
    assert foreign_principals(doc, ACCOUNT_ID) == ["111122223333", "*"]
    assert foreign_principals("not a policy", ACCOUNT_ID) == []


def test_recorded_global_endpoints() -> None:
    e, aws = collect_fixture("events", "events")
    assert aws.unanswered == []
    v = e.verdicts(["eventbridge_global_endpoint_event_replication_enabled"])
    p = "eventbridge_global_endpoint_event_replication_enabled"
    assert (v[(p, "orders-global")], v[(p, "audit-global")]) == ("pass", "fail")
