#!/usr/bin/env python3
"""Fuzz mcpws.core.jsonrpc.decode with atheris.

The invariant: whatever the bytes, decode returns envelopes or raises InvalidMessage with
code -32700 or -32600; and whatever it accepts, encode writes back so that decoding the text
again gives the same envelopes. Any other exception, or a broken invariant, is a finding.
The first byte chooses allow_batch (bit 0) and a prefix (bits 1 and 2) put before the rest
of the input: nothing, or the opening of a message, so that the fuzzer reaches the checks
that follow parsing without first having to invent ``{"jsonrpc":"2.0"``.

Run it (pytest does not collect this file: its name does not start with ``test_``)::

    python -m pip install atheris
    python tests/fuzz/fuzz_decode.py -max_total_time=60
"""

from __future__ import annotations

import atheris
from fuzzing import run

with atheris.instrument_imports(include=["mcpws"]):
    from mcpws.core import jsonrpc
    from mcpws.core.errors import InvalidMessage

#: libFuzzer's options for this harness, before those of the command line.
FLAGS = ("-max_len=4096", "-timeout=10")
_CODES = (jsonrpc.PARSE_ERROR, jsonrpc.INVALID_REQUEST)
_PREFIXES = (
    b"",
    b'{"jsonrpc":"2.0",',
    b'{"jsonrpc":"2.0","id":1,"method":"m","params":',
    b'[{"jsonrpc":"2.0","id":1,"method":"m"},{"jsonrpc":"2.0",',
)


def _check_reencodes(message: jsonrpc.Message) -> None:
    if jsonrpc.decode(jsonrpc.encode(message)) != message:
        raise AssertionError(f"{message!r} does not survive encode then decode")


def fuzz_one_input(data: bytes) -> None:
    if not data:
        return
    allow_batch = data[0] & 1 == 1
    message = _PREFIXES[data[0] >> 1 & 3] + data[1:]
    try:
        result = jsonrpc.decode(message, allow_batch=allow_batch)
    except InvalidMessage as exc:
        if exc.jsonrpc_code not in _CODES:
            raise AssertionError(f"unexpected code {exc.jsonrpc_code}") from exc
        if exc.id is not None and not jsonrpc.is_request_id(exc.id):
            raise AssertionError(f"unreadable id {exc.id!r} reported") from exc
        return
    if isinstance(result, list):
        if not allow_batch or not result:
            raise AssertionError(f"batch {result!r} returned where none is allowed")
        for item in result:
            if isinstance(item, InvalidMessage):
                if item.jsonrpc_code != jsonrpc.INVALID_REQUEST:
                    raise AssertionError(f"unexpected code in batch item {item!r}")
            else:
                _check_reencodes(item)
    else:
        _check_reencodes(result)


if __name__ == "__main__":
    run(fuzz_one_input, FLAGS)
