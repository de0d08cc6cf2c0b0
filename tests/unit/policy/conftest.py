from __future__ import annotations

from pathlib import Path

import pytest

from cspm_stream.policy.catalog import Catalog, load_catalog

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixture_catalog() -> Catalog:
    return load_catalog([FIXTURES / "policies"], [FIXTURES / "frameworks"])
