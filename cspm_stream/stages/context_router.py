"""Context router stage: inventory, findings and scan completions → ``context``, keyed by account.

``inventory`` is keyed by ARN and ``findings`` by finding uid, so one account's records are
spread over every partition; the context stage needs them all in one place. This stateless
stage projects each record to what the context stage uses and re-keys it by account id:

* snapshots of the IAM types (:data:`cspm_stream.iamgraph.IAM_TYPES`) keep the attributes the
  analysis reads (credential reports, key metadata and MFA devices are dropped); snapshots of
  relation types keep their relation projection (:func:`cspm_stream.combos.project`); an
  ``aws.organizations.account`` record goes to the *member* account it describes;
* deletions (``ResourceDeleted``, tombstones whose ARN names an account) become ``deleted``;
* compliance findings of the policies a combination uses become ``finding`` (failing =
  ``status_code`` FAIL, muted or not); other findings, combination findings and detections are
  not forwarded;
* ``scan-status`` records become ``scan``.

Everything else (other types, detections) is dropped. A record this stage cannot read — not a
snapshot, deletion or scan status, not an OCSF finding — is refused and dead-lettered, like on
every stage (the alert router dead-letters the same garbage on ``findings``, each naming itself).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from cspm_stream.combos import PROJECTIONS, project
from cspm_stream.errors import DecodeError
from cspm_stream.iamgraph import IAM_TYPES
from cspm_stream.models import ocsf
from cspm_stream.models.codec import decode_any, dumps, loads_object
from cspm_stream.models.inventory import ResourceDeleted, ResourceSnapshot, ScanStatus
from cspm_stream.settings import KafkaSettings
from cspm_stream.stages.base import Emit, RecordMeta, RoleContext, StageParts, headers_for
from cspm_stream.stages.context_input import ACCOUNT_RE, SCHEMA, ContextInput

#: user attributes the analysis does not read (large, or credentials metadata)
_DROP = frozenset({"CredentialReport", "MFADevices", "AccessKeys"})
COMBINATION_PREFIX = "toxic_"


def account_of_arn(arn: str) -> str | None:
    """The account field of an ARN when it is a 12-digit id."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and ACCOUNT_RE.fullmatch(parts[4]):
        return parts[4]
    return None


def resource_input(snap: ResourceSnapshot) -> ContextInput | None:
    """The context record of a snapshot, or None when the context stage does not use its type."""
    rtype = snap.resource_type
    if snap.resource_id == "*":  # a type that could not be listed: keep what we knew
        return None
    if rtype in IAM_TYPES:
        attrs = {k: v for k, v in snap.attributes.items() if k not in _DROP}
        if rtype == "aws.iam.user":
            keys = snap.attributes.get("AccessKeys")
            attrs["AccessKeys"] = [{} for _ in keys] if isinstance(keys, list) else []
        if snap.errors:
            attrs["__errors__"] = sorted({e.attribute for e in snap.errors})
    elif rtype in PROJECTIONS:
        attrs = project(rtype, snap.attributes)
    else:
        return None
    account = snap.account_id
    if rtype == "aws.organizations.account":
        member = snap.attributes.get("Id")
        if not isinstance(member, str) or not ACCOUNT_RE.fullmatch(member):
            return None
        account = member
    return ContextInput(
        kind="resource",
        account_id=account,
        arn=snap.arn,
        resource_type=rtype,
        attributes=attrs,
        tags=dict(snap.tags),
        region=snap.region,
        scan_id=snap.scan_id,
    )


def finding_input(value: bytes) -> ContextInput | None:
    """The context record of a compliance finding (None for detections and combinations).

    Whatever is not an OCSF finding is refused (:class:`DecodeError`: the runtime dead-letters it),
    with the same skeleton check the alert router applies to the same topic."""
    f = ocsf.validate(loads_object(value))
    if f["class_uid"] != ocsf.COMPLIANCE_FINDING:
        return None
    unmapped = f.get("unmapped")
    resources = f.get("resources")
    if not isinstance(unmapped, dict) or not isinstance(resources, list) or not resources:
        raise DecodeError("compliance finding without unmapped.policy_id or resources")
    pid, res = unmapped.get("policy_id"), resources[0]
    if not isinstance(pid, str) or not isinstance(res, dict) or not isinstance(res.get("uid"), str):
        raise DecodeError("compliance finding without a policy id or a resource uid")
    if pid.startswith(COMBINATION_PREFIX):
        return None
    account = res.get("account_uid")
    if not isinstance(account, str) or not ACCOUNT_RE.fullmatch(account):
        cloud = f.get("cloud")
        acct = cloud.get("account") if isinstance(cloud, dict) else None
        account = acct.get("uid") if isinstance(acct, dict) else None
    if not isinstance(account, str) or not ACCOUNT_RE.fullmatch(account):
        raise DecodeError("compliance finding without a 12-digit account id")
    return ContextInput(
        kind="finding",
        account_id=account,
        arn=res["uid"],
        policy_id=pid,
        failing=f.get("status_code") == "FAIL",
    )


class ContextRouterHandler:
    """Stateless: one input record → at most one ``context`` record keyed by account id."""

    name = "context-router"
    inputs: tuple[str, ...] = ("inventory", "findings", "scan-status")
    assigns_changes = True

    def __init__(self, kafka: KafkaSettings | None = None, policies: frozenset[str] | None = None) -> None:
        #: full topic name → logical name (without settings: records carry logical names)
        self._logical = {kafka.topic(t): t for t in self.inputs} if kafka is not None else {t: t for t in self.inputs}
        #: the policy ids whose findings the context stage uses (None: every one)
        self._policies = policies

    async def handle(
        self, key: bytes | None, value: bytes | None, meta: RecordMeta, state: MutableMapping[str, Any]
    ) -> list[Emit]:
        out = self.route(meta.topic, key, value)
        if out is None:
            return []
        return [Emit("context", out.account_id, dumps(out), headers_for(SCHEMA))]

    def route(self, topic: str, key: bytes | None, value: bytes | None) -> ContextInput | None:
        logical = self._logical.get(topic)
        if logical is None:
            raise DecodeError(f"record from topic {topic!r}, which this stage does not read")
        if logical == "findings":
            out = None if value is None else finding_input(value)
            if out is not None and self._policies is not None and out.policy_id not in self._policies:
                return None  # no combination uses it: not worth a record
            return out
        if logical == "scan-status":
            if value is None:
                return None
            st = decode_any(value, (ScanStatus,))
            if not ACCOUNT_RE.fullmatch(st.account_id):
                raise DecodeError("scan status without a 12-digit account id")
            return ContextInput(
                kind="scan", account_id=st.account_id, service=st.service, scan_id=st.scan_id, complete=st.complete
            )
        # inventory
        if value is None:
            if not key:
                raise DecodeError("tombstone without a key")
            try:  # as posture refuses it: a replaced byte made another ARN's deletion
                arn = key.decode("utf-8")
            except UnicodeDecodeError:
                raise DecodeError("tombstone key is not UTF-8") from None
            account = account_of_arn(arn)
            return None if account is None else ContextInput(kind="deleted", account_id=account, arn=arn)
        msg = decode_any(value, (ResourceSnapshot, ResourceDeleted))
        if isinstance(msg, ResourceDeleted):
            if msg.resource_type not in IAM_TYPES and msg.resource_type not in PROJECTIONS:
                return None
            account = msg.account_id
            if msg.resource_type == "aws.organizations.account":
                account = msg.arn.rsplit("/", 1)[-1]  # the member account the record described
            if not ACCOUNT_RE.fullmatch(account):
                raise DecodeError("deletion without a 12-digit account id")
            return ContextInput(kind="deleted", account_id=account, arn=msg.arn, resource_type=msg.resource_type)
        out = resource_input(msg)
        if out is not None and not ACCOUNT_RE.fullmatch(out.account_id):
            raise DecodeError("snapshot without a 12-digit account id")
        return out


def build_stage(ctx: RoleContext) -> StageParts:
    """Daemon factory (role ``process``): the stateless router, forwarding the findings of the
    policies the combinations use."""
    from cspm_stream.combos import load

    used = frozenset(p for c in load() for p in c.policies)
    return StageParts(ContextRouterHandler(ctx.settings.kafka, used))
