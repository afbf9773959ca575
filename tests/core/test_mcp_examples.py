"""Every official example of MCP revision 2026-07-28 decodes into its typed class and re-encodes
to an equal JSON value.

The examples are read from ``../shared/mcp-schema/2026-07-28/examples/<Definition>/*.json``.
An example is one of: a structure named by its folder (decoded with that class), a whole
JSON-RPC message (decoded with :func:`jsonrpc.decode`, then its params or result through the
method table), a bare error object, or one of the two maps of input requests and responses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcpws.core import jsonrpc, mcp

REVISION = "2026-07-28"
EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "mcp-schema" / REVISION / "examples"

if not EXAMPLES.is_dir():
    pytest.skip(
        f"the official MCP examples are not beside the repository ({EXAMPLES} is missing)",
        allow_module_level=True,
    )

CASES = sorted((path.parent.name, path) for path in EXAMPLES.glob("*/*.json"))


def _method_answered_by(result_class: str) -> str:
    """The method whose result class is named *result_class* in this revision."""
    (method,) = (
        spec.method
        for spec in mcp.methods_of(REVISION, kind=mcp.Kind.REQUEST)
        if spec.result is not None and spec.result.__name__ == result_class
    )
    return method


def _round_trip_message(definition: str, value: dict[str, Any]) -> None:
    message = jsonrpc.decode(json.dumps(value))
    assert json.loads(jsonrpc.encode(message)) == value  # type: ignore[arg-type]
    if isinstance(message, jsonrpc.Request | jsonrpc.Notification):
        params = mcp.decode_params(message.method, REVISION, message.params)
        assert params.to_json() == (message.params or {})
    elif isinstance(message, jsonrpc.Response):
        method = _method_answered_by(definition.removesuffix("Response"))
        result = mcp.decode_result(method, REVISION, message.result)
        assert result.to_json() == message.result
    else:
        assert isinstance(message, jsonrpc.ErrorResponse)
        data_types: dict[int, type[mcp.Model]] = {
            mcp.UNSUPPORTED_PROTOCOL_VERSION: mcp.UnsupportedProtocolVersionData,
            mcp.MISSING_REQUIRED_CLIENT_CAPABILITY: mcp.MissingRequiredClientCapabilityData,
        }
        data_type = data_types.get(message.error.code)
        if data_type is not None:
            assert data_type.from_json(message.error.data).to_json() == message.error.data


@pytest.mark.parametrize(("definition", "path"), CASES, ids=[f"{d}/{p.name}" for d, p in CASES])
def test_official_example_round_trips(definition: str, path: Path) -> None:
    value = json.loads(path.read_text(encoding="utf-8"))
    model = getattr(mcp, definition, None)
    if isinstance(model, type) and issubclass(model, mcp.Model):
        decoded = model.from_json(value)
        assert isinstance(decoded, model)
        assert decoded.to_json() == value
    elif "jsonrpc" in value:
        _round_trip_message(definition, value)
    elif definition == "InputRequests":
        result = mcp.InputRequiredResult.from_json({"inputRequests": value})
        assert result.input_requests is not None
        assert {k: v.to_json() for k, v in result.input_requests.items()} == value
    elif definition == "InputResponses":
        params = mcp.CallToolRequestParams.from_json({"name": "t", "inputResponses": value})
        assert params.input_responses is not None
        assert {k: v.to_json() for k, v in params.input_responses.items()} == value
    else:
        assert definition.endswith("Error"), definition
        body = jsonrpc.ErrorObject(value["code"], value["message"], value.get("data"))
        error = jsonrpc.ErrorResponse(None, body)
        assert json.loads(jsonrpc.encode(error))["error"] == value


def test_every_example_folder_is_covered() -> None:
    assert len(CASES) >= 120
    assert len({definition for definition, _ in CASES}) >= 80
