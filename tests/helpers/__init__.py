"""What the tests share: the pairs of drivers and their clocks (:mod:`helpers.pairs`), a third
driver (:mod:`helpers.anyio_driver`), raw sockets and proxies (:mod:`helpers.network`), the
interoperability peers (:mod:`helpers.peers`), the official schemas (:mod:`helpers.schemas`),
pairs of cores joined by a pump (:mod:`helpers.sessionpair`, :mod:`helpers.wspair`), a
hand-written server (:mod:`helpers.vendor_server`), a server with few file descriptors
(:mod:`helpers.descriptors`) and a census of what the process holds (:mod:`helpers.census`).

Not collected (pytest collects ``test_*.py`` only); the tests import it as ``helpers`` from
the ``tests`` directory, which the pytest configuration puts on ``sys.path``.
"""
