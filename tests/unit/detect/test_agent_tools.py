"""cspm.tools: security tools named in the user agent (whole words where short), any type, bounded memo."""

from __future__ import annotations

from typing import Any

import pytest

from cspm_stream.detect import agent_tools
from cspm_stream.detect.derived import Deriver
from cspm_stream.detect.fields import Vocabulary
from tests.unit.detect.helpers import ev, matches, rule


def tools(agent: Any) -> list[str] | None:
    rec = ev("GetCallerIdentity", "sts.amazonaws.com")
    rec["userAgent"] = agent
    return Deriver().value(rec, "tools")


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("aws-cli/2.13.25 Python/3.11.5 Linux/6.5.0-kali3-amd64 exe/x86_64.kali.2023 prompt/off", ["kali"]),
        ("Boto3/1.28.64 ua/2.0 os/linux#6.5.0-13parrot1-amd64 Botocore/1.31.64", ["parrot"]),
        ("aws-cli/1.29.4 Python/3.11.6 Linux/6.6.13-pentoo botocore/1.31.4", ["pentoo"]),
        ("stratus-red-team_527a0ec4-4ea6-42df-b410-e840b8dbb6c9", ["stratus-red-team"]),
        ("Boto3/1.26.0 Python/3.10.12 Linux/5.15.0 Botocore/1.29.0 Pacu/1.5.2", ["pacu"]),
        ("aws-sdk-go-v2/1.24.0 os/linux api/lambda#1.49.0 cloudfox", ["cloudfox"]),
        ("TruffleHog", ["trufflehog"]),
        ("Botocore/1.34.0 Scout Suite/5.14.0 (https://github.com/nccgroup/ScoutSuite)", ["scoutsuite"]),
        ("Boto3/1.35.0 Botocore/1.35.0 APN_1826889", ["prowler"]),
        ("aws-cli/2.15.0 on kali with pacu", ["kali", "pacu"]),
    ],
)
def test_tools_are_recognised(agent: str, expected: list[str]) -> None:
    assert tools(agent) == expected


@pytest.mark.parametrize(
    "agent",
    [
        "kalimantan-sync/2.1 aws-sdk-go-v2/1.30.3",
        "pacuaviation-sync/1.0 Boto3/1.34.0",
        "parrots-app/1.0",
        "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.79 md/arch#x86_64",
        "",
    ],
)
def test_ordinary_agents_and_lookalike_words_name_no_tool(agent: str) -> None:
    assert tools(agent) is None


@pytest.mark.parametrize("agent", [None, 42, ["kali"], {"ua": "kali"}, True])
def test_non_string_agent_is_absent(agent: Any) -> None:
    assert tools(agent) is None


def test_memo_is_bounded_and_only_the_head_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agent_tools, "_memo", {})
    for i in range(agent_tools.MEMO_ENTRIES * 2 + 5):
        tools(f"app/{i}")
    assert len(agent_tools._memo) <= agent_tools.MEMO_ENTRIES
    assert tools("x" * agent_tools.SCAN_CHARS + " kali") is None


def test_tools_from_sigma() -> None:
    rs = rule(
        """
        selection:
          cspm.tools:
          - kali
          - pacu
        condition: selection
        """,
        vocab=Vocabulary(),
    )
    rec = ev("ListUsers")
    rec["userAgent"] = "aws-cli/2.13.25 Linux/6.5.0-kali3-amd64"
    assert matches(rs, rec)
    other = ev("ListUsers")  # a new record: derived values are computed once per record
    other["userAgent"] = "Boto3/1.34.0 Scout Suite/5.14.0"
    assert not matches(rs, other)
