"""The derived principal record carries exactly the attributes policies on it may read."""

from __future__ import annotations

import pytest

from cspm_stream.iamgraph import ADMIN, ESCALATES, NONE, PRINCIPAL_ATTRIBUTES, Result, principal_attributes


@pytest.mark.parametrize("status", [ADMIN, ESCALATES, NONE])
def test_principal_record_keys_are_the_declared_attributes(status: str) -> None:
    result = Result(principal="arn:aws:iam::123456789012:role/r", kind="role", status=status)
    attributes = principal_attributes(result)
    assert set(attributes) == PRINCIPAL_ATTRIBUTES
    assert attributes["Status"] == status
