"""Validation of settings by pydantic, with a schema derived from the settings dataclasses.

The dataclasses in :mod:`cspm_stream.settings.sections` stay the one declaration
(type + ``setting(doc=..., min=..., max=..., choices=...)``); :func:`model_for`
turns each into a pydantic model once per class — ``extra="forbid"`` (unknown keys
fail), ``allow_inf_nan=False`` (NaN and infinities fail), ``min``/``max`` as
``ge``/``le`` (a number without a declared ``max`` is bounded by :data:`DEFAULT_MAX`),
``choices`` as a ``Literal``, a boolean never accepted as a number — and :func:`validate`
turns pydantic's first error into one :class:`~cspm_stream.errors.ConfigError` naming the
source, the dotted key and why.

pydantic is imported, and the models built, only when there are values to check: with
neither a config file nor a ``CSPM_*`` variable the result is the defaults, so a one-shot
command (``cspm-stream detect``) does not pay for them at start.

Why pydantic (over msgspec; ``python -m bench.settings_load`` measures both on this
schema): both validate the real config in well under a millisecond, a cost paid once
per start; pydantic reports errors as structured locations and types (msgspec as a
sentence to parse), forbids unknown keys on any class and refuses non-finite floats by
configuration, and is already installed with the test stack.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from cspm_stream.errors import ConfigError
from cspm_stream.settings.loader import Secret, closest_hint, hints, kind_of

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

T = TypeVar("T")

#: ceiling of every numeric setting that declares no ``max`` of its own: far above any sensible
#: duration, count or size, and far below what breaks the libraries the values reach (a timeout
#: above ~9.2e9 s overflows a thread or socket wait, a window above ~2.5e11 s a datetime)
DEFAULT_MAX = 10**9


def _not_bool(what: str) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError(f"expected {what}, not true/false")
        return v

    return check


def _enum(tp: type[enum.Enum]) -> Callable[[Any], Any]:
    parse = getattr(tp, "parse", None)  # e.g. Severity accepts "high" as well as 4
    allowed = ", ".join(str(m.value) for m in tp)

    def check(v: Any) -> Any:
        if isinstance(v, tp):
            return v
        if isinstance(v, str | int) and not isinstance(v, bool):
            try:
                return parse(v) if callable(parse) else tp(v)
            except (ValueError, KeyError, TypeError):
                pass
        raise ValueError(f"must be one of: {allowed}")

    return check


def _annotation(tp: Any, meta: Mapping[str, Any]) -> Any:
    from pydantic import BeforeValidator, Field, PlainValidator

    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _annotation(inner, meta) | None
    if origin is list:
        (item,) = typing.get_args(tp)
        return list[_annotation(item, meta)]  # type: ignore[misc]
    if origin is dict:
        _, value = typing.get_args(tp)
        return dict[str, _annotation(value, meta)]  # type: ignore[misc]
    if tp is Secret:
        return str
    if dataclasses.is_dataclass(tp):
        return model_for(tp)  # type: ignore[arg-type]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return Annotated[tp, PlainValidator(_enum(tp))]
    if tp is int or tp is float:
        what = "an integer" if tp is int else "a number"
        ceiling = meta.get("max", DEFAULT_MAX)
        return Annotated[tp, BeforeValidator(_not_bool(what)), Field(ge=meta.get("min"), le=ceiling)]
    if tp is str and meta.get("choices"):
        return Literal[tuple(meta["choices"])]
    return tp


_MODELS: dict[type[Any], type[BaseModel]] = {}


def model_for(cls: type[Any]) -> type[BaseModel]:
    """The pydantic model validating the settings dataclass ``cls`` (built once per class)."""
    if cls in _MODELS:
        return _MODELS[cls]
    from pydantic import ConfigDict, create_model

    config = ConfigDict(extra="forbid", allow_inf_nan=False, hide_input_in_errors=True, arbitrary_types_allowed=True)
    types_ = hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        # an omitted key keeps the dataclass default: only keys present are passed on (model_fields_set)
        fields[f.name] = (_annotation(types_[f.name], f.metadata), ... if required else None)
    model: type[BaseModel] = create_model(f"{cls.__name__}Schema", __config__=config, **fields)
    _MODELS[cls] = model
    return model


def validate(cls: type[T], data: Mapping[str, Any], *, source: str, env: Mapping[str, str]) -> T:
    """``data`` (YAML + environment overlay) as a validated ``cls``; ``env`` maps dotted keys to the
    variables that set them, so an error names the variable instead of the file."""
    if not data and all(_has_default(f) for f in dataclasses.fields(cls)):  # type: ignore[arg-type]
        try:  # nothing given: the defaults, as pydantic would pass them (no key set), without building it
            return _instance(cls, {}, "")
        except ConfigError as exc:
            raise exc.with_source(_source_of(exc.key, source, env)) from None
    from pydantic import ValidationError

    try:
        model = model_for(cls).model_validate(data)
        return _to_dataclass(cls, model, "")
    except ValidationError as exc:
        raise _translate(cls, exc, source, env) from None
    except ConfigError as exc:  # a dataclass validate() hook
        raise exc.with_source(_source_of(exc.key, source, env)) from None


def _has_default(f: dataclasses.Field[Any]) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def _to_dataclass(cls: type[T], model: BaseModel, prefix: str) -> T:
    types_ = hints(cls)
    kwargs = {
        name: _convert(types_[name], getattr(model, name), _join(prefix, name)) for name in model.model_fields_set
    }
    return _instance(cls, kwargs, prefix)


def _instance(cls: type[T], kwargs: dict[str, Any], prefix: str) -> T:
    """``cls(**kwargs)`` checked by its own ``validate(prefix)`` hook, if it has one."""
    obj = cls(**kwargs)
    hook = getattr(obj, "validate", None)
    if callable(hook):
        hook(prefix)
    return obj


def _convert(tp: Any, v: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if v is None:
        return None
    if origin is typing.Union or origin is types.UnionType:
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(inner, v, key)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_convert(item, x, f"{key}[{i}]") for i, x in enumerate(v)]
    if origin is dict:
        _, value = typing.get_args(tp)
        return {k: _convert(value, x, f"{key}.{k}") for k, x in v.items()}
    if tp is Secret:
        return Secret(v)
    if dataclasses.is_dataclass(tp):
        return _to_dataclass(tp, v, key)  # type: ignore[arg-type]
    return v


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _loc_key(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _field_at(cls: type[Any], loc: tuple[int | str, ...]) -> tuple[dataclasses.Field[Any] | None, Any, type[Any]]:
    """The settings field a location ends in (None past an unknown key), its type, and its dataclass."""
    owner: type[Any] = cls
    field: dataclasses.Field[Any] | None = None
    tp: Any = cls
    for part in loc:
        if part == "[key]":
            continue
        origin = typing.get_origin(tp)
        if origin is typing.Union or origin is types.UnionType:
            (tp,) = [a for a in typing.get_args(tp) if a is not type(None)]
            origin = typing.get_origin(tp)
        if dataclasses.is_dataclass(tp) and isinstance(part, str):
            fields = {f.name: f for f in dataclasses.fields(tp)}
            if part not in fields:
                return None, None, tp  # type: ignore[return-value]
            owner, field, tp = tp, fields[part], hints(tp)[part]  # type: ignore[arg-type,assignment]
        elif origin is list or origin is dict:
            tp = typing.get_args(tp)[-1]
    return field, tp, owner


def _sensitive(field: dataclasses.Field[Any] | None, tp: Any) -> bool:
    if field is None:
        return True  # an unknown key: its value may be a secret under a mistyped name
    md = field.metadata
    return bool(tp is Secret or md.get("env_only") or md.get("secret") or md.get("sensitive"))


def _source_of(key: str, source: str, env: Mapping[str, str]) -> str:
    for dotted, var in env.items():
        if key == dotted or key.startswith((dotted + ".", dotted + "[")):
            return f"environment variable {var}"
    return source


_REASONS = {
    "missing": "required key missing",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "must be a finite number (not NaN or infinity)",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
}


def _translate(cls: type[Any], exc: ValidationError, source: str, env: Mapping[str, str]) -> ConfigError:
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc: tuple[int | str, ...] = tuple(err["loc"])
    kind: str = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    field, tp, owner = _field_at(cls, loc)
    key = _loc_key(loc)
    if kind == "extra_forbidden":
        known = sorted(f.name for f in dataclasses.fields(owner))
        reason = f"unknown key (known: {', '.join(known)})" + closest_hint(str(loc[-1]), known)
    elif kind in _REASONS:
        reason = _REASONS[kind]
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        reason = f"expected a mapping, not {kind_of(value)}"
    elif kind == "list_type":
        reason = f"expected a list, not {kind_of(value)}"
    elif kind == "string_type" and loc and loc[-1] == "[key]":
        key = _loc_key(loc[:-2])
        reason = f"keys must be strings, not {kind_of(value)} (write the key in quotes)"
    elif kind == "string_type":
        reason = f"expected a string, not {kind_of(value)}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            reason += " (write it in quotes: YAML reads 123456789012 as a number)"
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        op = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">", "less_than": "<"}[kind]
        bound = ctx.get({">=": "ge", "<=": "le", ">": "gt", "<": "lt"}[op])
        reason = f"must be {op} {bound}"
    elif kind == "literal_error":
        choices = field.metadata.get("choices") if field is not None else None
        reason = (
            f"must be one of: {', '.join(choices)}"
            if choices
            else f"must be {ctx.get('expected', 'one of the choices')}"
        )
    elif kind == "value_error":
        reason = str(ctx.get("error", err["msg"]))
    else:
        reason = str(err["msg"])
    if len(errors) > 1:
        reason += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    show = not _sensitive(field, tp) and kind != "extra_forbidden"
    return ConfigError(key, value, reason, source=_source_of(key, source, env), show_value=show)
