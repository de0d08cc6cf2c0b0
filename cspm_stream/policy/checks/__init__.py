"""Named Python checks: what condition data cannot express.

A check is registered under the exact name policies use in
``{check: <name>, args: {...}}``. It declares its arguments (type, default,
doc) — the policy schema is generated from these declarations — and compiles
them once into a predicate ``(doc, ctx) -> bool`` plus the paths it reads
(so the engine knows which snapshot attributes an ERROR depends on).

Inside an ``any-of``/``all-of``/``none-of`` ``where`` clause ``doc`` is the list
item, so a check's paths are relative to it.
"""

from __future__ import annotations

from cspm_stream.policy.checks.base import ARG_SCHEMAS, CHECKS, Arg, Check, CheckArgError, Compiled, Predicate, register

__all__ = ["ARG_SCHEMAS", "CHECKS", "Arg", "Check", "CheckArgError", "Compiled", "Predicate", "register", "registry"]


def registry() -> dict[str, Check]:
    """Every named check, loading the built-in check modules once."""
    _load_builtins()
    return CHECKS


_LOADED = False


def _load_builtins() -> None:
    global _LOADED
    if _LOADED:
        return
    from cspm_stream.policy.checks import iam, monitoring, network, resource_policy  # noqa: F401

    _LOADED = True
