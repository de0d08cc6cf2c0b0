from __future__ import annotations

from pathlib import Path

import pytest

from cspm_stream.errors import DefinitionError
from cspm_stream.report.frameworks import load_dirs


def test_loads_extra_folder(tmp_path: Path) -> None:
    (tmp_path / "fw.yaml").write_text(
        "id: fw\nname: New\nversion: '2'\nrequirements:\n"
        "  - {id: 1.2, title: T, policies: [p1, p2]}\n  - {id: '1.3', title: M, automated: false}\n"
    )
    fws = {f.id: f for f in load_dirs([tmp_path], builtin=False)}
    fw = fws["fw"]
    assert fw.name == "New" and fw.version == "2"
    assert [(r.id, r.title, r.policies, r.automated) for r in fw.requirements] == [
        ("1.2", "T", ("p1", "p2"), True),
        ("1.3", "M", (), False),
    ]


def test_invalid_file_names_the_path(tmp_path: Path) -> None:
    (tmp_path / "fw.yaml").write_text(
        "id: fw\nname: N\nversion: '1'\nrequirements: [{id: '1', title: T, policies: p}]\n"
    )
    with pytest.raises(DefinitionError) as exc:
        load_dirs([tmp_path], builtin=False)
    assert exc.value.path == "requirements[0].policies"


def test_missing_extra_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="does not exist"):
        load_dirs([tmp_path / "nope"], builtin=False)


def test_builtin_frameworks_load() -> None:
    for fw in load_dirs([], builtin=True):
        assert fw.id and all(r.id for r in fw.requirements)
