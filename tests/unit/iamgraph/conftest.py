from __future__ import annotations

from collections.abc import Callable

import pytest

from cspm_stream.iamgraph.build import Resource, build_account
from cspm_stream.iamgraph.paths import Analysis
from cspm_stream.iamgraph.results import Result
from cspm_stream.iamgraph.synthetic import ACCOUNT

Analyse = Callable[..., dict[str, Result]]


@pytest.fixture
def analyse() -> Analyse:
    def run(*resources: Resource, account: str = ACCOUNT) -> dict[str, Result]:
        return Analysis(build_account(account, resources)).run()

    return run
