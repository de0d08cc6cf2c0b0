"""The demo's scan scope: the services its account uses, each one moto serves; a chosen list is checked."""

from __future__ import annotations

import argparse

import pytest

from cspm_stream.cli.demo_cmd import _services
from cspm_stream.collect.services import SPECS
from cspm_stream.demo import DEMO_SERVICES, unsupported_services


def test_demo_services_are_collectors_moto_serves_but_access_analyzer() -> None:
    assert set(DEMO_SERVICES) <= set(SPECS)
    assert set(unsupported_services(DEMO_SERVICES)) == {"accessanalyzer"}


def test_services_moto_lacks_are_found_only_among_those_asked() -> None:
    lacking = unsupported_services(["accessanalyzer", "s3"])
    assert set(lacking) == {"accessanalyzer"} and "Access Analyzer" in lacking["accessanalyzer"]
    assert "accessanalyzer" in unsupported_services()  # every collector by default


def test_services_option() -> None:
    assert _services("s3, ec2") == ["s3", "ec2"]
    assert _services("all") == sorted(SPECS)
    with pytest.raises(argparse.ArgumentTypeError, match="bogus"):
        _services("s3,bogus")
    with pytest.raises(argparse.ArgumentTypeError, match="none given"):
        _services(" , ")
