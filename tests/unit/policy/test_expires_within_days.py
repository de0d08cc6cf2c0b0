"""``expires-within-days N``: a time less than N days after ``now`` (past times included)."""

from __future__ import annotations

from typing import Any

import pytest

from cspm_stream.policy.compiler import ConditionError, compile_condition
from cspm_stream.policy.model import EvalContext

NOW = 1767225600.0  # 2026-01-01T00:00:00Z
COND = {"path": "NotAfter", "op": "expires-within-days", "value": 8}


def ev(doc: dict[str, Any], cond: dict[str, Any] = COND) -> bool:
    return compile_condition(cond).predicate(doc, EvalContext(now_ts=NOW))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-08T23:59:59Z", True),  # 7.99 days left
        ("2026-01-09T00:00:00Z", False),  # exactly 8 days left
        ("2026-03-01T00:00:00+00:00", False),
        ("2025-12-01T00:00:00Z", True),  # already expired
        (NOW + 3 * 86400, True),  # epoch seconds
        (NOW + 30 * 86400, False),
        ("not a date", False),
        (None, False),
        (True, False),
    ],
)
def test_times_before_and_after_the_horizon(value: Any, expected: bool) -> None:
    assert ev({"NotAfter": value}) is expected


def test_absent_is_false_so_policies_state_absence_explicitly() -> None:
    assert ev({}) is False
    either = {"any": [{"path": "NotAfter", "op": "absent"}, COND]}
    assert ev({}, either) is True


@pytest.mark.parametrize("bad", [-1, "8", [8], None])
def test_the_value_must_be_a_non_negative_number(bad: Any) -> None:
    with pytest.raises(ConditionError, match="non-negative number of days"):
        compile_condition({"path": "NotAfter", "op": "expires-within-days", "value": bad})
