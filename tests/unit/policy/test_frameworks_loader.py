"""Framework file loader: the new keys and errors that name file, path and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from cspm_stream.policy.frameworks import FrameworkError, load_frameworks, parse_framework

HEAD = {"id": "fw", "name": "Framework", "version": "1"}


def _parse(reqs: list[object], **top: object) -> object:
    return parse_framework({**HEAD, **top, "requirements": reqs}, "fw.yaml")


def test_full_file_loads_into_the_model(tmp_path: Path) -> None:
    (tmp_path / "fw.yaml").write_text(
        "id: fw\nname: Framework\nversion: 1.10\n"
        "source: {standard: Std v1, url: 'https://x', requirements: from the PDF, mappings: [Prowler x.json]}\n"
        "review: {by: me, date: 2026-12-04, method: read every requirement, notes: none}\n"
        "requirements:\n"
        "  - {id: 1.10, title: T, section: 1 S, assessment: manual, policies: [p1], rationale: because}\n"
        "  - {id: '2', title: M}\n",
        encoding="utf-8",
    )
    (fw,) = load_frameworks([tmp_path])
    assert fw.version == "1.1"  # YAML reads 1.10 as a float: quote versions and ids
    assert fw.origin is not None and fw.origin.mappings == ("Prowler x.json",) and fw.origin.url == "https://x"
    assert fw.review is not None and fw.review.date == "2026-12-04" and fw.review.notes == "none"
    r1, r2 = fw.requirements
    assert (r1.section, r1.assessment, r1.automated, r1.rationale) == ("1 S", "manual", True, "because")
    assert (r2.automated, r2.policies) == (False, ())
    assert fw.manual == (r2,) and fw.automated == (r1,)


@pytest.mark.parametrize(
    ("reqs", "top", "path", "reason"),
    [
        ([{"id": "1", "title": "t", "automated": True}], {}, "requirements[0].automated", "lists the policies"),
        (
            [{"id": "1", "title": "t", "automated": False, "policies": ["p"]}],
            {},
            "requirements[0].automated",
            "is automated",
        ),
        ([{"id": "1", "title": "t", "policies": ["p", "p"]}], {}, "requirements[0].policies", "listed twice"),
        ([{"id": "1", "title": "t", "assessment": "maybe"}], {}, "requirements[0].assessment", "one of"),
        ([{"id": "1", "title": "t", "rationale": ["x"]}], {}, "requirements[0].rationale", "string"),
        ([{"id": "1", "title": "t", "level": 1}], {}, "requirements[0].level", "unknown field"),
        ([{"id": "1", "title": "t"}, {"id": 1, "title": "u"}], {}, "requirements[1].id", "duplicate"),
        ([{"id": "1", "title": "t"}], {"source": "CIS"}, "source", "mapping"),
        ([{"id": "1", "title": "t"}], {"source": {"url": "x"}}, "source.standard", "missing"),
        ([{"id": "1", "title": "t"}], {"source": {"standard": "s", "mappings": "x"}}, "source.mappings", "list"),
        ([{"id": "1", "title": "t"}], {"source": {"standard": "s", "author": "x"}}, "source.author", "unknown"),
        ([{"id": "1", "title": "t"}], {"review": {"by": "me", "date": "d"}}, "review.method", "missing"),
        (
            [{"id": "1", "title": "t"}],
            {"review": {"by": "me", "date": "d", "method": "m", "notes": []}},
            "review.notes",
            "string",
        ),
        ([{"id": "1", "title": "t"}], {"url": 3}, "url", "string"),
    ],
)
def test_errors_name_path_and_reason(reqs: list[object], top: dict[str, object], path: str, reason: str) -> None:
    with pytest.raises(FrameworkError) as exc:
        _parse(reqs, **top)
    assert exc.value.path == path
    assert reason in str(exc.value)
    assert "fw.yaml" in str(exc.value)


def test_any_json_type_in_a_requirement_is_an_error_not_a_crash() -> None:
    for bad in (None, 3, "x", [1], {"id": {"a": 1}, "title": "t"}, {"id": "1", "title": 2}):
        with pytest.raises(FrameworkError):
            _parse([bad])
