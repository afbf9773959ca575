"""An echo client on mcpws.core.websocket for Autobahn|Testsuite's ``fuzzingserver`` mode.

It is a tool, not a test (see README.md here). It follows the fuzzing server's protocol: it
asks ``/getCaseCount``, connects to ``/runCase?case=N&agent=AGENT`` for each case and sends
back every message it receives, then asks ``/updateReports?agent=AGENT`` so that the server
writes the report. Run it against ``wstest -m fuzzingserver -s fuzzingserver.json``::

    python tests/compliance/echo_client.py --url ws://127.0.0.1:9002

``--cases 1-100`` runs a range of case numbers only.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

from echo_server import config, drive, echo

from mcpws.core.websocket import TextReceived, WebSocketClient, WebSocketEvent


def connect(url: str, compression: bool = True) -> tuple[WebSocketClient, socket.socket]:
    """A client core for *url* and a socket connected to its host."""
    client = WebSocketClient(url, time.monotonic(), config=config(compression))
    sock = socket.create_connection((client.host, client.port), timeout=10.0)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client, sock


def case_count(base: str) -> int:
    """Ask the fuzzing server how many cases it has."""
    client, sock = connect(f"{base}/getCaseCount")
    texts: list[str] = []

    def handle(event: WebSocketEvent) -> None:
        if isinstance(event, TextReceived):
            texts.append(event.text)

    drive(client, sock, handle)
    return int(texts[0])


def run_case(base: str, case: int, agent: str, compression: bool) -> None:
    """Echo whatever the fuzzing server sends in case number *case*."""
    client, sock = connect(f"{base}/runCase?case={case}&agent={agent}", compression)
    drive(client, sock, echo(client))


def update_reports(base: str, agent: str) -> None:
    """Ask the fuzzing server to write the report of *agent*."""
    client, sock = connect(f"{base}/updateReports?agent={agent}")
    drive(client, sock, lambda _: None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="ws://127.0.0.1:9002", help="the fuzzing server")
    parser.add_argument("--agent", default="mcpws", help="the name in the report")
    parser.add_argument("--cases", help="a range of case numbers, FIRST-LAST (default: all)")
    parser.add_argument("--no-compression", action="store_true", help="do not offer deflate")
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    count = case_count(base)
    first, last = 1, count
    if args.cases:
        low, _, high = args.cases.partition("-")
        first, last = int(low), min(count, int(high or low))
    print(f"{count} cases; running {first} to {last}", flush=True)
    for case in range(first, last + 1):
        print(f"case {case}/{count}", end="\r", file=sys.stderr, flush=True)
        run_case(base, case, args.agent, not args.no_compression)
    update_reports(base, args.agent)
    print("reports updated", flush=True)


if __name__ == "__main__":
    main()
