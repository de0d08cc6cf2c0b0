"""What a named check is: its declared arguments, the compiled predicate, and the registry.

The check modules (``iam``, ``monitoring``, ``network``, ``resource_policy``) register
their checks here; :func:`cspm_stream.policy.checks.registry` loads them and returns
:data:`CHECKS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cspm_stream.policy.paths import CompiledPath, PathSyntaxError, compile_path

Predicate = Callable[[Any, Any], bool]

#: argument kinds and their JSON schema
ARG_SCHEMAS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "path": {"type": "string", "minLength": 1},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "strings": {"type": "array", "items": {"type": "string"}},
    "mapping": {"type": "object"},
    "ports": {
        "anyOf": [
            {"type": "integer", "minimum": 0, "maximum": 65535},
            {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 65535}},
        ]
    },
}


class CheckArgError(ValueError):
    """An argument of a named check is invalid; ``arg`` names it."""

    def __init__(self, arg: str, reason: str) -> None:
        self.arg = arg
        self.reason = reason
        super().__init__(f"{arg}: {reason}")


@dataclass(frozen=True, slots=True)
class Arg:
    kind: str
    default: Any = None
    required: bool = False
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Compiled:
    predicate: Predicate
    paths: tuple[CompiledPath, ...]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    doc: str
    args: Mapping[str, Arg]
    build: Callable[[dict[str, Any]], Compiled]
    examples: tuple[dict[str, Any], ...] = field(default=())

    def args_schema(self) -> dict[str, Any]:
        props = {k: {**ARG_SCHEMAS[a.kind], "description": a.doc} for k, a in self.args.items()}
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": props,
            "required": [k for k, a in self.args.items() if a.required],
        }

    def compile(self, raw: Any) -> Compiled:
        """Validate ``args`` against the declaration, fill defaults and build."""
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise CheckArgError("args", "must be a mapping")
        unknown = sorted(set(raw) - set(self.args))
        if unknown:
            raise CheckArgError(unknown[0], f"unknown argument (allowed: {', '.join(sorted(self.args)) or 'none'})")
        full: dict[str, Any] = {}
        for name, spec in self.args.items():
            if name not in raw:
                if spec.required:
                    raise CheckArgError(name, "required argument missing")
                full[name] = spec.default
                continue
            full[name] = _coerce(name, spec, raw[name])
        return self.build(full)


def _coerce(name: str, spec: Arg, v: Any) -> Any:
    k = spec.kind
    if k in ("string", "path"):
        if not isinstance(v, str) or (k == "path" and not v):
            raise CheckArgError(name, f"must be a {'non-empty ' if k == 'path' else ''}string")
        if k == "path":
            try:
                compile_path(v)
            except PathSyntaxError as exc:
                raise CheckArgError(name, str(exc)) from None
        return v
    if k == "integer":
        if type(v) is not int:
            raise CheckArgError(name, "must be an integer")
        return v
    if k == "boolean":
        if type(v) is not bool:
            raise CheckArgError(name, "must be true or false")
        return v
    if k == "strings":
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise CheckArgError(name, "must be a list of strings")
        return list(v)
    if k == "ports":
        items = [v] if type(v) is int else v
        if not isinstance(items, list) or not all(type(x) is int and 0 <= x <= 65535 for x in items):
            raise CheckArgError(name, "must be a port (0-65535) or a list of ports")
        return list(items)
    if k == "mapping":
        if not isinstance(v, dict) or not all(isinstance(x, str) for x in v):
            raise CheckArgError(name, "must be a mapping with string keys")
        return dict(v)
    raise CheckArgError(name, f"unknown argument kind {k}")  # pragma: no cover - registry bug


CHECKS: dict[str, Check] = {}


def register(check: Check) -> Check:
    if check.name in CHECKS:
        raise RuntimeError(f"check {check.name} registered twice")
    CHECKS[check.name] = check
    return check
