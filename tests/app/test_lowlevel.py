"""What drivers are built from (``mcpws.lowlevel``): the options every ``serve()`` and
``connect()`` share, what ``serve()`` reports, the registry of drivers, and the handler slots
on each loop's waiters."""

from __future__ import annotations

import asyncio
import inspect
import socket
import ssl
from typing import Any

import pytest
import trio
import trio.testing

import mcpws.asyncio
import mcpws.trio
from mcpws import Server, lowlevel
from mcpws.__main__ import main
from mcpws.asyncio._pump import _Waiter as AsyncioWaiter
from mcpws.trio._pump import _Waiter as TrioWaiter


class _Bound:
    def __init__(self, address: tuple[Any, ...]) -> None:
        self._address = address

    def getsockname(self) -> tuple[Any, ...]:
        return self._address


@pytest.mark.parametrize(
    ("host", "tls", "url"),
    [
        ("127.0.0.1", False, "ws://127.0.0.1:8000/mcp"),
        ("::1", False, "ws://[::1]:8000/mcp"),
        ("localhost", True, "wss://localhost:8000/mcp"),
    ],
)
def test_a_listening_server_says_where_a_client_connects(host: str, tls: bool, url: str) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH) if tls else None
    serving = lowlevel.serve_options(Server("here"), host, 0, ssl_context=context)
    address = (host, 8000, 0, 0) if ":" in host else (host, 8000)
    listening = serving.listening([_Bound(address), _Bound(address)])
    assert (listening.url, listening.port, len(listening.sockets)) == (url, 8000, 2)


def test_serve_options_are_checked_once_for_every_driver() -> None:
    with pytest.raises(ValueError, match="a port is a whole number"):
        lowlevel.serve_options(Server("here"), port=65536)
    with pytest.raises(TypeError):
        lowlevel.serve_options(Server("here"), max_connections=3, no_such_option=1)
    with pytest.raises(TypeError):
        lowlevel.connect_options("ws://127.0.0.1:1/mcp", no_such_option=1)


@pytest.mark.parametrize("driver", [mcpws.trio, mcpws.asyncio])
@pytest.mark.parametrize(
    ("name", "template"),
    [("serve", lowlevel.serve_options), ("connect", lowlevel.connect_options)],
)
def test_the_drivers_take_the_options_declared_once(driver: Any, name: str, template: Any) -> None:
    ours = inspect.signature(getattr(driver, name)).parameters
    assert ours == inspect.signature(template).parameters


def test_the_registry_knows_both_drivers_and_their_loops() -> None:
    assert {name: d.loop for name, d in lowlevel.DRIVERS.items()}.items() >= {
        "trio": "trio",
        "asyncio": "asyncio",
    }.items()
    assert lowlevel.DRIVERS["asyncio"].load() is mcpws.asyncio
    with pytest.raises(ValueError, match="loop"):
        lowlevel.Driver("elsewhere", "somewhere", "curio")


@pytest.mark.parametrize("loop", ["trio", "asyncio"])
def test_a_driver_runs_a_function_on_its_loop_and_bounds_a_block(loop: str) -> None:
    driver = lowlevel.Driver("probe", "mcpws.trio", loop)

    async def main(seconds: float) -> str:
        with pytest.raises(TimeoutError):
            async with driver.fail_after(seconds):
                await _sleep(loop, 10)
        async with driver.fail_after(10):
            await _sleep(loop, 0)
        return f"ran on {loop}"

    assert driver.run(main, 0.01) == f"ran on {loop}"


async def _sleep(loop: str, seconds: float) -> None:
    await (trio.sleep(seconds) if loop == "trio" else asyncio.sleep(seconds))


def test_a_registered_driver_is_known_by_name_to_the_command_line() -> None:
    driver = lowlevel.Driver("probe", "mcpws.asyncio", "asyncio")
    lowlevel.register(driver)
    said: list[str] = []
    try:
        assert lowlevel.DRIVERS["probe"] is driver
        assert main(["demo", "--loop", "probe"], write=said.append) == 0
    finally:
        del lowlevel.DRIVERS["probe"]
    assert "(probe)" in said[0]
    assert said[-1] == "done"


def test_a_slot_handed_to_a_cancelled_trio_waiter_goes_to_the_next() -> None:
    """The kernel's handler slots on trio's waiters, as on asyncio's (tested there)."""

    async def main() -> None:
        slots = lowlevel.Slots(1, TrioWaiter)
        assert slots.take_now()
        async with trio.open_nursery() as nursery:
            first = trio.CancelScope()

            async def take_first() -> None:
                with first:
                    await slots.take()

            nursery.start_soon(take_first)
            await trio.testing.wait_all_tasks_blocked()
            nursery.start_soon(slots.take)
            await trio.testing.wait_all_tasks_blocked()
            slots.give()  # handed to the first...
            first.cancel()  # ...which is cancelled before it runs
        assert slots.free == 0  # the second took it
        slots.give()
        assert slots.free == 1

    trio.run(main)


def test_an_asyncio_waiter_cancelled_before_it_is_settled_takes_nothing() -> None:
    async def main() -> None:
        waiter = AsyncioWaiter(asyncio.get_running_loop())
        task = asyncio.create_task(_wait(waiter))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        waiter.settle("late")
        assert not waiter.settled

    asyncio.run(main())


async def _wait(waiter: AsyncioWaiter) -> object:
    return await waiter.wait()


def test_a_listening_socket_of_the_standard_library_will_do() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        serving = lowlevel.serve_options(Server("here"))
        assert serving.listening([listener]).port == listener.getsockname()[1]
