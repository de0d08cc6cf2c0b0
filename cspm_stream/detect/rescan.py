"""The eventName → touched resources table, validated at load, and its pure resolver.

See ``rescan_map.yaml`` for the format. :func:`load_map` raises
:class:`~cspm_stream.errors.DefinitionError` naming the file, the entry and the
reason; :meth:`RescanMap.targets` turns one CloudTrail record into the resources
to re-scan (no I/O, no clock).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cspm_stream import strict_yaml
from cspm_stream.detect.fields import FieldError, Getter, check_field, getter, text
from cspm_stream.errors import DefinitionError

_TEMPLATE_KEYS = frozenset({"partition", "region", "account", "id"})
_SPECIAL_IDS = {"{region}", "{account}", "{every}"}
#: the resource id of a target meaning every resource of its type in the account (and region)
EVERY = "*"
_LAMBDA_VERSION = re.compile(r"\d{8}(v\d+)?$")


def default_map_path() -> Path:
    return Path(__file__).resolve().parent / "rescan_map.yaml"


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    type: str
    ids: tuple[str | Getter, ...]  # a getter, or "{region}" / "{account}" / "{every}"
    arn: str | None
    unless: Getter | None


@dataclass(frozen=True, slots=True)
class RescanTarget:
    """One resource to re-scan because of one CloudTrail record."""

    resource_type: str
    resource_id: str
    arn: str | None
    account_id: str
    region: str
    event_id: str
    event_name: str


class RescanMap:
    def __init__(self, entries: dict[tuple[str, str], tuple[ResourceSpec, ...]]) -> None:
        self.entries = entries
        #: (source, name) -> specs after the Lambda API-version suffix is stripped; () = not a mutating call
        self._resolved: dict[tuple[str, str], tuple[ResourceSpec, ...]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def event_names(self) -> set[str]:
        return {name for _, name in self.entries}

    def mutating(self, rec: dict[str, Any]) -> bool:
        """Whether ``rec`` is a successful call this table maps to resources (no other field read)."""
        return bool(self.specs(rec))

    def specs(self, rec: dict[str, Any]) -> tuple[ResourceSpec, ...]:
        """The entries of ``rec``'s call (``()``: a read, a failure, an unknown call).

        A function of eventSource, eventName and whether errorCode is set, nothing else.
        """
        name = rec.get("eventName")
        source = rec.get("eventSource")
        if not isinstance(name, str) or not isinstance(source, str) or rec.get("errorCode"):
            return ()
        specs = self._resolved.get((source, name))
        if specs is None:
            specs = self.entries.get((source, name))
            if specs is None:
                specs = self.entries.get((source, _LAMBDA_VERSION.sub("", name)), ())
            if len(self._resolved) >= 100_000:  # event names are a bounded vocabulary; junk is not
                self._resolved.clear()
            self._resolved[(source, name)] = specs
        return specs

    def targets(self, rec: dict[str, Any]) -> list[RescanTarget]:
        """Resources a successful mutating call touched (``[]`` for reads, failures, unknown events)."""
        return self.targets_of(rec, self.specs(rec))

    def targets_of(self, rec: dict[str, Any], specs: tuple[ResourceSpec, ...]) -> list[RescanTarget]:
        """:meth:`targets` with ``specs`` already looked up (``self.specs(rec)``)."""
        if not specs:
            return []
        name = str(rec.get("eventName"))
        account = str(rec.get("recipientAccountId") or _ident(rec).get("accountId") or "")
        region = str(rec.get("awsRegion") or "")
        arn0 = str(_ident(rec).get("arn") or "")
        partition = arn0.split(":")[1] if arn0.startswith("arn:") and arn0.count(":") > 2 else "aws"
        out: list[RescanTarget] = []
        eid = str(rec.get("eventID") or "")
        for spec in specs:
            if spec.unless is not None and any(v not in (None, "") for v in spec.unless(rec)):
                continue
            for rid in _ids(spec, rec, account, region):
                if rid.startswith("arn:"):
                    arn: str | None = rid
                elif rid == EVERY:
                    arn = None
                elif spec.arn:
                    arn = spec.arn.format(partition=partition, region=region, account=account, id=rid)
                else:
                    arn = None
                out.append(RescanTarget(spec.type, rid, arn, account, region, eid, name))
        return out


def _ident(rec: dict[str, Any]) -> dict[str, Any]:
    ident = rec.get("userIdentity")
    return ident if isinstance(ident, dict) else {}


def _ids(spec: ResourceSpec, rec: dict[str, Any], account: str, region: str) -> list[str]:
    for src in spec.ids:
        if src == "{region}":
            vals = [region] if region else []
        elif src == "{account}":
            vals = [account] if account else []
        elif src == "{every}":
            vals = [EVERY]
        else:
            assert not isinstance(src, str)
            vals = [t for v in src(rec) if (t := text(v))]
        if vals:
            return list(dict.fromkeys(vals))
    return []


def load_map(path: str | Path | None = None) -> RescanMap:
    """Read and validate the table (default: the built-in one).

    An operator's table is checked against the collectors' resource types (which imports
    every collector: ~0.4 s of CPU); the built-in table is held to them by its unit test
    (``tests/unit/detect/test_rescan.py``), so loading it imports no collector.
    """
    p = Path(path) if path else default_map_path()
    builtin = p.resolve() == default_map_path()
    try:  # a regular UTF-8 file of bounded size only (a FIFO would block, /dev/zero never end)
        raw = strict_yaml.load(strict_yaml.read_text(p))
    except strict_yaml.ReadError as exc:
        raise DefinitionError(str(p), str(exc)) from None
    except yaml.YAMLError as exc:
        raise DefinitionError(str(p), f"invalid YAML: {strict_yaml.problem(exc)}") from None
    return parse_map(raw, str(p), check_types=not builtin)


def parse_map(raw: Any, file: str = "<rescan map>", *, check_types: bool = True) -> RescanMap:
    """Validate ``raw`` (the YAML table); ``check_types``: every type must be a collector's resource type."""
    if not isinstance(raw, dict):
        raise DefinitionError(file, "top level must be a mapping of '<eventSource> <eventName>' to resources")
    entries: dict[tuple[str, str], tuple[ResourceSpec, ...]] = {}
    for key, value in raw.items():
        where = str(key)
        parts = str(key).split()
        if len(parts) != 2 or not parts[0].endswith(".amazonaws.com"):
            raise DefinitionError(file, "key must be '<service>.amazonaws.com <EventName>'", path=where)
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not value:
            raise DefinitionError(file, "value must be a non-empty list of resources", path=where)
        entries[(parts[0], parts[1])] = tuple(_spec(v, file, f"{where}[{i}]", check_types) for i, v in enumerate(value))
    return RescanMap(entries)


def _spec(v: Any, file: str, where: str, check_types: bool) -> ResourceSpec:
    if not isinstance(v, dict):
        raise DefinitionError(file, "resource must be a mapping", path=where)
    unknown = set(v) - {"type", "id", "arn", "unless"}
    if unknown:
        raise DefinitionError(file, f"unknown keys {sorted(unknown)}", path=where)
    rtype = v.get("type")
    if not isinstance(rtype, str) or not rtype:
        raise DefinitionError(file, "type must be a resource type name", path=where)
    if check_types:
        from cspm_stream.collect.services import resource_types  # the collectors' registry: imported on use

        if rtype not in resource_types():
            raise DefinitionError(file, f"type {rtype!r} is not a contract resource type", path=where)
    ids_raw = v.get("id")
    if isinstance(ids_raw, str):
        ids_raw = [ids_raw]
    if not isinstance(ids_raw, list) or not ids_raw:
        raise DefinitionError(file, "id must be a non-empty list of paths", path=where)
    ids: list[str | Getter] = []
    for src in ids_raw:
        if src in _SPECIAL_IDS:
            ids.append(str(src))
            continue
        try:
            ids.append(getter(check_field(str(src))))
        except FieldError as exc:
            raise DefinitionError(file, f"id {src!r}: {exc}", path=where) from None
    arn = v.get("arn")
    if arn is not None:
        keys = set(re.findall(r"{([^}]*)}", str(arn)))
        if not str(arn).startswith("arn:") or keys - _TEMPLATE_KEYS:
            raise DefinitionError(
                file, f"arn template {arn!r} must start with 'arn:' and use only {sorted(_TEMPLATE_KEYS)}", path=where
            )
    unless = None
    if v.get("unless") is not None:
        try:
            unless = getter(check_field(str(v["unless"])))
        except FieldError as exc:
            raise DefinitionError(file, f"unless: {exc}", path=where) from None
    return ResourceSpec(type=str(rtype), ids=tuple(ids), arn=str(arn) if arn else None, unless=unless)
