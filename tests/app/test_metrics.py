"""``mcpws.metrics.Metrics``, given the hooks' records directly: what each series counts,
and the labels a client cannot multiply. ``tests/test_cli.py`` scrapes a real server's."""

from __future__ import annotations

import prometheus_client
import pytest

from mcpws.app import ConnectionEnded, ConnectionInfo, RequestDone
from mcpws.core.connection import Traffic
from mcpws.metrics import Metrics

INFO = ConnectionInfo("127.0.0.1:5000", "/mcp", "mcp", None, None, 0.0)


def _value(registry: prometheus_client.CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    assert value is not None, f"no sample {name} {labels}"
    return value


def test_the_series_count_connections_requests_and_traffic() -> None:
    registry = prometheus_client.CollectorRegistry()
    metrics = Metrics(registry)
    for _ in range(3):
        metrics.connection_opened(INFO)
    assert _value(registry, "mcpws_connections_open") == 3
    metrics.request_done(INFO, RequestDone("tools/call", 1, 0.25, "result", None))
    metrics.request_done(INFO, RequestDone("tools/call", 2, 0.5, "error", -32602))
    metrics.request_done(INFO, RequestDone("x/vendor", 3, 0.1, "cancelled", None))
    metrics.request_done(INFO, RequestDone("y/another", 4, 0.1, "result", None))
    metrics.connection_closed(INFO, ConnectionEnded(1000, "", None, 1.0, Traffic(3, 4, 300, 400)))
    metrics.connection_closed(INFO, ConnectionEnded(None, "", None, 2.0, Traffic(1, 0, 100, 0)))
    assert _value(registry, "mcpws_connections_open") == 1
    assert _value(registry, "mcpws_connections_total", code="1000") == 1
    assert _value(registry, "mcpws_connections_total", code="none") == 1
    for outcome in ("result", "error"):
        assert _value(registry, "mcpws_requests_total", method="tools/call", outcome=outcome) == 1
    assert _value(registry, "mcpws_requests_total", method="other", outcome="cancelled") == 1
    assert _value(registry, "mcpws_requests_total", method="other", outcome="result") == 1
    count = "mcpws_request_duration_seconds_count"
    assert _value(registry, count, method="tools/call") == 2
    assert _value(registry, "mcpws_request_duration_seconds_sum", method="tools/call") == 0.75
    assert [
        _value(registry, f"mcpws_{name}_total")
        for name in ("received_messages", "sent_messages", "received_bytes", "sent_bytes")
    ] == [4, 4, 400, 400]


def test_a_registry_holds_one_set_of_series() -> None:
    registry = prometheus_client.CollectorRegistry()
    Metrics(registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Metrics(registry)
