"""orjson (de)serialisation of every Kafka value, with strict decoding of untrusted bytes.

Every value is a JSON object with a ``schema`` field (``inventory.v1``, ...).
:func:`decode` never raises anything but :class:`~cspm_stream.errors.DecodeError`;
agents turn that into a DLQ record (see :mod:`cspm_stream.models.dlq`).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, TypeVar, get_args, get_origin

import orjson

from cspm_stream.errors import DecodeError

#: Values larger than this are refused before parsing (Kafka's default max is 1 MiB).
MAX_VALUE_BYTES = 4 * 1024 * 1024

T = TypeVar("T")


class Message(Protocol):
    SCHEMA: ClassVar[str]


_REGISTRY: dict[str, type[Any]] = {}


def message(schema: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: register a dataclass as the model of ``schema``."""

    def wrap(cls: type[T]) -> type[T]:
        if schema in _REGISTRY:
            raise RuntimeError(f"schema {schema} registered twice")
        cls.SCHEMA = schema  # type: ignore[attr-defined]
        _REGISTRY[schema] = cls
        return cls

    return wrap


def schema_of(model: Any) -> str:
    """The schema name a registered model (class or instance) carries."""
    return str(model.SCHEMA)


def registry() -> dict[str, type[Any]]:
    """Schema name → model class, for every registered message."""
    return dict(_REGISTRY)


def _default(obj: Any) -> Any:
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def to_dict(msg: Any) -> dict[str, Any]:
    """Plain dict of a registered dataclass message, ``schema`` first."""
    out: dict[str, Any] = {"schema": schema_of(msg)}
    for f in dataclasses.fields(msg):
        out[f.name] = _plain(getattr(msg, f.name))
    return out


def _plain(v: Any) -> Any:
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: _plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def dumps(value: Any) -> bytes:
    """Serialise a message (dataclass) or a plain dict (OCSF) to JSON bytes."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = to_dict(value)
    return orjson.dumps(value, default=_default)


def loads_object(
    data: bytes | bytearray | memoryview | str | None, max_bytes: int = MAX_VALUE_BYTES
) -> dict[str, Any]:
    """Parse untrusted bytes into a JSON object, or raise DecodeError saying why."""
    if data is None:
        raise DecodeError("empty value (null)")
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if len(data) > max_bytes:
        raise DecodeError(f"value too large: {len(data)} bytes > {max_bytes}")
    if len(data) == 0:
        raise DecodeError("empty value (0 bytes)")
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        # orjson rejects invalid UTF-8 with a JSONDecodeError too; keep its message.
        raise DecodeError(f"not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise DecodeError(f"JSON value is a {type(obj).__name__}, expected an object")
    return obj


def decode(data: bytes | bytearray | memoryview | str | None, model: type[T]) -> T:
    """Decode untrusted bytes into ``model``; DecodeError names what was wrong."""
    obj = loads_object(data, getattr(model, "MAX_BYTES", MAX_VALUE_BYTES))
    return from_dict(obj, model)


def decode_any(data: bytes | None, allowed: tuple[type[Any], ...]) -> Any:
    """Decode into whichever of ``allowed`` models the ``schema`` field names."""
    obj = loads_object(data)
    schema = obj.get("schema")
    for model in allowed:
        if schema_of(model) == schema:
            return from_dict(obj, model)
    names = ", ".join(schema_of(m) for m in allowed)
    raise DecodeError(f"schema {schema!r} not accepted here (expected one of: {names})", schema=str(schema))


def from_dict(obj: dict[str, Any], model: type[T]) -> T:
    schema = obj.get("schema")
    if schema != schema_of(model):
        raise DecodeError(f"wrong schema {schema!r}, expected {schema_of(model)!r}", schema=str(schema))
    return typing.cast(T, _build(model, obj, ""))


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    h = _HINTS.get(cls)
    if h is None:
        h = typing.get_type_hints(cls)
        _HINTS[cls] = h
    return h


def _build(cls: type[Any], obj: Any, path: str) -> Any:
    if not isinstance(obj, dict):
        raise DecodeError(f"{path or 'value'}: expected an object, got {type(obj).__name__}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        where = f"{path}.{f.name}" if path else f.name
        if f.name in obj:
            kwargs[f.name] = _coerce(hints[f.name], obj[f.name], where)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise DecodeError(f"missing required field {where!r}", schema=getattr(cls, "SCHEMA", None))
    return cls(**kwargs)


def _coerce(tp: Any, v: Any, where: str) -> Any:
    if tp is Any:
        return v
    origin = get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = get_args(tp)
        if v is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(a, v, where)
            except DecodeError as exc:
                errors.append(exc.reason)
        raise DecodeError(errors[0] if errors else f"{where}: invalid value")
    if origin is list:
        if not isinstance(v, list):
            raise DecodeError(f"{where}: expected a list, got {type(v).__name__}")
        (item,) = get_args(tp) or (Any,)
        return [_coerce(item, x, f"{where}[{i}]") for i, x in enumerate(v)]
    if origin is dict:
        if not isinstance(v, dict):
            raise DecodeError(f"{where}: expected an object, got {type(v).__name__}")
        args = get_args(tp)
        val_t = args[1] if len(args) == 2 else Any
        return {k: _coerce(val_t, x, f"{where}.{k}") for k, x in v.items()}
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            try:
                return tp(v)
            except ValueError:
                allowed = ", ".join(str(m.value) for m in tp)
                raise DecodeError(f"{where}: {v!r} is not one of {allowed}") from None
        if dataclasses.is_dataclass(tp):
            return _build(tp, v, where)
        if tp is float:
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise DecodeError(f"{where}: expected a number, got {type(v).__name__}")
            return float(v)
        if tp is int:
            if isinstance(v, bool) or not isinstance(v, int):
                raise DecodeError(f"{where}: expected an integer, got {type(v).__name__}")
            return v
        if tp is bool:
            if not isinstance(v, bool):
                raise DecodeError(f"{where}: expected true/false, got {type(v).__name__}")
            return v
        if tp is str:
            if not isinstance(v, str):
                raise DecodeError(f"{where}: expected a string, got {type(v).__name__}")
            return v
        if tp is dict:
            if not isinstance(v, dict):
                raise DecodeError(f"{where}: expected an object, got {type(v).__name__}")
            return v
        if tp is list:
            if not isinstance(v, list):
                raise DecodeError(f"{where}: expected a list, got {type(v).__name__}")
            return v
    return v
