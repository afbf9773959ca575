"""A server out of file descriptors: it holds one connection for each, answers the next
with 503 and ``Retry-After``, says so in its log, and serves again once some close; on
every driver mcpws ships, each in a process of its own whose limit on open files is
lowered."""

from __future__ import annotations

import pytest
import trio

from helpers.descriptors import HARD, LIMIT, SPARE, close, few_descriptors, fill, let_go, refused
from helpers.peers import LOOPS
from mcpws.trio import connect


async def _tools(url: str) -> list[str]:
    with trio.fail_after(HARD):
        async with connect(url) as client:
            return [tool.name for tool in await client.list_tools()]


@pytest.mark.parametrize("loop", LOOPS)
def test_a_server_out_of_descriptors_answers_503_and_serves_again_once_some_close(
    loop: str,
) -> None:
    with few_descriptors(loop) as server:
        held, answer = fill(server.port)
        full = len(held)
        try:
            assert len(held) >= LIMIT - SPARE  # one descriptor per connection
            head, _, body = answer.partition(b"\r\n\r\n")
            lines = head.decode().lower().split("\r\n")
            assert lines[0] == "http/1.1 503 service unavailable"
            assert {"retry-after: 1", "connection: close"} <= set(lines[1:])
            assert body == b"the server is out of file descriptors\n"
            for _ in range(3):  # and the next, and the next: the server goes on
                assert refused(server.port) == answer
            for connection in held[:8]:
                close(connection)
            del held[:8]
            assert trio.run(_tools, server.url)
            assert server.process.poll() is None
        finally:
            let_go(held)
        err = server.stop()
    warnings = [line for line in err.splitlines() if "out of file descriptors" in line]
    assert len(warnings) == 1, err  # four refused, one line
    assert warnings[0].startswith("mcpws WARNING out of file descriptors (EMFILE: ")
    assert f"with {full} connections open: new ones are answered 503" in warnings[0]
    assert f"ulimit -n, now {LIMIT}" in warnings[0]
