"""Who a client behind a reverse proxy is: ``Forwarded`` and ``X-Forwarded-*`` believed only
from trusted proxies, and only back to the last hop they do not trust."""

from __future__ import annotations

import pytest

from mcpws.app._proxies import Forwarded, Proxies

XFF = "x-forwarded-for"


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        pytest.param("127.0.0.1", [(XFF, "203.0.113.7")], Forwarded("203.0.113.7", None), id="one"),
        pytest.param("10.0.0.9", [(XFF, "203.0.113.7")], None, id="untrusted-peer"),
        pytest.param("127.0.0.1", [], None, id="nothing-said"),
        pytest.param(
            "127.0.0.1",
            [(XFF, "198.51.100.1, 203.0.113.7"), (XFF, "127.0.0.1")],
            Forwarded("203.0.113.7", None),
            id="forged-hop-before-the-client",
        ),
        pytest.param(
            "127.0.0.1",
            [(XFF, "127.0.0.1, ::1"), ("x-forwarded-proto", "https")],
            Forwarded("127.0.0.1", "https"),
            id="all-trusted",
        ),
        pytest.param(
            "::1",
            [("forwarded", 'for="[2001:db8::1]:4711";proto=https, for=127.0.0.1')],
            Forwarded("2001:db8::1", "https"),
            id="rfc-7239",
        ),
        pytest.param(
            "127.0.0.1",
            [("forwarded", "for=192.0.2.60:8080;by=x"), (XFF, "203.0.113.7")],
            Forwarded("192.0.2.60", None),
            id="forwarded-before-x-forwarded",
        ),
        pytest.param(
            "127.0.0.1",
            [("forwarded", 'for=_hidden;host="a;b"')],
            Forwarded("_hidden", None),
            id="obfuscated",
        ),
        pytest.param(None, [(XFF, "203.0.113.7")], Forwarded("203.0.113.7", None), id="unix"),
        pytest.param("not-an-ip", [(XFF, "203.0.113.7")], None, id="not-an-address"),
    ],
)
def test_the_client_a_trusted_proxy_forwards(
    peer: str | None, headers: list[tuple[str, str]], expected: Forwarded | None
) -> None:
    assert Proxies().forwarded(peer, headers) == expected


def test_networks_and_any_peer_can_be_trusted_and_bad_ones_are_refused() -> None:
    office = Proxies(["10.0.0.0/8"])
    assert office.trusts("10.1.2.3")
    assert not office.trusts("11.0.0.1")
    assert not office.trusts(None)  # no loopback address is trusted: nor a unix socket's peer
    assert Proxies(["*"]).forwarded("192.0.2.1", [(XFF, "10.0.0.1")]) == Forwarded("10.0.0.1", None)
    with pytest.raises(ValueError, match="an address or a network"):
        Proxies(["proxy.example"])
