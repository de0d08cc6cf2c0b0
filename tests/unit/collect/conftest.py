"""Fixtures for collector tests: settings against the session moto server, fault-injecting hooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cspm_stream import settings as settings_mod
from cspm_stream.settings import Settings
from cspm_stream.testing.moto import MotoServer


def moto_settings(moto: MotoServer, **aws: Any) -> Settings:
    data = {
        "endpoint_url": moto.endpoint_url,
        "regions": ["us-east-1"],
        "rate_per_second": 1000.0,
        "max_concurrency_per_service": 16,
        "max_concurrency_per_region": 32,
        "max_concurrency_per_account": 64,
        "max_attempts": 2,
    }
    data.update(aws)
    return settings_mod.load(data={"aws": data}, environ={})


@pytest.fixture
def settings_for(moto_server: MotoServer) -> Callable[..., Settings]:
    return lambda **aws: moto_settings(moto_server, **aws)


def failing(code: str, *, times: int | None = None, status: int = 400) -> Callable[..., None]:
    """A ``before-call`` hook raising ``ClientError(code)`` (``times`` first calls, or always)."""
    state = {"n": 0}

    def hook(**_: Any) -> None:
        state["n"] += 1
        if times is None or state["n"] <= times:
            raise ClientError(
                {
                    "Error": {"Code": code, "Message": f"injected {code}"},
                    "ResponseMetadata": {"HTTPStatusCode": status},
                },
                "Injected",
            )

    hook.calls = state  # type: ignore[attr-defined]
    return hook


def counter() -> Callable[..., None]:
    state = {"n": 0}

    def hook(**_: Any) -> None:
        state["n"] += 1

    hook.calls = state  # type: ignore[attr-defined]
    return hook


def reset(moto: MotoServer, timeout: float = 120) -> None:
    """moto's reset with a generous timeout (it reloads IAM's managed policies; slow on a busy machine)."""
    import urllib.request

    req = urllib.request.Request(moto.endpoint_url + "/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        resp.read()
