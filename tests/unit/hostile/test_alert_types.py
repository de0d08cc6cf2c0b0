"""Any JSON type where the alert side reads a list: read as absent, the alert still goes out.

A number or boolean in ``compliance.standards`` or ``resources[].labels`` raised TypeError while
decoding the alert (the finding was dead-lettered, never alerted); one in
``compliance.requirements`` or ``remediation.references`` broke the Security Hub (ASFF) payload
at delivery. A string there is not a list of strings either (it was read character by character).
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from cspm_stream.delivery.asff import to_asff
from cspm_stream.delivery.model import alert_from_bytes
from cspm_stream.testing.findings import compliance_finding

ODD: list[Any] = [7, -1, 1.5e308, True, "cis", {"a": 1}, [[1], None, 2]]


def _set(obj: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    cur: Any = out
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value
    return out


@pytest.mark.parametrize("value", ODD, ids=repr)
@pytest.mark.parametrize(
    "path",
    [
        ("compliance", "standards"),
        ("resources", 0, "labels"),
        ("compliance", "requirements"),
        ("remediation", "references"),
    ],
    ids=lambda p: ".".join(map(str, p)),
)
def test_odd_types_in_lists_read_as_absent(path: tuple[str | int, ...], value: Any) -> None:
    base = compliance_finding()
    assert isinstance(base["resources"][0], dict) and isinstance(base.get("remediation"), dict)
    alert = alert_from_bytes(orjson.dumps(_set(base, path, value)))
    doc = to_asff(alert)
    assert all(isinstance(f, str) and len(f) > 3 for f in alert.frameworks)
    assert all(isinstance(r, str) for r in doc["Compliance"]["RelatedRequirements"])
    url = doc.get("Remediation", {}).get("Recommendation", {}).get("Url")
    assert url is None or url.startswith("http")
