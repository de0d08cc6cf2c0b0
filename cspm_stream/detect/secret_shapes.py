"""Plaintext credentials in a request's environment variables: the logic behind ``cspm.plaintext_secrets``.

Build projects, task and job definitions and functions take environment variables in
two shapes, both recognised anywhere in ``requestParameters``:

- a list of ``{"name": ..., "value": ..., "type": ...}`` entries (CodeBuild
  ``environmentVariables`` and ``environmentVariablesOverride``, ECS and Batch
  ``environment``); ``type`` absent means plaintext (CodeBuild's default), any other type
  than ``PLAINTEXT`` (``PARAMETER_STORE``, ``SECRETS_MANAGER``) is a reference, not a secret;
- a map of name to value under ``variables``, ``environmentVariables`` or
  ``runtimeEnvironmentVariables`` (Lambda, Amplify, App Runner).

A variable holds a credential when its *value* has the shape of a well-known credential
(AWS access key id, GitHub/GitLab/Slack/Stripe/npm/Google tokens, a PEM private key), or
when its *name* says secret (``PASSWORD``, ``SECRET``, ``TOKEN``, ``API_KEY``,
``PRIVATE_KEY``, ``CREDENTIAL``...; not a pointer such as ``*_ARN``, ``*_NAME``, ``*_PATH``,
``*_URL``, ``*_ID``) and its value is not empty and not itself a reference (an ARN,
``{{resolve:...}}``, ``${...}``). A value CloudTrail hides still counts by name.

Pure and bounded: at most :data:`request_shapes.WALK_NODES` nodes are looked at and at most
:data:`MAX_NAMES` names returned; patterns run on RE2.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cspm_stream import safe_regex
from cspm_stream.detect.request_shapes import walk_request

Record = dict[str, Any]

#: at most this many names are reported
MAX_NAMES = 32
#: values longer than this are only judged by name
VALUE_MAX = 8192

_MAP_KEYS = ("variables", "environmentVariables", "runtimeEnvironmentVariables")


@cache
def _patterns() -> tuple[safe_regex.LinearRegex, safe_regex.LinearRegex, safe_regex.LinearRegex]:
    """(secret name, pointer name, credential value), compiled on first use."""
    secret_name = safe_regex.compile(
        r"(?i)(pass(word|wd|phrase)?|secret|token|api_?key|apikey|access_?key|private_?key|credential|client_?secret|"
        r"signing_?key|auth_?key|conn(ection)?_?str(ing)?|dsn)"
    )
    pointer_name = safe_regex.compile(
        r"(?i)(_|^)(arn|name|path|url|uri|endpoint|file|param(eter)?|ref|id|region|type|enabled|length|ttl|expiry|header|"
        r"version|host|port|user(name)?)$"
    )
    credential_value = safe_regex.compile(
        r"((AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20}|"
        r"xox[abprs]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{16,}|npm_[A-Za-z0-9]{36}|AIza[0-9A-Za-z_-]{35}|"
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----)"
    )
    return secret_name, pointer_name, credential_value


_REFERENCE_PREFIXES = ("arn:", "{{resolve:", "${", "$(", "{{ssm")


def holds_secret(name: Any, value: Any, kind: Any) -> bool:
    """Whether one environment variable (``kind`` None or ``PLAINTEXT``) holds a credential, by its value's
    shape or its name (see the module docstring)."""
    if not isinstance(name, str) or not name:
        return False
    if kind is not None and (not isinstance(kind, str) or kind.upper() != "PLAINTEXT"):
        return False
    secret_name, pointer_name, credential_value = _patterns()
    text = value if isinstance(value, str) else ""
    if text and len(text) <= VALUE_MAX and credential_value.search(text):
        return True
    if not secret_name.search(name) or pointer_name.search(name):
        return False
    if text == "HIDDEN_DUE_TO_SECURITY_REASONS":
        return True  # CloudTrail hid the value: the name is all we have
    return bool(text.strip()) and not text.startswith(_REFERENCE_PREFIXES)


def plaintext_secrets(rec: Record) -> list[str] | None:
    """Names of plaintext environment variables in the request that hold a credential (sorted), or None."""
    found: set[str] = set()
    for node in walk_request(rec):
        if len(found) >= MAX_NAMES:
            break
        if not isinstance(node, dict):
            continue
        if "name" in node and "value" in node and holds_secret(node.get("name"), node.get("value"), node.get("type")):
            found.add(node["name"])
        for key in _MAP_KEYS:
            env = node.get(key)
            if isinstance(env, dict):
                for k, v in list(env.items())[:MAX_NAMES]:
                    if holds_secret(k, v, None):
                        found.add(k)
    return sorted(found)[:MAX_NAMES] or None
