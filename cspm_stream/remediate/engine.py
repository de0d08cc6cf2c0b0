"""The remediator: guard rails around one action on one resource, with an audit trail.

For each command, in this order:

1. unknown action → FAILED; a command id already seen → SKIPPED (idempotent: no call)
2. mode = strictest(command's mode, this remediator's own config) — ``off`` → BLOCKED
3. expired (``expires_at`` passed) → EXPIRED; account paused by the blast-radius cap → BLOCKED
4. re-read the resource NOW with the remediator's own role (``check`` + live tags):
   exclusion tag → BLOCKED; already compliant → NOOP (never act on a stale finding)
5. ``dry-run`` → PLANNED with the exact calls; ``approve`` → AWAITING_APPROVAL (the command
   waits in ``state`` until a validly signed approval, or expires); ``auto`` → act
6. act: blast-radius cap per account per window (over it: pause the account, BLOCKED, and a
   detection finding on ``detections`` so the alert router pages someone); make exactly the
   planned calls; re-read (``after``); SUCCEEDED or FAILED; ask for a rescan of the resource.

Every outcome is a :class:`~cspm_stream.models.RemediationResult` (who / what / when /
before / after) on ``remediation-results``, keyed by resource ARN.

``state`` holds plain JSON values (a faust Table in the daemon). Approvals are looked up
by command id and the blast-radius counter is per account, so the remediator runs as a
single worker (its input topics may keep several partitions).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, MutableMapping
from typing import Any, Protocol

import structlog

from cspm_stream.errors import DecodeError, RemediationError
from cspm_stream.models import (
    Approval,
    RemediationCommand,
    RemediationMode,
    RemediationResult,
    RemediationStatus,
    RescanRequest,
    Severity,
    dumps,
    from_dict,
    ocsf,
    to_dict,
)
from cspm_stream.remediate.base import Action, Clients, get_action
from cspm_stream.remediate.modes import approval_valid, resolve_mode, strictest
from cspm_stream.settings import RemediationSettings
from cspm_stream.stages.base import Emit, headers_for
from cspm_stream.timeutil import iso, now_iso, parse_iso, to_ms

log = structlog.get_logger(__name__)

BLAST_RULE_ID = "cspm_remediation_blast_radius"
CMD = "rem:cmd:"
PENDING = "rem:pending"
BLAST = "rem:blast:"
PAUSED = "rem:paused:"


class ClientsProvider(Protocol):
    async def for_account(self, account_id: str) -> Clients: ...


class Remediator:
    """Decides and acts on commands and approvals; returns the records to emit."""

    def __init__(
        self, conf: RemediationSettings, provider: ClientsProvider, *, clock: Callable[[], str] = now_iso
    ) -> None:
        self.conf = conf
        self.provider = provider
        self.clock = clock

    # --- inputs -------------------------------------------------------------------------

    async def on_command(self, cmd: RemediationCommand, state: MutableMapping[str, Any]) -> list[Emit]:
        now = self.clock()
        action = get_action(cmd.action)
        if action is None:
            return self._finish(state, cmd, cmd.mode, RemediationStatus.FAILED, now, error="unknown action")
        if CMD + cmd.command_id in state:
            prior = state[CMD + cmd.command_id].get("status")
            return [self._result(cmd, cmd.mode, RemediationStatus.SKIPPED, now, error=f"duplicate (was {prior})")]
        mode = strictest(cmd.mode, resolve_mode(self.conf, cmd.action, cmd.account_id))
        if mode is RemediationMode.OFF:
            return self._finish(state, cmd, mode, RemediationStatus.BLOCKED, now, error="remediation is off")
        if cmd.expires_at and to_ms(now) >= to_ms(cmd.expires_at):
            return self._finish(state, cmd, mode, RemediationStatus.EXPIRED, now, error="expired before it ran")
        if mode is RemediationMode.AUTO and self._paused(state, cmd.account_id, now):
            return self._finish(state, cmd, mode, RemediationStatus.BLOCKED, now, error=self._paused_msg(state, cmd))
        try:
            cx = await self.provider.for_account(cmd.account_id)
            before, blocked = await self._read(action, cx, cmd)
        except RemediationError as exc:
            return self._finish(state, cmd, mode, RemediationStatus.FAILED, now, error=str(exc))
        if blocked:
            return self._finish(
                state, cmd, mode, RemediationStatus.BLOCKED, now, actor=cx.identity, before=before, error=blocked
            )
        if action.compliant(before):
            return self._finish(state, cmd, mode, RemediationStatus.NOOP, now, actor=cx.identity, before=before)
        calls = action.plan(cmd, before)
        if not calls:
            return self._finish(
                state,
                cmd,
                mode,
                RemediationStatus.FAILED,
                now,
                actor=cx.identity,
                before=before,
                error="non-compliant, but this action has no change to make here",
            )
        planned = [c.to_dict() for c in calls]
        if mode is RemediationMode.DRY_RUN:
            return self._finish(
                state, cmd, mode, RemediationStatus.PLANNED, now, actor=cx.identity, calls=planned, before=before
            )
        if mode is RemediationMode.APPROVE:
            expires = cmd.expires_at or iso(parse_iso(now) + dt.timedelta(seconds=self.conf.approval_ttl_s))
            state[CMD + cmd.command_id] = {
                "status": RemediationStatus.AWAITING_APPROVAL.value,
                "at": now,
                "expires_at": expires,
                "command": to_dict(cmd),
            }
            state[PENDING] = [*state.get(PENDING, []), cmd.command_id]
            return [
                self._result(
                    cmd, mode, RemediationStatus.AWAITING_APPROVAL, now, actor=cx.identity, calls=planned, before=before
                )
            ]
        return await self._act(state, action, cx, cmd, mode, before, now)

    async def on_approval(self, a: Approval, state: MutableMapping[str, Any]) -> list[Emit]:
        """Act on (or reject) a waiting command. Unsigned or badly signed approvals raise DecodeError."""
        if not approval_valid(a, self.conf.approval_hmac_secret.get()):
            raise DecodeError(f"approval for {a.command_id} refused: missing or invalid signature")
        rec = state.get(CMD + a.command_id)
        if rec is None:
            raise DecodeError(f"approval for unknown command {a.command_id}")
        if rec.get("status") != RemediationStatus.AWAITING_APPROVAL.value:
            log.info("approval for a command no longer waiting", command_id=a.command_id, status=rec.get("status"))
            return []
        cmd = from_dict(rec["command"], RemediationCommand)
        now = self.clock()
        self._unpend(state, cmd.command_id)
        who = f"approved by {a.approver}" if a.approve else f"rejected by {a.approver}"
        mode = strictest(cmd.mode, resolve_mode(self.conf, cmd.action, cmd.account_id))
        if to_ms(now) >= to_ms(rec["expires_at"]):
            return self._finish(
                state,
                cmd,
                mode,
                RemediationStatus.EXPIRED,
                now,
                actor=who,
                error=f"approval arrived after {rec['expires_at']}",
            )
        if not a.approve:
            return self._finish(state, cmd, mode, RemediationStatus.BLOCKED, now, actor=who, error="rejected")
        if mode is not RemediationMode.APPROVE and mode is not RemediationMode.AUTO:
            return self._finish(
                state, cmd, mode, RemediationStatus.BLOCKED, now, actor=who, error=f"mode is now {mode.value}"
            )
        action = get_action(cmd.action)
        assert action is not None  # it was known when the command was accepted
        if self._paused(state, cmd.account_id, now):
            return self._finish(
                state, cmd, mode, RemediationStatus.BLOCKED, now, actor=who, error=self._paused_msg(state, cmd)
            )
        try:
            cx = await self.provider.for_account(cmd.account_id)
            before, blocked = await self._read(action, cx, cmd)  # re-read: the world moved while we waited
        except RemediationError as exc:
            return self._finish(state, cmd, mode, RemediationStatus.FAILED, now, actor=who, error=str(exc))
        actor = f"{cx.identity} ({who})"
        if blocked:
            return self._finish(
                state, cmd, mode, RemediationStatus.BLOCKED, now, actor=actor, before=before, error=blocked
            )
        if action.compliant(before):
            return self._finish(state, cmd, mode, RemediationStatus.NOOP, now, actor=actor, before=before)
        if not action.plan(cmd, before):
            return self._finish(
                state,
                cmd,
                mode,
                RemediationStatus.FAILED,
                now,
                actor=actor,
                before=before,
                error="non-compliant, but this action has no change to make here",
            )
        return await self._act(state, action, cx, cmd, mode, before, now, actor=actor)

    def sweep(self, state: MutableMapping[str, Any]) -> list[Emit]:
        """Expire commands whose approval never came (call periodically, e.g. every minute)."""
        now = self.clock()
        out: list[Emit] = []
        for cid in list(state.get(PENDING, [])):
            rec = state.get(CMD + cid)
            if rec is None or rec.get("status") != RemediationStatus.AWAITING_APPROVAL.value:
                self._unpend(state, cid)
                continue
            if to_ms(now) >= to_ms(rec["expires_at"]):
                cmd = from_dict(rec["command"], RemediationCommand)
                self._unpend(state, cid)
                out += self._finish(
                    state,
                    cmd,
                    cmd.mode,
                    RemediationStatus.EXPIRED,
                    now,
                    error=f"no approval before {rec['expires_at']}",
                )
        return out

    # --- steps --------------------------------------------------------------------------

    async def _read(self, action: Action, cx: Clients, cmd: RemediationCommand) -> tuple[dict[str, Any], str]:
        tags = await action.tags(cx, cmd)
        key, _, value = self.conf.exclusion_tag.partition("=")
        if key and key in tags and (not value or tags[key] == value):
            return {"Tags": tags}, f"exclusion tag {self.conf.exclusion_tag} on the resource"
        return await action.check(cx, cmd), ""

    async def _act(
        self,
        state: MutableMapping[str, Any],
        action: Action,
        cx: Clients,
        cmd: RemediationCommand,
        mode: RemediationMode,
        before: dict[str, Any],
        now: str,
        *,
        actor: str = "",
    ) -> list[Emit]:
        actor = actor or cx.identity
        now_ms = to_ms(now)
        window_ms = self.conf.blast_radius_window_s * 1000
        recent = [t for t in state.get(BLAST + cmd.account_id, []) if now_ms - int(t) < window_ms]
        if len(recent) >= self.conf.blast_radius_max:
            state[PAUSED + cmd.account_id] = now_ms + window_ms
            msg = (
                f"blast-radius cap: {len(recent)} actions in {self.conf.blast_radius_window_s}s in account "
                f"{cmd.account_id} (max {self.conf.blast_radius_max}); remediation paused"
            )
            out = self._finish(state, cmd, mode, RemediationStatus.BLOCKED, now, actor=actor, before=before, error=msg)
            return [*out, self._pause_alert(cmd, now_ms, msg)]
        calls = action.plan(cmd, before)
        planned = [c.to_dict() for c in calls]
        state[BLAST + cmd.account_id] = [*recent, now_ms]
        error: str | None = None
        after: dict[str, Any] | None = None
        try:
            await action.apply(cx, calls)
            after = await action.check(cx, cmd)
            if not action.compliant(after):
                error = "still non-compliant after the change"
        except RemediationError as exc:
            error = str(exc)
        status = RemediationStatus.FAILED if error else RemediationStatus.SUCCEEDED
        out = self._finish(
            state, cmd, mode, status, now, actor=actor, calls=planned, before=before, after=after, error=error
        )
        return [*out, self._rescan(cmd, now)]

    # --- records ------------------------------------------------------------------------

    def _paused(self, state: MutableMapping[str, Any], account: str, now: str) -> bool:
        until = state.get(PAUSED + account)
        return until is not None and to_ms(now) < int(until)

    def _paused_msg(self, state: MutableMapping[str, Any], cmd: RemediationCommand) -> str:
        until = int(state[PAUSED + cmd.account_id])
        return f"remediation paused in account {cmd.account_id} by the blast-radius cap until {_ms_iso(until)}"

    def _unpend(self, state: MutableMapping[str, Any], cid: str) -> None:
        pending = [c for c in state.get(PENDING, []) if c != cid]
        state[PENDING] = pending

    def _finish(
        self,
        state: MutableMapping[str, Any],
        cmd: RemediationCommand,
        mode: RemediationMode,
        status: RemediationStatus,
        now: str,
        **kw: Any,
    ) -> list[Emit]:
        state[CMD + cmd.command_id] = {"status": status.value, "at": now}
        return [self._result(cmd, mode, status, now, **kw)]

    def _result(
        self,
        cmd: RemediationCommand,
        mode: RemediationMode,
        status: RemediationStatus,
        now: str,
        *,
        actor: str = "",
        calls: list[dict[str, Any]] | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> Emit:
        res = RemediationResult(
            command_id=cmd.command_id,
            action=cmd.action,
            mode=mode,
            status=status,
            account_id=cmd.account_id,
            region=cmd.region,
            resource_arn=cmd.resource_arn,
            at=now,
            actor=actor,
            calls=calls or [],
            before=before,
            after=after,
            error=error,
        )
        log.info(
            "remediation result",
            command_id=cmd.command_id,
            action=cmd.action,
            arn=cmd.resource_arn,
            status=status.value,
            mode=mode.value,
            error=error,
        )
        value = dumps(res)
        return Emit(
            "remediation-results",
            cmd.resource_arn,
            value,
            headers_for("remediation-result.v1", status=status.value, action=cmd.action, account=cmd.account_id),
        )

    def _rescan(self, cmd: RemediationCommand, now: str) -> Emit:
        req = RescanRequest(
            request_id=ocsf.finding_uid("rescan", cmd.command_id),
            account_id=cmd.account_id,
            region=cmd.region,
            resource_type=cmd.resource_type,
            requested_at=now,
            reason=f"remediation {cmd.action} ({cmd.command_id})",
            arn=cmd.resource_arn,
            resource_id=cmd.resource_id,
        )
        return Emit("rescan", cmd.resource_arn, dumps(req), headers_for("rescan.v1"))

    def _pause_alert(self, cmd: RemediationCommand, now_ms: int, msg: str) -> Emit:
        window_ms = self.conf.blast_radius_window_s * 1000
        window_start = _ms_iso(now_ms - now_ms % window_ms)
        uid = ocsf.finding_uid(BLAST_RULE_ID, cmd.account_id, window_start)
        f = ocsf.envelope(
            class_uid=ocsf.DETECTION_FINDING,
            activity_id=ocsf.ACTIVITY_CREATE,
            severity=Severity.HIGH,
            time_ms=now_ms,
            uid=uid,
            title="Remediation paused: blast-radius cap reached",
            desc=msg,
            status_id=ocsf.STATUS_NEW,
            account_id=cmd.account_id,
            region=cmd.region,
        )
        f["finding_info"].update(
            first_seen_time=now_ms,
            last_seen_time=now_ms,
            analytic={"uid": BLAST_RULE_ID, "name": "Remediation blast-radius cap", "type_id": 1, "type": "Rule"},
            types=["remediation"],
        )
        f["resources"] = [{"uid": cmd.resource_arn, "type": cmd.resource_type}]
        f["count"] = 1
        f["unmapped"] = {
            "rule_id": BLAST_RULE_ID,
            "event_ids": [],
            "group_key": cmd.account_id,
            "runbook": "Review remediation-results for the account; raise the cap or wait for the window to pass.",
            "command_id": cmd.command_id,
        }
        return Emit("detections", uid, dumps(f), headers_for(ocsf.SCHEMA_BY_CLASS[ocsf.DETECTION_FINDING]))


def _ms_iso(ms: int) -> str:
    return iso(dt.datetime.fromtimestamp(ms / 1000, dt.UTC))
