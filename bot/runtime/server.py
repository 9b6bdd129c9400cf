"""`bot serve`: one aiohttp application for every platform.

Routes: GET /healthz; POST /slack/events (events, interactivity and slash
commands on one URL) and, for OAuth installs, GET /slack/install and
/slack/oauth_redirect; POST /line/callback; GET /images/{token}.png (and its
preview) for images LINE loads by URL; GET /documents/{token}.pdf for files LINE
users get as a link (a policy PDF; the link expires). A platform whose settings are
absent is not mounted.

A webhook goes through the same gates on both platforms, cheapest first, and hostile
input is answered 4xx (or 200 and a logged skip) at the first gate it fails: the body
is read up to MAX_BODY_BYTES (413 beyond); its signature is checked over the raw bytes
before anything decodes it; it must be UTF-8; its JSON is measured before it is parsed
(MAX_JSON_DEPTH, MAX_JSON_CONTAINERS; Slack forms MAX_FORM_BYTES, MAX_FORM_FIELDS; LINE
MAX_LINE_EVENTS); then the shapes the listeners rely on are checked
(`bot.adapters.slack.requests`, `_line_event_problem`). What passes every gate and still
fails is a bug, logged with its traceback.
"""
from __future__ import annotations

import asyncio
import base64
import gc
import hashlib
import hmac
import json
import logging
import os
import re
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from linebot.v3.webhooks import Event
from redis.exceptions import RedisError
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import build_normalized_headers, extract_content_type
from slack_sdk.signature import SignatureVerifier

from bot.adapters.line.document_store import DocumentStore
from bot.adapters.line.image_store import line_images
from bot.adapters.slack import requests as slack_requests
from bot.adapters.slack.adapter import JOBS as SLACK_JOBS
from bot.core.delivery import Delivery
from bot.core.engine import Engine
from bot.core.inbox_worker import InboxWorker
from bot.core.work_queue import WorkQueue
from bot.flows.learning.certificates import Status, certificates_of
from bot.flows.learning.verification_page import render_verification_page
from bot.flows.reminders.policy import ReminderPolicy
from bot.runtime.reminders import build_reminders, start_reminders
from bot.runtime.startup import certificate_secret, open_engine
from bot.settings import LineSettings, Settings, SlackSettings
from bot.store.conversations import STORE_ERRORS
from bot.store.display_names import DisplayNames
from bot.store.inbox import Inbox, Job

log = logging.getLogger(__name__)

ENGINE = web.AppKey("engine", Engine)
QUEUE = web.AppKey("queue", WorkQueue)
SLACK = web.AppKey("slack", object)  # bot.adapters.slack.SlackAdapter
LINE = web.AppKey("line", object)  # bot.adapters.line.LineAdapter
SLACK_VERIFIER = web.AppKey("slack_verifier", SignatureVerifier)
LINE_SECRET = web.AppKey("line_secret", bytes)
HTTP_SESSION = web.AppKey("http_session", aiohttp.ClientSession)
DELIVERY = web.AppKey("delivery", Delivery)
SWEEPER = web.AppKey("sweeper", asyncio.Task)
LINE_IMAGES = web.AppKey("line_images", object)  # bot.adapters.line.image_store.ImageStore
INBOX = web.AppKey("inbox", Inbox)
WORKER = web.AppKey("worker", InboxWorker)
REMINDERS = web.AppKey("reminders", object)  # bot.flows.reminders.tasks.Reminders, when they run here

MAX_BODY_BYTES = 1024 * 1024
# Real payloads nest about ten levels (Block Kit rich text in a message, a LINE event); deeper is
# refused before parsing, so neither the parser nor anything walking its result recurses far.
MAX_JSON_DEPTH = 64
# and carry at most a few thousand arrays and objects (50 blocks of a message, 100 of a view).
MAX_JSON_CONTAINERS = 20_000
# A Slack form (a slash command, or a click's JSON payload percent-encoded) is small: our own
# messages are a few kilobytes. Decoding percent escapes costs ~150 ms a megabyte, so forms are held
# to a quarter of that, in at most 100 fields.
MAX_FORM_BYTES = 256 * 1024
MAX_FORM_FIELDS = 100
# LINE puts a handful of events in one delivery; more than this is refused whole (400) rather than
# parsed (line-bot-sdk's models cost about 0.1 ms an event) and queued.
MAX_LINE_EVENTS = 100
RETRY_AFTER_SECONDS = "5"
# Jobs running at once. A job mostly waits (on Redis, on a platform's API, on a Retry-After), so
# this bounds waiting, not CPU: too few, and people whose replies are being retried hold up everyone.
JOB_WORKERS = 32
# On SIGTERM: this long for the jobs in hand to finish, then they are cancelled (uncommitted, left in
# the inbox for the next process), so a stop takes at most about twice this.
SHUTDOWN_GRACE_SECONDS = 5.0


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


class RawBodySignatureVerifier(SignatureVerifier):
    """slack_sdk's verifier, over the body's bytes as received: nothing decodes a body before its
    signature is known to be good (slack_sdk would decode it as UTF-8 first, and fail on other bytes)."""

    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str | None:
        if timestamp is None:
            return None
        raw = body if isinstance(body, bytes) else (body or "").encode()
        base = b"v0:" + timestamp.encode("ascii") + b":" + raw
        return "v0=" + hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()


def _slack_signed(request: web.Request, raw: bytes) -> bool:
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    # Header values are whatever the sender wrote: only ASCII digits make a timestamp (int("²") fails,
    # int() of thousands of digits fails) and hmac.compare_digest compares only ASCII strings.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if not (signature.isascii() and signature.startswith("v0=")):
        return False
    return request.app[SLACK_VERIFIER].is_valid(body=raw, timestamp=timestamp, signature=signature)


def _line_signed(secret: bytes, raw: bytes, signature: str) -> bool:
    """LINE's signature, over the body's bytes as received (line-bot-sdk's validator takes text)."""
    if not signature or not signature.isascii():
        return False
    expected = base64.b64encode(hmac.new(secret, raw, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.encode("ascii"))


_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_ONE_KIND_OF_BRACKET = str.maketrans("{}", "[]")


def json_shape_problem(text: str, *, depth: int = MAX_JSON_DEPTH, containers: int = MAX_JSON_CONTAINERS) -> str | None:
    """What makes JSON `text` too costly to parse and walk: nesting deeper than `depth`, more than
    `containers` arrays and objects, brackets that do not pair up; None when it is fine. Found
    without parsing, in time linear in the length (a few ms for a megabyte).

    Escaped backslashes and quotes are dropped, then what is inside quotes, then everything but
    brackets (plain string operations and one regex pass that cannot backtrack); then every
    innermost pair "[]" is removed, one nesting level per pass, at most `depth` passes over at most
    2 * `containers` characters.
    """
    if text.count("[") + text.count("{") <= depth:
        return None  # cannot nest deeper than it has brackets (those inside strings included)
    outside_strings = "".join(text.replace("\\\\", "").replace('\\"', "").split('"')[0::2])
    opened = outside_strings.count("[") + outside_strings.count("{")
    if opened <= depth:
        return None
    if opened > containers:
        return f"more than {containers} arrays and objects"
    brackets = _NOT_A_BRACKET.sub("", outside_strings).translate(_ONE_KIND_OF_BRACKET)
    for _ in range(depth):
        shorter = brackets.replace("[]", "")
        if not shorter:
            return None
        if len(shorter) == len(brackets):
            return "brackets that do not pair up"
        brackets = shorter
    return f"nesting deeper than {depth} levels"


def _refuse_slack(reason: str, size: int) -> web.Response:
    """A signed request Slack could not have sent: refused, and Slack asked not to retry it."""
    log.warning("slack: refused a signed request (%d bytes): %.300s", size, reason)
    return web.Response(status=400, text="malformed request", headers={"X-Slack-No-Retry": "1"})


async def slack_events(request: web.Request) -> web.Response:
    raw = await request.read()  # at most MAX_BODY_BYTES (client_max_size): a larger body is a 413
    if not _slack_signed(request, raw):
        log.warning("slack: rejected a request with a bad or stale signature from %s", request.remote)
        return web.Response(status=401, text="invalid signature")
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _refuse_slack("the body is not UTF-8", len(raw))
    headers = dict(request.headers)
    # Bolt's own reading of the headers, so that the body checked below is the body Bolt parses.
    content_type = extract_content_type(build_normalized_headers(headers))
    is_json = content_type == "application/json" or body.startswith("{")  # as Bolt decides (parse_body)
    if not is_json and len(raw) > MAX_FORM_BYTES:
        log.warning("slack: refused a signed form of %d bytes", len(raw))
        return web.Response(status=413, text="form too large", headers={"X-Slack-No-Retry": "1"})
    if not is_json and body.count("&") >= MAX_FORM_FIELDS:
        return _refuse_slack(f"a form with more than {MAX_FORM_FIELDS} fields", len(raw))
    json_text = body if is_json else dict(parse_qsl(body, keep_blank_values=True)).get("payload")
    problem = json_shape_problem(json_text) if json_text else None
    if problem:
        return _refuse_slack(f"JSON with {problem}", len(raw))
    try:
        # Bolt's own reading of the body (JSON or form, then the ids it looks up); none of our code
        # runs in it, so what fails here is the body.
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=headers)
    except Exception as exc:  # ValueError (not JSON), AttributeError (JSON but not an object), TypeError, ...
        return _refuse_slack(f"Bolt cannot read it: {exc!r}", len(raw))
    payload = bolt_request.body
    if not isinstance(payload, dict):
        return _refuse_slack("the body is not an object", len(raw))
    problem = slack_requests.malformed(payload, bolt_request.context)
    if problem:
        return _refuse_slack(problem, len(raw))
    skipped = slack_requests.incomplete(payload)
    if skipped:
        # Well formed, but nobody to answer: a 4xx would only bring it back (Slack retries non-2xx).
        log.warning("slack: skipping %s", skipped)
        return web.Response(status=200)
    unhandled = slack_requests.unhandled(payload)
    if unhandled:
        log.info("slack: not handled: %s", unhandled)
        return web.json_response({"error": "unhandled request"}, status=404)
    slack_requests.cut_long_text(payload)
    return await _dispatch_to_bolt(request, bolt_request)


async def _dispatch_to_bolt(request: web.Request, bolt_request: AsyncBoltRequest) -> web.Response:
    # The request passed every check of its shape: what still fails in here is a bug, logged with
    # its traceback (Bolt logs a failing listener itself and answers 500). Listeners only describe
    # the work; it is stored here, before Slack hears 200.
    jobs: list = []
    bolt_request.context[SLACK_JOBS] = jobs
    try:
        response = await request.app[SLACK].app.async_dispatch(bolt_request)
    except Exception:
        if not jobs:
            # No listener took it: Bolt's own handling of a request it has no listener for failed
            # (its log of an unhandled request reads fields of any shape). Nothing was acknowledged.
            log.warning("slack: a request no listener takes could not be handled by Bolt", exc_info=True)
            return web.json_response({"error": "unhandled request"}, status=404,
                                     headers={"X-Slack-No-Retry": "1"})
        log.exception("slack: bolt failed on a request")
        return web.Response(status=500, text="internal error")
    if jobs and not await _store_jobs(request.app, jobs):
        return _unavailable()
    return await to_aiohttp_response(response)


async def _store_jobs(app: web.Application, jobs: list[tuple[str, Job, str]]) -> bool:
    """Store a delivery's jobs in the inbox before the platform is answered; False when the store
    cannot take them (the platform is then told to try again, and nothing was acknowledged)."""
    by_tenant: dict[str, list[tuple[str, Job]]] = {}
    for dedupe_id, job, tenant in jobs:
        by_tenant.setdefault(tenant, []).append((dedupe_id, job))
    try:
        for tenant, tenant_jobs in by_tenant.items():
            # When another process reads this tenant's inbox, it is told in the same round trip.
            await app[INBOX].put(tenant, tenant_jobs, announce=not app[WORKER].owns(tenant))
    except STORE_ERRORS as exc:
        log.error("inbox unavailable: %d job(s) refused with 503 for the platform to retry: %r", len(jobs), exc)
        return False
    for tenant in by_tenant:
        app[WORKER].wake(tenant)
    return True


def _unavailable() -> web.Response:
    return web.Response(status=503, text="store unavailable", headers={"Retry-After": RETRY_AFTER_SECONDS})


async def slack_oauth(request: web.Request) -> web.Response:
    """The install link and OAuth redirect, handled by Bolt's OAuth flow (installations go to Redis)."""
    flow = request.app[SLACK].app.oauth_flow
    bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))
    if request.path == flow.install_path:
        response = await flow.handle_installation(bolt_request)
    else:
        response = await flow.handle_callback(bolt_request)
    return await to_aiohttp_response(response)


# A platform's id for a person, a channel or a workspace: short printable ASCII (LINE: U + 32 hex).
_PLATFORM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _is_platform_id(value: object) -> bool:
    return isinstance(value, str) and _PLATFORM_ID.fullmatch(value) is not None


def _line_event_problem(event: Event) -> str | None:
    """What makes a parsed LINE event unusable as a key or a record (its ids), or None."""
    user_id = getattr(getattr(event, "source", None), "user_id", None)
    if user_id is not None and not _is_platform_id(user_id):
        return "its userId is not an id"
    event_id = getattr(event, "webhook_event_id", None)
    if event_id is not None and not (len(event_id) <= 255 and event_id.isprintable()):
        return "its webhookEventId is not an id"
    return None


async def line_callback(request: web.Request) -> web.Response:
    raw = await request.read()  # at most MAX_BODY_BYTES (client_max_size): a larger body is a 413
    if not _line_signed(request.app[LINE_SECRET], raw, request.headers.get("X-Line-Signature", "")):
        log.warning("line: rejected a webhook with a bad signature from %s", request.remote)
        return web.Response(status=400, text="invalid signature")
    try:
        body = raw.decode("utf-8")
        problem = json_shape_problem(body)
        if problem:
            raise ValueError(f"JSON with {problem}")
        payload = json.loads(body)
        events = payload["events"]
        if not isinstance(events, list):
            raise ValueError("events is not a list")
        destination = payload.get("destination") or ""
        if not (destination == "" or _is_platform_id(destination)):
            raise ValueError("destination is not an id")
        if len(events) > MAX_LINE_EVENTS:
            raise ValueError(f"{len(events)} events in one delivery (at most {MAX_LINE_EVENTS})")
    except (ValueError, KeyError, TypeError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        log.warning("line: malformed webhook body (%d bytes): %.300s", len(raw), exc)
        return web.Response(status=400, text="malformed body")
    adapter = request.app[LINE]
    jobs = []
    for raw_event in events:
        try:
            event = Event.from_dict(raw_event)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            log.warning("line: skipping an event that does not parse: %.300s", exc)
            continue
        problem = _line_event_problem(event) if event is not None else None
        if problem:
            log.warning("line: skipping an event: %s", problem)
            continue
        job = adapter.job_for(event, destination) if event is not None else None
        if job is not None:
            jobs.append(job)
    # The whole delivery is stored, or none of it is acknowledged: LINE redelivers it.
    if jobs and not await _store_jobs(request.app, jobs):
        return _unavailable()
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
    try:
        data = await request.app[LINE_IMAGES].load(request.match_info["token"], variant)
    except STORE_ERRORS as exc:
        log.warning("image %s… not loaded: %r", request.match_info["token"][:6], exc)
        return web.Response(status=503, text="busy, try again", headers={"Retry-After": "1"})
    if data is None:
        return web.Response(status=404, text="not found")
    return web.Response(body=data, content_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


async def document(request: web.Request) -> web.Response:
    """A file LINE users get as a link (a policy PDF): 404 once its link has expired."""
    engine = request.app[ENGINE]
    found = await DocumentStore(engine.store.client, engine.store.keys).load(request.match_info["token"])
    if found is None:
        return web.Response(status=404, text="not found (the link may have expired)")
    return web.Response(body=found.body, content_type=found.media_type, headers={
        "Content-Disposition": f'inline; filename="{found.name}"', "Cache-Control": "private, no-store",
        "X-Robots-Tag": "noindex"})


def build_app(engine: Engine, *, slack: SlackSettings | None = None, line: LineSettings | None = None,
              workers: int = JOB_WORKERS, queue_capacity: int = 1000,
              reminders: ReminderPolicy | None = None, render_processes: int = 0) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[ENGINE] = engine
    app[QUEUE] = WorkQueue(workers=workers, capacity=queue_capacity)
    delivery = app[DELIVERY] = Delivery(engine, DisplayNames(engine.store.client, engine.store.keys))
    app[INBOX] = Inbox(engine.store.client, engine.store.keys)
    app[LINE_IMAGES] = line_images(engine)
    app[WORKER] = InboxWorker(app[INBOX], app[QUEUE])
    delivery.owns = app[WORKER].owns  # a tenant's outbox is swept by the holder of its lease
    app.router.add_get("/healthz", healthz)
    app.router.add_get(r"/certificates/{id:[A-Za-z0-9-]+}.png", certificate_image)
    app.router.add_get(r"/certificates/{id:[A-Za-z0-9-]+}", certificate_page)
    app.router.add_get(r"/images/{token:[A-Za-z0-9_-]+}.png", image)
    app.router.add_get(r"/images/{token:[A-Za-z0-9_-]+}/{variant:preview}.png", image)
    app.router.add_get(r"/documents/{token:[A-Za-z0-9_-]+}.pdf", document)

    async def start(app: web.Application) -> None:
        # Platform API calls share one HTTP session with a bounded connection pool.
        app[HTTP_SESSION] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
        engine.services.offload.start(render_processes)
        await app[QUEUE].start()
        app[SWEEPER] = asyncio.create_task(delivery.run_sweeper(), name="outbox-sweeper")
        if slack is not None:
            from bot.adapters.slack.adapter import SlackAdapter

            app[SLACK] = SlackAdapter(slack, engine=engine, session=app[HTTP_SESSION],
                                      delivery=delivery)
            app[SLACK].register_jobs(app[WORKER])
        if line is not None:
            from bot.adapters.line.adapter import LineAdapter

            app[LINE] = LineAdapter(line, engine=engine, delivery=delivery)
            app[LINE].register_jobs(app[WORKER])
        await app[WORKER].start()
        if reminders is not None:  # after the adapters: a reminder is sent through them
            app[REMINDERS] = build_reminders(engine, reminders, delivery)
            await start_reminders(app[REMINDERS])
        # What start-up built (content, the model, the SDKs' classes) lives as long as the process:
        # out of the collector's sight, a full collection no longer walks it on the event loop.
        gc.collect()
        gc.freeze()

    async def stop(app: web.Application) -> None:
        if reminders is not None:  # a task cut short stays leased and runs again elsewhere
            await app[REMINDERS].scheduler.stop()
        await app[WORKER].stop()  # no new jobs started; unstarted ones stay in the inbox
        app[SWEEPER].cancel()
        await asyncio.gather(app[SWEEPER], return_exceptions=True)
        await app[QUEUE].stop(timeout=SHUTDOWN_GRACE_SECONDS)
        await app[HTTP_SESSION].close()
        engine.services.offload.close()
        if line is not None:
            await app[LINE].close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    if slack is not None:
        app[SLACK_VERIFIER] = RawBodySignatureVerifier(slack.signing_secret)
        app.router.add_post("/slack/events", slack_events)
        if slack.uses_oauth:
            app.router.add_get("/slack/install", slack_oauth)
            app.router.add_get("/slack/oauth_redirect", slack_oauth)
    if line is not None:
        app[LINE_SECRET] = line.channel_secret.encode()
        app.router.add_post("/line/callback", line_callback)
    return app


def run_server(settings: Settings, *, port: int | None) -> int:
    port = port or int(os.environ.get("PORT") or 3000)
    slack = SlackSettings.from_env()
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        # Empty means unset to us; Bolt reads the environment itself and would switch to OAuth.
        if os.environ.get(name) == "":
            del os.environ[name]
    line = LineSettings.from_env()
    certificate_secret(settings, server=True)  # stop now, with a clear message, if BOT_SECRET is missing

    async def app_factory() -> web.Application:
        context = open_engine(settings, server=True)
        engine = await context.__aenter__()
        app = build_app(engine, slack=slack, line=line,
                        reminders=ReminderPolicy.from_settings(settings) if settings.reminders else None,
                        render_processes=settings.render_processes)

        async def close(_: web.Application) -> None:
            await context.__aexit__(None, None, None)

        app.on_cleanup.append(close)
        mounted = [name for name, on in (("slack", slack), ("line", line)) if on]
        log.info("serving on port %d; platforms: %s", port,
                 ", ".join(mounted) or "none (set SLACK_* or LINE_* to mount one)")
        return app

    web.run_app(app_factory(), port=port, print=None, shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
                access_log=web.access_logger if settings.access_log else None)
    return 0
