"""Typed settings from YAML plus ``CSPM_*`` environment overrides, validated at start.

Sections are dataclasses; each field's type and ``metadata`` (``doc``, ``choices``,
``min``, ``max``, ``secret``, ``env_only``) drive validation. Any problem raises
:class:`~cspm_stream.errors.ConfigError` naming the dotted key, the value and why.
Unknown keys are errors. Secrets can only come from the environment and never
appear in ``repr`` or logs.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import yaml

from cspm_stream.errors import ConfigError

T = TypeVar("T")

#: Environment variables with the CSPM_ prefix that are read by scripts, not by settings.
NON_SETTING_ENV = frozenset(
    {
        "CSPM_CONFIG",
        "CSPM_KAFKA_PORT",
        "CSPM_KAFKA_CONTROLLER_PORT",
        "CSPM_KAFKA_START_TIMEOUT",
        "CSPM_KAFKA_VERSION",
        "CSPM_TEST_PREFIX",
    }
)


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
    """Declare a settings field with its documentation and constraints."""
    md = {"doc": doc, **meta}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=md)
    return dataclasses.field(default=default, metadata=md)


def build(cls: type[T], data: Mapping[str, Any] | None, prefix: str = "") -> T:
    """Validate ``data`` into the settings dataclass ``cls``."""
    data = dict(data or {})
    if not isinstance(data, dict):
        raise ConfigError(prefix or "<root>", data, "expected a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(_join(prefix, str(key)), data[key], f"unknown key (known: {known})")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        key = _join(prefix, name)
        if name not in data:
            continue
        kwargs[name] = _value(hints[name], data[name], key, f.metadata)
    try:
        obj = cls(**kwargs)
    except TypeError as exc:  # a required field without default
        raise ConfigError(prefix or "<root>", data, str(exc)) from None
    check = getattr(obj, "validate", None)
    if callable(check):
        check(prefix)
    return obj


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def env_name(key: str) -> str:
    return "CSPM_" + key.replace(".", "_").upper()


def _value(tp: Any, v: Any, key: str, meta: Mapping[str, Any]) -> Any:
    origin = get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in get_args(tp) if a is not type(None)]
        if v is None:
            return None
        return _value(args[0], v, key, meta)
    if origin is list:
        if isinstance(v, str):  # env form: comma separated
            v = [x.strip() for x in v.split(",") if x.strip()]
        if not isinstance(v, list):
            raise ConfigError(key, v, "expected a list")
        (item,) = get_args(tp)
        return [_value(item, x, f"{key}[{i}]", meta) for i, x in enumerate(v)]
    if origin is dict:
        if not isinstance(v, dict):
            raise ConfigError(key, v, "expected a mapping")
        _, val_t = get_args(tp)
        return {str(k): _value(val_t, x, f"{key}.{k}", meta) for k, x in v.items()}
    if tp is Secret:
        if not isinstance(v, str):
            raise ConfigError(key, "<hidden>", "expected a string")
        return Secret(v)
    if dataclasses.is_dataclass(tp):
        return build(tp, v, key)  # type: ignore[arg-type]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            parse = getattr(tp, "parse", None)  # e.g. Severity accepts "high" as well as 4
            return parse(v) if callable(parse) else tp(v)
        except (ValueError, KeyError):
            allowed = ", ".join(str(m.value) for m in tp)
            raise ConfigError(key, v, f"must be one of: {allowed}") from None
    if tp is bool:
        if isinstance(v, str):
            low = v.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
        if not isinstance(v, bool):
            raise ConfigError(key, v, "expected true or false")
        return v
    if tp is int or tp is float:
        if isinstance(v, str):
            try:
                v = tp(v.strip())
            except ValueError:
                raise ConfigError(key, v, f"expected {'an integer' if tp is int else 'a number'}") from None
        if isinstance(v, bool) or not isinstance(v, int | float) or (tp is int and not isinstance(v, int)):
            raise ConfigError(key, v, f"expected {'an integer' if tp is int else 'a number'}")
        lo, hi = meta.get("min"), meta.get("max")
        if lo is not None and v < lo:
            raise ConfigError(key, v, f"must be >= {lo}")
        if hi is not None and v > hi:
            raise ConfigError(key, v, f"must be <= {hi}")
        return tp(v)
    if tp is str:
        if not isinstance(v, str):
            raise ConfigError(key, v, "expected a string")
        choices = meta.get("choices")
        if choices and v not in choices:
            raise ConfigError(key, v, f"must be one of: {', '.join(choices)}")
        return v
    if tp is Any:
        return v
    return v


def flat_keys(cls: type[Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key → field, for every scalar/list setting (for env overrides and docs)."""
    out: dict[str, Any] = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = _join(prefix, f.name)
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            out.update(flat_keys(tp, key))  # type: ignore[arg-type]
        else:
            out[key] = f
    return out


def apply_env(cls: type[Any], data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Overlay ``CSPM_SECTION_KEY=value`` variables on the YAML data. Unknown CSPM_ vars fail."""
    by_env = {env_name(k): k for k in flat_keys(cls)}
    for name, raw in environ.items():
        if not name.startswith("CSPM_") or name in NON_SETTING_ENV:
            continue
        key = by_env.get(name)
        if key is None:
            raise ConfigError(name, raw, "unknown CSPM_ environment variable (no such setting)")
        node = data
        parts = key.split(".")
        for p in parts[:-1]:
            child = node.get(p)
            if not isinstance(child, dict):
                child = {}
                node[p] = child
            node = child
        node[parts[-1]] = raw
    return data


def reject_yaml_secrets(cls: type[Any], data: Mapping[str, Any]) -> None:
    """Secrets (``env_only`` fields) must not be written in the config file."""
    for key, f in flat_keys(cls).items():
        if not f.metadata.get("env_only"):
            continue
        node: Any = data
        for p in key.split("."):
            node = node.get(p) if isinstance(node, Mapping) else None
        if node not in (None, ""):
            raise ConfigError(key, "<hidden>", f"secrets may only be set through the environment ({env_name(key)})")


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("config file", str(path), f"cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError("config file", str(path), f"invalid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("config file", str(path), "top level must be a mapping")
    return data
