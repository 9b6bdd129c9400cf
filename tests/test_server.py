"""`bot serve`: the health check on the real aiohttp application."""
from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot.runtime.server import build_app
from bot.runtime.startup import build_engine
from bot.store.conversations import Store, connect
from bot.store.keys import Keys


async def test_healthz_reports_redis(engine):
    async with TestClient(TestServer(build_app(engine))) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {"status": "ok", "redis": "ok", "undelivered": 0}


async def test_healthz_fails_when_redis_is_gone(content, clock):
    redis_client = connect("redis://127.0.0.1:1", timeout=0.5)
    try:
        engine = build_engine(content=content, store=Store(redis_client, Keys("x")), clock=clock)
        async with TestClient(TestServer(build_app(engine))) as client:
            response = await client.get("/healthz")
            assert response.status == 503
            assert (await response.json())["redis"] == "unreachable"
    finally:
        await redis_client.aclose(close_connection_pool=True)
