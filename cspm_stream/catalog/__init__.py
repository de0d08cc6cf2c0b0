"""The built-in catalogue: data, reviewed like code, loaded by the engines.

- ``policies/<service>/<id>.yaml`` — posture policies (:mod:`cspm_stream.policy` loads them);
- ``frameworks/<framework-id>.yaml`` — compliance frameworks: requirements mapped to policy ids;
- ``rules/<tactic>/<name>.yml`` + ``<name>.tests.yml`` — Sigma detection rules and correlations
  (:mod:`cspm_stream.detect` loads them).

Each folder's README.md states the conventions its files follow.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def policies_dir() -> Path:
    """The built-in posture policies."""
    return ROOT / "policies"


def frameworks_dir() -> Path:
    """The built-in compliance framework files."""
    return ROOT / "frameworks"


def rules_dir() -> Path:
    """The built-in Sigma rule pack."""
    return ROOT / "rules"
