"""What an ECS environment value looks like, without keeping it: secret shapes, near misses, hostile input."""

from __future__ import annotations

import pytest

from cspm_stream.collect.services.ecs import value_kind


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("AKIAIOSFODNN7EXAMPLE", "aws-access-key-id"),
        ("prefix ASIAY34FZKBOKMUTVV7A suffix", "aws-access-key-id"),
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws-secret-key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn...", "private-key"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX3Zh", "jwt"),
        ("postgres://app:hunter2@db.internal:5432/orders", "url-with-password"),
        ("Server=db;Database=app;User Id=sa;Password=Pa55w0rd;", "connection-string"),
        # near misses
        ("3f786850e387550fdab836ed7e6dc881de23001b", None),  # a git SHA-1: no upper case
        ("https://api.example.com/v1?x=1", None),
        ("postgres://db.internal:5432/orders", None),
        ("AKIA-not-a-key", None),
        ("production", None),
        ("", None),
        (None, None),
        (12345, None),
    ],
)
def test_value_kinds(value: object, kind: str | None) -> None:
    assert value_kind(value) == kind


def test_hostile_values_are_answered() -> None:
    # backtracking-bait shapes and huge values: only the first 4 KiB is read, with RE2 (linear time)
    hostile = [("x://" + "y" * 250 + ":" + "z" * 250) * 40, "a" * 1_000_000, "=" * 100_000 + "@"]
    assert [value_kind(v) for v in hostile] == [None, None, None]
