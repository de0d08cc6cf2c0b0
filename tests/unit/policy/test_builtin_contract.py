"""Contract over the built-in policies and frameworks (parametrized over the files found)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cspm_stream.policy.catalog import Catalog, load_catalog
from cspm_stream.policy.frameworks import builtin_framework_dir, check_references, load_frameworks
from cspm_stream.policy.loader import builtin_policy_dir, load_policy_file
from cspm_stream.policy.schema import KNOWN_FRAMEWORKS, known_resource_types
from cspm_stream.policy.testrunner import run_test

POLICY_FILES = sorted(builtin_policy_dir().rglob("*.yaml"))
FRAMEWORK_FILES = sorted(builtin_framework_dir().glob("*.yaml")) if builtin_framework_dir().is_dir() else []


def _rel(p: Path) -> str:
    return str(p.relative_to(builtin_policy_dir()))


@pytest.fixture(scope="module")
def builtin_catalog() -> Catalog:
    return load_catalog([builtin_policy_dir()], [builtin_framework_dir()], strict=True)


def test_there_are_builtins() -> None:
    assert len(POLICY_FILES) >= 1


@pytest.mark.parametrize("path", POLICY_FILES, ids=_rel)
def test_builtin_policy_valid_and_its_tests_pass(path: Path) -> None:
    pol = load_policy_file(path, strict=True)
    assert path.parent.name == pol.service, f"{path}: file should live under policies/{pol.service}/"
    assert pol.resource_type in known_resource_types(), f"{path}: resource_type {pol.resource_type} not in the contract"
    kinds = {t.expect for t in pol.tests}
    assert {"pass", "fail"} <= kinds
    bad = [o for o in (run_test(pol, t) for t in pol.tests) if not o.ok]
    assert not bad, "; ".join(f"{o.test}: expected {o.expected}, got {o.got} {o.detail}" for o in bad)


def test_framework_files_exist_and_ids_are_known() -> None:
    assert FRAMEWORK_FILES, "no framework files under cspm_stream/catalog/frameworks/"
    fws = load_frameworks([builtin_framework_dir()])
    unknown = sorted({f.id for f in fws} - KNOWN_FRAMEWORKS)
    assert not unknown, f"framework ids not in the contract: {unknown}"


def test_framework_references_exist(builtin_catalog: Catalog) -> None:
    errs = check_references(builtin_catalog.frameworks.values(), builtin_catalog.policies)
    assert not errs, "\n".join(map(str, errs))


def test_every_builtin_policy_is_mapped(builtin_catalog: Catalog) -> None:
    unmapped = sorted(pid for pid in builtin_catalog.policies if not builtin_catalog.compliance(pid).standards)
    assert not unmapped, f"built-in policies in no framework: {unmapped}"
