"""Mutelist: reviewed data that suppresses findings, hot-reloaded by mtime.

File format (YAML)::

    mutes:
      - id: dev-buckets                  # unique
        reason: "dev sandbox, no data"   # required
        owner: alice@example.com          # required
        expires: 2026-12-31T00:00:00Z    # optional (ISO 8601); afterwards the mute stops matching
        # criteria (all given criteria must match = AND):
        account: ["123456789012"]        # account id(s)
        region: [us-east-1, eu-*]        # region glob(s)
        policy: "s3_bucket_*"            # policy id glob(s)
        resource_type: "aws.s3.*"        # resource type glob(s)
        arn: "arn:aws:s3:::dev-.*"       # ARN regex(es), whole-string match
        tags: {env: dev, team: "data-*"} # every tag key present with a value matching the glob
        all: [ {criteria}, ... ]         # nested and/or/not
        any: [ {criteria}, ... ]
        not: {criteria}

An entry with no criteria is refused (it would mute everything by accident).
Compiled once: globs → regexes, regexes pre-compiled, expiry → epoch seconds.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cspm_stream import safe_regex
from cspm_stream.errors import DefinitionError
from cspm_stream.policy.operators import epoch_seconds, glob_to_regex
from cspm_stream.policy.yamlio import YamlReadError, loads, read_text

_CRITERIA = ("account", "region", "policy", "resource_type", "arn", "tags", "all", "any", "not")
_ENTRY_KEYS = ("id", "reason", "owner", "expires", *_CRITERIA)


class MutelistError(DefinitionError):
    """The mutelist file is invalid (file, path, reason)."""


@dataclass(frozen=True, slots=True)
class Subject:
    """What a mute is matched against."""

    policy_id: str
    arn: str
    account_id: str
    region: str
    resource_type: str
    tags: dict[str, str]


Matcher = Callable[[Subject], bool]


@dataclass(frozen=True, slots=True)
class Mute:
    id: str
    reason: str
    owner: str
    expires: str | None
    expires_ts: float | None
    matcher: Matcher

    def active(self, now_ts: float) -> bool:
        return self.expires_ts is None or now_ts < self.expires_ts


class Mutelist:
    """Compiled mute entries. ``fingerprint`` changes whenever the content changes."""

    def __init__(self, mutes: tuple[Mute, ...] = (), fingerprint: str = "empty") -> None:
        self.mutes = mutes
        self.fingerprint = fingerprint

    def match(self, subject: Subject, now_ts: float) -> Mute | None:
        """The first active mute matching ``subject``, or None."""
        for m in self.mutes:
            if m.active(now_ts) and m.matcher(subject):
                return m
        return None

    def __len__(self) -> int:
        return len(self.mutes)


EMPTY = Mutelist()


def _err(file: str, path: str, reason: str) -> MutelistError:
    return MutelistError(file, reason, path=path)


def _strs(v: Any, file: str, path: str) -> list[str]:
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, list) or not items or not all(isinstance(x, str) and x for x in items):
        raise _err(file, path, "must be a non-empty string or list of strings")
    return list(items)


def _globs(v: Any, file: str, path: str) -> Callable[[str], bool]:
    pats = [glob_to_regex(p).fullmatch for p in _strs(v, file, path)]
    return lambda s: any(p(s) for p in pats)


def _regexes(v: Any, file: str, path: str) -> Callable[[str], bool]:
    out = []
    for i, p in enumerate(_strs(v, file, path)):
        try:
            out.append(safe_regex.compile(p).fullmatch)
        except safe_regex.RegexError as exc:
            raise _err(file, f"{path}[{i}]" if isinstance(v, list) else path, f"invalid regex: {exc}") from None
    return lambda s: any(m(s) for m in out)


def _criteria(src: Any, file: str, path: str, *, top: bool = False) -> Matcher:
    if not isinstance(src, dict):
        raise _err(file, path, "criteria must be a mapping")
    allowed = _ENTRY_KEYS if top else _CRITERIA
    unknown = sorted(set(map(str, src)) - set(allowed))
    if unknown:
        raise _err(file, f"{path}.{unknown[0]}" if path else unknown[0], f"unknown key (allowed: {', '.join(allowed)})")
    parts: list[Matcher] = []

    def p(k: str) -> str:
        return f"{path}.{k}" if path else k

    if "account" in src:
        raw_acc = src["account"]
        # unquoted YAML account ids load as ints (losing leading zeros): restore 12 digits
        raw_acc = [f"{a:012d}" if type(a) is int else a for a in (raw_acc if isinstance(raw_acc, list) else [raw_acc])]
        accts = frozenset(_strs(raw_acc, file, p("account")))
        parts.append(lambda s: s.account_id in accts)
    if "region" in src:
        rg = _globs(src["region"], file, p("region"))
        parts.append(lambda s: rg(s.region))
    if "policy" in src:
        pg = _globs(src["policy"], file, p("policy"))
        parts.append(lambda s: pg(s.policy_id))
    if "resource_type" in src:
        tg = _globs(src["resource_type"], file, p("resource_type"))
        parts.append(lambda s: tg(s.resource_type))
    if "arn" in src:
        ar = _regexes(src["arn"], file, p("arn"))
        parts.append(lambda s: ar(s.arn))
    if "tags" in src:
        tags = src["tags"]
        if not isinstance(tags, dict) or not tags:
            raise _err(file, p("tags"), "must be a non-empty mapping of tag key to value glob")
        tag_tests = []
        for k, v in tags.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise _err(file, p(f"tags.{k}"), "tag keys and value globs must be strings")
            tag_tests.append((k, glob_to_regex(v).fullmatch))
        parts.append(lambda s: all(k in s.tags and m(s.tags[k]) for k, m in tag_tests))
    for k in ("all", "any"):
        if k in src:
            items = src[k]
            if not isinstance(items, list) or not items:
                raise _err(file, p(k), "must be a non-empty list of criteria")
            subs = [_criteria(x, file, f"{p(k)}[{i}]") for i, x in enumerate(items)]
            parts.append(_all_of(subs) if k == "all" else _any_of(subs))
    if "not" in src:
        inner = _criteria(src["not"], file, p("not"))
        parts.append(lambda s: not inner(s))
    if not parts:
        raise _err(file, path or "", "no match criteria (refusing to mute everything)")
    if len(parts) == 1:
        return parts[0]
    return lambda s: all(m(s) for m in parts)


def _all_of(subs: list[Matcher]) -> Matcher:
    return lambda s: all(m(s) for m in subs)


def _any_of(subs: list[Matcher]) -> Matcher:
    return lambda s: any(m(s) for m in subs)


def parse_mutelist(text: str, file: str = "<mutelist>") -> Mutelist:
    """Parse and compile; raises MutelistError naming file, path and reason."""
    try:
        raw = loads(text)
    except YamlReadError as exc:
        raise _err(file, "", str(exc)) from None
    fp = hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()
    if raw is None:
        return Mutelist((), fp)
    if not isinstance(raw, dict) or set(raw) - {"mutes"}:
        raise _err(file, "", "expected a mapping with a 'mutes' list")
    entries = raw.get("mutes") or []
    if not isinstance(entries, list):
        raise _err(file, "mutes", "must be a list")
    mutes: list[Mute] = []
    ids: set[str] = set()
    for i, e in enumerate(entries):
        where = f"mutes[{i}]"
        if not isinstance(e, dict):
            raise _err(file, where, "must be a mapping")
        for key in ("id", "reason", "owner"):
            v = e.get(key)
            if not isinstance(v, str) or not v.strip():
                raise _err(file, f"{where}.{key}", "required non-empty string")
        if e["id"] in ids:
            raise _err(file, f"{where}.id", f"duplicate mute id {e['id']!r}")
        ids.add(e["id"])
        expires = e.get("expires")
        exp_ts: float | None = None
        if expires is not None:
            exp_ts = epoch_seconds(expires) if isinstance(expires, str) else None
            if exp_ts is None:
                raise _err(file, f"{where}.expires", f"{expires!r} is not an ISO 8601 time")
        matcher = _criteria(e, file, where, top=True)
        mutes.append(Mute(e["id"], e["reason"].strip(), e["owner"].strip(), expires, exp_ts, matcher))
    return Mutelist(tuple(mutes), fp)


class MutelistSource:
    """A mutelist file reloaded when its mtime changes (checked at most every
    ``reload_s`` seconds). A bad new version keeps the previous one and is
    reported in :attr:`last_error` — suppressions never vanish because of a typo."""

    def __init__(self, path: str | Path | None, reload_s: float = 10.0) -> None:
        self.path = Path(path) if path else None
        self.reload_s = reload_s
        self.current: Mutelist = EMPTY
        self.last_error: MutelistError | None = None
        self._mtime: int | None = None
        self._checked = float("-inf")

    def load(self) -> Mutelist:
        """Initial strict load: raises MutelistError on an invalid file."""
        if self.path is None:
            return self.current
        try:
            st = os.stat(self.path)
            text = read_text(self.path)
        except OSError as exc:
            raise MutelistError(str(self.path), f"cannot read: {exc.strerror or exc}") from None
        except YamlReadError as exc:
            raise MutelistError(str(self.path), str(exc)) from None
        self.current = parse_mutelist(text, str(self.path))
        self._mtime = st.st_mtime_ns
        return self.current

    def get(self, now_monotonic: float) -> Mutelist:
        """The current mutelist, reloading it if the file changed (pass a monotonic time)."""
        if self.path is None or now_monotonic - self._checked < self.reload_s:
            return self.current
        self._checked = now_monotonic
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except OSError as exc:
            self.last_error = MutelistError(str(self.path), f"cannot stat: {exc.strerror}")
            return self.current
        if mtime == self._mtime:
            return self.current
        try:
            self.current = parse_mutelist(read_text(self.path), str(self.path))
            self.last_error = None
        except (MutelistError, OSError, YamlReadError) as exc:
            # an edit that breaks the file keeps the previous mutelist (the error is reported)
            self.last_error = exc if isinstance(exc, MutelistError) else MutelistError(str(self.path), str(exc))
        self._mtime = mtime
        return self.current
