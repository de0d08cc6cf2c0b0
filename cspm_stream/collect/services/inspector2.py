"""Amazon Inspector (inspector2, regional): the account's activation and active findings — one
``aws.inspector2.region`` record per account and Region.

* ``Account`` — BatchGetAccountStatus for the scanned account: ``state.status`` (ENABLED, DISABLED, ...) and
  ``resourceState.{ec2,ecr,lambda,lambdaCode}.status``.
* ``Findings`` — only when Inspector is ENABLED (else null): ``{HasActive, OldestFirstObservedAt, HasActiveCritical}``
  from ListFindings filtered on the account and ``findingStatus`` ACTIVE, sorted by ``FIRST_OBSERVED_AT`` ascending,
  one result (``OldestFirstObservedAt`` is that finding's ``firstObservedAt``; null without active findings), and
  the same filter narrowed to ``severity`` CRITICAL (one result: is there any).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, region_arn, region_id


async def _status_raw(calls: Calls) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        resp = await calls.call("inspector2", "batch_get_account_status", accountIds=[calls.scope.account_id])
        accounts = resp.get("accounts") or []
        if not accounts:
            failed = resp.get("failedAccounts") or [{}]
            raise LookupError(f"BatchGetAccountStatus: {failed[0].get('errorCode')}: {failed[0].get('errorMessage')}")
        status: dict[str, Any] = accounts[0]
        return status

    out: dict[str, Any] = await calls.cached("inspector2-status", read)
    return out


async def _account(calls: Calls, item: Item) -> Any:
    return await _status_raw(calls)


async def _findings(calls: Calls, item: Item) -> Any:
    status = await _status_raw(calls)
    if ((status.get("state") or {}).get("status")) != "ENABLED":
        return None
    resp = await calls.call(
        "inspector2",
        "list_findings",
        filterCriteria={
            "awsAccountId": [{"comparison": "EQUALS", "value": calls.scope.account_id}],
            "findingStatus": [{"comparison": "EQUALS", "value": "ACTIVE"}],
        },
        sortCriteria={"field": "FIRST_OBSERVED_AT", "sortOrder": "ASC"},
        maxResults=1,
    )
    found = resp.get("findings") or []
    critical: list[Any] = []
    if found:
        resp = await calls.call(
            "inspector2",
            "list_findings",
            filterCriteria={
                "awsAccountId": [{"comparison": "EQUALS", "value": calls.scope.account_id}],
                "findingStatus": [{"comparison": "EQUALS", "value": "ACTIVE"}],
                "severity": [{"comparison": "EQUALS", "value": "CRITICAL"}],
            },
            maxResults=1,
        )
        critical = resp.get("findings") or []
    return {
        "HasActive": bool(found),
        "OldestFirstObservedAt": found[0].get("firstObservedAt") if found else None,
        "HasActiveCritical": bool(critical),
    }


SPECS = [
    ResourceSpec(
        resource_type="aws.inspector2.region",
        service="inspector2",
        list_op=None,
        id=region_id,
        arn=region_arn("inspector2", "inspector2"),
        details=(
            Detail("Account", fn=_account),
            Detail("Findings", fn=_findings),
        ),
    ),
]
