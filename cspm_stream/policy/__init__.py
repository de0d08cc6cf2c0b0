"""Posture policy engine: policies are data, compiled once into predicates.

* :mod:`.paths`, :mod:`.operators`, :mod:`.checks`, :mod:`.compiler` — the condition language
* :mod:`.loader`, :mod:`.schema`, :mod:`.frameworks`, :mod:`.catalog` — files → compiled catalog
* :mod:`.engine` — evaluation (pure, ``now`` is an argument); :mod:`.testrunner` — policy tests
* :mod:`.mutelist`, :mod:`.lifecycle`, :mod:`.ocsf` — suppression, finding state machine, OCSF 2003

Nothing here does I/O at import time.
"""

from cspm_stream.policy.catalog import Catalog, catalog_from_settings, load_catalog
from cspm_stream.policy.compiler import Condition, ConditionError, compile_condition
from cspm_stream.policy.engine import PolicyEngine, Result, evaluate_policy
from cspm_stream.policy.loader import load_policies, load_policy_file, parse_policy
from cspm_stream.policy.model import EvalContext, Framework, Policy, PolicyTest, Requirement

__all__ = [
    "Catalog",
    "Condition",
    "ConditionError",
    "EvalContext",
    "Framework",
    "Policy",
    "PolicyEngine",
    "PolicyTest",
    "Requirement",
    "Result",
    "catalog_from_settings",
    "compile_condition",
    "evaluate_policy",
    "load_catalog",
    "load_policies",
    "load_policy_file",
    "parse_policy",
]
