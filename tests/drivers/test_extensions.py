"""A vendor's methods end to end, on every pair of drivers, in both eras: a server that
declares an extension and handles a method MCP does not define, a client that calls it and,
in the handshake era, answers the server's own vendor request; what nobody handles still
gets -32601. Every message either side sends in 2026-07-28 is checked against the
schema."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import schemas
from helpers.pairs import Pair
from mcpws.app import Context, McpError, Server
from mcpws.core.jsonrpc import METHOD_NOT_FOUND

STATELESS = "2026-07-28"


def vendor_app(heard: list[dict[str, Any]] | None = None) -> Server:
    app = Server("vendor")
    app.declare_extension("io.acme/sync", {"version": 2})

    @app.method("x-acme/sync")
    async def sync(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        answer: Any = None
        if not ctx.stateless:  # a server asks the client only in the handshake era
            asked = await ctx.link.request("x-acme/ask", {"q": "ready?"}, extension=True)
            answer = asked.extra
        return {"since": params.get("since"), "client said": answer}

    @app.method("x-acme/plain")
    def plain(params: dict[str, Any]) -> None:
        return None

    @app.method("x-acme/note")
    def note(params: dict[str, Any]) -> None:
        if heard is not None:
            heard.append(params)

    @app.method("x-acme/later")
    async def later(params: dict[str, Any]) -> None:
        raise RuntimeError("a handler that fails is logged, and nothing else happens")

    return app


@pytest.mark.parametrize("revision", ["2025-11-25", STATELESS])
def test_an_extension_method_both_ways(
    pair: Pair, revision: str, wire: list[tuple[str, Any]]
) -> None:
    heard: list[dict[str, Any]] = []

    async def main() -> None:
        async with (
            pair.serving(vendor_app(heard)) as served,
            pair.connect(
                served.url, revisions=(revision,), extension_methods={"x-acme/ask"}
            ) as client,
        ):
            client.handlers["x-acme/ask"] = lambda params: {"a": f"yes to {params['q']}"}
            capabilities = client.server_capabilities
            assert capabilities is not None
            declared = (
                capabilities.extensions if revision == STATELESS else capabilities.experimental
            )
            assert declared == {"io.acme/sync": {"version": 2}}
            result = await client.request("x-acme/sync", {"since": 7}, extension=True)
            await client.notify("x-acme/later", {}, extension=True)
            await client.notify("x-acme/note", {"n": 1}, extension=True)
            await client.notify("x-acme/nobody", {"n": 2}, extension=True)  # dropped
            plain = await client.request("x-acme/plain", None, extension=True)  # after them
            with pytest.raises(McpError) as caught:
                await client.request("x-acme/nobody", {}, extension=True)
        said = None if revision == STATELESS else {"a": "yes to ready?"}
        assert result.extra == {"since": 7, "client said": said}
        assert plain.extra == {}
        assert heard == [{"n": 1}]
        assert caught.value.code == METHOD_NOT_FOUND

    pair.run(main)
    if revision == STATELESS:
        schemas.skip_unless_present()
        for sender, value in wire:
            assert schemas.violation(STATELESS, "JSONRPCMessage", value) is None, (sender, value)


def test_only_a_vendor_method_is_registered() -> None:
    app = Server("vendor")
    with pytest.raises(ValueError, match="is a method of MCP"):
        app.method("tools/list")(lambda params: None)
    app.method("x/one")(lambda params: None)
    with pytest.raises(ValueError, match="already registered"):
        app.method("x/one")(lambda params: None)
    assert app.session_config().extension_methods == {"x/one"}
    assert app.session_config(extension_methods=frozenset()).extension_methods == frozenset()
