"""A careless or hostile operator at the command line: one line, a documented exit code, no traceback.

Through ``main()`` (and, for the exit-code contract as a shell sees it, a subprocess):
broken configuration files of every kind, undecodable rule/policy/mutelist files, bad
arguments, and the exit-code table itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cspm_stream.cli import EXIT_CODES, build_parser, main

ROOT = Path(__file__).resolve().parents[3]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    return code, err


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (b"app:\n  shutdown_timeout_s: .nan\n", "app.shutdown_timeout_s=nan: must be a finite number"),
        (b"kafka:\n  - bootstrap\n", "kafka: expected a mapping, not a list"),
        (b"kafka:\n  topic_prefix: '\xff\xfe'\n", "not UTF-8 text"),
        (b"kafka: [unclosed\n", "invalid YAML: line 2"),
        (b"remediation:\n  actions:\n    s3_blok_public_access: auto\n", "did you mean s3_block_public_access?"),
        (b"remediation:\n  accounts:\n    '1234': auto\n", "remediation.accounts.1234='1234': must be a 12-digit"),
        (b"web:\n  port: 1e9\n", "web.port"),
        (b"\x00\x01\x02", "config error"),
        # out of range without a declared max: the shutdown watchdog's timer overflowed (a traceback at stop)
        (b"app:\n  shutdown_timeout_s: 1e35\n", "app.shutdown_timeout_s='1e35': must be <= 1000000000"),
        (b"app:\n  batch_max: 99999999999999999999999999\n", "app.batch_max"),
        # a route class that no finding has: the route would match nothing, silently
        (
            b"alerts:\n  routes: [{name: r, sink: siem, classes: [203]}]\n",
            "alerts.routes[0].classes[0]=203: not an OCSF class (2003, 2004)",
        ),
    ],
)
def test_bad_config_files_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expect: str
) -> None:
    cfg = tmp_path / "cspm.yaml"
    cfg.write_bytes(content)
    code, err = _run(capsys, "-c", str(cfg), "topics", "list")
    line = _one_line(err)
    assert code == 2 and expect in line and str(cfg) in line, line


def test_every_number_has_a_ceiling() -> None:
    """No numeric setting takes any size: an unbounded timeout reached a thread/socket wait and overflowed."""
    from cspm_stream.errors import ConfigError
    from cspm_stream.settings import Settings, load
    from cspm_stream.settings.loader import flat_keys, hints

    numeric = [key for key, f in flat_keys(Settings).items() if hints(_owner(key))[f.name] in (int, float)]
    assert len(numeric) > 30
    for key in numeric:
        section, name = key.split(".")
        with pytest.raises(ConfigError, match=f"{key}=.*must be <= "):
            load(data={section: {name: 10**13}}, environ={})


def _owner(key: str) -> type:
    from cspm_stream.settings import Settings
    from cspm_stream.settings.loader import hints

    owner: type = Settings
    for part in key.split(".")[:-1]:
        owner = hints(owner)[part]
    return owner


def test_unknown_variable_is_refused_by_name_never_value(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSPM_KAFKA_SASL_PASSWD", "hunter2-never-shown")
    code, err = _run(capsys, "topics", "list")
    line = _one_line(err)
    assert code == 2 and "CSPM_KAFKA_SASL_PASSWD" in line and "hunter2" not in line


def test_script_variables_do_not_stop_a_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "CSPM_KAFKA_DIR": "/tmp/k",
        "CSPM_KAFKA_HEAP": "-Xmx1g",
        "CSPM_KAFKA_STOP_TIMEOUT": "5",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["topics", "list"]) == 0


def test_non_utf8_policy_and_mutelist_files_name_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pol = tmp_path / "pol"
    pol.mkdir()
    (pol / "bad.yaml").write_bytes(b"id: bad\ntitle: \xff\xfe\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"policy:\n  policy_dirs: [{pol}]\n")
    code = main(["-c", str(cfg), "policies", "validate"])
    out = capsys.readouterr()
    assert code != 70 and "Traceback" not in out.err
    assert f"{pol / 'bad.yaml'}: not UTF-8 text" in out.out + out.err
    mute = tmp_path / "mute.yaml"
    mute.write_bytes(b"Mutelist:\n  \xff\n")
    cfg.write_text(f"policy:\n  mutelist_file: {mute}\n")
    code, err = _run(capsys, "-c", str(cfg), "scan", "--endpoint-url", "http://127.0.0.1:1", "-o", str(tmp_path / "o"))
    assert code == 2 and f"{mute}: not UTF-8 text" in _one_line(err)


def test_non_utf8_rule_file_is_a_load_error_not_a_stop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yml").write_bytes(b"title: x\n\xff\xfe: y\n")
    code = main(["rules", "validate", str(rules)])
    out = capsys.readouterr()
    assert code != 70 and "Traceback" not in out.err
    assert "bad.yml" in out.out + out.err and "UTF-8" in out.out + out.err


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--now", "yesterday"],
        ["report", "--now", "9999-99-99T00:00:00Z"],
        ["report", "--timeout", "nan"],
        ["report", "--top", "0"],
        ["scan", "--max-duration", "-1"],
        ["scan", "--allow-errors"],
        ["topics", "list", "--repair"],
        ["alerts", "test", "--sink", "no-such-sink"],
        ["alerts", "test", "--sink", "siem", "--attempts", "0"],
    ],
)
def test_bad_arguments_are_one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, err = _run(capsys, *argv)
    _one_line(err)
    assert code == 2


def test_unwritable_report_output_is_refused_before_reading_kafka(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSPM_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # would be exit 3 if it were tried first
    code, err = _run(capsys, "report", "-o", str(tmp_path / "missing" / "r.html"))
    assert code == 2 and "cannot write --output" in _one_line(err)


def test_unreachable_kafka_is_one_line_exit_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSPM_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("CSPM_REMEDIATION_APPROVAL_HMAC_SECRET", "k" * 16)
    for argv in (["topics", "create"], ["topics", "verify"], ["report"], ["remediation", "approve", "rc-1"], ["run"]):
        code, err = _run(capsys, *argv)
        assert code == 3 and "cannot reach Kafka at 127.0.0.1:1" in _one_line(err), (argv, err)


def test_exit_codes_are_documented_in_help() -> None:
    text = build_parser().format_help()
    for code, what in EXIT_CODES:
        assert f"{code:<4} {what}" in text
    readme = (ROOT / "README.md").read_text()
    for code, _ in EXIT_CODES:
        assert f"| {code} |" in readme, f"README Security section lacks exit code {code}"


def test_a_shell_sees_the_documented_codes(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("kafka: [x]\n")
    env = {"PATH": "/usr/bin:/bin", "CSPM_KAFKA_BOOTSTRAP": "127.0.0.1:1"}
    cases = [(["-c", str(cfg), "topics", "list"], 2), (["topics", "verify"], 3), (["scan", "--nope"], 2)]
    for argv, want in cases:
        res = subprocess.run(
            [sys.executable, "-m", "cspm_stream", *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert res.returncode == want, (argv, res.stderr)
        assert "Traceback" not in res.stderr


@pytest.mark.parametrize("argv", [["scan", "--bogus"], ["topics", "lst"], [], ["scan", "--fail-on", "huge"]])
def test_argparse_errors_are_one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "--help" in _one_line(capsys.readouterr().err)


def test_config_path_that_is_not_a_regular_file_fails_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A FIFO with no writer blocked the start forever; /dev/zero read until memory ran out."""
    import os

    fifo = tmp_path / "cspm.yaml"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero"):
        code, err = _run(capsys, "-c", path, "topics", "list")
        line = _one_line(err)
        assert code == 2 and path in line and "not a regular file" in line, line


def test_empty_config_variable_means_no_config_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSPM_CONFIG", "")
    assert main(["topics", "list"]) == 0, capsys.readouterr().err
