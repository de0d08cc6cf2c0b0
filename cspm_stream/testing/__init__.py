"""Public test helpers, shipped with the package (like structlog.testing) so users can test
their own policies, rules and sinks the way we test ours:

* :mod:`~cspm_stream.testing.moto` — a moto server on 127.0.0.1;
* :mod:`~cspm_stream.testing.recorded` — recorded AWS responses checked against botocore's model;
* :mod:`~cspm_stream.testing.factories` — snapshots and CloudTrail records;
* :mod:`~cspm_stream.testing.findings` — OCSF findings made by the product's own builders;
* :mod:`~cspm_stream.testing.dataset` — a realistic, seeded mix of many of them (report bench);
* :mod:`~cspm_stream.testing.garbage` — mutated and garbage records for hostile-input tests;
* :mod:`~cspm_stream.testing.receiver` — a local webhook receiver that checks signatures;
* :mod:`~cspm_stream.testing.runtime` — the daemon's runtime in a test's event loop.
"""

from cspm_stream.testing.factories import cloudtrail_record, snapshot
from cspm_stream.testing.moto import MotoServer

__all__ = ["MotoServer", "cloudtrail_record", "snapshot"]
