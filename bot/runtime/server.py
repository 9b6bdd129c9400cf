"""`bot serve`: one aiohttp application for every platform.

Routes: GET /healthz; POST /slack/events (events, interactivity and slash
commands on one URL) and, for OAuth installs, GET /slack/install and
/slack/oauth_redirect; POST /line/callback; GET /images/{token}.png (and its
preview) for images LINE loads by URL. A platform whose settings are absent is
not mounted.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
from linebot.v3.webhook import SignatureValidator
from linebot.v3.webhooks import Event
from redis.exceptions import RedisError
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.adapters.line.image_store import ImageStore
from bot.core.delivery import Delivery
from bot.core.engine import Engine
from bot.core.work_queue import WorkQueue
from bot.flows.learning.certificates import Status, certificates_of
from bot.flows.learning.verification_page import render_verification_page
from bot.runtime.startup import certificate_secret, open_engine
from bot.settings import LineSettings, Settings, SlackSettings
from bot.store.display_names import DisplayNames

log = logging.getLogger(__name__)

ENGINE = web.AppKey("engine", Engine)
QUEUE = web.AppKey("queue", WorkQueue)
SLACK = web.AppKey("slack", object)  # bot.adapters.slack.SlackAdapter
LINE = web.AppKey("line", object)  # bot.adapters.line.LineAdapter
SLACK_VERIFIER = web.AppKey("slack_verifier", SignatureVerifier)
LINE_VALIDATOR = web.AppKey("line_validator", SignatureValidator)
HTTP_SESSION = web.AppKey("http_session", aiohttp.ClientSession)
DELIVERY = web.AppKey("delivery", Delivery)
SWEEPER = web.AppKey("sweeper", asyncio.Task)

MAX_BODY_BYTES = 1024 * 1024
RETRY_AFTER_SECONDS = "5"


async def healthz(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    try:
        await engine.store.ping()
        undelivered = int(await engine.store.client.get(engine.store.keys.undelivered()) or 0)
    except RedisError as exc:
        log.error("health check: redis unreachable: %r", exc)
        return web.json_response({"status": "error", "redis": "unreachable"}, status=503)
    # `undelivered`: outbox entries given up on since the store was created (see the log for which).
    return web.json_response({"status": "ok", "redis": "ok", "undelivered": undelivered})


def _well_formed_slack_body(body: str, content_type: str) -> bool:
    """Whether a signed Slack body is something Bolt can parse (JSON object or form fields)."""
    try:
        if content_type == "application/json":
            return isinstance(json.loads(body), dict)
        fields = parse_qs(body, strict_parsing=True)
        if "payload" in fields:
            return isinstance(json.loads(fields["payload"][0]), dict)
        return "command" in fields or "ssl_check" in fields
    except ValueError:
        return False


async def slack_events(request: web.Request) -> web.Response:
    raw = await request.read()
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    verifier = request.app[SLACK_VERIFIER]
    if not (timestamp.isdigit() and signature and verifier.is_valid(body=raw, timestamp=timestamp,
                                                                      signature=signature)):
        log.warning("slack: rejected a request with a bad or stale signature from %s", request.remote)
        return web.Response(status=401, text="invalid signature")
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return web.Response(status=400, text="body is not UTF-8")
    if not _well_formed_slack_body(body, request.content_type):
        log.warning("slack: malformed %s body (%d bytes)", request.content_type, len(raw))
        return web.Response(status=400, text="malformed body")
    if request.app[QUEUE].full:
        return web.Response(status=503, text="busy", headers={"Retry-After": RETRY_AFTER_SECONDS})
    return await _dispatch_to_bolt(request, body)


async def _dispatch_to_bolt(request: web.Request, body: str) -> web.Response:
    bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=dict(request.headers))
    try:
        response = await request.app[SLACK].app.async_dispatch(bolt_request)
    except Exception:
        log.exception("slack: bolt failed on a request")
        return web.Response(status=500, text="internal error")
    return await to_aiohttp_response(response)


async def slack_oauth(request: web.Request) -> web.Response:
    """The install link and OAuth redirect, handled by Bolt's OAuth flow (installations go to Redis)."""
    flow = request.app[SLACK].app.oauth_flow
    bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))
    if request.path == flow.install_path:
        response = await flow.handle_installation(bolt_request)
    else:
        response = await flow.handle_callback(bolt_request)
    return await to_aiohttp_response(response)


async def line_callback(request: web.Request) -> web.Response:
    raw = await request.read()
    signature = request.headers.get("X-Line-Signature", "")
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        body = ""
    if not signature or not request.app[LINE_VALIDATOR].validate(body, signature):
        log.warning("line: rejected a webhook with a bad signature from %s", request.remote)
        return web.Response(status=400, text="invalid signature")
    try:
        payload = json.loads(body)
        events = payload["events"]
        if not isinstance(events, list):
            raise ValueError("events is not a list")
        destination = str(payload.get("destination") or "")
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("line: malformed webhook body: %s", exc)
        return web.Response(status=400, text="malformed body")
    if len(events) > request.app[QUEUE].room():
        # Refuse the whole delivery rather than accept part of it: LINE can redeliver it.
        return web.Response(status=503, text="busy", headers={"Retry-After": RETRY_AFTER_SECONDS})
    adapter = request.app[LINE]
    for raw_event in events:
        try:
            event = Event.from_dict(raw_event)
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("line: skipping an event that does not parse: %s", exc)
            continue
        if event is None or not adapter.accept(event, destination):
            continue
    return web.json_response({})


async def certificate_page(request: web.Request) -> web.Response:
    certificates = certificates_of(request.app[ENGINE])
    verdict = await certificates.verify_id(request.match_info["id"])
    texts = request.app[ENGINE].content.texts
    status = 200 if verdict.status is Status.VALID else 404 if verdict.status is Status.UNKNOWN else 410
    return web.Response(text=render_verification_page(verdict, request.match_info["id"], texts),
                        content_type="text/html", charset="utf-8", status=status)


async def certificate_image(request: web.Request) -> web.Response:
    certificates = certificates_of(request.app[ENGINE])
    verdict = await certificates.verify_id(request.match_info["id"])
    png = await certificates.png(verdict.record.serial) if verdict.status is Status.VALID else None
    if png is None:
        return web.Response(status=404, text="not found")
    return web.Response(body=png, content_type="image/png")


async def image(request: web.Request) -> web.Response:
    variant = "preview" if request.match_info.get("variant") == "preview" else "original"
    data = await ImageStore(request.app[ENGINE].store.client, request.app[ENGINE].store.keys).load(
        request.match_info["token"], variant)
    if data is None:
        return web.Response(status=404, text="not found")
    return web.Response(body=data, content_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


def build_app(engine: Engine, *, slack: SlackSettings | None = None, line: LineSettings | None = None,
              workers: int = 16, queue_capacity: int = 1000) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[ENGINE] = engine
    app[QUEUE] = WorkQueue(workers=workers, capacity=queue_capacity)
    delivery = app[DELIVERY] = Delivery(engine, DisplayNames(engine.store.client, engine.store.keys))
    app.router.add_get("/healthz", healthz)
    app.router.add_get(r"/certificates/{id:[A-Za-z0-9-]+}.png", certificate_image)
    app.router.add_get(r"/certificates/{id:[A-Za-z0-9-]+}", certificate_page)
    app.router.add_get(r"/images/{token:[A-Za-z0-9_-]+}.png", image)
    app.router.add_get(r"/images/{token:[A-Za-z0-9_-]+}/{variant:preview}.png", image)

    async def start(app: web.Application) -> None:
        # Platform API calls share one HTTP session with a bounded connection pool.
        app[HTTP_SESSION] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
        await app[QUEUE].start()
        app[SWEEPER] = asyncio.create_task(delivery.run_sweeper(), name="outbox-sweeper")
        if slack is not None:
            from bot.adapters.slack.adapter import SlackAdapter

            app[SLACK] = SlackAdapter(slack, engine=engine, queue=app[QUEUE], session=app[HTTP_SESSION],
                                      delivery=delivery)
        if line is not None:
            from bot.adapters.line.adapter import LineAdapter

            app[LINE] = LineAdapter(line, engine=engine, queue=app[QUEUE], delivery=delivery)

    async def stop(app: web.Application) -> None:
        app[SWEEPER].cancel()
        await asyncio.gather(app[SWEEPER], return_exceptions=True)
        await app[QUEUE].stop()
        await app[HTTP_SESSION].close()
        if line is not None:
            await app[LINE].close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    if slack is not None:
        app[SLACK_VERIFIER] = SignatureVerifier(slack.signing_secret)
        app.router.add_post("/slack/events", slack_events)
        if slack.uses_oauth:
            app.router.add_get("/slack/install", slack_oauth)
            app.router.add_get("/slack/oauth_redirect", slack_oauth)
    if line is not None:
        app[LINE_VALIDATOR] = SignatureValidator(line.channel_secret)
        app.router.add_post("/line/callback", line_callback)
    return app


def run_server(settings: Settings, *, port: int | None) -> int:
    port = port or int(os.environ.get("PORT") or 3000)
    slack = SlackSettings.from_env()
    line = LineSettings.from_env()
    certificate_secret(settings, server=True)  # stop now, with a clear message, if BOT_SECRET is missing

    async def app_factory() -> web.Application:
        context = open_engine(settings, server=True)
        engine = await context.__aenter__()
        app = build_app(engine, slack=slack, line=line)

        async def close(_: web.Application) -> None:
            await context.__aexit__(None, None, None)

        app.on_cleanup.append(close)
        mounted = [name for name, on in (("slack", slack), ("line", line)) if on]
        log.info("serving on port %d; platforms: %s", port,
                 ", ".join(mounted) or "none (set SLACK_* or LINE_* to mount one)")
        return app

    web.run_app(app_factory(), port=port, print=None)
    return 0
