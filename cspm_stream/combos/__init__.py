"""Toxic combinations: findings that are far worse together become one finding (pure).

Definitions are data (``cspm_stream/catalog/combinations/*.yaml``, :mod:`.loader`); relations
between an anchor and the resources its parts are checked on are a registry
(:mod:`.relations`); :class:`~cspm_stream.combos.graph.Graph` holds one account's resources
and failing checks. The context stage (:mod:`cspm_stream.stages.context`) keeps a graph per
account and emits the combined findings.
"""

from __future__ import annotations

from cspm_stream.combos.graph import Graph
from cspm_stream.combos.loader import check_policies, load, run_test
from cspm_stream.combos.model import Combination, Hit, Outcome, graph_of
from cspm_stream.combos.relations import PROJECTIONS, RELATIONS, index_entries, project

__all__ = [
    "PROJECTIONS",
    "RELATIONS",
    "Combination",
    "Graph",
    "Hit",
    "Outcome",
    "check_policies",
    "graph_of",
    "index_entries",
    "load",
    "project",
    "run_test",
]
