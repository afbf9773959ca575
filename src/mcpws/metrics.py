"""Prometheus metrics of a server (``mcpws[metrics]``, on ``prometheus-client``).

:class:`Metrics` is a set of :class:`mcpws.app.Hooks` that counts what a server does:
``serve(app, hooks=[Metrics()])``, or ``mcpws serve --metrics PORT``, which also serves them
at ``http://127.0.0.1:PORT/metrics``. The series:

* ``mcpws_connections_open``: the connections open now;
* ``mcpws_connections_total{code}``: the connections closed, by WebSocket close code
  (``none``: the stream ended without a close frame);
* ``mcpws_requests_total{method,outcome}``: the client requests whose handler is done, by
  method (``other`` for the methods no revision of MCP defines, so that a client cannot
  make new series at will) and outcome (``result``, ``error``, ``cancelled``);
* ``mcpws_request_duration_seconds{method}``: how long their handlers took;
* ``mcpws_received_bytes_total``, ``mcpws_sent_bytes_total``,
  ``mcpws_received_messages_total``, ``mcpws_sent_messages_total``: what the connections
  carried, counted when each closes.

Several processes (``--workers``) share their figures through prometheus-client's
multiprocess mode: each writes them in the folder that ``PROMETHEUS_MULTIPROC_DIR`` names,
as it stands when ``prometheus_client`` is first imported, and :func:`start_server` with
*multiprocess* serves their sum.
"""

from __future__ import annotations

import os
from typing import Any

from mcpws.app import ConnectionEnded, ConnectionInfo, Hooks, RequestDone
from mcpws.core.mcp import is_extension

try:
    import prometheus_client
    from prometheus_client import multiprocess
except ImportError as exc:  # pragma: no cover - the extra is part of the test set-up
    raise ImportError(
        "mcpws.metrics needs prometheus-client: pip install 'mcpws[metrics]'"
    ) from exc

__all__ = ["Metrics", "process_ended", "start_server"]

#: The environment variable naming the folder of the multiprocess mode.
FOLDER_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class Metrics(Hooks):
    """The series of a server (see the module's docstring), in *registry* (by default
    prometheus-client's own, which ``start_server`` and other exporters serve). Make one
    per registry: a second in the same one is refused, as its names are taken."""

    def __init__(self, registry: Any = prometheus_client.REGISTRY) -> None:
        def counter(name: str, doc: str, *labels: str) -> Any:
            return prometheus_client.Counter(name, doc, labels, registry=registry)

        self.open = prometheus_client.Gauge(
            "mcpws_connections_open",
            "Connections open now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.connections = counter(
            "mcpws_connections", "Connections closed, by WebSocket close code.", "code"
        )
        self.requests = counter(
            "mcpws_requests",
            "Client requests answered, by method and outcome.",
            "method",
            "outcome",
        )
        self.duration = prometheus_client.Histogram(
            "mcpws_request_duration_seconds",
            "How long the handlers of client requests took.",
            ["method"],
            registry=registry,
        )
        self.bytes_in = counter("mcpws_received_bytes", "Bytes received, counted at each close.")
        self.bytes_out = counter("mcpws_sent_bytes", "Bytes sent, counted at each close.")
        self.messages_in = counter(
            "mcpws_received_messages", "Messages received, counted at each close."
        )
        self.messages_out = counter("mcpws_sent_messages", "Messages sent, counted at each close.")

    def connection_opened(self, connection: ConnectionInfo) -> None:
        self.open.inc()

    def connection_closed(self, connection: ConnectionInfo, ended: ConnectionEnded) -> None:
        self.open.dec()
        self.connections.labels("none" if ended.code is None else str(ended.code)).inc()
        traffic = ended.traffic
        self.bytes_in.inc(traffic.bytes_received)
        self.bytes_out.inc(traffic.bytes_sent)
        self.messages_in.inc(traffic.messages_received)
        self.messages_out.inc(traffic.messages_sent)

    def request_done(self, connection: ConnectionInfo, request: RequestDone) -> None:
        method = "other" if is_extension(request.method) else request.method
        self.requests.labels(method, request.outcome).inc()
        self.duration.labels(method).observe(request.duration)


def start_server(host: str, port: int, *, multiprocess_folder: str | None = None) -> Any:
    """Serve ``/metrics`` on *host*:*port* in a thread of its own: the series of this
    process, or with *multiprocess_folder*, the sum of those the processes writing there
    hold. The server, whose ``shutdown()`` stops it."""
    registry: Any = prometheus_client.REGISTRY
    if multiprocess_folder is not None:
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiprocess_folder)  # type: ignore[no-untyped-call]
    server, _thread = prometheus_client.start_http_server(port, host, registry=registry)
    return server


def process_ended(pid: int, folder: str) -> None:
    """Forget the live figures (the open connections) of the process *pid*, which ended,
    in the multiprocess *folder*; what it counted stays counted."""
    if os.path.isdir(folder):
        multiprocess.mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]
