"""YAML number scalars Python cannot read, and the side files settings point at (round 3).

A number of 4,300+ digits (decimal, hex, binary) made ``int()`` raise ValueError and a long
base-60 scalar (``1:1:1:…``) an OverflowError inside PyYAML: every loader (settings, policies,
rules) ended in a traceback, exit 70. The rescan map, the external mapping file and rule test
files were read with ``read_text``: a FIFO blocked, ``/dev/zero`` ran out of memory and a
non-UTF-8 file was a UnicodeDecodeError traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from cspm_stream import strict_yaml
from cspm_stream.cli import main
from cspm_stream.detect.rescan import load_map
from cspm_stream.detect.ruletests import run_rule_tests
from cspm_stream.errors import DefinitionError
from cspm_stream.external.mapping import load_equivalents

ROOT = Path(__file__).resolve().parents[3]
RULE = ROOT / "cspm_stream/catalog/rules/impact/backup_recovery_points_deleted.yml"

NUMBERS = {
    "decimal": "9" * 5000,
    "hex": "0x" + "f" * 20000,
    "binary": "0b" + "1" * 200000,
    "base60": "1" + ":1" * 20000,
    "base60 float": "1" + ":1" * 20000 + ".5",
}


@pytest.mark.parametrize("loader", [strict_yaml.StrictLoader, strict_yaml.TextLoader, strict_yaml.ConfigLoader])
@pytest.mark.parametrize("number", list(NUMBERS))
def test_overlong_numbers_are_a_yaml_error(loader: type[strict_yaml.StrictLoader], number: str) -> None:
    with pytest.raises(yaml.YAMLError, match="a number of more than"):
        strict_yaml.load(f"x: {NUMBERS[number]}\n", loader)
    assert strict_yaml.load("x: 123456789012\ny: 1.5e+3\nz: 0x1f\n", loader) == {
        "x": 123456789012,
        "y": 1500.0,
        "z": 31,
    }


@pytest.mark.parametrize("number", list(NUMBERS))
def test_overlong_number_in_config_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], number: str
) -> None:
    cfg = tmp_path / "cspm.yaml"
    cfg.write_text(f"kafka:\n  partitions: {NUMBERS[number]}\n")
    code = main(["-c", str(cfg), "topics", "list"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert code == 2 and str(cfg) in err and "line 2" in err, err


@pytest.fixture(params=["fifo", "device", "not utf-8"])
def bad_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "device":
        return Path("/dev/zero")
    p = tmp_path / "side.yaml"
    if request.param == "fifo":
        os.mkfifo(p)
    else:
        p.write_bytes(b"\xff\xfe: x\n")
    return p


@pytest.mark.timeout(20)
def test_rescan_map_and_external_mapping_files_are_read_bounded(bad_file: Path) -> None:
    with pytest.raises(DefinitionError, match=r"not a regular file|not UTF-8"):
        load_map(bad_file)
    with pytest.raises(DefinitionError, match=r"not a regular file|not UTF-8"):
        load_equivalents([], {}, bad_file)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", ["fifo", "device", "not utf-8"])
def test_a_bad_rule_tests_file_is_a_failed_file_not_a_stop(tmp_path: Path, kind: str) -> None:
    (tmp_path / RULE.name).write_bytes(RULE.read_bytes())
    tests = tmp_path / "x.tests.yml"
    if kind == "fifo":
        os.mkfifo(tests)
    elif kind == "device":
        tests.symlink_to("/dev/zero")
    else:
        tests.write_bytes(b"\xff\xfe: x\n")
    report = run_rule_tests([tmp_path])
    [result] = report.results
    assert result.name == "<file>" and not result.ok and "cannot read tests" in result.reason, result


@pytest.mark.parametrize(
    ("variable", "value", "expect"),
    [
        ("CSPM_APP_ID", "../../etc", "app.id='../../etc': 1 to 200 letters"),
        ("CSPM_APP_ID", "", "app.id='': 1 to 200 letters"),
        ("CSPM_APP_ID", "cspm stream", "app.id='cspm stream': 1 to 200 letters"),
        ("CSPM_APP_ID", "a" * 201, "app.id: 1 to 200 letters"),
        ("CSPM_KAFKA_TOPIC_PREFIX", "a" * 1000, "kafka.topic_prefix: at most 200 characters"),
    ],
)
def test_names_kafka_refuses_fail_at_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str, expect: str
) -> None:
    """app.id names changelog topics and consumer groups, topic_prefix every topic: a name Kafka
    refuses (a character outside [A-Za-z0-9._-], over 249 characters) failed only once topics were made."""
    monkeypatch.setenv(variable, value)
    code = main(["topics", "list"])
    err = capsys.readouterr().err
    assert code == 2 and expect in err and variable in err and len(err.strip().splitlines()) == 1, err
