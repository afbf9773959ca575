"""What every driver shares (``mcpws.app._driving``): answering a peer's request at once or
later, settling a waiting request from its answer's event, and the loopback test."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, cast

import pytest

from mcpws.app import McpError
from mcpws.core.errors import InvalidParams, LocalProtocolError
from mcpws.core.jsonrpc import INTERNAL_ERROR, ErrorObject
from mcpws.core.mcp import ClientCapabilities, ListToolsResult, Model, PaginatedRequestParams
from mcpws.core.session import (
    ErrorReceived,
    InvalidResultReceived,
    RequestCancelled,
    RequestReceived,
    RequestTimedOut,
    ResponseReceived,
    ServerSession,
)
from mcpws.lowlevel import answer, is_loopback, settles

RESULT = ListToolsResult(tools=[])


class FakeSession:
    """Records the answers queued on it; refuses results that are not ``RESULT``."""

    def __init__(self) -> None:
        self.answers: list[tuple[Any, ...]] = []

    def respond(self, request_id: str | int, result: Model) -> None:
        if result is not RESULT:
            raise LocalProtocolError("not an answer to tools/list")
        self.answers.append(("result", request_id, result))

    def respond_error(
        self, request_id: str | int, code: int, message: str, data: Any = None
    ) -> None:
        self.answers.append(("error", request_id, code, message, data))


REQUEST = RequestReceived(
    3, "tools/list", PaginatedRequestParams(), "2025-11-25", ClientCapabilities()
)


def answered(handler: Any) -> tuple[FakeSession, bool]:
    """The session after *handler* answered REQUEST, and whether it answered at once."""
    session = FakeSession()
    later = answer(cast(ServerSession, session), REQUEST, handler, cast(Any, None))
    if later is not None:
        asyncio.run(later)
    return session, later is None


async def _soon(value: Any) -> Any:
    await asyncio.sleep(0)
    if isinstance(value, BaseException):
        raise value
    return value


@pytest.mark.parametrize("at_once", [True, False])
def test_a_result_is_sent_at_once_or_later(at_once: bool) -> None:
    def handler(request: RequestReceived, link: Any) -> Model | Awaitable[Model]:
        return RESULT if at_once else _soon(RESULT)

    session, was_at_once = answered(handler)
    assert was_at_once is at_once
    assert session.answers == [("result", 3, RESULT)]


@pytest.mark.parametrize("at_once", [True, False])
def test_an_mcp_error_becomes_its_json_rpc_error(at_once: bool) -> None:
    error = McpError(-32002, "not found", {"uri": "x"})

    def handler(request: RequestReceived, link: Any) -> Model | Awaitable[Model]:
        if at_once:
            raise error
        return _soon(error)

    session, _ = answered(handler)
    assert session.answers == [("error", 3, -32002, "not found", {"uri": "x"})]


@pytest.mark.parametrize("at_once", [True, False])
def test_any_other_exception_is_an_internal_error_logged_not_sent(
    at_once: bool, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(request: RequestReceived, link: Any) -> Model | Awaitable[Model]:
        if at_once:
            raise KeyError("secret")
        return _soon(KeyError("secret"))

    with caplog.at_level(logging.ERROR, logger="mcpws"):
        session, _ = answered(handler)
    assert session.answers == [("error", 3, INTERNAL_ERROR, "internal error", None)]
    assert "the handler of tools/list failed" in caplog.text
    assert "secret" in caplog.text


@pytest.mark.parametrize("at_once", [True, False])
def test_a_result_that_does_not_answer_the_method_is_an_invalid_result(at_once: bool) -> None:
    other = ListToolsResult(tools=[])

    def handler(request: RequestReceived, link: Any) -> Model | Awaitable[Model]:
        return other if at_once else _soon(other)

    session, _ = answered(handler)
    assert session.answers == [("error", 3, INTERNAL_ERROR, "invalid result", None)]


def test_events_settle_the_requests_they_answer() -> None:
    assert settles(ResponseReceived(1, "tools/list", RESULT)) == (1, RESULT)
    settled = settles(ErrorReceived(2, "tools/list", ErrorObject(-1, "no", 7)))
    assert settled is not None
    request_id, error = settled
    assert request_id == 2
    assert isinstance(error, McpError)
    assert (error.code, error.message, error.data) == (-1, "no", 7)
    invalid = settles(InvalidResultReceived(3, "tools/list", InvalidParams("bad"), {}))
    assert invalid is not None
    assert isinstance(invalid[1], McpError)
    assert (invalid[0], invalid[1].code) == (3, INTERNAL_ERROR)
    timed_out = settles(RequestTimedOut(4, "tools/call"))
    assert timed_out is not None
    assert isinstance(timed_out[1], TimeoutError)
    assert str(timed_out[1]) == "tools/call got no answer in time"
    assert settles(RequestCancelled(5, None)) is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("192.0.2.1", False),
        ("example.com", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
