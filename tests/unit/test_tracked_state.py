"""TrackedState: a handler's state changes reach the table only at commit, after outputs are acked."""

from __future__ import annotations

import pytest

from cspm_stream.stages.guard import TrackedState


def test_writes_are_buffered_until_commit() -> None:
    table: dict[str, object] = {"a": 1}
    s = TrackedState(table)
    s["b"] = 2
    s["a"] = 10
    assert s["b"] == 2 and s["a"] == 10 and "b" in s
    assert table == {"a": 1}  # a crash now loses the change, never an output
    s.commit()
    assert table == {"a": 10, "b": 2}


def test_deletes_are_buffered_and_hidden() -> None:
    table: dict[str, object] = {"a": 1, "b": 2}
    s = TrackedState(table)
    del s["a"]
    assert "a" not in s and sorted(s) == ["b"] and len(s) == 1
    with pytest.raises(KeyError):
        _ = s["a"]
    with pytest.raises(KeyError):
        del s["zz"]
    assert table == {"a": 1, "b": 2}
    s.commit()
    assert table == {"b": 2}


def test_in_place_mutation_is_written_back() -> None:
    class Recording(dict[str, object]):
        assigned: list[str] = []

        def __setitem__(self, k: str, v: object) -> None:
            self.assigned.append(k)
            super().__setitem__(k, v)

    table = Recording(x={"n": 1}, y={"n": 1})
    s = TrackedState(table)
    s["x"]["n"] = 2  # type: ignore[index]
    _ = s["y"]  # read, unchanged
    s.commit()
    assert table.assigned == ["x"]  # only the changed key is re-assigned (changelogged)
    assert s.get("missing", "d") == "d"


def test_mutated_in_place_names_changes_never_assigned() -> None:
    table: dict[str, object] = {"a": {"n": 1}, "b": {"n": 1}, "c": 5}
    s = TrackedState(table)
    s["a"]["n"] = 2  # type: ignore[index]
    b = s["b"]
    b["n"] = 2  # type: ignore[index]
    s["b"] = b  # re-assigned: fine
    _ = s["c"]
    assert s.mutated_in_place() == ["a"]
    untracked = TrackedState({"a": {"n": 1}}, track_reads=False)
    untracked["a"]["n"] = 3  # type: ignore[index]
    assert untracked.mutated_in_place() == [] and untracked.changes() == []  # not tracked: the promise is the caller's
