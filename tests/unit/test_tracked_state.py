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


def test_partitioned_state_keys_follow_the_partition_that_wrote_them() -> None:
    import orjson

    from cspm_stream.changelog import PartitionedState

    st = PartitionedState()
    st.held = {0: None, 1: None}
    dirty: dict[str, int] = {}
    st.apply([("a", {"n": 1}, False), ("b", 2, False)], 1, dirty)
    st.apply([("b", None, True)], 0, dirty)  # deleted by a record of partition 0
    assert st.table == {"a": {"n": 1}} and st.owner == {"a": 1} and dirty == {"a": 1, "b": 0}
    records = st.serialized(dirty)
    assert records == {orjson.dumps("a"): (b'{"n":1}', 1), orjson.dumps("b"): (None, 0)}
    st.table["a"]["n"] = 5  # a later change does not alter what was serialised
    assert records[orjson.dumps("a")] == (b'{"n":1}', 1)
    # a timer's change: an existing key keeps its owner, a new one goes to the lowest held partition
    timer: dict[str, int] = {}
    st.apply([("a", 7, False), ("t", 1, False)], None, timer)
    assert timer == {"a": 1, "t": 0}


def test_partitioned_state_reassignment_drops_and_restores_only_what_moved() -> None:
    from cspm_stream.changelog import PartitionedState

    st = PartitionedState()
    st.table = {"k0": 0, "k1": 1, "k2": 2}
    st.owner = {"k0": 0, "k1": 1, "k2": 2}
    st.held = {0: 10, 1: 20, 2: 30}
    # partition 2 is gone; 1 came back where we left it; 0 came back but someone committed further
    restoring = st.reassign({0, 1, 3}, {0: 15, 1: 20, 3: None})
    assert restoring == [0, 3]
    assert st.table == {"k1": 1} and st.held == {1: 20}
    st.restored(restoring, {0: 15, 1: 20, 3: None})
    assert st.held == {0: 15, 1: 20, 3: None}
