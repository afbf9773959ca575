"""``news_app``'s server as an ASGI application on the Redis bus that the environment
variable ``MCPWS_TEST_BUS`` names, for the tests that run replicas of it under real ASGI
servers: ``uvicorn asgi_news:app``, ``hypercorn -k trio asgi_news:app``."""

from __future__ import annotations

import os

from news_app import app as news

from mcpws.asgi import App
from mcpws.redis import RedisBus

app = App(news, bus=RedisBus(os.environ["MCPWS_TEST_BUS"]))
