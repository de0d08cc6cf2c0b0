"""Who changed a resource: the CloudTrail record behind an event-triggered rescan.

A :class:`Change` travels with the rescan request the detection stage makes for a mutating call,
then with the snapshot that rescan produces, so the posture finding that snapshot causes names the
change's actor (OCSF ``actor``, ``src_endpoint``, ``http_request``, ``api``). Built from the record
by :func:`cspm_stream.detect.actor.change_of` (bounded text; any JSON type anywhere reads as absent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Change:
    """The actor and the call of one CloudTrail record (times ISO 8601 UTC as CloudTrail writes them)."""

    event_id: str
    event_name: str
    event_source: str
    event_time: str
    principal_arn: str  # the caller's ARN (the account's root ARN for the root user)
    principal_type: str  # userIdentity.type: IAMUser, AssumedRole, Root, FederatedUser, AWSService, ...
    principal_name: str = ""
    account_id: str = ""
    source_ip: str = ""
    user_agent: str = ""
    session_issuer: str = ""  # the role behind an assumed-role session
    invoked_by: str = ""  # the AWS service that made the call on the principal's behalf

    def summary(self) -> dict[str, Any]:
        """The flat form findings carry in ``unmapped.changed_by`` / ``last_changed_by``."""
        out = {
            "principal_arn": self.principal_arn,
            "principal_type": self.principal_type,
            "principal_name": self.principal_name,
            "source_ip": self.source_ip,
            "user_agent": self.user_agent,
            "event_name": self.event_name,
            "event_source": self.event_source,
            "event_id": self.event_id,
            "event_time": self.event_time,
        }
        if self.session_issuer:
            out["session_issuer"] = self.session_issuer
        if self.invoked_by:
            out["invoked_by"] = self.invoked_by
        return out
