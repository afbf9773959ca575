"""What an accept loop does when ``accept()`` fails (``mcpws.lowlevel.Shortage``): what each
error calls for, and the warnings, at most one every ``warn_every`` seconds, on literal
clock values. A server that does run out of descriptors is in ``tests/drivers``."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator

import pytest

from mcpws import Server
from mcpws.lowlevel import REFUSAL, Remedy, Shortage, serve_options


@pytest.fixture
def shortage() -> Iterator[Shortage]:
    with Shortage(serve_options(Server("here"))) as shortage:
        yield shortage


def failed(code: int) -> OSError:
    return OSError(code, os.strerror(code))


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "mcpws" and r.levelname == "WARNING"
    ]


@pytest.mark.parametrize("code", [errno.ECONNABORTED, errno.EPROTO, errno.EPERM])
def test_a_connection_gone_before_it_was_taken_is_no_shortage(
    shortage: Shortage, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    assert shortage.accept_failed(failed(code), 0.0) is Remedy.AGAIN
    assert warnings(caplog) == []


@pytest.mark.parametrize("code", [errno.EBADF, errno.EINVAL, errno.ENOTSOCK])
def test_any_other_error_is_left_to_the_accept_loop_to_raise(shortage: Shortage, code: int) -> None:
    assert shortage.accept_failed(failed(code), 0.0) is None


@pytest.mark.parametrize("code", [errno.EMFILE, errno.ENFILE])
def test_out_of_descriptors_a_connection_is_refused(shortage: Shortage, code: int) -> None:
    assert shortage.accept_failed(failed(code), 0.0) is Remedy.REFUSE
    assert not shortage.exhausted()  # this process has descriptors to spare


@pytest.mark.parametrize("code", [errno.ENOBUFS, errno.ENOMEM])
def test_out_of_memory_the_accept_loop_pauses_and_says_so(
    shortage: Shortage, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    assert shortage.accept_failed(failed(code), 0.0) is Remedy.PAUSE
    (warning,) = warnings(caplog)
    assert warning.startswith(
        f"the system is short of memory for connections ({errno.errorcode[code]}: "
    )
    assert warning.endswith("with 0 connections open: new ones wait")


def test_a_refusal_is_the_503_a_full_server_answers() -> None:
    head, _, body = REFUSAL.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 503 Service Unavailable"
    assert {"retry-after: 1", "connection: close"} <= set(lines[1:])
    assert body == b"the server is out of file descriptors\n"


def test_refusals_are_counted_and_warned_of_once_every_warn_every_seconds(
    shortage: Shortage, caplog: pytest.LogCaptureFixture
) -> None:
    every = shortage.warn_every
    for now in (0.0, every / 2, every - 0.001, every, every + 1):
        assert shortage.accept_failed(failed(errno.EMFILE), now) is Remedy.REFUSE
        with shortage.refusing(now):
            pass
    assert shortage.refused == 5
    first, second = warnings(caplog)
    assert first.startswith(
        "out of file descriptors (EMFILE: Too many open files) with 0 connections open: "
        "new ones are answered 503 until some close (1 so far); raise the limit on open "
        "files (ulimit -n, now "
    )
    assert first.endswith("), or set max_connections below it")
    assert "until some close (4 so far)" in second


def test_out_of_the_systems_descriptors_the_warning_says_whose_limit_to_raise(
    shortage: Shortage, caplog: pytest.LogCaptureFixture
) -> None:
    shortage.accept_failed(failed(errno.ENFILE), 0.0)
    with shortage.refusing(0.0):
        pass
    (warning,) = warnings(caplog)
    assert warning.startswith("out of file descriptors (ENFILE: ")
    assert warning.endswith("the whole system is out of them: raise its limit on open files")


def test_with_no_descriptor_in_reserve_the_accept_loop_pauses_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_more(*_: object) -> int:
        raise failed(errno.EMFILE)

    monkeypatch.setattr(os, "open", no_more)
    with Shortage(serve_options(Server("here"))) as shortage:
        assert shortage.exhausted()
        assert shortage.accept_failed(failed(errno.EMFILE), 0.0) is Remedy.PAUSE
    (warning,) = warnings(caplog)
    assert ", and none in reserve to answer new ones with: they wait; " in warning


def test_the_reserve_is_taken_again_once_a_descriptor_is_free(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Out of descriptors even for the reserve, the accept loop pauses; once one is free
    again, it refuses again."""
    free = False
    real_open = os.open

    def scarce(path: str, flags: int) -> int:
        if not free:
            raise failed(errno.EMFILE)
        return real_open(path, flags)

    monkeypatch.setattr(os, "open", scarce)
    with Shortage(serve_options(Server("here"))) as shortage:
        assert shortage.accept_failed(failed(errno.EMFILE), 0.0) is Remedy.PAUSE
        free = True
        assert shortage.accept_failed(failed(errno.EMFILE), 1.0) is Remedy.REFUSE
