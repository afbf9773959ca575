"""The session lifecycle table: its shape, and a Hypothesis walk over every (state, input)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from mcpws.core.errors import LocalProtocolError
from mcpws.core.session import TRANSITIONS, Input, Lifecycle, State


def test_a_new_lifecycle_is_idle() -> None:
    assert Lifecycle().state is State.IDLE


def test_every_state_can_close_and_closing_twice_is_harmless() -> None:
    for state in State:
        assert TRANSITIONS[state, Input.CLOSE] is State.CLOSED


def test_every_state_but_closed_can_fail() -> None:
    for state in State:
        assert TRANSITIONS.get((state, Input.FAIL)) is (
            None if state is State.CLOSED else State.FAILED
        )


def test_every_state_is_reachable_from_idle() -> None:
    reached, frontier = {State.IDLE}, [State.IDLE]
    while frontier:
        state = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source is state and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(State)


def test_failed_and_closed_states_admit_no_traffic() -> None:
    for state in (State.FAILED, State.CLOSED):
        allowed = {event for (source, event) in TRANSITIONS if source is state}
        assert allowed <= {Input.FAIL, Input.CLOSE}


def test_the_handshake_in_order() -> None:
    client, server = Lifecycle(), Lifecycle()
    assert client.process(Input.SEND_INITIALIZE) is State.INITIALIZING
    assert server.process(Input.RECEIVE_INITIALIZE) is State.INITIALIZING
    assert client.process(Input.SEND_INITIALIZED) is State.READY
    assert server.process(Input.RECEIVE_INITIALIZED) is State.READY


def test_the_probe_falls_back_to_initialize() -> None:
    client = Lifecycle()
    client.process(Input.SEND_DISCOVER)
    assert client.process(Input.SEND_INITIALIZE) is State.INITIALIZING


def test_operations_wait_for_the_handshake() -> None:
    lifecycle = Lifecycle()
    lifecycle.process(Input.SEND_INITIALIZE)
    assert lifecycle.allows(Input.SEND_UTILITY)
    assert not lifecycle.allows(Input.SEND_OPERATION)
    with pytest.raises(LocalProtocolError, match="send an operation while the session is init"):
        lifecycle.process(Input.SEND_OPERATION)
    assert lifecycle.state is State.INITIALIZING


def test_a_second_initialize_is_refused() -> None:
    lifecycle = Lifecycle()
    for event in (Input.RECEIVE_INITIALIZE, Input.RECEIVE_INITIALIZED):
        lifecycle.process(event)
    assert not lifecycle.allows(Input.RECEIVE_INITIALIZE)


@given(st.sampled_from(State), st.lists(st.sampled_from(Input), max_size=30))
def test_any_walk_lands_in_a_state_or_refuses_without_moving(
    start: State, inputs: list[Input]
) -> None:
    lifecycle = Lifecycle()
    lifecycle.state = start
    for event in inputs:
        before = lifecycle.state
        expected = TRANSITIONS.get((before, event))
        assert lifecycle.allows(event) is (expected is not None)
        if expected is None:
            with pytest.raises(LocalProtocolError):
                lifecycle.process(event)
            assert lifecycle.state is before
        else:
            assert lifecycle.process(event) is expected
        assert lifecycle.state in State


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("event", list(Input))
def test_every_pair_is_either_a_transition_or_a_documented_refusal(
    state: State, event: Input
) -> None:
    lifecycle = Lifecycle()
    lifecycle.state = state
    if (state, event) in TRANSITIONS:
        assert lifecycle.process(event) is TRANSITIONS[state, event]
    else:
        with pytest.raises(LocalProtocolError, match=f"cannot {event.value}"):
            lifecycle.process(event)
        assert lifecycle.state is state
