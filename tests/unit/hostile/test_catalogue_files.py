"""Policy, framework and mutelist files a careless or hostile operator points at.

A FIFO or device (``/dev/zero``) is refused instead of blocking or reading without end, a file
over the size bound and a YAML 'billion laughs' are refused, and a configured folder that does
not exist is an error naming it — it used to load nothing, silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from cspm_stream.cli import main
from cspm_stream.errors import PolicyError
from cspm_stream.policy import yamlio
from cspm_stream.policy.loader import load_policy_file
from cspm_stream.policy.mutelist import MutelistError, MutelistSource

LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['x'] * 9)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=True)
)


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    p = tmp_path / "pipe.yaml"
    os.mkfifo(p)
    return p


@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", ["fifo", "device", "big", "laughs", "missing"])
def test_unreadable_catalogue_files_are_refused(tmp_path: Path, fifo: Path, kind: str) -> None:
    path = {"fifo": fifo, "device": Path("/dev/zero"), "missing": tmp_path / "nope.yaml"}.get(kind)
    if kind == "big":
        path = tmp_path / "big.yaml"
        path.write_text("x: '" + "a" * yamlio.MAX_FILE_BYTES + "'\n")
    elif kind == "laughs":
        path = tmp_path / "laughs.yaml"
        path.write_text(LAUGHS)
    assert path is not None
    with pytest.raises(yamlio.YamlReadError):
        yamlio.read_yaml(path)
    with pytest.raises(MutelistError, match=str(path)):
        MutelistSource(path).load()


@pytest.mark.timeout(60)
def test_a_mutelist_that_never_ends_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``scan`` read a mutelist set to /dev/zero until memory ran out."""
    monkeypatch.setenv("CSPM_POLICY_MUTELIST_FILE", "/dev/zero")
    code = main(["scan", "--endpoint-url", "http://127.0.0.1:1", "-o", str(tmp_path / "o")])
    line = _one_line(capsys.readouterr().err)
    assert code == 2 and "/dev/zero: cannot read: not a regular file" in line


@pytest.mark.parametrize("key", ["policy_dirs", "framework_dirs"])
def test_a_configured_folder_that_does_not_exist_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fifo: Path, key: str
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"policy:\n  {key}: [{tmp_path / 'typo'}, {fifo}]\n")
    code = main(["-c", str(cfg), "policies", "validate"])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{tmp_path / 'typo'}: cannot read: No such file or directory" in out
    assert f"{fifo}: cannot read: not a regular file" in out


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "T" * 1_000_000), ("description", "D" * 1_000_000), ("references", ["https://x/" + "r" * 1_000_000])],
)
def test_policy_texts_are_bounded_and_errors_short(tmp_path: Path, field: str, value: object) -> None:
    """A 1 MB policy title was accepted (every finding of the policy would carry it); the error is short."""
    doc: dict[str, object] = {
        "id": "long_texts",
        "title": "t",
        "description": "d",
        "severity": "low",
        "resource_type": "aws.s3.bucket",
        "condition": {"path": "Name", "op": "eq", "value": "x"},
        "remediation": {"text": "x"},
    }
    if field == "references":
        doc["remediation"] = {"text": "x", "references": value}
    else:
        doc[field] = value
    path = tmp_path / "long_texts.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(PolicyError) as info:
        load_policy_file(path, strict=False)
    assert "characters" in str(info.value) and len(str(info.value)) < 300
