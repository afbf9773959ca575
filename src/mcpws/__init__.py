"""mcpws: the Model Context Protocol over WebSocket.

``mcpws.core`` is the sans-IO core; :class:`Server` and :class:`Client` (from :mod:`mcpws.app`)
are the high-level API; ``mcpws.trio`` runs them over real connections. Importing
``mcpws`` loads no event loop.
"""

import logging

from mcpws._version import __version__ as __version__
from mcpws.app import Client as Client, Context as Context, McpError as McpError, Server as Server

__all__ = ["Client", "Context", "McpError", "Server", "__version__"]

logging.getLogger("mcpws").addHandler(logging.NullHandler())
