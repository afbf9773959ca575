"""The JSON-RPC codec and typed decoding, side by side with bare ``json.loads`` and the SDK.

Run ``python benchmarks/bench_codec.py``. When the official MCP Python SDK 2.x (the packages
``mcp`` and ``mcp-types``) is importable, its envelope validation (``jsonrpc_message_adapter.
validate_json``) and its typed validation (what its server does for a request and its client
for a result) run on the same bytes in the same process.

Two payloads, fixed: a ~200-byte ``tools/call`` request, and a response carrying a 1 MiB
``tools/call`` result (one text block of lines of prose, so JSON escapes occur as in real
tool output). Each figure is the median of several repeats.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from _timing import interleaved
from mcpws.core import jsonrpc, mcp

REVISION = "2025-11-25"

SMALL = (
    b'{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"get_weather",'
    b'"arguments":{"city":"San Francisco","units":"metric","days":3,"include_hourly":false},'
    b'"_meta":{"progressToken":"tok-0001"}}}'
)
_LINE = "The quick brown fox jumps over the lazy dog, 0123456789 times.\n"
_TEXT = (_LINE * ((1 << 20) // len(_LINE) + 1))[: 1 << 20]
LARGE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 42,
        "result": {"content": [{"type": "text", "text": _TEXT}], "isError": False},
    },
    separators=(",", ":"),
).encode()


def _mcpws_typed_request() -> Any:
    message = jsonrpc.decode(SMALL)
    assert isinstance(message, jsonrpc.Request)
    return mcp.decode_params(message.method, REVISION, message.params)


def _mcpws_typed_result() -> Any:
    message = jsonrpc.decode(LARGE)
    assert isinstance(message, jsonrpc.Response)
    return mcp.decode_result("tools/call", REVISION, message.result)


def _sdk_operations() -> dict[str, Callable[[], Any]]:
    """The SDK's validation paths, or nothing when the SDK is not installed."""
    try:
        import mcp_types
        from mcp_types import methods
    except ImportError:
        return {}
    adapter = mcp_types.jsonrpc_message_adapter

    def typed_request() -> Any:
        message = adapter.validate_json(SMALL, by_name=False)
        assert isinstance(message, mcp_types.JSONRPCRequest)
        methods.validate_client_request(message.method, REVISION, message.params)
        return mcp_types.CallToolRequestParams.model_validate(message.params or {}, by_name=False)

    def typed_result() -> Any:
        message = adapter.validate_json(LARGE, by_name=False)
        assert isinstance(message, mcp_types.JSONRPCResponse)
        return methods.parse_server_result("tools/call", REVISION, message.result)

    return {
        "small sdk envelope": lambda: adapter.validate_json(SMALL, by_name=False),
        "small sdk typed": typed_request,
        "large sdk envelope": lambda: adapter.validate_json(LARGE, by_name=False),
        "large sdk typed": typed_result,
    }


def measure(budget: float, rounds: int = 9) -> dict[str, float]:
    """Median seconds per call of each operation.

    The operations take turns, one timing each per round, so that drift in the machine's state
    (the allocator's, the CPU's) falls on all of them alike instead of on whichever ran last.
    """
    operations: dict[str, Callable[[], Any]] = {
        "small json.loads": lambda: json.loads(SMALL),
        "small mcpws decode": lambda: jsonrpc.decode(SMALL),
        "small mcpws typed": _mcpws_typed_request,
        "large json.loads": lambda: json.loads(LARGE),
        "large mcpws decode": lambda: jsonrpc.decode(LARGE),
        "large mcpws typed": _mcpws_typed_result,
        **_sdk_operations(),
    }
    return interleaved(operations, rounds=rounds, budget=budget)


def _ratio(line: str, value: float, target: float, higher_is_better: bool = True) -> str:
    met = value >= target if higher_is_better else value <= target
    sign = ">=" if higher_is_better else "<="
    return f"  {line:<58} {value:6.2f}x  (target {sign} {target}x: {'met' if met else 'MISSED'})"


def report(seconds: dict[str, float]) -> list[str]:
    lines = [f"Python {sys.version.split()[0]}; small request {len(SMALL)} B; large {len(LARGE)} B"]
    lines.append(f"  {'operation':<30} {'us/op':>12} {'MB/s':>10}")
    for name, value in seconds.items():
        size = len(SMALL) if name.startswith("small") else len(LARGE)
        lines.append(f"  {name:<30} {value * 1e6:12.2f} {size / value / 1e6:10.1f}")
    s = seconds
    lines.append("ratios:")
    lines.append(
        _ratio(
            "small decode cost / json.loads cost",
            s["small mcpws decode"] / s["small json.loads"],
            2.0,
            higher_is_better=False,
        )
    )
    lines.append(
        _ratio(
            "1 MiB decode throughput / json.loads throughput",
            s["large json.loads"] / s["large mcpws decode"],
            0.9,
        )
    )
    if "small sdk envelope" in s:
        lines.append(
            _ratio(
                "small decode speed-up over SDK envelope validation",
                s["small sdk envelope"] / s["small mcpws decode"],
                1.2,
            )
        )
        lines.append(
            _ratio(
                "small typed decode speed-up over SDK typed validation",
                s["small sdk typed"] / s["small mcpws typed"],
                1.5,
            )
        )
        lines.append(
            f"  1 MiB: decode {s['large sdk envelope'] / s['large mcpws decode']:.2f}x and typed"
            f" {s['large sdk typed'] / s['large mcpws typed']:.2f}x the SDK's speed"
        )
    else:
        lines.append("  (the official SDK, mcp>=2, is not installed: no SDK comparison)")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--budget", type=float, default=0.1, help="seconds per timing")
    args = parser.parse_args(argv)
    print("\n".join(report(measure(args.budget))))


if __name__ == "__main__":
    main()
