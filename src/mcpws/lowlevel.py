"""What a driver is built from: the loop-agnostic connection kernel and the pieces every
``serve()`` and ``connect()`` share, for writing a driver for another loop (as
:mod:`mcpws.trio` and :mod:`mcpws.asyncio` are written).

A driver's pump subclasses :class:`Kernel` and gives it the loop's primitives
(``now``, ``waiter``, ``spawn``, ``move_on_at``, ``flush``, ``written``, a ``closed``
event); it feeds the connection core the bytes it reads and calls ``process()``. Its
``serve()`` checks its options with :func:`serve_options` and reports each connection to
the :class:`Serving` it gets; its ``connect()`` checks its options with
:func:`connect_options`, waits for each session with ``wait_for_session`` and comes back
after a drop with :func:`come_back`; its accept loop asks a :class:`Shortage` what to do
when ``accept()`` fails (out of file descriptors: refuse the connection with 503, using a
descriptor kept in reserve). :func:`register` makes it known by name to the command line
(``--loop``) and the tests. Another library's server is served through a :class:`Host`
(:func:`hosted` finds the one for an object), whose :class:`Carrier` takes the messages of
each connection, which then has no session of mcpws's own.
"""

from mcpws.app._driving import (
    Handler as Handler,
    Opening as Opening,
    admit as admit,
    answer as answer,
    is_loopback as is_loopback,
    settles as settles,
)
from mcpws.app._hosting import Host as Host, hosted as hosted
from mcpws.app._kernel import (
    BURST as BURST,
    CANCELLED as CANCELLED,
    CLOSED as CLOSED,
    LINGER as LINGER,
    LOST as LOST,
    NOT_ANSWERED as NOT_ANSWERED,
    SHUTTING_DOWN as SHUTTING_DOWN,
    SLICE as SLICE,
    WRITE_LIMIT as WRITE_LIMIT,
    Cancellable as Cancellable,
    Carrier as Carrier,
    Event as Event,
    Kernel as Kernel,
    Slots as Slots,
    Waiter as Waiter,
)
from mcpws.app._observing import (
    Watch as Watch,
    address_name as address_name,
    peer_name as peer_name,
)
from mcpws.app._process import Process as Process, command_name as command_name
from mcpws.app._pumping import (
    BoundSocket as BoundSocket,
    Dialing as Dialing,
    DialingOut as DialingOut,
    Listening as Listening,
    OnAsgi as OnAsgi,
    OnStdio as OnStdio,
    Serving as Serving,
    asgi_options as asgi_options,
    check_port as check_port,
    come_back as come_back,
    connect_options as connect_options,
    dial_options as dial_options,
    for_the_client as for_the_client,
    keep_dialing as keep_dialing,
    same_options as same_options,
    serve_options as serve_options,
    server_policy as server_policy,
    stdio_options as stdio_options,
)
from mcpws.app._registry import DRIVERS as DRIVERS, Driver as Driver, register as register
from mcpws.app._shortage import (
    PAUSE as PAUSE,
    REFUSAL as REFUSAL,
    Remedy as Remedy,
    Shortage as Shortage,
)

__all__ = [
    "BURST",
    "CANCELLED",
    "CLOSED",
    "DRIVERS",
    "LINGER",
    "LOST",
    "NOT_ANSWERED",
    "PAUSE",
    "REFUSAL",
    "SHUTTING_DOWN",
    "SLICE",
    "WRITE_LIMIT",
    "BoundSocket",
    "Cancellable",
    "Carrier",
    "Dialing",
    "DialingOut",
    "Driver",
    "Event",
    "Handler",
    "Host",
    "Kernel",
    "Listening",
    "OnAsgi",
    "OnStdio",
    "Opening",
    "Process",
    "Remedy",
    "Serving",
    "Shortage",
    "Slots",
    "Waiter",
    "Watch",
    "address_name",
    "admit",
    "answer",
    "asgi_options",
    "check_port",
    "come_back",
    "command_name",
    "connect_options",
    "dial_options",
    "for_the_client",
    "hosted",
    "is_loopback",
    "keep_dialing",
    "peer_name",
    "register",
    "same_options",
    "serve_options",
    "server_policy",
    "settles",
    "stdio_options",
]
