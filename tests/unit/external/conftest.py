"""The join data built from the built-in policies, rules and mapping file (once per session)."""

from __future__ import annotations

import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.detect.catalog import load_rules
from cspm_stream.external.mapping import Equivalents, load_equivalents, rule_ids_of
from cspm_stream.policy.catalog import dirs_for
from cspm_stream.policy.loader import load_policies


@pytest.fixture(scope="session")
def eq() -> Equivalents:
    s = settings_mod.load(data={}, environ={})
    rules = load_rules(s.detection, ())
    return load_equivalents(load_policies(dirs_for(s.policy)[0]), rule_ids_of(rules.infos()))


@pytest.fixture(scope="session")
def rule_ids() -> dict[str, str]:
    s = settings_mod.load(data={}, environ={})
    return rule_ids_of(load_rules(s.detection, ()).infos())
