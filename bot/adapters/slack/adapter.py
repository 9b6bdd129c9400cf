"""Slack: translate between slack-bolt and the engine; nothing else.

Every request is acknowledged at once; the work it asks for (engine, Web API
calls, images) runs in the bounded work queue, one job at a time per user so
that replies keep their order. What reaches the engine: direct messages,
mentions, the slash command and button clicks; the App Home tab is published
from the engine's overview.
"""
from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import SlackSettings
from bot.core.engine import Engine
from bot.core.events import EventKind, IncomingEvent
from bot.store.keys import ConversationKey
from bot.store.display_names import DisplayNames
from bot.core.delivery import Notifiers
from bot.core.replies import Image, Notice, Reply
from bot.core.work_queue import WorkQueue
from bot.adapters.slack.blocks import (
    CHOICE_ACTION_PREFIX,
    SlackMessage,
    home_view,
    mark_chosen,
    plan_delivery,
)
from bot.adapters.slack.oauth_store import RedisInstallationStore, RedisOAuthStateStore

log = logging.getLogger(__name__)

PLATFORM = "slack"
SCOPES = ["app_mentions:read", "chat:write", "commands", "files:write", "im:history", "im:write", "users:read"]
_MENTION = re.compile(r"<@[A-Z0-9]+>")
_MESSAGE, _ACTION, _START = EventKind.MESSAGE, EventKind.ACTION, EventKind.START


@dataclass(frozen=True)
class Destination:
    """Where replies to an event go: a channel (or DM), perhaps a thread."""

    channel: str
    thread_ts: str | None = None


def make_web_client(settings: SlackSettings, session: aiohttp.ClientSession) -> AsyncWebClient:
    """One client (and one HTTP session) for every call, retrying rate limits and server errors."""
    kwargs: dict[str, Any] = {}
    if settings.api_url:
        kwargs["base_url"] = settings.api_url if settings.api_url.endswith("/") else settings.api_url + "/"
    return AsyncWebClient(
        token=settings.bot_token,
        session=session,
        timeout=10,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
        **kwargs,
    )


class SlackAdapter:
    def __init__(self, settings: SlackSettings, *, engine: Engine, queue: WorkQueue,
                 session: aiohttp.ClientSession, notifiers: Notifiers):
        self.settings = settings
        self.engine = engine
        self.queue = queue
        self.notifiers = notifiers
        self.client = make_web_client(settings, session)
        store = engine.store
        self.names = DisplayNames(store.client, store.keys)
        self._dm_channels: dict[tuple[str, str], str] = {}
        self.installations = RedisInstallationStore(store.client, store.keys)
        oauth = None
        if settings.uses_oauth:
            oauth = AsyncOAuthSettings(
                client_id=settings.client_id,
                client_secret=settings.client_secret,
                scopes=SCOPES,
                installation_store=self.installations,
                state_store=RedisOAuthStateStore(store.client, store.keys),
                install_path="/slack/install",
                redirect_uri_path="/slack/oauth_redirect",
            )
        self.app = AsyncApp(
            signing_secret=settings.signing_secret,
            client=self.client,  # carries SLACK_BOT_TOKEN in single-workspace mode
            oauth_settings=oauth,
            # Listeners only queue work, so they finish well within Slack's 3 seconds; running
            # them before the response keeps Bolt from spawning a task per request.
            process_before_response=True,
        )
        self._register()

    # --- inbound ----------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.event("message")(self._on_message)
        app.event("app_mention")(self._on_mention)
        app.event("app_home_opened")(self._on_home_opened)
        app.command(self.settings.slash_command)(self._on_command)
        app.action(re.compile(f"^{re.escape(CHOICE_ACTION_PREFIX)}"))(self._on_choice)

    def _queue(self, who: ConversationKey, work: Callable[[], Awaitable[None]]) -> None:
        # One user's events run in order (the queue chains them by key).
        if not self.queue.offer(work, key=who):
            log.error("dropped a Slack request for %s: work queue full", who)

    async def _on_message(self, body: dict, event: dict, client: AsyncWebClient, context: dict) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # only people's direct messages; mentions come as app_mention
        who = ConversationKey(PLATFORM, context["team_id"] or "-", event["user"])
        destination = Destination(event["channel"], event.get("thread_ts"))
        text = event.get("text") or ""
        self._queue(who, lambda: self._converse(
            client, who, destination, lambda name: IncomingEvent(
                who=who, kind=_MESSAGE, text=text, event_id=body.get("event_id"), display_name=name)))

    async def _on_mention(self, body: dict, event: dict, client: AsyncWebClient, context: dict) -> None:
        if event.get("bot_id") or not event.get("user"):
            return
        who = ConversationKey(PLATFORM, context["team_id"] or "-", event["user"])
        destination = Destination(event["channel"], event.get("thread_ts") or event.get("ts"))
        text = _MENTION.sub("", event.get("text") or "").strip()
        self._queue(who, lambda: self._converse(
            client, who, destination,
            lambda name: _event_for_text(who, text, body.get("event_id"), name, channel=event["channel"])))

    async def _on_command(self, ack: Callable, command: dict, client: AsyncWebClient, context: dict) -> None:
        await ack()
        who = ConversationKey(PLATFORM, context["team_id"] or "-", command["user_id"])
        channel = command.get("channel_id", "")
        # In a DM with the bot, answer there; from anywhere else, answer in the DM.
        destination = Destination(channel if channel.startswith("D") else command["user_id"])
        text = (command.get("text") or "").strip()
        event_id = f"command:{command.get('trigger_id')}"
        self._queue(who, lambda: self._converse(
            client, who, destination, lambda name: _event_for_text(who, text, event_id, name)))

    async def _on_choice(self, ack: Callable, body: dict, action: dict, client: AsyncWebClient,
                         context: dict) -> None:
        await ack()
        who = ConversationKey(PLATFORM, context["team_id"] or "-", body["user"]["id"])
        container = body.get("container") or {}
        message = body.get("message") or {}
        if container.get("type") == "message" and container.get("channel_id"):
            destination = Destination(container["channel_id"], message.get("thread_ts"))
        else:  # a button on the App Home tab: answer in the DM
            destination = Destination(who.user)
        value = str(action.get("value") or "")
        event_id = f"action:{container.get('message_ts', '')}:{action.get('action_id')}:{action.get('action_ts')}"

        async def work() -> None:
            if message.get("blocks") and container.get("message_ts"):
                await self._show_choice(client, container, message, action)
            await self._converse(client, who, destination, lambda name: IncomingEvent(
                who=who, kind=_ACTION, action=value, event_id=event_id, display_name=name,
                channel=container.get("channel_id")))

        self._queue(who, work)

    async def _on_home_opened(self, event: dict, client: AsyncWebClient, context: dict) -> None:
        if event.get("tab") != "home":
            return
        who = ConversationKey(PLATFORM, context["team_id"] or "-", event["user"])
        self._queue(who, lambda: self.publish_home(client, who))

    # --- work after the ack -----------------------------------------------

    async def _converse(self, client: AsyncWebClient, who: ConversationKey, destination: Destination,
                        make_event: Callable[[str | None], IncomingEvent]) -> None:
        async def fetch(who: ConversationKey) -> str | None:
            try:
                user = (await client.users_info(user=who.user))["user"]
            except (SlackApiError, SlackClientError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
                log.warning("users.info failed for %s: %s", who, exc)
                return None
            profile = user.get("profile") or {}
            return (profile.get("display_name") or profile.get("real_name") or user.get("real_name")
                    or user.get("name"))

        name = await self.names.get(who, fetch)
        event = make_event(name)
        replies = await self.engine.handle(event)
        await self.deliver(client, who.workspace, destination, replies,
                           seed=f"slack:{who}:{event.event_id or uuid.uuid4().hex}")

    async def _show_choice(self, client: AsyncWebClient, container: dict, message: dict, action: dict) -> None:
        """Replace the clicked buttons by the chosen answer, so a question is answered once."""
        label = (action.get("text") or {}).get("text", "")
        blocks = mark_chosen(message["blocks"], block_id=action.get("block_id", ""), label=label)
        try:
            await client.chat_update(channel=container["channel_id"], ts=container["message_ts"],
                                     text=message.get("text") or label, blocks=blocks)
        except (SlackApiError, SlackClientError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("chat.update of the clicked message failed: %s", exc)

    async def publish_home(self, client: AsyncWebClient, who: ConversationKey) -> None:
        replies = await self.engine.home(who)
        view = home_view(self.engine.content.texts["home.title"], replies)
        try:
            await client.views_publish(user_id=who.user, view=view)
        except (SlackApiError, SlackClientError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.error("views.publish failed for %s: %s", who, exc)

    async def _channel_for(self, client: AsyncWebClient, team: str, channel: str) -> str:
        """A user id stands for the DM with that user; files need the DM's channel id."""
        if not channel.startswith(("U", "W")):
            return channel
        cached = self._dm_channels.get((team, channel))
        if cached is None:
            opened = await client.conversations_open(users=channel)
            cached = self._dm_channels[(team, channel)] = opened["channel"]["id"]
        return cached

    async def deliver(self, client: AsyncWebClient, team: str, destination: Destination,
                      replies: list[Reply], *, seed: str) -> None:
        """Send the person's replies in order, then the notices for others.

        A failure is logged and the person told; the rest of their replies is not
        sent, but the notices still go (each on its own), since someone may be
        waiting for an incident alert.
        """
        own = [r for r in replies if not isinstance(r, Notice)]
        try:
            for item in plan_delivery(own):
                if isinstance(item, SlackMessage):
                    await client.chat_postMessage(channel=destination.channel, thread_ts=destination.thread_ts,
                                                  text=item.text, blocks=item.blocks)
                elif isinstance(item, Image):
                    await self._upload(client, team, destination, item)
        except (SlackApiError, SlackClientError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.error("delivery to %s failed: %s", destination, exc)
            await self._apologise(client, destination)
        for index, notice in enumerate(r for r in replies if isinstance(r, Notice)):
            await self._notify(client, team, notice, seed=f"{seed}:{index}")

    async def _upload(self, client: AsyncWebClient, team: str, destination: Destination, image: Image) -> None:
        data = await asyncio.to_thread(image.render)
        channel = await self._channel_for(client, team, destination.channel)
        await client.files_upload_v2(channel=channel, thread_ts=destination.thread_ts, content=data,
                                     filename=image.name, title=image.alt_text, alt_txt=image.alt_text)

    async def _notify(self, client: AsyncWebClient, team: str, notice: Notice, *, seed: str) -> None:
        to = notice.to
        try:
            if to.platform == PLATFORM and to.workspace == team:
                await self._post_notice(client, team, notice)
            else:
                await self.notifiers.notify(notice, seed=seed)
        except Exception:
            # One recipient's failure must not stop the others (nor the person's own replies).
            log.exception("notice to %s failed", to)

    async def notify(self, notice: Notice, *, seed: str) -> None:
        """A notice from another platform (or another workspace) to someone in Slack."""
        client = await self._client_for(notice.to.workspace)
        if client is None:
            log.error("no Slack installation for workspace %s: notice to %s not delivered",
                      notice.to.workspace, notice.to)
            return
        try:
            await self._post_notice(client, notice.to.workspace, notice)
        except (SlackApiError, SlackClientError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.error("notice to %s failed: %s", notice.to, exc)

    async def _client_for(self, team: str) -> AsyncWebClient | None:
        if not self.settings.uses_oauth:
            return self.client
        bot = await self.installations.async_find_bot(enterprise_id=None, team_id=team)
        if bot is None:
            return None
        return AsyncWebClient(token=bot.bot_token, base_url=self.client.base_url, session=self.client.session,
                              retry_handlers=self.client.retry_handlers)

    async def _post_notice(self, client: AsyncWebClient, team: str, notice: Notice) -> None:
        destination = Destination(notice.to.id)
        for item in plan_delivery(list(notice.replies)):
            if isinstance(item, SlackMessage):
                await client.chat_postMessage(channel=destination.channel, text=item.text, blocks=item.blocks)
            elif isinstance(item, Image):
                await self._upload(client, team, destination, item)

    async def _apologise(self, client: AsyncWebClient, destination: Destination) -> None:
        text = self.engine.content.texts["error.delivery_failed"]
        try:
            await client.chat_postMessage(channel=destination.channel, thread_ts=destination.thread_ts, text=text)
        except (SlackApiError, SlackClientError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.error("could not tell %s about the failed delivery either: %s", destination, exc)


def _event_for_text(who: ConversationKey, text: str, event_id: str | None, name: str | None, *,
                    channel: str | None = None) -> IncomingEvent:
    """A typed message; an empty one (a bare mention or slash command) opens the menu."""
    kind = _MESSAGE if text else _START
    return IncomingEvent(who=who, kind=kind, text=text, event_id=event_id, display_name=name, channel=channel)

