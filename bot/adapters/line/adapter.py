"""LINE: translate between the Messaging API (line-bot-sdk v3, async) and the engine.

Each webhook event becomes a job, stored in the inbox before LINE hears 200 and
run by the inbox worker (one person's in order) through the shared `Delivery`. This module implements
the delivery `Outlet` for LINE: replies go with the event's reply token while
it is fresh (it is single-use and good for about a minute); later, or if the
reply is refused, they go as push messages with a retry key derived from the
delivery's seed (the webhook event id), so a retried push is never delivered
twice.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from typing import TYPE_CHECKING, Any, Sequence

import aiohttp
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
)
from linebot.v3.messaging.exceptions import ApiException
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)

from bot.adapters.line import messages as line_messages
from bot.adapters.line.document_store import (
    DOCUMENT_TTL_SECONDS,
    DocumentStore,
    document_url,
)
from bot.adapters.line.image_store import image_urls, line_images
from bot.core.delivery import Delivery, SendFailed
from bot.core.engine import Engine
from bot.core.events import Destination, IncomingEvent
from bot.core.replies import Document, Image, Reply
from bot.settings import LineSettings
from bot.store.inbox import Job
from bot.store.keys import ConversationKey

if TYPE_CHECKING:
    from bot.core.inbox_worker import InboxWorker

log = logging.getLogger(__name__)

PLATFORM = "line"
API_HOST = "https://api.line.me"
DATA_API_HOST = "https://api-data.line.me"
REPLY_TOKEN_FRESH_SECONDS = 50  # LINE accepts a reply token for about a minute
PUSH_ATTEMPTS = 3
CLOCK_MARGIN_SECONDS = 1.0  # how far our clock may run ahead of LINE's
REQUEST_TIMEOUT_SECONDS = 10  # the SDK's default would hold a worker for minutes
EVENT_JOB, FORGET_JOB = "line.event", "line.forget"
REPLY_PATH, PUSH_PATH = "/v2/bot/message/reply", "/v2/bot/message/push"
# As line-bot-sdk's reply_message / push_message deserialise the answers.
_MESSAGE_RESPONSES = {"200": "object", "400": "ErrorResponse", "403": "ErrorResponse", "409": "ErrorResponse",
                      "429": "ErrorResponse"}
_RETRY_KEYS = uuid.UUID("6f1c2a8e-3d4b-4e55-9a61-0c7d8e9f1a2b")


def retry_key(*parts: object) -> str:
    """The same delivery always gets the same key, so LINE refuses a second copy (409)."""
    return str(uuid.uuid5(_RETRY_KEYS, ":".join(str(p) for p in parts)))


def _images_in(replies: list[Reply]) -> list[Image]:
    return [r for r in replies if isinstance(r, Image)]


_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                    "NETRC")


def _skip_environment_lookups(client: AsyncApiClient) -> None:
    """line-bot-sdk's aiohttp session trusts the environment: before every request it looks for
    a proxy and a .netrc entry, each in a thread of its own (two thread hops a message, an eighth
    of the CPU per LINE message). Where the environment names no proxy, it need not look."""
    if any(os.environ.get(name) for name in _PROXY_VARIABLES):
        return
    session = client.rest_client.pool_manager
    if hasattr(session, "_trust_env"):  # aiohttp's, read on each request; no public setter
        session._trust_env = False


class LineAdapter:
    def __init__(self, settings: LineSettings, *, engine: Engine, delivery: Delivery):
        self.settings = settings
        self.engine = engine
        self.delivery = delivery
        self._api_client = AsyncApiClient(Configuration(host=settings.api_url or API_HOST,
                                                        access_token=settings.access_token))
        self._blob_client = AsyncApiClient(Configuration(host=settings.api_url or DATA_API_HOST,
                                                         access_token=settings.access_token))
        for client in (self._api_client, self._blob_client):
            _skip_environment_lookups(client)
        self.api = AsyncMessagingApi(self._api_client)
        self.blob = AsyncMessagingApiBlob(self._blob_client)
        self.images = line_images(engine)
        self.documents = DocumentStore(engine.store.client, engine.store.keys)
        delivery.register(PLATFORM, self)

    async def close(self) -> None:
        await self._api_client.close()
        await self._blob_client.close()

    # --- inbound ----------------------------------------------------------

    def register_jobs(self, worker: "InboxWorker") -> None:
        worker.register(EVENT_JOB, self._run_event)
        worker.register(FORGET_JOB, self._run_forget)

    def job_for(self, event: Event, destination: str) -> tuple[str, Job, str] | None:
        """The job one webhook event asks for, to be stored before LINE is answered: (dedupe id, job,
        tenant); None for what the bot ignores."""
        source = getattr(event, "source", None)
        user_id = getattr(source, "user_id", None)
        if user_id is None or getattr(source, "type", "user") != "user":
            log.info("line: ignoring %s from a %s", event.type, getattr(source, "type", "?"))
            return None
        who = ConversationKey(PLATFORM, destination or "-", user_id)
        event_id = getattr(event, "webhook_event_id", None) or ""
        if isinstance(event, UnfollowEvent):
            job = Job(FORGET_JOB, {"who": [who.platform, who.workspace, who.user]}, order_key=str(who))
            return event_id, job, who.tenant
        incoming = self._incoming(event, who, event_id or None)
        if incoming is None:
            log.info("line: ignoring a %s event", event.type)
            return None
        reply_to = Destination(PLATFORM, who.workspace, user_id, reply_token=getattr(event, "reply_token", None),
                               received_at=(event.timestamp or 0) / 1000)
        job = Job(EVENT_JOB, {"event": incoming.to_dict(), "to": reply_to.to_dict()}, order_key=str(who))
        return event_id, job, who.tenant

    async def _run_event(self, payload: dict) -> None:
        await self.delivery.handle(IncomingEvent.from_dict(payload["event"]), Destination.from_dict(payload["to"]))

    async def _run_forget(self, payload: dict) -> None:
        await self.engine.store.forget(ConversationKey(*payload["who"]))

    @staticmethod
    def _incoming(event: Event, who: ConversationKey, event_id: str | None) -> IncomingEvent | None:
        if isinstance(event, FollowEvent):
            return IncomingEvent.start(who, event_id=event_id)
        if isinstance(event, PostbackEvent):
            return IncomingEvent.choice(who, event.postback.data, event_id=event_id)
        if isinstance(event, MessageEvent):
            # A sticker or photo is not understood as text: the flow answers with its hint.
            text = event.message.text if isinstance(event.message, TextMessageContent) else ""
            sent_at = event.timestamp / 1000 if isinstance(event.timestamp, int) and event.timestamp > 0 else 0.0
            return IncomingEvent.message(who, text, event_id=event_id, sent_at=sent_at)
        return None

    # --- the delivery outlet ------------------------------------------------

    async def display_name(self, who: ConversationKey) -> str | None:
        try:
            return (await self.api.get_profile(who.user, _request_timeout=REQUEST_TIMEOUT_SECONDS)).display_name
        except ApiException as exc:
            log.warning("line: profile of %s not available: %s", who, exc.status)
            return None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("line: profile of %s not available: %r", who, exc)
            return None

    async def send(self, to: Destination, replies: Sequence[Reply], *, seed: str,
                   resend: bool = False) -> float | None:
        # Every push carries a retry key made from the seed, so LINE itself refuses a second copy
        # (409): a resend needs no look. A reply token is used once, on the first try only.
        messages = await self._messages(list(replies))
        # LINE does not say when a message was shown: the moment it was handed over, less a margin for
        # the difference between our clock and LINE's (its event timestamps).
        on_screen_at = time.time() - CLOCK_MARGIN_SECONDS
        for index, batch in enumerate(line_messages.batches(messages)):
            fresh = to.reply_token and time.time() - to.received_at < REPLY_TOKEN_FRESH_SECONDS
            if index == 0 and fresh and not resend:
                try:
                    await self._post_messages(REPLY_PATH, {"replyToken": to.reply_token, "messages": batch})
                    continue
                except ApiException as exc:
                    log.warning("line: reply refused (%s %s); pushing instead", exc.status, exc.body)
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    log.warning("line: reply failed (%r); pushing instead", exc)
            await self._push(to.address, batch, key=retry_key(seed, to.address, index))
        return on_screen_at

    async def _messages(self, replies: list[Reply]) -> list[dict[str, Any]]:
        urls = {}
        for image in _images_in(replies):  # drawn when LINE fetches them (image_store)
            token = await self.images.save(image)
            urls[image.name] = image_urls(self.settings.public_url, token)
        links = {}
        for document in (r for r in replies if isinstance(r, Document)):
            # LINE cannot send a PDF in a chat: a link to it on this server, for a week.
            body = await self.engine.render_document(document)
            token = await self.documents.save(body, name=document.name, media_type=document.media_type)
            links[document.name] = self.engine.content.texts.render(
                "line.document_link", title=document.title, url=document_url(self.settings.public_url, token),
                days=DOCUMENT_TTL_SECONDS // 86400)
        return line_messages.render(replies, urls, links)

    async def _post_messages(self, path: str, body: dict[str, Any], *, retry_key: str | None = None) -> None:
        """POST a reply or a push through line-bot-sdk's API client (its authentication, its
        ApiException on an error status, as `reply_message` and `push_message` raise them), with
        the messages as the JSON they already are: the generated methods parse them into pydantic
        models and serialise them back, a quarter of the bot's CPU per LINE message. LINE checks
        them on arrival (and the tests' fake LINE checks them with the SDK's models)."""
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if retry_key is not None:
            headers["X-Line-Retry-Key"] = retry_key
        await self._api_client.call_api(
            path, "POST", {}, [], headers, body=body, post_params=[], files={},
            response_types_map=_MESSAGE_RESPONSES, auth_settings=["Bearer"], _return_http_data_only=True,
            _preload_content=True, _request_timeout=REQUEST_TIMEOUT_SECONDS, _host=API_HOST, collection_formats={})

    async def _push(self, to: str, batch: list[dict[str, Any]], *, key: str) -> None:
        for attempt in range(1, PUSH_ATTEMPTS + 1):
            try:
                await self._post_messages(PUSH_PATH, {"to": to, "messages": batch}, retry_key=key)
                return
            except ApiException as exc:
                if exc.status == 409:  # this retry key was accepted before: delivered already
                    return
                if exc.status == 429:
                    # The monthly push quota does not come back by waiting; a rate limit does.
                    monthly = "monthly" in str(exc.body).lower()
                    retry_after = (exc.headers or {}).get("Retry-After")
                    raise SendFailed(f"push to {to} refused: {'monthly push limit' if monthly else 'rate limit'} "
                                     f"reached ({exc.body})", permanent=monthly,
                                     retry_after=float(retry_after) if retry_after else None) from exc
                if exc.status < 500:
                    raise SendFailed(f"push to {to} failed ({exc.status}): {exc.body}", permanent=True) from exc
                if attempt == PUSH_ATTEMPTS:
                    raise SendFailed(f"push to {to} failed ({exc.status}): {exc.body}") from exc
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                if attempt == PUSH_ATTEMPTS:
                    raise SendFailed(f"push to {to} failed: {exc!r}") from exc
            await asyncio.sleep(0.5 * attempt)
