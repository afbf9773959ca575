"""The references the load and hostile benchmarks measure mcpws against, on ``websockets``
17 and asyncio: a small MCP responder and a plain echo server.

* ``python _reference.py mcp``: answers ``initialize``, ``ping``, ``tools/list`` and
  ``tools/call`` over the ``mcp`` subprotocol, with the tools of ``_app.py``: ``echo`` (its
  ``text`` back) and ``blob`` (``kib`` KiB of text); notifications get no answer. One
  connection's requests are answered in turn, as they arrive.
* ``python _reference.py echo``: every message sent back as it came, the floor of a server
  that does nothing.

Each listens on 127.0.0.1, a free port, and prints its URL on a line of its own. The limits
are ``websockets``' defaults except the message size, raised to mcpws's default (16 MiB) so
that both refuse the same messages: keepalive pings every 20 s with 20 s to answer, 10 s for
the opening handshake, permessage-deflate offered.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

#: The largest message either reference takes, as mcpws's default.
MAX_MESSAGE = 16 << 20

TOOLS = [
    {
        "name": "echo",
        "description": "The text, back.",
        "inputSchema": {
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
        },
    },
    {
        "name": "blob",
        "description": "A text of kib KiB.",
        "inputSchema": {
            "type": "object",
            "properties": {"kib": {"type": "integer"}},
            "required": ["kib"],
        },
    },
]


def _result(request: dict[str, Any]) -> dict[str, Any]:
    """The result of one request, or the JSON-RPC error it earns."""
    method, params = request.get("method"), request.get("params") or {}
    if method == "initialize":
        return {
            "result": {
                "protocolVersion": params.get("protocolVersion", "2025-06-18"),
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "reference", "version": "1"},
            }
        }
    if method == "ping":
        return {"result": {}}
    if method == "tools/list":
        return {"result": {"tools": TOOLS}}
    if method == "tools/call":
        arguments = params.get("arguments") or {}
        if params.get("name") == "echo":
            text = str(arguments.get("text", ""))
        elif params.get("name") == "blob":
            text = "x" * (int(arguments.get("kib", 0)) << 10)
        else:
            return {"error": {"code": -32602, "message": "unknown tool"}}
        return {"result": {"content": [{"type": "text", "text": text}], "isError": False}}
    return {"error": {"code": -32601, "message": "method not found"}}


def answer(message: str | bytes) -> str | None:
    """The answer to one message, ``None`` for a notification."""
    try:
        request = json.loads(message)
    except ValueError:
        return json.dumps({"jsonrpc": "2.0", "error": {"code": -32700, "message": "parse"}})
    if not isinstance(request, dict) or "method" not in request:
        return json.dumps({"jsonrpc": "2.0", "error": {"code": -32600, "message": "invalid"}})
    if "id" not in request:
        return None
    reply = {"jsonrpc": "2.0", "id": request["id"], **_result(request)}
    return json.dumps(reply, separators=(",", ":"))


async def respond(connection: ServerConnection) -> None:
    async for message in connection:
        if isinstance(message, bytes):
            await connection.close(1003, "text only")
            return
        reply = answer(message)
        if reply is not None:
            await connection.send(reply)


async def echo(connection: ServerConnection) -> None:
    async for message in connection:
        await connection.send(message)


async def main(kind: str) -> None:
    handler = respond if kind == "mcp" else echo
    async with serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=[Subprotocol("mcp")],
        max_size=MAX_MESSAGE,
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"serving on ws://127.0.0.1:{port}/mcp", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "mcp"))
