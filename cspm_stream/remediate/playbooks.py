"""Response playbooks: which detections ask for which containment action, on what target.

A playbook is data (``cspm_stream/catalog/playbooks/<id>.yaml``, id = file name)::

    id: disable_console_login_created_for_another_user
    title: ...                      # what it does, one line
    description: ...                # what it means and why this response fits
    rules:                          # detection rules it answers (id = the rule's Sigma id)
      - {id: 74b72586-..., name: cspm_iam_login_profile_created_for_another_user}
    action: iam_delete_login_profile        # a remediation action (remediation list-actions)
    target: resource                # resource | actor_user | actor_role | actor_instance
    resource_type: aws.iam.user     # target resource: the detection's first resource of this type
    params: {}                      # literal action parameters
    params_from: {}                 # parameter -> first_seen (the detection's first event, minus
                                    #   5 s for clock rounding) | last_seen | actor_credential
    tests: [...]                    # detections in, expected command (or none) out

When the alert router sees a **new** detection of a listed rule, it resolves the target
and emits a :class:`~cspm_stream.models.RemediationCommand` — under the same modes as
remediation (``remediation.actions[action]`` or ``default_mode``, capped per account; off
by default), so the remediator applies its guard rails, blast-radius cap and audit. Repeats
inside the detection's window never re-trigger. Targets:

* ``resource`` — the first resource of the detection with ``resource_type`` (an IAM user or role
  that CloudTrail names only by name gets the ARN of that name in the detection's account);
* ``actor_user`` — the calling IAM user (``actor.user.type`` IAMUser);
* ``actor_role`` — the role behind an assumed-role session (``actor.session.issuer``);
* ``actor_instance`` — the EC2 instance whose instance-profile session made the calls
  (the session name is the instance id).

Never targeted, whatever a playbook says: the account root, AWS service-linked and IAM
Identity Center roles, the remediator's own role, and any resource of another account
than the detection's. Loading refuses an unknown action, target, binding or rule
reference with the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cspm_stream.errors import DefinitionError
from cspm_stream.models import RemediationCommand, RemediationMode, ocsf
from cspm_stream.remediate.modes import command_id, resolve_mode, resource_id_from_arn
from cspm_stream.settings import RemediationSettings
from cspm_stream.timeutil import ms_to_iso

BUILTIN_DIR = Path(__file__).resolve().parents[1] / "catalog" / "playbooks"
TARGETS = ("resource", "actor_user", "actor_role", "actor_instance")
BINDINGS = ("first_seen", "last_seen", "actor_credential")
#: seconds taken off ``first_seen``: CloudTrail and IAM both round to the second
CLOCK_SLACK_MS = 5000

_ID = re.compile(r"[a-z][a-z0-9_]{2,80}")
_USER_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):user/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})")
_ROLE_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})")
_INSTANCE_SESSION = re.compile(r"arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/[\w+=,.@-]+/(i-[0-9a-f]{8,17})")
_ARN_ACCOUNT = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:")
_IAM_KINDS = {"aws.iam.user": "user", "aws.iam.role": "role"}
_IAM_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_ACCOUNT = re.compile(r"\d{12}")
_KEYS = {"id", "title", "description", "rules", "action", "target", "resource_type", "params", "params_from", "tests"}


@dataclass(frozen=True)
class Playbook:
    id: str
    title: str
    description: str
    rules: tuple[tuple[str, str], ...]  # (rule id, rule name)
    action: str
    target: str
    resource_type: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    params_from: dict[str, str] = field(default_factory=dict)
    tests: tuple[dict[str, Any], ...] = ()
    file: str = ""

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(r for r, _ in self.rules)


def _scalar(v: Any) -> bool:
    return isinstance(v, str | int | float | bool) or (isinstance(v, list) and all(isinstance(x, str) for x in v))


def parse(doc: Any, file: str, actions: Iterable[str]) -> Playbook:
    """One playbook from its YAML document; DefinitionError naming the file and key."""
    if not isinstance(doc, dict):
        raise DefinitionError(file, "a playbook is a mapping")
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise DefinitionError(file, f"unknown key(s): {', '.join(map(str, unknown))}")
    pid = doc.get("id")
    if not isinstance(pid, str) or not _ID.fullmatch(pid) or Path(file).stem != pid:
        raise DefinitionError(file, "must be a snake_case id equal to the file name", path="id")
    for key in ("title", "description", "action", "target"):
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise DefinitionError(file, "required text", path=key)
    if doc["action"] not in set(actions):
        raise DefinitionError(file, f"unknown remediation action {doc['action']!r}", path="action")
    if doc["target"] not in TARGETS:
        raise DefinitionError(file, f"one of {', '.join(TARGETS)}", path="target")
    if doc["target"] == "resource" and not isinstance(doc.get("resource_type"), str):
        raise DefinitionError(file, "target 'resource' needs the resource type it takes", path="resource_type")
    rules = doc.get("rules")
    if not isinstance(rules, list) or not rules:
        raise DefinitionError(file, "a non-empty list of {id, name}", path="rules")
    pairs = []
    for i, r in enumerate(rules):
        if not isinstance(r, dict) or not isinstance(r.get("id"), str) or not isinstance(r.get("name"), str):
            raise DefinitionError(file, "each rule is {id: <Sigma id>, name: <rule name>}", path=f"rules[{i}]")
        pairs.append((r["id"], r["name"]))
    params = doc.get("params") or {}
    if not isinstance(params, dict) or not all(_scalar(v) for v in params.values()):
        raise DefinitionError(file, "plain values (text, numbers, booleans, lists of text)", path="params")
    bindings = doc.get("params_from") or {}
    if not isinstance(bindings, dict) or any(v not in BINDINGS for v in bindings.values()):
        raise DefinitionError(file, f"each value one of {', '.join(BINDINGS)}", path="params_from")
    tests = doc.get("tests") or []
    if not isinstance(tests, list) or not all(isinstance(t, dict) for t in tests):
        raise DefinitionError(file, "a list of test cases", path="tests")
    return Playbook(
        id=pid,
        title=doc["title"].strip(),
        description=" ".join(doc["description"].split()),
        rules=tuple(pairs),
        action=doc["action"],
        target=doc["target"],
        resource_type=str(doc.get("resource_type") or ""),
        params=dict(params),
        params_from={str(k): str(v) for k, v in bindings.items()},
        tests=tuple(tests),
        file=file,
    )


def load(dirs: Iterable[Path] = (BUILTIN_DIR,)) -> list[Playbook]:
    """Every ``*.yaml`` playbook of ``dirs`` (ids unique across them)."""
    from cspm_stream.policy.yamlio import YamlReadError, read_yaml
    from cspm_stream.remediate.base import registry

    actions = registry()
    out: dict[str, Playbook] = {}
    for d in dirs:
        for path in sorted(Path(d).glob("*.yaml")):
            try:
                doc = read_yaml(path)
            except YamlReadError as exc:
                raise DefinitionError(str(path), str(exc)) from None
            pb = parse(doc, str(path), actions)
            if pb.id in out:
                raise DefinitionError(str(path), f"playbook id {pb.id} also in {out[pb.id].file}", path="id")
            out[pb.id] = pb
    return list(out.values())


# --- resolution (pure) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    arn: str
    resource_type: str
    resource_id: str
    region: str


def _dig(obj: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(p)
    return obj


def _arn_account(arn: str) -> str:
    m = _ARN_ACCOUNT.match(arn)
    return (m.group(1) or "") if m else ""


def resolve_target(pb: Playbook, finding: Mapping[str, Any], account: str, region: str) -> Target | None:
    """The resource ``pb`` acts on for this detection, or None (nothing safe to act on)."""
    actor = _dig(finding, "actor", "user") or {}
    atype = str(actor.get("type") or "") if isinstance(actor, dict) else ""
    auid = str(actor.get("uid") or "") if isinstance(actor, dict) else ""
    if pb.target == "resource":
        resources = finding.get("resources")
        for r in resources if isinstance(resources, list) else []:  # a number there raised TypeError
            if isinstance(r, dict) and r.get("type") == pb.resource_type and isinstance(r.get("uid"), str):
                arn = r["uid"]
                if not arn.startswith("arn:"):
                    # CloudTrail names IAM users and roles by name only: the ARN in the detection's account
                    kind = _IAM_KINDS.get(pb.resource_type)
                    if kind is None or not _IAM_NAME.fullmatch(arn) or not _ACCOUNT.fullmatch(account):
                        continue
                    partition = auid.split(":")[1] if auid.startswith("arn:aws") else "aws"
                    return Target(f"arn:{partition}:iam::{account}:{kind}/{arn}", pb.resource_type, arn, region)
                return Target(arn, pb.resource_type, resource_id_from_arn(arn, region), region)
        return None
    if pb.target == "actor_user":
        m = _USER_ARN.fullmatch(auid)
        if atype != "IAMUser" or not m:
            return None
        return Target(auid, "aws.iam.user", m.group(3), region)
    if pb.target == "actor_role":
        issuer = str(_dig(finding, "actor", "session", "issuer") or "")
        m = _ROLE_ARN.fullmatch(issuer)
        if atype != "AssumedRole" or not m:
            return None
        return Target(issuer, "aws.iam.role", m.group(4), region)
    m = _INSTANCE_SESSION.fullmatch(auid)  # actor_instance
    if atype != "AssumedRole" or not m or not region:
        return None
    arn = f"arn:{m.group(1)}:ec2:{region}:{m.group(2)}:instance/{m.group(3)}"
    return Target(arn, "aws.ec2.instance", m.group(3), region)


def protected(t: Target, account: str, conf: RemediationSettings) -> str:
    """Why this target must never be acted on ('' when it may)."""
    owner = _arn_account(t.arn)
    if owner and owner != account:
        return f"{t.arn} belongs to another account than the detection ({account})"
    if t.resource_type == "aws.iam.role":
        name = t.resource_id
        if ":role/aws-service-role/" in t.arn or name.startswith(("AWSServiceRoleFor", "AWSReservedSSO_")):
            return f"{name} is managed by AWS (service-linked or IAM Identity Center)"
        if name == conf.role_name or t.arn == conf.role_arn:
            return f"{name} is the remediator's own role"
    if t.arn.endswith(":root"):
        return "the account root is never a target"
    return ""


def _binding(name: str, finding: Mapping[str, Any]) -> Any:
    if name == "first_seen":
        # an integer a datetime cannot hold (a year past 9999) raised ValueError: read as absent
        first = ocsf.epoch_ms(_dig(finding, "finding_info", "first_seen_time"))
        return ms_to_iso(max(first - CLOCK_SLACK_MS, ocsf.MIN_TIME_MS)) if first is not None else None
    if name == "last_seen":
        last = ocsf.epoch_ms(_dig(finding, "finding_info", "last_seen_time"))
        return ms_to_iso(last) if last is not None else None
    cred = _dig(finding, "actor", "user", "credential_uid")  # OCSF user.credential_uid: the access key id
    return [str(cred)] if isinstance(cred, str) and re.fullmatch(r"(AKIA|ASIA)[A-Z0-9]{12,124}", cred) else None


def commands_for(
    playbooks: Iterable[Playbook],
    finding: Mapping[str, Any],
    conf: RemediationSettings,
    *,
    skipped: list[str] | None = None,
) -> list[RemediationCommand]:
    """The commands a **new** detection asks for (none for repeats, tests, compliance findings, mode off).

    ``skipped`` collects why a matching playbook produced nothing (for logs and tests).
    """
    notes = skipped if skipped is not None else []
    if finding.get("class_uid") != ocsf.DETECTION_FINDING or finding.get("activity_id") != ocsf.ACTIVITY_CREATE:
        return []
    unmapped = finding.get("unmapped") if isinstance(finding.get("unmapped"), dict) else {}
    assert isinstance(unmapped, dict)
    if unmapped.get("test") is True:
        return []
    rule = str(unmapped.get("rule_id") or _dig(finding, "finding_info", "analytic", "uid") or "")
    account = str(_dig(finding, "cloud", "account", "uid") or "")
    region = str(_dig(finding, "cloud", "region") or "")
    uid = str(_dig(finding, "finding_info", "uid") or "")
    first = _dig(finding, "finding_info", "first_seen_time")
    raw_time = finding.get("time")
    time_ms: int = raw_time if isinstance(raw_time, int) and not isinstance(raw_time, bool) else 0
    out: list[RemediationCommand] = []
    for pb in playbooks:
        if rule not in pb.rule_ids:
            continue
        mode = resolve_mode(conf, pb.action, account)
        if mode is RemediationMode.OFF:
            notes.append(f"{pb.id}: action {pb.action} is off")
            continue
        target = resolve_target(pb, finding, account, region)
        if target is None:
            notes.append(f"{pb.id}: no {pb.target} target in the detection")
            continue
        why = protected(target, account, conf)
        if why:
            notes.append(f"{pb.id}: {why}")
            continue
        params: dict[str, Any] = dict(pb.params)
        missing = []
        for key, binding in pb.params_from.items():
            value = _binding(binding, finding)
            if value is None:
                missing.append(binding)
            else:
                params[key] = value
        if missing:
            notes.append(f"{pb.id}: the detection carries no {', '.join(missing)}")
            continue
        params["playbook"] = pb.id
        occurrence = str(first if isinstance(first, int) else time_ms)
        out.append(
            RemediationCommand(
                command_id=command_id(pb.action, target.arn, uid, occurrence),
                action=pb.action,
                mode=mode,
                account_id=account,
                region=target.region,
                resource_arn=target.arn,
                resource_type=target.resource_type,
                resource_id=target.resource_id,
                finding_uid=uid,
                requested_at=ms_to_iso(time_ms),
                reason=f"playbook {pb.id}: {_dig(finding, 'finding_info', 'title') or rule}"[:500],
                params=params,
            )
        )
    return out
