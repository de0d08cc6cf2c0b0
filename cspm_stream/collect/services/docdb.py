"""Amazon DocumentDB clusters and cluster snapshots (regional), read through the ``docdb`` client.

``aws.docdb.cluster`` and ``aws.docdb.cluster_snapshot``: see
:mod:`cspm_stream.collect.services._rds_family` (clusters of engine ``docdb``, snapshots with
``Engine: docdb``; ``Tags`` and ``Attributes`` details).
"""

from __future__ import annotations

from cspm_stream.collect.services._rds_family import cluster_specs

SPECS = cluster_specs("docdb", "docdb")
