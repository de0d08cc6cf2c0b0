"""Typed settings from YAML plus ``CSPM_*`` environment overrides, validated at start by pydantic.

Sections are frozen dataclasses; each field's type and ``metadata`` (``doc``,
``choices``, ``min``, ``max``, ``secret``, ``sensitive``, ``env_only``) are the one
declaration. :mod:`cspm_stream.settings.schema` derives a pydantic model from them
(pydantic does the validation: types, ranges, choices, finiteness, unknown keys) and
the validated values become the dataclasses, whose ``validate(prefix)`` hooks then
check what spans fields (routes name existing sinks, action names exist, ...).

Every problem raises one :class:`~cspm_stream.errors.ConfigError` naming the file
(or environment variable), the dotted key and why — with the value only when it is a
short scalar of a setting that is neither secret nor sensitive. Secrets can only
come from the environment and never appear in ``repr``, logs or errors.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from cspm_stream import strict_yaml
from cspm_stream.errors import ConfigError

#: ``CSPM_`` variables that are not settings, and what reads them. Any other ``CSPM_``
#: variable must name a setting (``CSPM_<SECTION>_<KEY>``), or the daemon refuses to start.
NON_SETTING_ENV: Mapping[str, str] = {
    "CSPM_CONFIG": "the config file path (every command)",
    "CSPM_KAFKA_PORT": "scripts/kafka-local: client port of the local broker",
    "CSPM_KAFKA_CONTROLLER_PORT": "scripts/kafka-local: KRaft controller port",
    "CSPM_KAFKA_DIR": "scripts/kafka-local: state folder of the local broker",
    "CSPM_KAFKA_HEAP": "scripts/kafka-local: JVM heap flags",
    "CSPM_KAFKA_START_TIMEOUT": "scripts/kafka-local: seconds to wait for readiness",
    "CSPM_KAFKA_STOP_TIMEOUT": "scripts/kafka-local: seconds to wait after SIGTERM",
}

#: largest config file read (bytes) and most YAML nodes after alias expansion
MAX_CONFIG_BYTES = 1024 * 1024
MAX_CONFIG_NODES = 100_000


class Secret:
    """A string that never shows itself in repr/str/logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def setting(default: Any = dataclasses.MISSING, *, doc: str, factory: Any = None, **meta: Any) -> Any:
    """Declare a settings field with its documentation and constraints.

    ``min``/``max`` bound numbers (and the items of a list of numbers); ``choices``
    lists the allowed strings; ``sensitive=True`` keeps the value out of error messages
    (URLs that may embed a token); ``env_only=True`` marks a secret that may only come
    from the environment.
    """
    md = {"doc": doc, **meta}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=md)
    return dataclasses.field(default=default, metadata=md)


_HINTS: dict[type[Any], dict[str, Any]] = {}


def hints(cls: type[Any]) -> dict[str, Any]:
    """``typing.get_type_hints(cls)``, once per class (annotations are strings here)."""
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = typing.get_type_hints(cls)
    return found


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def env_name(key: str) -> str:
    return "CSPM_" + key.replace(".", "_").upper()


def flat_keys(cls: type[Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key → field, for every scalar/list setting (for env overrides and docs)."""
    out: dict[str, Any] = {}
    types_ = hints(cls)
    for f in dataclasses.fields(cls):
        key = _join(prefix, f.name)
        tp = types_[f.name]
        if dataclasses.is_dataclass(tp):
            out.update(flat_keys(tp, key))  # type: ignore[arg-type]
        else:
            out[key] = f
    return out


def closest_hint(name: str, names: list[str]) -> str:
    import difflib

    near = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    return f"; did you mean {near[0]}?" if near else ""


def apply_env(cls: type[Any], data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """Overlay ``CSPM_SECTION_KEY=value`` variables on ``data`` (in place).

    Returns dotted key → variable name of every key set this way (errors name the
    variable). An unknown ``CSPM_`` variable fails by its name only: its value may be a
    mistyped secret and is never shown. List settings take comma-separated values.
    """
    keys = flat_keys(cls)
    by_env = {env_name(k): k for k in keys}
    origin: dict[str, str] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith("CSPM_") or name in NON_SETTING_ENV:
            continue
        key = by_env.get(name)
        if key is None:
            raise ConfigError(
                name,
                None,
                "unknown CSPM_ environment variable: no setting has this name"
                + closest_hint(name, sorted([*by_env, *NON_SETTING_ENV])),
                source="environment",
                show_value=False,
            )
        node = data
        parts = key.split(".")
        for p in parts[:-1]:
            child = node.get(p)
            if child is None:
                child = node[p] = {}
            if not isinstance(child, dict):
                break  # the section is not a mapping: validation reports that
            node = child
        else:
            node[parts[-1]] = _env_value(cls, parts, raw)
            origin[key] = name
    return origin


def _env_value(cls: type[Any], parts: list[str], raw: str) -> Any:
    if typing.get_origin(hints(_owner(cls, parts))[parts[-1]]) is list:
        return [x.strip() for x in raw.split(",") if x.strip()]
    return raw


def _owner(cls: type[Any], parts: list[str]) -> type[Any]:
    for p in parts[:-1]:
        cls = hints(cls)[p]
    return cls


def reject_yaml_secrets(cls: type[Any], data: Mapping[str, Any], source: str = "") -> None:
    """Secrets (``env_only`` fields) must not be written in the config file."""
    for key, f in flat_keys(cls).items():
        if not f.metadata.get("env_only"):
            continue
        node: Any = data
        for p in key.split("."):
            node = node.get(p) if isinstance(node, Mapping) else None
        if node not in (None, ""):
            raise ConfigError(
                key,
                None,
                f"secrets may only be set through the environment ({env_name(key)})",
                source=source,
                show_value=False,
            )


def _count_nodes(data: Any, limit: int) -> int:
    """Nodes in ``data`` counting shared (aliased) parts each time; stops past ``limit``."""
    count, stack = 0, [data]
    while stack and count <= limit:
        x = stack.pop()
        count += 1
        if isinstance(x, dict):
            stack.extend(x.values())
            count += len(x)
        elif isinstance(x, list):
            stack.extend(x)
    return count


def read_yaml(path: Path) -> dict[str, Any]:
    """The config file as a mapping; every failure is one ConfigError naming the file and why."""
    where = str(path)
    try:  # a regular file only: a FIFO with no writer would block the start, /dev/zero never end
        text = strict_yaml.read_text(path, MAX_CONFIG_BYTES)
    except strict_yaml.ReadError as exc:
        raise ConfigError("<file>" if str(exc).startswith("not UTF-8") else "", None, str(exc), source=where) from None
    try:
        data = strict_yaml.load(text, strict_yaml.ConfigLoader)
    except yaml.YAMLError as exc:
        raise ConfigError("", None, f"invalid YAML: {strict_yaml.problem(exc)}", source=where) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("", None, f"top level must be a mapping, not {kind_of(data)}", source=where)
    if _count_nodes(data, MAX_CONFIG_NODES) > MAX_CONFIG_NODES:
        raise ConfigError("", None, f"more than {MAX_CONFIG_NODES} values (YAML aliases expanded)", source=where)
    return data


def kind_of(v: Any) -> str:
    kinds = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return kinds.get(type(v), type(v).__name__)
