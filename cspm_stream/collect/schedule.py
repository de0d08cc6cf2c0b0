"""Scheduler core (pure): which scan jobs make one full scan of the estate.

``plan_scan(settings, accounts, regions, now)`` → one :class:`ScanJob` per
(account, region, service) for regional services and one per (account, service)
with ``region="global"`` for global ones (IAM, S3 buckets, CloudFront,
Organizations). Job ids are deterministic, so a re-sent plan is recognisable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cspm_stream.collect.accounts import AccountRef
from cspm_stream.collect.services import SPECS
from cspm_stream.collect.spec import GLOBAL
from cspm_stream.models import ScanJob
from cspm_stream.settings import Settings


def scan_id_for(now: str) -> str:
    """``scan-20261128T162100Z`` from an ISO time (seconds resolution)."""
    digits = "".join(ch for ch in now[:19] if ch.isdigit())
    return f"scan-{digits[:8]}T{digits[8:14]}Z"


def services_for(settings: Settings, services: Sequence[str] | None = None) -> list[str]:
    chosen = list(services or settings.scan.services or SPECS.keys())
    unknown = [s for s in chosen if s not in SPECS]
    if unknown:
        raise ValueError(f"unknown service(s) {', '.join(unknown)} (known: {', '.join(sorted(SPECS))})")
    return chosen


def plan_scan(
    settings: Settings,
    accounts: Sequence[AccountRef],
    regions: Mapping[str, Sequence[str]] | Sequence[str],
    now: str,
    *,
    services: Sequence[str] | None = None,
    scan_id: str | None = None,
) -> list[ScanJob]:
    """Every job of one full scan. ``regions`` is a list, or a map account id → list."""
    sid = scan_id or scan_id_for(now)
    out: list[ScanJob] = []
    for acc in accounts:
        acc_regions = regions.get(acc.account_id, []) if isinstance(regions, Mapping) else regions
        for service in services_for(settings, services):
            specs = SPECS[service]
            targets: list[str] = []
            if any(s.global_ for s in specs):
                targets.append(GLOBAL)
            if any(not s.global_ for s in specs):
                targets.extend(acc_regions)
            for region in targets:
                out.append(
                    ScanJob(
                        job_id=f"{sid}:{acc.account_id}:{region}:{service}",
                        scan_id=sid,
                        account_id=acc.account_id,
                        region=region,
                        service=service,
                        requested_at=now,
                        role_arn=acc.role_arn,
                        full=True,
                    )
                )
    return out


def job_key(job: ScanJob) -> str:
    """Kafka key of a scan job / scan status: ``account|region|service``."""
    return f"{job.account_id}|{job.region}|{job.service}"
