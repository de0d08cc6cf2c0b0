"""Public test helpers: a moto server, factories for snapshots and CloudTrail records.

Shipped with the package (like structlog.testing) so users can test their own
policies and rules the way we test ours.
"""

from cspm_stream.testing.factories import cloudtrail_record, snapshot
from cspm_stream.testing.moto import MotoServer

__all__ = ["MotoServer", "cloudtrail_record", "snapshot"]
