"""The core's deadlines (:class:`mcpws.core._timers.Timers`) behave as a plain mapping of
names to deadlines would, whatever is set, set again and cleared, in any order."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from mcpws.core._timers import Timers

NAMES = st.one_of(st.integers(0, 20), st.sampled_from(["a", "b", "c"]))
DEADLINES = st.one_of(st.none(), st.integers(0, 50).map(float))
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), NAMES, DEADLINES),
        st.tuples(st.just("clear"), st.lists(NAMES, max_size=3)),
        st.tuples(st.just("pop_due"), st.integers(0, 50).map(float)),
        st.tuples(st.just("next")),
    ),
    max_size=200,
)


def _earliest(model: dict[object, float]) -> tuple[float, object] | None:
    return min(((when, name) for name, when in model.items()), default=None, key=lambda e: e[0])


@settings(max_examples=300, deadline=None, database=None)
@given(OPERATIONS)
def test_timers_agree_with_a_plain_mapping(operations: list[tuple[object, ...]]) -> None:
    timers: Timers[object] = Timers()
    model: dict[object, float] = {}
    for operation in operations:
        if operation[0] == "set":
            _, name, deadline = operation
            timers.set(name, deadline)  # type: ignore[arg-type]
            if deadline is None:
                model.pop(name, None)
            else:
                model[name] = deadline  # type: ignore[assignment]
        elif operation[0] == "clear":
            names = operation[1]
            timers.clear(*names)  # type: ignore[misc]
            if names:
                for name in names:  # type: ignore[attr-defined]
                    model.pop(name, None)
            else:
                model.clear()
        elif operation[0] == "pop_due":
            now = operation[1]
            popped = timers.pop_due(now)  # type: ignore[arg-type]
            earliest = _earliest(model)
            if earliest is None or earliest[0] > now:  # type: ignore[operator]
                assert popped is None
            else:
                assert model[popped] == earliest[0]  # one of the earliest, if several
                del model[popped]
        else:
            earliest = _earliest(model)
            assert timers.next() == (None if earliest is None else earliest[0])
        assert {name: timers.get(name) for name in model} == model


def test_equal_deadlines_are_popped_in_the_order_they_were_set() -> None:
    timers: Timers[str] = Timers()
    for name in "cab":
        timers.set(name, 5.0)
    assert [timers.pop_due(5.0) for _ in range(4)] == ["c", "a", "b", None]


def test_many_deadlines_set_again_keep_the_heap_small() -> None:
    """Setting a thousand deadlines again and again, as requests come and go, leaves no more
    than twice as many entries as there are deadlines."""
    timers: Timers[int] = Timers()
    for round_ in range(10):
        for name in range(1000):
            timers.set(name, float(round_ * 1000 + name))
    assert len(timers._heap) <= 2 * 1000
    assert timers.next() == 9000.0
    assert timers.pop_due(9000.5) == 0
    assert timers.get(1) == 9001.0
