"""``aws.endpoint_url`` is a sensitive setting: checked at start, never quoted whole.

botocore quotes the endpoint URL in its errors ('Could not connect to the endpoint URL: "…"'),
and that text reached the CLI's stderr, logs and ERROR findings with the URL's path and query.
A URL that is not http(s) with a host ('ftp://x', 'not a url', user info) failed only once the
scan had started, as an unreachable dependency (exit 3).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError

from cspm_stream.cli import main
from cspm_stream.collect.faults import classify, scrub_urls


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("url", ["ftp://x", "not a url", "http://admin:PLANTED@127.0.0.1:1/", "http:///path"])
def test_a_bad_endpoint_is_a_config_error_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("CSPM_AWS_ENDPOINT_URL", url)
    code = main(["scan", "-o", str(tmp_path / "o")])
    line = _one_line(capsys.readouterr().err)
    assert code == 2 and "aws.endpoint_url: must be an http:// or https:// URL with a host" in line
    assert "PLANTED" not in line


def test_botocore_errors_name_only_the_origin() -> None:
    exc = EndpointConnectionError(endpoint_url="http://127.0.0.1:1/PLANTED-token?sig=PLANTED-sig")
    fault = classify(exc)
    assert "http://127.0.0.1:1" in fault.message and "PLANTED" not in fault.message
    assert scrub_urls('see "https://u:PLANTED@h.example:8443/a?b=PLANTED" now') == 'see "https://h.example:8443" now'


@pytest.mark.parametrize("value", ["admin:PLANTED@127.0.0.1:9092", "SASL_SSL://admin:PLANTED@broker:9093"])
def test_credentials_in_the_bootstrap_are_never_echoed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """'user:password@host:port' in kafka.bootstrap was quoted twice in the config error."""
    monkeypatch.setenv("CSPM_KAFKA_BOOTSTRAP", value)
    code = main(["topics", "verify"])
    line = _one_line(capsys.readouterr().err)
    assert code == 2 and "CSPM_KAFKA_BOOTSTRAP" in line and "kafka.bootstrap" in line and "PLANTED" not in line
