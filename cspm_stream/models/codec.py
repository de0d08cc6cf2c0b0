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


def loads_object(data: bytes | bytearray | memoryview | str | None, max_bytes: int = MAX_VALUE_BYTES) -> dict[str, Any]:
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


#: a coercer checks (and converts) one JSON value: ``coerce(value, path, key)``; the location
#: ``path.key`` (or ``path[key]``) is formatted only when the value is refused
Coercer = Callable[[Any, str, "str | int"], Any]
_COERCERS: dict[Any, Coercer] = {}


def _loc(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _build(cls: type[Any], obj: Any, path: str) -> Any:
    return _coercer(cls)(obj, "", path)


def _coerce(tp: Any, v: Any, where: str) -> Any:
    return _coercer(tp)(v, "", where)


def _coercer(tp: Any) -> Coercer:
    """The coercer of a type hint, compiled once: decoding walks no type machinery per value."""
    c = _COERCERS.get(tp)
    if c is None:
        c = _compile(tp)
        _COERCERS[tp] = c
    return c


def _type_error(what: str, v: Any, path: str, key: str | int) -> DecodeError:
    return DecodeError(f"{_loc(path, key)}: expected {what}, got {type(v).__name__}")


def _checked(kind: type[Any], what: str, items: Callable[[Any, str], Any] | None = None) -> Coercer:
    """A container coercer: the value must be a ``kind``; ``items(value, location)`` converts its items."""

    def container(v: Any, path: str, key: str | int) -> Any:
        if not isinstance(v, kind):
            raise _type_error(what, v, path, key)
        return v if items is None else items(v, _loc(path, key))

    return container


def _compile(tp: Any) -> Coercer:
    if tp is Any:
        return lambda v, path, key: v
    origin = get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = get_args(tp)
        optional = type(None) in args
        options = [_coercer(a) for a in args if a is not type(None)]

        def union(v: Any, path: str, key: str | int) -> Any:
            if v is None and optional:
                return None
            errors = []
            for c in options:
                try:
                    return c(v, path, key)
                except DecodeError as exc:
                    errors.append(exc.reason)
            raise DecodeError(errors[0] if errors else f"{_loc(path, key)}: invalid value")

        return union
    if origin is list or tp is list:
        (item_t,) = get_args(tp) or (Any,)
        if item_t is Any:
            return _checked(list, "a list")
        item = _coercer(item_t)
        return _checked(list, "a list", lambda v, where: [item(x, where, i) for i, x in enumerate(v)])
    if origin is dict or tp is dict:
        args = get_args(tp)
        val_t = args[1] if len(args) == 2 else Any
        if val_t is Any:  # free-form JSON (a CloudTrail record): checked to be an object, kept as parsed
            return _checked(dict, "an object")
        val = _coercer(val_t)
        return _checked(dict, "an object", lambda v, where: {k: val(x, where, k) for k, x in v.items()})
    if isinstance(tp, type):
        return _compile_class(tp)
    return lambda v, path, key: v


def _compile_class(tp: type[Any]) -> Coercer:
    if issubclass(tp, enum.Enum):
        allowed = ", ".join(str(m.value) for m in tp)
        members = {m.value: m for m in tp}

        def enum_value(v: Any, path: str, key: str | int) -> Any:
            try:
                return members[v]
            except (KeyError, TypeError):  # TypeError: an unhashable value (a list, an object)
                raise DecodeError(f"{_loc(path, key)}: {v!r} is not one of {allowed}") from None

        return enum_value
    if dataclasses.is_dataclass(tp):
        return _compile_dataclass(tp)
    if tp is float:

        def number(v: Any, path: str, key: str | int) -> Any:
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise _type_error("a number", v, path, key)
            return float(v)

        return number
    if tp is int:

        def integer(v: Any, path: str, key: str | int) -> Any:
            if isinstance(v, bool) or not isinstance(v, int):
                raise _type_error("an integer", v, path, key)
            return v

        return integer
    if tp is bool:

        def boolean(v: Any, path: str, key: str | int) -> Any:
            if not isinstance(v, bool):
                raise _type_error("true/false", v, path, key)
            return v

        return boolean
    if tp is str:

        def string(v: Any, path: str, key: str | int) -> Any:
            if type(v) is not str and not isinstance(v, str):
                raise _type_error("a string", v, path, key)
            return v

        return string
    return lambda v, path, key: v


def _compile_dataclass(cls: type[Any]) -> Coercer:
    """A generated builder for ``cls``: the common case (right types) costs one class check per field.

    Anything else goes through the field's coercer, which converts or raises naming the field.
    Field coercers are resolved on first use: a dataclass may refer to itself.
    """
    hints = typing.get_type_hints(cls)
    names: list[str] = []
    lines = [
        "def build(obj, path, key):",
        "    where = _loc(path, key) if (path or key != '') else ''",
        "    if obj.__class__ is not dict and not isinstance(obj, dict):",
        "        raise DecodeError(f\"{where or 'value'}: expected an object, got {type(obj).__name__}\")",
        "    kw = {}",
    ]
    for i, f in enumerate(dataclasses.fields(cls)):
        names.append(f.name)
        tp = hints[f.name]
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        fast = {str: "str", int: "int", bool: "bool"}.get(tp)
        if tp is dict or (get_origin(tp) is dict and get_args(tp)[1:] == (Any,)):
            fast = "dict"
        lines.append(f"    if {f.name!r} in obj:")
        lines.append(f"        v = obj[{f.name!r}]")
        if tp is Any:
            pass
        elif fast is not None:
            lines.append(f"        if v.__class__ is not {fast}:")
            lines.append(f"            v = coerce({i})(v, where, {f.name!r})")
        else:
            lines.append(f"        v = coerce({i})(v, where, {f.name!r})")
        lines.append(f"        kw[{f.name!r}] = v")
        if required:
            lines.append("    else:")
            lines.append(
                f'        raise DecodeError(f"missing required field {{_loc(where, {f.name!r})!r}}", schema=schema)'
            )
    lines.append("    return cls(**kw)")
    resolved: list[Coercer] = []

    def coerce(i: int) -> Coercer:
        if not resolved:
            resolved.extend(_coercer(hints[n]) for n in names)
        return resolved[i]

    scope: dict[str, Any] = {
        "_loc": _loc,
        "DecodeError": DecodeError,
        "cls": cls,
        "coerce": coerce,
        "schema": getattr(cls, "SCHEMA", None),
        "str": str,
        "int": int,
        "bool": bool,
        "dict": dict,
    }
    exec("\n".join(lines), scope)  # noqa: S102 - code generated from the class's own field names and types
    return typing.cast(Coercer, scope["build"])
