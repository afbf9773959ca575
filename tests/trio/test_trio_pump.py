"""What only the trio driver's pump has: the outbox, which sends every byte taken from
the core whatever happens to the task that took it. (asyncio's transports buffer every
write, so they have nothing to lose; everything both drivers do is in the scenario suite.)"""

from __future__ import annotations

import base64
import random

import trio

from mcpws import Server
from mcpws.trio import connect, serve

#: 4 MiB of text that deflate cannot shrink: more than a socket takes at once.
_NOISE = base64.b64encode(random.Random(7).randbytes(3 << 20)).decode()


def test_a_call_cancelled_before_its_request_is_written_leaves_the_connection_sound() -> None:
    """The request of a call cancelled while another call's request fills the socket still
    goes out: compressed messages share one compression window, and the server could not
    decompress any message sent after a missing one."""
    app = Server("echo")

    @app.tool()
    def echo(text: str) -> str:
        return text

    async def main() -> None:
        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                url = (await nursery.start(serve, app)).url
                async with connect(url) as client:
                    async with trio.open_nursery() as calls:
                        calls.start_soon(client.call_tool, "echo", {"text": _NOISE})
                        await trio.sleep(0)  # its request now waits for room in the socket
                        with trio.move_on_after(0):
                            await client.call_tool("echo", {"text": "cancelled " * 1000})
                    result = await client.call_tool("echo", {"text": "after " * 1000})
                    assert result.content[0].text == "after " * 1000  # type: ignore[union-attr]
                nursery.cancel_scope.cancel()

    trio.run(main)
