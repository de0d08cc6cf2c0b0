"""Mode resolution, deterministic command ids and approval signatures (pure functions).

Modes are ordered ``off < dry-run < approve < auto``. The mode of an action in
an account is ``settings.remediation.actions[action]`` (else ``default_mode``),
capped by ``settings.remediation.accounts[account]`` when present. The
remediator also caps by the mode written in the command, so a command produced
by someone else can never raise the mode above what *its own* config allows.
"""

from __future__ import annotations

import hashlib
import hmac

from cspm_stream.models import Approval, RemediationMode
from cspm_stream.settings import RemediationSettings

ORDER: dict[RemediationMode, int] = {
    RemediationMode.OFF: 0,
    RemediationMode.DRY_RUN: 1,
    RemediationMode.APPROVE: 2,
    RemediationMode.AUTO: 3,
}


def strictest(*modes: RemediationMode) -> RemediationMode:
    """The least permissive of ``modes``."""
    return min(modes, key=ORDER.__getitem__)


def resolve_mode(conf: RemediationSettings, action: str, account_id: str) -> RemediationMode:
    """The configured mode of ``action`` in ``account_id`` (default: off)."""
    mode = conf.actions.get(action, conf.default_mode)
    cap = conf.accounts.get(account_id)
    return strictest(mode, cap) if cap is not None else mode


def command_id(action: str, resource_arn: str, finding_uid: str, occurrence: str) -> str:
    """Deterministic id: the same finding occurrence always yields the same command."""
    blob = "\x1f".join((action, resource_arn, finding_uid, occurrence)).encode("utf-8")
    return "rc-" + hashlib.sha256(blob).hexdigest()[:32]


def resource_id_from_arn(arn: str, region: str = "") -> str:
    """The id an API wants (bucket name, sg-…, key id, trail name, …) from a resource ARN."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return arn
    res = parts[5]
    if res.endswith("region-settings") or res.endswith("account-settings"):
        return region or parts[3]
    if "/" in res:
        return res.rsplit("/", 1)[1]
    if ":" in res:
        return res.rsplit(":", 1)[1]
    return res


def approval_payload(a: Approval) -> bytes:
    return f"{a.command_id}|{a.approver}|{a.approved_at}|{'true' if a.approve else 'false'}".encode()


def sign_approval(a: Approval, secret: str) -> str:
    """HMAC-SHA256 (hex) over ``command_id|approver|approved_at|approve``."""
    if not secret:
        raise ValueError("approval signing needs remediation.approval_hmac_secret")
    return hmac.new(secret.encode("utf-8"), approval_payload(a), hashlib.sha256).hexdigest()


def approval_valid(a: Approval, secret: str) -> bool:
    """Constant-time signature check; no secret configured means no approval is ever valid."""
    if not secret or not a.signature:
        return False
    return hmac.compare_digest(sign_approval(a, secret), a.signature)
