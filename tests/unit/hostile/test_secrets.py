"""No secret in any output channel: planted secrets, every failure mode, every channel grepped.

Secrets planted (each contains ``PLANTED``): a Slack-style URL token (path and query) read
through ``url_env``, a webhook HMAC key through ``hmac_secret_env``, the SASL password and
the approval signing key. Failure modes: redirects (301/302/307/308), an error body that
echoes the request path and signature, a 500, a refused connection, a slow endpoint
(timeout), bad configuration around each secret. Channels: log lines (as rendered by the
project's logging setup), dead letters (serialised), metric exposition, exception texts,
``repr`` of the settings, and the CLI's stdout/stderr.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.cli import main
from cspm_stream.errors import ConfigError

from .leak_scenario import APPROVAL, SASL, TOKEN_PATH, echo, planted_env, redirect
from .standin import ThreadedServer

MARK = "PLANTED"
ROOT = Path(__file__).resolve().parents[3]


class Channels:
    """Everything the product said, as text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, *items: Any) -> None:
        for x in items:
            self.texts.append(x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x))

    def leaks(self) -> list[str]:
        return [t for t in self.texts if MARK.lower() in t.lower()]


@pytest.mark.parametrize("mode", ["redirect", "echo", "500", "slow", "refused"])
def test_sink_failures_leak_no_secret(mode: str) -> None:
    """In a fresh process with the project's logging: logs, dead letters, metrics, repr — no secret."""
    res = subprocess.run(
        [sys.executable, "-m", "tests.unit.hostile.leak_scenario", mode],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.count("DLQ:") == 1  # delivered nowhere: dead-lettered with a reason
    assert "alert sink failed" in res.stderr and "alert dead-lettered" in res.stderr  # the log channel is there
    assert "cspm_alerts_dead_lettered_total" in res.stdout
    out = Channels()
    out.add(res.stdout, res.stderr)
    assert out.leaks() == []


def test_configuration_errors_leak_no_secret(tmp_path: Path) -> None:
    out = Channels()
    cases: list[dict[str, Any]] = [
        {"environ": {"CSPM_KAFKA_SASL_PASSWD": SASL}},  # a mistyped secret variable
        {"environ": {"CSPM_REMEDIATION_APPROVAL_HMAC": APPROVAL}},
        {"data": {"kafka": {"sasl_password": SASL}}, "environ": {}},  # a secret in the file
        {"data": {"kafka": {"sasl_passwd": SASL}}, "environ": {}},  # ... under a mistyped key
        {"data": {"alerts": {"sinks": {"s": {"type": "slack", "url": "ftp://x" + TOKEN_PATH}}}}, "environ": {}},
        {"data": {"alerts": {"sinks": {"s": {"type": "slack", "url": ["https://h" + TOKEN_PATH]}}}}, "environ": {}},
        {"data": {"aws": {"endpoint_url": 5, "regions": "x" + MARK}}, "environ": {}},
        {"data": {"kafka": {"security_protocol": "SASL_SSL", "sasl_password_env": SASL}}, "environ": {}},
    ]
    for case in cases:
        with pytest.raises(ConfigError) as info:
            settings_mod.load(**case)
        out.add(str(info.value), repr(info.value.args), info.value.key)
    broken = tmp_path / "c.yaml"
    broken.write_text(f'kafka:\n  sasl_username: "u"\n  oops: "{SASL}\n')
    with pytest.raises(ConfigError) as info:
        settings_mod.load(broken, environ={})
    out.add(str(info.value))
    assert out.leaks() == []


def test_alerts_test_cli_leaks_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "alerts:\n  sinks:\n    hook: {type: webhook, url_env: HOOK_URL, hmac_secret_env: HOOK_KEY, timeout_s: 1}\n"
        "  routes: [{name: r, sink: hook}]\n"
    )
    codes = []
    for handler in (redirect, echo):
        with ThreadedServer(handler) as srv:
            for k, v in planted_env(srv.url).items():
                monkeypatch.setenv(k, v)
            codes.append(main(["-c", str(cfg), "alerts", "test", "--sink", "hook", "--attempts", "2"]))
    monkeypatch.delenv("HOOK_KEY")
    codes.append(main(["-c", str(cfg), "alerts", "test", "--sink", "hook"]))
    captured = capsys.readouterr()
    assert codes == [3, 3, 2]
    assert "redirects are never followed" in captured.err and "HTTP 400" in captured.err
    out = Channels()
    out.add(captured.out, captured.err)
    assert out.leaks() == []
