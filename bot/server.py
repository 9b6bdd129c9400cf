"""`bot serve`: one aiohttp application for every platform.

Today it serves the health check; the Slack and LINE adapters mount their
routes here.
"""
from __future__ import annotations

import logging
import os

from aiohttp import web
from redis.exceptions import RedisError

from .config import Settings
from .runtime import open_engine

log = logging.getLogger(__name__)

ENGINE = web.AppKey("engine", object)


async def healthz(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    try:
        await engine.store.ping()
    except RedisError as exc:
        log.error("health check: redis unreachable: %r", exc)
        return web.json_response({"status": "error", "redis": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "redis": "ok"})


def build_app(engine) -> web.Application:
    app = web.Application()
    app[ENGINE] = engine
    app.router.add_get("/healthz", healthz)
    return app


def run_server(settings: Settings, *, port: int | None) -> int:
    port = port or int(os.environ.get("PORT") or 3000)

    async def app_factory() -> web.Application:
        context = open_engine(settings)
        engine = await context.__aenter__()
        app = build_app(engine)

        async def close(_: web.Application) -> None:
            await context.__aexit__(None, None, None)

        app.on_cleanup.append(close)
        return app

    web.run_app(app_factory(), port=port)
    return 0
