from __future__ import annotations

from pathlib import Path

import pytest

from cspm_stream.errors import DefinitionError
from cspm_stream.report.frameworks import from_dict, load_dirs


def test_loads_folder_and_later_id_wins(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "fw.yaml").write_text("id: fw\nname: Old\nrequirements: [{id: '1.1', policies: [p1]}]\n")
    (b / "fw.yaml").write_text(
        "id: fw\nname: New\nversion: '2'\nrequirements:\n"
        "  - {id: 1.2, title: T, policies: [p1, p2]}\n  - {id: '1.3', automated: false}\n"
    )
    fws = {f.id: f for f in load_dirs([a, b], builtin=False)}
    fw = fws["fw"]
    assert fw.name == "New" and fw.version == "2"
    assert [(r.id, r.policies, r.automated) for r in fw.requirements] == [
        ("1.2", ("p1", "p2"), True),
        ("1.3", (), False),
    ]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"name": "x"}, "id"),
        ({"id": "f", "requirements": {}}, "requirements"),
        ({"id": "f", "requirements": [{"id": "1", "policies": "p"}]}, "requirements[0].policies"),
        ({"id": "f", "requirements": [{"id": "1"}, {"id": "1"}]}, "requirements[1].id"),
        ({"id": "f", "requirements": [{"id": "1", "automated": "yes"}]}, "requirements[0].automated"),
    ],
)
def test_invalid_definitions_name_the_path(data: object, path: str) -> None:
    with pytest.raises(DefinitionError) as exc:
        from_dict(data, "f.yaml")
    assert exc.value.path == path and exc.value.file == "f.yaml"


def test_id_must_match_file_name(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text("id: fw\n")
    with pytest.raises(DefinitionError, match="must equal the file name"):
        load_dirs([tmp_path], builtin=False)


def test_missing_extra_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="does not exist"):
        load_dirs([tmp_path / "nope"], builtin=False)


def test_builtin_frameworks_load_if_present() -> None:
    # the built-in folder belongs to the policy pack; whatever is there must load cleanly
    for fw in load_dirs([], builtin=True):
        assert fw.id and all(r.id for r in fw.requirements)
