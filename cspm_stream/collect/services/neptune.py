"""Amazon Neptune clusters and cluster snapshots (regional), read through the ``neptune`` client.

``aws.neptune.cluster`` and ``aws.neptune.cluster_snapshot``: see
:mod:`cspm_stream.collect.services._rds_family` (clusters of engine ``neptune``, snapshots with
``Engine: neptune``; ``Tags`` and ``Attributes`` details).
"""

from __future__ import annotations

from cspm_stream.collect.services._rds_family import cluster_specs

SPECS = cluster_specs("neptune", "neptune")
