"""Per account/region CloudTrail freshness for Prometheus, with bounded label cardinality.

``cspm_cloudtrail_last_event_timestamp_seconds{account,region}`` is the Unix time at which the
ingest role last had a CloudTrail record of that account and region **acknowledged on the
activity topic** (arrival time, not the record's ``eventTime``: LookupEvents' lookback and
redelivered S3 files replay old events, and a forged ``eventTime`` in the future would otherwise
hold a silence off for ever). It never moves back. The alert ``CspmCloudTrailSilentAccount``
fires when a pair that had records stops sending them.

Label values come only from the scope: the configured accounts (``aws.accounts``; when none are
configured, the accounts discovery finds — the running credentials' account, or the
Organization's with ``aws.organization_discovery``) × the configured regions (``aws.regions``
minus ``aws.exclude_regions``; when none are configured, the regions botocore knows in every
partition). A record outside the scope (another account's records on an organisation trail, a
forged or malformed account id or region) creates no series: it is counted in
``cspm_cloudtrail_records_outside_scope_total{reason="account"|"region"}``.

The sources mark each activity record with the ``account`` and ``region`` headers (only when
well-formed: 12 digits, an AWS region name), so nothing is decoded again to count it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import Counter, Gauge

ACCOUNT_HEADER = "account"
REGION_HEADER = "region"
_ACCOUNT = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2,5}(-[a-z]+){1,3}-\d{1,2}")


def record_headers(account_id: object, region: object) -> dict[str, str]:
    """The ``account``/``region`` headers of an activity record: only well-formed values (bounded size)."""
    out: dict[str, str] = {}
    if isinstance(account_id, str) and _ACCOUNT.fullmatch(account_id):
        out[ACCOUNT_HEADER] = account_id
    if isinstance(region, str) and len(region) <= 32 and _REGION.fullmatch(region):
        out[REGION_HEADER] = region
    return out


def known_regions() -> frozenset[str]:
    """Every region botocore's bundled endpoint data knows, in every partition (no network)."""
    from botocore.session import get_session

    session = get_session()
    out: set[str] = set()
    for partition in session.get_available_partitions():
        out.update(session.get_available_regions("cloudtrail", partition_name=partition))
    return frozenset(out)


class CloudTrailFreshness:
    """Sets the freshness gauge for records in scope, counts the others (see the module doc)."""

    def __init__(self, last: Gauge, outside: Counter) -> None:
        self._last = last
        self._outside = outside
        self.accounts: frozenset[str] = frozenset()
        self.regions: frozenset[str] = frozenset()
        self._latest: dict[tuple[str, str], float] = {}
        self._children: dict[tuple[str, str], Any] = {}

    def scope(self, accounts: Iterable[str], regions: Iterable[str]) -> None:
        """The accounts × regions that may have a series (replaces the previous scope)."""
        self.accounts = frozenset(a for a in accounts if _ACCOUNT.fullmatch(a))
        self.regions = frozenset(r for r in regions if _REGION.fullmatch(r))

    def seen(self, headers: Iterable[Mapping[str, str]], at_s: float) -> None:
        """Activity records (their headers) acknowledged at ``at_s``."""
        pairs: set[tuple[str, str]] = set()
        outside_account = outside_region = 0
        for h in headers:
            account = h.get(ACCOUNT_HEADER)
            if account is None or account not in self.accounts:
                outside_account += 1
                continue
            region = h.get(REGION_HEADER)
            if region is None or region not in self.regions:
                outside_region += 1
                continue
            pairs.add((account, region))
        if outside_account:
            self._outside.labels(reason="account").inc(outside_account)
        if outside_region:
            self._outside.labels(reason="region").inc(outside_region)
        for pair in pairs:
            if at_s > self._latest.get(pair, float("-inf")):
                self._latest[pair] = at_s
                child = self._children.get(pair)
                if child is None:
                    child = self._children[pair] = self._last.labels(account=pair[0], region=pair[1])
                child.set(at_s)
