"""Threat detection: Sigma rules and correlations compiled into fast predicates over CloudTrail.

- :mod:`~cspm_stream.detect.fields` — the CloudTrail field vocabulary rules may use;
- :mod:`~cspm_stream.detect.loader` — Sigma files → :class:`~cspm_stream.detect.rules.RuleSet`
  (errors per rule, never fatal to the others);
- :mod:`~cspm_stream.detect.engine` — the pure engine (dedup, index, correlations, findings);
- :mod:`~cspm_stream.detect.rescan` — eventName → resources to re-scan;
- :mod:`~cspm_stream.detect.ruletests` — ``<rule>.tests.yml`` runner.
"""

from cspm_stream.detect.catalog import builtin_rules_dir, load_rules
from cspm_stream.detect.engine import DetectionEngine, EngineConfig, Outcome
from cspm_stream.detect.loader import load_paths
from cspm_stream.detect.rescan import RescanMap, RescanTarget, load_map
from cspm_stream.detect.rules import LoadError, RuleSet

__all__ = [
    "DetectionEngine",
    "EngineConfig",
    "LoadError",
    "Outcome",
    "RescanMap",
    "RescanTarget",
    "RuleSet",
    "builtin_rules_dir",
    "load_map",
    "load_paths",
    "load_rules",
]
