"""AWS Account Management (global): the account's primary and alternate contacts — one ``aws.account.contacts``
record per account.

* ``PrimaryContact`` — GetContactInformation ``ContactInformation``: ``FullName``, ``CompanyName``,
  ``CountryCode``, ``HasPhoneNumber`` (the phone number and postal address are not kept).
* ``BillingContact`` / ``SecurityContact`` / ``OperationsContact`` — GetAlternateContact of that type:
  ``Name``, ``Title``, ``EmailAddress``, ``HasPhoneNumber``; null when no such contact is registered
  (ResourceNotFoundException).
* ``Distinct`` — how many different values the four contacts use, counted as Prowler counts them (a contact
  that is missing or unreadable contributes an empty value): ``Names`` and ``PhoneNumbers`` over the four
  contacts (primary, billing, security, operations), ``EmailAddresses`` over the three alternate contacts
  (the primary contact has no e-mail address in this API). Computed from the same calls, no value kept.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.faults import CallFailed
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, account_id

ALTERNATES = ("BILLING", "SECURITY", "OPERATIONS")


async def _primary_raw(calls: Calls) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        info: dict[str, Any] = (await calls.call("account", "get_contact_information")).get("ContactInformation") or {}
        return info

    out: dict[str, Any] = await calls.cached("account-primary", read)
    return out


async def _alternate_raw(calls: Calls, kind: str) -> dict[str, Any] | None:
    async def read() -> dict[str, Any] | None:
        try:
            resp = await calls.call("account", "get_alternate_contact", AlternateContactType=kind)
        except CallFailed as exc:
            if exc.fault.code == "ResourceNotFoundException":
                return None
            raise
        contact: dict[str, Any] = resp.get("AlternateContact") or {}
        return contact

    out: dict[str, Any] | None = await calls.cached(f"account-alternate:{kind}", read)
    return out


async def _primary(calls: Calls, item: Item) -> Any:
    c = await _primary_raw(calls)
    return {
        "FullName": c.get("FullName"),
        "CompanyName": c.get("CompanyName"),
        "CountryCode": c.get("CountryCode"),
        "HasPhoneNumber": bool(c.get("PhoneNumber")),
    }


def _alternate(kind: str) -> Any:
    async def get(calls: Calls, item: Item) -> Any:
        c = await _alternate_raw(calls, kind)
        if c is None:
            return None
        return {
            "Name": c.get("Name"),
            "Title": c.get("Title"),
            "EmailAddress": c.get("EmailAddress"),
            "HasPhoneNumber": bool(c.get("PhoneNumber")),
        }

    return get


async def _distinct(calls: Calls, item: Item) -> Any:
    primary = await _primary_raw(calls)
    alternates = [await _alternate_raw(calls, k) or {} for k in ALTERNATES]
    return {
        "Names": len({primary.get("FullName"), *(a.get("Name") for a in alternates)}),
        "PhoneNumbers": len({primary.get("PhoneNumber"), *(a.get("PhoneNumber") for a in alternates)}),
        "EmailAddresses": len({a.get("EmailAddress") for a in alternates}),
    }


def _arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:account::{scope.account_id}:contacts"


SPECS = [
    ResourceSpec(
        resource_type="aws.account.contacts",
        service="account",
        list_op=None,
        id=account_id,
        arn=_arn,
        global_=True,
        details=(
            Detail("PrimaryContact", fn=_primary),
            Detail("BillingContact", fn=_alternate("BILLING")),
            Detail("SecurityContact", fn=_alternate("SECURITY")),
            Detail("OperationsContact", fn=_alternate("OPERATIONS")),
            Detail("Distinct", fn=_distinct),
        ),
    ),
]
