"""The ``mcpws`` command line.

``mcpws demo`` walks a few MCP messages through the sans-IO codec and prints what happens to
each: decoding, typed params and results, and the error reply a bad message earns.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from mcpws import __version__
from mcpws.core import jsonrpc, mcp
from mcpws.core.errors import InvalidMessage, InvalidParams

REVISION = "2025-11-25"

_REQUEST = (
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call",'
    b'"params":{"name":"get_weather","arguments":{"city":"Lisbon"}}}'
)
_BAD_INPUTS = (
    ("text that is not JSON", b'{"jsonrpc":"2.0","id":2,"method":'),
    ("a message with a boolean id", b'{"jsonrpc":"2.0","id":true,"method":"ping"}'),
    (
        "a request with params of the wrong type",
        b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":7}}',
    ),
)


def _answer(data: bytes) -> str:
    """Decode *data* as a server would, and return the JSON-RPC reply it deserves."""
    try:
        message = jsonrpc.decode(data)
    except InvalidMessage as exc:
        error = jsonrpc.ErrorObject(exc.jsonrpc_code, exc.message)
        return jsonrpc.encode(jsonrpc.ErrorResponse(exc.id, error))
    assert isinstance(message, jsonrpc.Request)
    try:
        mcp.decode_params(message.method, REVISION, message.params)
    except InvalidParams as exc:
        error = jsonrpc.ErrorObject(jsonrpc.INVALID_PARAMS, str(exc))
        return jsonrpc.encode(jsonrpc.ErrorResponse(message.id, error))
    return "(valid)"


def demo(write: Callable[[str], object] = print) -> int:
    """Print a short transcript of the codec at work."""
    write(f"mcpws {__version__}: the sans-IO codec, MCP revision {REVISION}\n")
    message = jsonrpc.decode(_REQUEST)
    assert isinstance(message, jsonrpc.Request)
    write(f"client -> server  {_REQUEST.decode()}")
    params = mcp.decode_params(message.method, REVISION, message.params)
    write(f"  decoded as      {params!r}")
    result = mcp.CallToolResult(content=[mcp.TextContent(text="Lisbon: 21 °C, clear sky")])
    reply = jsonrpc.encode(jsonrpc.Response(message.id, result.to_json()))
    write(f"server -> client  {reply}\n")
    for title, data in _BAD_INPUTS:
        write(f"{title}:\n  received        {data.decode()}\n  answered        {_answer(data)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mcpws`` command line."""
    parser = argparse.ArgumentParser(prog="mcpws", description="MCP over WebSocket.")
    parser.add_argument("--version", action="version", version=f"mcpws {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="show the codec at work on a few messages")
    parser.parse_args(argv)
    return demo()


if __name__ == "__main__":
    sys.exit(main())
