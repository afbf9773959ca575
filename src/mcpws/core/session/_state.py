"""The lifecycle of an MCP session, as one table of transitions.

Both roles share the table: a client *sends* ``initialize`` where a server *receives* it, and
both then pass through the same states. A (state, input) pair missing from the table is a
protocol error; :meth:`Lifecycle.process` raises :class:`LocalProtocolError` for it and leaves
the state unchanged, and the session turns that into the right answer (an exception for a
local command, an error reply for a peer's request).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from mcpws.core.errors import LocalProtocolError

__all__ = ["TRANSITIONS", "Input", "Lifecycle", "State"]


class State(enum.Enum):
    """Where a session is in its life."""

    #: Nothing exchanged yet.
    IDLE = "idle"
    #: Client only: ``server/discover`` is probing for the stateless era.
    DISCOVERING = "discovering"
    #: ``initialize`` is under way: sent and not yet answered (client), or answered and
    #: ``notifications/initialized`` not yet received (server).
    INITIALIZING = "initializing"
    #: A handshake-era session is open with one revision.
    READY = "ready"
    #: The stateless era: each request names its own revision.
    STATELESS = "stateless"
    #: The session ended on an error; only closing remains.
    FAILED = "failed"
    #: The session is over.
    CLOSED = "closed"

    #: Members are their own identity: hash them as plain objects, in C.
    __hash__ = object.__hash__


class Input(enum.Enum):
    """What moves a session: a lifecycle message, ordinary traffic, or the end."""

    SEND_DISCOVER = "send server/discover"
    DISCOVERED = "receive a server/discover result"
    SEND_INITIALIZE = "send initialize"
    RECEIVE_INITIALIZE = "receive initialize"
    SEND_INITIALIZED = "send notifications/initialized"
    RECEIVE_INITIALIZED = "receive notifications/initialized"
    RECEIVE_STATELESS = "receive a stateless request"
    #: ``ping``, logging, progress and cancellation: allowed while initializing.
    SEND_UTILITY = "send a utility message"
    RECEIVE_UTILITY = "receive a utility message"
    #: Any other request or notification.
    SEND_OPERATION = "send an operation"
    RECEIVE_OPERATION = "receive an operation"
    FAIL = "fail"
    CLOSE = "close"

    __hash__ = object.__hash__


_S, _I = State, Input

#: Every allowed (state, input) pair and the state it leads to.
TRANSITIONS: Final[Mapping[tuple[State, Input], State]] = {
    # Before anything: a client opens one way or the other; a server learns which.
    (_S.IDLE, _I.SEND_DISCOVER): _S.DISCOVERING,
    (_S.IDLE, _I.SEND_INITIALIZE): _S.INITIALIZING,
    (_S.IDLE, _I.RECEIVE_INITIALIZE): _S.INITIALIZING,
    (_S.IDLE, _I.RECEIVE_STATELESS): _S.STATELESS,
    (_S.IDLE, _I.RECEIVE_UTILITY): _S.IDLE,
    # The probe: a result opens the stateless era; anything else falls back to initialize.
    (_S.DISCOVERING, _I.DISCOVERED): _S.STATELESS,
    (_S.DISCOVERING, _I.SEND_INITIALIZE): _S.INITIALIZING,
    # The handshake: utilities flow both ways; a server serves early requests.
    (_S.INITIALIZING, _I.SEND_INITIALIZED): _S.READY,
    (_S.INITIALIZING, _I.RECEIVE_INITIALIZED): _S.READY,
    (_S.INITIALIZING, _I.SEND_UTILITY): _S.INITIALIZING,
    (_S.INITIALIZING, _I.RECEIVE_UTILITY): _S.INITIALIZING,
    (_S.INITIALIZING, _I.RECEIVE_OPERATION): _S.INITIALIZING,
    # Open sessions.
    (_S.READY, _I.SEND_UTILITY): _S.READY,
    (_S.READY, _I.RECEIVE_UTILITY): _S.READY,
    (_S.READY, _I.SEND_OPERATION): _S.READY,
    (_S.READY, _I.RECEIVE_OPERATION): _S.READY,
    # A client whose probe timed out falls back to initialize on the same connection.
    (_S.STATELESS, _I.RECEIVE_INITIALIZE): _S.INITIALIZING,
    (_S.STATELESS, _I.RECEIVE_STATELESS): _S.STATELESS,
    (_S.STATELESS, _I.SEND_UTILITY): _S.STATELESS,
    (_S.STATELESS, _I.RECEIVE_UTILITY): _S.STATELESS,
    (_S.STATELESS, _I.SEND_OPERATION): _S.STATELESS,
    (_S.STATELESS, _I.RECEIVE_OPERATION): _S.STATELESS,
    # The end.
    **{(state, _I.FAIL): _S.FAILED for state in State if state is not _S.CLOSED},
    **{(state, _I.CLOSE): _S.CLOSED for state in State},
}


class Lifecycle:
    """A session's state, moved only through :data:`TRANSITIONS`."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = State.IDLE

    def allows(self, event: Input) -> bool:
        """Tell whether *event* is allowed in the current state."""
        return (self.state, event) in TRANSITIONS

    def check(self, event: Input) -> State:
        """Return the state *event* leads to, without moving.

        Raises :class:`LocalProtocolError` when the table has no such transition.
        """
        new = TRANSITIONS.get((self.state, event))
        if new is None:
            raise LocalProtocolError(
                f"cannot {event.value} while the session is {self.state.value}"
            )
        return new

    def process(self, event: Input) -> State:
        """Move on *event* and return the new state; raises as :meth:`check` does, and the
        state is then unchanged."""
        self.state = new = self.check(event)
        return new
