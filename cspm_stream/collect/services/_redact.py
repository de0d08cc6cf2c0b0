"""What a snapshot keeps of values that may be secrets: environment variables and URLs with credentials.

A snapshot never carries a secret value (inventory and findings topics are read widely). Environment
variables become ``{name, type, valueLength, valueKind, holdsSecret}``:

* ``valueKind`` names what the value looks like (``aws-access-key-id``, ``aws-secret-key``,
  ``private-key``, ``jwt``, ``url-with-password``, ``connection-string``) or is null — the ECS
  classifier (:func:`cspm_stream.collect.services.ecs.value_kind`);
* ``holdsSecret`` is true when the variable holds a credential by value shape or by a secret-looking
  name with a non-empty value that is not a reference (an ARN, ``{{resolve:...}}``) — the logic of the
  detection side's ``cspm.plaintext_secrets`` (:mod:`cspm_stream.detect.secret_shapes`), so posture and
  detection agree on what a plaintext secret is. Variables whose ``type`` is not ``PLAINTEXT``
  (``PARAMETER_STORE``, ``SECRETS_MANAGER``) are references: never secrets.

URLs keep their shape with the user-information replaced: ``https://REDACTED:REDACTED@host/...`` (or
``https://REDACTED@host/...`` for a token given as user name). Every part that a policy matches on
(scheme, presence of a user and of a password, host, path) survives.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.services.ecs import value_kind

MAX_VARIABLES = 256
REDACTED = "REDACTED"


def variable(name: Any, value: Any, kind: Any = None) -> dict[str, Any]:
    """One environment variable without its value."""
    # imported on first use: the detection package is not loaded by collectors that never see a variable
    from cspm_stream.detect.secret_shapes import holds_secret

    text = value if isinstance(value, str) else ""
    return {
        "name": name if isinstance(name, str) else str(name),
        "type": kind,
        "valueLength": len(text),
        "valueKind": value_kind(text) if kind in (None, "PLAINTEXT") else None,
        "holdsSecret": holds_secret(name, text, kind),
    }


def env_map(variables: Any) -> list[dict[str, Any]]:
    """``{"NAME": "value"}`` (Lambda, SageMaker) → variables without values."""
    if not isinstance(variables, dict):
        return []
    return [variable(k, v) for k, v in list(variables.items())[:MAX_VARIABLES]]


def env_list(variables: Any, name: str = "name", value: str = "value", kind: str = "type") -> list[dict[str, Any]]:
    """``[{"name": .., "value": .., "type": ..}]`` (CodeBuild) → variables without values."""
    if not isinstance(variables, list):
        return []
    return [
        variable(v.get(name), v.get(value), v.get(kind))
        for v in variables[:MAX_VARIABLES]
        if isinstance(v, dict) and v.get(name) is not None
    ]


def url(text: Any) -> Any:
    """``text`` with the user-information of a ``scheme://user:password@host`` URL replaced."""
    if not isinstance(text, str):
        return text
    head, sep, rest = text.partition("://")
    if not sep or "@" not in rest:
        return text
    # RFC 3986: the user-information ends at the last "@" of the authority (which ends at the first "/");
    # a malformed URL whose password holds a "/" (``user:pa/ss@host``) ends it at the first "@"
    authority = rest.split("/", 1)[0]
    if "@" in authority:
        at = authority.rfind("@")
    elif ":" in authority:
        at = rest.find("@")
    else:
        return text
    user_info, host_part = rest[:at], rest[at + 1 :]
    if ":" in user_info:
        user, _, password = user_info.partition(":")
        masked = f"{REDACTED if user else ''}:{REDACTED if password else ''}"
    else:
        masked = REDACTED if user_info else ""
    return f"{head}://{masked}@{host_part}"
