"""The context stage's input contract: one record per fact, keyed by AWS account id.

The router (:mod:`cspm_stream.stages.context_router`) turns ``inventory``, ``findings`` and
``scan-status`` records into :class:`ContextInput` values on the ``context`` topic, keyed by
account so every fact about one account reaches the partition that holds its graph. The
context stage (:mod:`cspm_stream.stages.context`) reads only these.

``kind``:

* ``resource`` — a snapshot of a type the context stage uses: ``arn``, ``resource_type``,
  ``attributes`` (the IAM types' attributes, or a relation projection), ``tags``, ``scan_id``;
* ``deleted`` — the resource ``arn`` is gone (a ``ResourceDeleted`` or an inventory tombstone);
* ``finding`` — policy ``policy_id`` on ``arn`` is now ``failing`` (true) or not;
* ``scan`` — a scan job of ``service`` finished (``scan_id``, ``complete``);
* ``tick`` — a timer record (no account): accounts of this partition whose IAM state changed
  and settled are analysed now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cspm_stream.models.codec import message

SCHEMA = "context-input.v1"
KINDS = ("resource", "deleted", "finding", "scan", "tick")
ACCOUNT_RE = re.compile(r"[0-9]{12}")


@message(SCHEMA)
@dataclass(slots=True)
class ContextInput:
    kind: str
    account_id: str = ""
    arn: str = ""
    resource_type: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    region: str = ""
    scan_id: str = ""
    policy_id: str = ""
    failing: bool = False
    service: str = ""
    complete: bool = False
