"""An MCP client that waits to be dialed, written with ``websockets`` (not mcpws): it
listens on 127.0.0.1 at the port given, and for each connection, opens the session, lists
the tools and calls ``add`` with 2 and 3, prints what it saw as one JSON line, and holds
the connection until the server closes it or the process is killed, printing the method of
each notification that comes meanwhile as one JSON line more."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sys
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

INITIALIZE = {
    "protocolVersion": "2025-06-18",
    "capabilities": {},
    "clientInfo": {"name": "dial-endpoint", "version": "1"},
}


async def session(websocket: ServerConnection) -> None:
    ids = itertools.count(1)

    async def ask(method: str, params: dict[str, Any]) -> Any:
        request_id = next(ids)
        request = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        await websocket.send(json.dumps(request))
        while True:
            message = json.loads(await websocket.recv())
            if message.get("id") == request_id and "method" not in message:
                return message

    opened = await ask("initialize", INITIALIZE)
    await websocket.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    listed = await ask("tools/list", {})
    called = await ask("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
    seen = {
        "server": opened["result"]["serverInfo"]["name"],
        "subprotocol": websocket.subprotocol,
        "path": websocket.request.path if websocket.request else None,
        "authorization": websocket.request.headers.get("Authorization")
        if websocket.request
        else None,
        "tools": sorted(tool["name"] for tool in listed["result"]["tools"]),
        "result": called["result"].get("structuredContent"),
    }
    print(json.dumps(seen), flush=True)
    with contextlib.suppress(ConnectionClosed):
        async for text in websocket:  # until the server closes the connection
            message = json.loads(text)
            if "method" in message and "id" not in message:
                print(json.dumps({"notification": message["method"]}), flush=True)


async def main(port: int) -> None:
    async with serve(session, "127.0.0.1", port, subprotocols=[Subprotocol("mcp")]):
        print("listening", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
