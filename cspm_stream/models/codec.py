"""(De)serialisation of every Kafka value, with strict decoding of untrusted bytes.

Every value is a JSON object with a ``schema`` field (``inventory.v1``, ...); the models are
plain dataclasses registered with :func:`message`. Encoding is orjson. Decoding is msgspec:
its JSON decoder checks every field's type while it parses (strict: no string-to-number
coercion, ``true`` is not an integer), in one pass, into the dataclass itself; a free-form
field (``dict[str, Any]``: a CloudTrail record, resource attributes) is kept as parsed. The
``schema`` field is read first (msgspec skips the rest unparsed), so a value of another
schema is refused before anything is built. Measured on the hot path against pydantic and
the previous generated codec: ``python -m bench.codec`` (figures in docs/design.md).

:func:`decode` never raises anything but :class:`~cspm_stream.errors.DecodeError`, whose
reason names the field (``errors[0].attribute: expected a string, got int``); the runtime
turns that into a dead letter (see :mod:`cspm_stream.models.dlq`).
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, TypeVar, get_args, get_origin

import msgspec
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
    """Serialise a message (dataclass) or a plain dict (OCSF) to JSON bytes.

    An integer beyond 64 bits (decoding keeps them exact; orjson cannot write them) is written
    as a float, as orjson itself reads one.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = to_dict(value)
    try:
        return orjson.dumps(value, default=_default)
    except TypeError as exc:
        if "64-bit" not in str(exc):
            raise
        return orjson.dumps(_small_ints(value), default=_default)


def _small_ints(v: Any) -> Any:
    if isinstance(v, int) and not isinstance(v, bool) and not -(2**63) <= v < 2**64:
        return float(v)
    if isinstance(v, dict):
        return {k: _small_ints(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_small_ints(x) for x in v]
    return v


def loads_object(data: bytes | bytearray | memoryview | str | None, max_bytes: int = MAX_VALUE_BYTES) -> dict[str, Any]:
    """Parse untrusted bytes into a JSON object, or raise DecodeError saying why."""
    data = _wire(data, max_bytes)
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        # orjson rejects invalid UTF-8 with a JSONDecodeError too; keep its message.
        raise DecodeError(f"not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise DecodeError(f"JSON value is a {type(obj).__name__}, expected an object")
    return obj


class _Schema(msgspec.Struct):
    """The one field every value carries; the rest is skipped unparsed."""

    schema: str | None = None


_SCHEMA = msgspec.json.Decoder(_Schema)
_END = (b",", b"}")


class _Spec:
    """What decoding one model needs, computed once: its strict msgspec decoder, size bound and
    the prefix ``dumps`` gives its values (``{"schema":"<name>"``: matched without parsing)."""

    __slots__ = ("decoder", "max_bytes", "model", "prefix", "schema")

    def __init__(self, model: type[Any]) -> None:
        self.model = model
        self.schema = schema_of(model)
        self.decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(model)
        self.max_bytes: int = getattr(model, "MAX_BYTES", MAX_VALUE_BYTES)
        self.prefix = b'{"schema":' + orjson.dumps(self.schema)


_SPECS: dict[type[Any], _Spec] = {}


def _spec(model: type[Any]) -> _Spec:
    spec = _SPECS.get(model)
    if spec is None:
        spec = _SPECS[model] = _Spec(model)
    return spec


def _wire(data: bytes | bytearray | memoryview | str | None, max_bytes: int) -> bytes | bytearray:
    """The bytes of an untrusted value, refused (DecodeError) when absent, empty or too large."""
    if data is None:
        raise DecodeError("empty value (null)")
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    elif isinstance(data, memoryview):
        data = data.tobytes()
    if len(data) > max_bytes:
        raise DecodeError(f"value too large: {len(data)} bytes > {max_bytes}")
    if len(data) == 0:
        raise DecodeError("empty value (0 bytes)")
    return data


def _is(raw: bytes | bytearray, spec: _Spec) -> bool:
    """Whether ``raw`` starts the way ``dumps`` writes ``spec``'s values (then no parse is needed)."""
    n = len(spec.prefix)
    return raw.startswith(spec.prefix) and raw[n : n + 1] in _END


def _schema(data: bytes | bytearray) -> str | None:
    """The ``schema`` field of a JSON object, wherever it is (msgspec skips the rest unparsed)."""
    try:
        return _SCHEMA.decode(data).schema
    except msgspec.ValidationError as exc:
        raise _refused(exc, None) from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise DecodeError(f"not valid JSON: {_why(exc)}") from None


def decode(data: bytes | bytearray | memoryview | str | None, model: type[T]) -> T:
    """Decode untrusted bytes into ``model``; DecodeError names what was wrong."""
    spec = _SPECS.get(model) or _spec(model)
    raw = _wire(data, spec.max_bytes)
    if not _is(raw, spec):
        schema = _schema(raw)
        if schema != spec.schema:
            raise DecodeError(f"wrong schema {schema!r}, expected {spec.schema!r}", schema=str(schema))
    return typing.cast(T, _typed(raw, spec))


def decode_any(data: bytes | None, allowed: tuple[type[Any], ...]) -> Any:
    """Decode into whichever of ``allowed`` models the ``schema`` field names."""
    raw = _wire(data, MAX_VALUE_BYTES)
    specs = [_spec(m) for m in allowed]
    for spec in specs:
        if _is(raw, spec):
            return _typed(raw, spec)
    schema = _schema(raw)
    for spec in specs:
        if spec.schema == schema:
            return _typed(raw, spec)
    names = ", ".join(spec.schema for spec in specs)
    raise DecodeError(f"schema {schema!r} not accepted here (expected one of: {names})", schema=str(schema))


def _typed(raw: bytes | bytearray, spec: _Spec) -> Any:
    try:
        return spec.decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise _refused(exc, spec.model) from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise DecodeError(f"not valid JSON: {_why(exc)}") from None


def from_dict(obj: dict[str, Any], model: type[T]) -> T:
    """A model from an already parsed object (state, nested records), checked like :func:`decode`."""
    schema = obj.get("schema")
    if schema != schema_of(model):
        raise DecodeError(f"wrong schema {schema!r}, expected {schema_of(model)!r}", schema=str(schema))
    try:
        return msgspec.convert(obj, model, strict=True)
    except msgspec.ValidationError as exc:
        raise _refused(exc, model) from None
    except RecursionError as exc:
        raise DecodeError(f"value nested too deeply: {_why(exc)}") from None


def _why(exc: BaseException) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


# msgspec's messages: "Expected `str`, got `int` - at `$.errors[0].attribute`",
# "Object missing required field `code` - at `$.errors[0]`", "Invalid enum value 'x' - at `$.mode`"
_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_EXPECTED = re.compile(r"^Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`")
_ENUM = re.compile(r"^Invalid enum value (?P<value>.+)$")
_WHAT = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true/false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


def _refused(exc: msgspec.ValidationError, model: type[Any] | None) -> DecodeError:
    """A DecodeError naming the field (``errors[0].attribute``) and why, in our words."""
    text = str(exc)
    at = _AT.search(text)
    path = at.group("path").lstrip(".") if at else ""
    msg = text[: at.start()] if at else text
    schema = getattr(model, "SCHEMA", None)
    if m := _MISSING.match(msg):
        where = f"{path}.{m.group('field')}" if path else m.group("field")
        return DecodeError(f"missing required field {where!r}", schema=schema)
    if m := _EXPECTED.match(msg):
        want = " or ".join(_WHAT.get(w.strip(), w.strip()) for w in m.group("want").split("|"))
        return DecodeError(f"{path or 'value'}: expected {want}, got {m.group('got')}", schema=schema)
    if m := _ENUM.match(msg):
        allowed = _enum_values(model, path)
        hint = f" is not one of {allowed}" if allowed else " is not an accepted value"
        return DecodeError(f"{path or 'value'}: {m.group('value')}{hint}", schema=schema)
    return DecodeError(f"{path or 'value'}: {msg}", schema=schema)


def _enum_values(model: type[Any] | None, path: str) -> str:
    """The accepted values of the enum at ``path`` (``a.b[0].c``) in ``model``, for the message."""
    tp: Any = model
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        tp = _unwrap(tp)
        if part.startswith("["):
            args = get_args(tp)
            tp = args[0] if args else Any
        elif dataclasses.is_dataclass(tp):
            tp = typing.get_type_hints(tp).get(part, Any)
        else:
            args = get_args(tp)
            tp = args[1] if len(args) == 2 else Any
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return ", ".join(str(m.value) for m in tp)
    return ""


def _unwrap(tp: Any) -> Any:
    """``X | None`` → ``X``."""
    if get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp
