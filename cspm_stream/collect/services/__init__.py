"""The spec registry: service name (as in ScanJob.service) → its resource specs.

One module per AWS service; adding a service is adding a module and a line here.
"""

from __future__ import annotations

from cspm_stream.collect.services import ec2, s3
from cspm_stream.collect.spec import ResourceSpec

SPECS: dict[str, list[ResourceSpec]] = {
    "s3": s3.SPECS,
    "ec2": ec2.SPECS,
}


def all_types() -> list[str]:
    return sorted(s.resource_type for specs in SPECS.values() for s in specs)


def service_of(resource_type: str) -> str:
    """The ScanJob.service that collects ``resource_type``."""
    for service, specs in SPECS.items():
        if any(s.resource_type == resource_type for s in specs):
            return service
    raise KeyError(f"no collector for resource type {resource_type!r}")


def is_global(resource_type: str) -> bool:
    for specs in SPECS.values():
        for s in specs:
            if s.resource_type == resource_type:
                return s.global_
    raise KeyError(f"no collector for resource type {resource_type!r}")
