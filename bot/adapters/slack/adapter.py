"""Slack: translate between slack-bolt and the engine; nothing else.

Listeners describe what a request asks for as jobs; the server stores them in
the inbox before Slack hears 200, and the inbox worker runs them (one person's
in order) through the shared `Delivery`. What reaches the engine: direct
messages, mentions, the slash command and button clicks; the App Home tab is
published from the engine's overview. This module implements the delivery
`Outlet` for Slack: sending replies (Block Kit messages, uploaded images) and
looking up display names.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from typing import TYPE_CHECKING, Any, Callable, Sequence

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import (
    CHOICE_ACTION_PREFIX,
    SlackMessage,
    home_view,
    mark_chosen,
    plan_delivery,
)
from bot.adapters.slack.oauth_store import RedisInstallationStore, RedisOAuthStateStore
from bot.core.delivery import Delivery, SendFailed
from bot.core.engine import Engine
from bot.core.events import (
    CAN_POST_TO_CHANNELS,
    HOME_SURFACE,
    HOME_TAB,
    KNOWS_ADMINS,
    PLATFORM_ADMIN,
    Destination,
    EventKind,
    IncomingEvent,
)
from bot.core.replies import Document, Image, Reply
from bot.core.single_flight import SingleFlight
from bot.settings import SlackSettings
from bot.store.conversations import STORE_ERRORS
from bot.store.inbox import Job
from bot.store.keys import ConversationKey
from bot.store.platform_roles import PlatformRoles

if TYPE_CHECKING:
    from bot.core.inbox_worker import InboxWorker

log = logging.getLogger(__name__)

PLATFORM = "slack"
# channels:history and groups:history: a resend looks for its own earlier post in the channel.
SCOPES = ["app_mentions:read", "channels:history", "chat:write", "commands", "files:write", "groups:history",
          "im:history", "im:write", "users:read"]
_MENTION = re.compile(r"<@[A-Z0-9]+>")
# A channel named in a message (Slack sends <#C123|name>), or a channel id typed alone.
_CHANNEL_MARKUP = re.compile(r"<#(C[A-Z0-9]+)(?:\|[^>]*)?>")
_BARE_CHANNEL = re.compile(r"^#?(C[A-Z0-9]{6,})$")
_CAPABILITIES = frozenset({CAN_POST_TO_CHANNELS, KNOWS_ADMINS})
JOBS = "security_desk_jobs"  # the request context's list of jobs for the server to store
EVENT_JOB, CHOICE_JOB, HOME_JOB = "slack.event", "slack.choice", "slack.home"
MESSAGE_MARK = "security_desk_reply"  # message metadata type carrying each message's delivery id
RESEND_LOOKBACK = 50  # messages of the channel looked at before sending again
_MESSAGE, _ACTION, _START = EventKind.MESSAGE, EventKind.ACTION, EventKind.START
USER_INFO_SECONDS = 30  # one users.info answer serves both the role and the name of one event


def _sdk_logger() -> logging.Logger:
    """slack_sdk's client logger with its own level set: slack_sdk asks `logger.level <= DEBUG`, not
    whether DEBUG is enabled, so with the level unset (NOTSET, 0) it formats every request and
    response, the whole payload, for a debug line nobody logs: a third of each call's CPU."""
    logger = logging.getLogger("slack_sdk.web.async_base_client")
    if logger.level == logging.NOTSET:
        logger.setLevel(logger.getEffectiveLevel())
    return logger


def make_web_client(settings: SlackSettings, session: aiohttp.ClientSession) -> AsyncWebClient:
    """One client (and one HTTP session) for every call, retrying rate limits and server errors."""
    kwargs: dict[str, Any] = {}
    if settings.api_url:
        kwargs["base_url"] = settings.api_url if settings.api_url.endswith("/") else settings.api_url + "/"
    return AsyncWebClient(
        token=settings.bot_token,
        session=session,
        timeout=10,
        logger=_sdk_logger(),
        # A 429 was not posted: safe to repeat at once. A 5xx or a lost connection may have been
        # posted: those are left to the delivery, which looks before sending again.
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
        **kwargs,
    )


class SlackAdapter:
    def __init__(self, settings: SlackSettings, *, engine: Engine,
                 session: aiohttp.ClientSession, delivery: Delivery):
        self.settings = settings
        self.engine = engine
        self.delivery = delivery
        self.client = make_web_client(settings, session)
        store = engine.store
        self._dm_channels: dict[tuple[str, str], str] = {}
        self.roles = PlatformRoles(store.client, store.keys)
        self._user_info: dict[ConversationKey, tuple[float, dict]] = {}
        self._asking: SingleFlight[dict | None] = SingleFlight()  # users.info calls under way
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
            # The server checks every signature once, before anything parses the body.
            request_verification_enabled=False,
            client=self.client,  # carries SLACK_BOT_TOKEN in single-workspace mode
            oauth_settings=oauth,
            # Listeners only describe the work (jobs the server stores in the inbox before it
            # answers), so they finish well within Slack's 3 seconds; running them before the
            # response keeps Bolt from spawning a task per request.
            process_before_response=True,
        )
        self._register()
        delivery.register(PLATFORM, self)

    def register_jobs(self, worker: "InboxWorker") -> None:
        worker.register(EVENT_JOB, self._run_event)
        worker.register(CHOICE_JOB, self._run_choice)
        worker.register(HOME_JOB, self._run_home)

    # --- inbound ----------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.event("message")(self._on_message)
        app.event("app_mention")(self._on_mention)
        app.event("app_home_opened")(self._on_home_opened)
        app.command(self.settings.slash_command)(self._on_command)
        app.action(re.compile(f"^{re.escape(CHOICE_ACTION_PREFIX)}"))(self._on_choice)

    @staticmethod
    def _job(context: dict, who: ConversationKey, kind: str, payload: dict, dedupe_id: str | None) -> None:
        """Hand the server a job to store: what this request asks for, done after the ack."""
        jobs = context.get(JOBS)
        if jobs is None:  # not dispatched by our server (nothing would store it)
            raise RuntimeError("a Slack request reached a listener without a job list")
        jobs.append((dedupe_id or "", Job(kind, payload, order_key=str(who)), who.tenant))

    def _handle(self, context: dict, event: IncomingEvent, reply_to: Destination) -> None:
        self._job(context, event.who, EVENT_JOB, {"event": event.to_dict(), "to": reply_to.to_dict()},
                  event.event_id)

    async def _run_event(self, payload: dict) -> None:
        await self.delivery.handle(IncomingEvent.from_dict(payload["event"]), Destination.from_dict(payload["to"]),
                                   prepare=self._with_role)

    async def _with_role(self, event: IncomingEvent) -> IncomingEvent:
        """The event, saying whether Slack says its sender administers the workspace (never taken
        from the stored payload: asked of Slack, cached for minutes)."""
        capabilities = event.capabilities - {PLATFORM_ADMIN}
        if await self.roles.is_admin(event.who, self.is_workspace_admin):
            capabilities |= {PLATFORM_ADMIN}
        return dataclasses.replace(event, capabilities=capabilities)

    async def _run_choice(self, payload: dict) -> None:
        mark = payload.get("mark")
        if mark:
            client = await self._client_for(Destination.from_dict(payload["to"]).workspace)
            if client is not None:
                await self._show_choice(client, mark["container"], mark["message"], mark["action"])
        await self._run_event(payload)

    async def _run_home(self, payload: dict) -> None:
        """The home tab, built by the engine (an administrator's includes the company report: the platform's
        word that they administer the workspace is asked as for a message) and published as a delivery."""
        who = ConversationKey(*payload["who"])
        capabilities = _CAPABILITIES | {HOME_TAB}
        if await self.roles.is_admin(who, self.is_workspace_admin):
            capabilities |= {PLATFORM_ADMIN}
        replies = await self.engine.home(who, capabilities=capabilities)
        home = Destination(PLATFORM, who.workspace, who.user, surface=HOME_SURFACE)
        await self.delivery.deliver(replies, home, seed=f"home:{who}:{payload.get('event_id') or ''}")


    async def _on_message(self, body: dict, event: dict, context: dict) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # only people's direct messages; mentions come as app_mention
        who = ConversationKey(PLATFORM, context["team_id"] or "-", event["user"])
        text = event.get("text") or ""
        self._handle(context, IncomingEvent(who=who, kind=_MESSAGE, text=text, event_id=body.get("event_id"),
                                            channels=_channels_in(text), capabilities=_CAPABILITIES,
                                            sent_at=slack_time(event.get("ts"))),
                     _destination(who.workspace, event["channel"], event.get("thread_ts")))

    async def _on_mention(self, body: dict, event: dict, context: dict) -> None:
        if event.get("bot_id") or not event.get("user"):
            return
        who = ConversationKey(PLATFORM, context["team_id"] or "-", event["user"])
        text = _MENTION.sub("", event.get("text") or "").strip()
        self._handle(context, _event_for_text(who, text, body.get("event_id"), channel=event["channel"]),
                     _destination(who.workspace, event["channel"], event.get("thread_ts") or event.get("ts")))

    async def _on_command(self, ack: Callable, command: dict, context: dict) -> None:
        await ack()
        who = ConversationKey(PLATFORM, context["team_id"] or "-", command["user_id"])
        channel = command.get("channel_id", "")
        # In a DM with the bot, answer there; from anywhere else, answer in the DM.
        reply_to = _destination(who.workspace, channel if channel.startswith("D") else command["user_id"])
        text = (command.get("text") or "").strip()
        self._handle(context, _event_for_text(who, text, f"command:{command.get('trigger_id')}"), reply_to)

    async def _on_choice(self, ack: Callable, body: dict, action: dict, context: dict) -> None:
        await ack()
        who = ConversationKey(PLATFORM, context["team_id"] or "-", body["user"]["id"])
        container = body.get("container") or {}
        message = body.get("message") or {}
        if container.get("type") == "message" and container.get("channel_id"):
            reply_to = _destination(who.workspace, container["channel_id"], message.get("thread_ts"))
        else:  # a button on the App Home tab: answer in the DM
            reply_to = _destination(who.workspace, who.user)
        event = IncomingEvent(
            who=who, kind=_ACTION, action=str(action.get("value") or ""), channel=container.get("channel_id"),
            capabilities=_CAPABILITIES,
            event_id=f"action:{container.get('message_ts', '')}:{action.get('action_id')}:{action.get('action_ts')}")

        mark = ({"container": container, "message": message, "action": action}
                if message.get("blocks") and container.get("message_ts") else None)
        self._job(context, who, CHOICE_JOB, {"event": event.to_dict(), "to": reply_to.to_dict(), "mark": mark},
                  event.event_id)

    async def _on_home_opened(self, body: dict, event: dict, context: dict) -> None:
        if event.get("tab") != "home":
            return
        who = ConversationKey(PLATFORM, context["team_id"] or "-", event["user"])
        self._job(context, who, HOME_JOB, {"who": [who.platform, who.workspace, who.user],
                                           "event_id": body.get("event_id") or ""}, body.get("event_id"))

    # --- work after the ack -----------------------------------------------

    async def _show_choice(self, client: AsyncWebClient, container: dict, message: dict, action: dict) -> None:
        """Replace the clicked buttons by the chosen answer, so a question is answered once."""
        label = (action.get("text") or {}).get("text", "")
        blocks = mark_chosen(message["blocks"], block_id=action.get("block_id", ""), label=label)
        try:
            await client.chat_update(channel=container["channel_id"], ts=container["message_ts"],
                                     text=message.get("text") or label, blocks=blocks)
        except (SlackApiError, SlackClientError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("chat.update of the clicked message failed: %s", exc)

    async def _publish_home(self, client: AsyncWebClient, to: Destination, replies: Sequence[Reply]) -> None:
        """views.publish is idempotent (the whole tab is replaced): a resend simply publishes again."""
        view = home_view(self.engine.content.texts["home.title"], list(replies))
        await client.views_publish(user_id=to.address, view=view)

    # --- the delivery outlet ------------------------------------------------

    async def send(self, to: Destination, replies: Sequence[Reply], *, seed: str,
                   resend: bool = False) -> float | None:
        client = await self._client_for(to.workspace)
        if client is None:
            raise SendFailed(f"no Slack installation for workspace {to.workspace}", permanent=True)
        on_screen_at = None  # Slack's own time of the last message: event timestamps compare with it
        try:
            if to.surface == HOME_SURFACE:
                await self._publish_home(client, to, replies)
                return None
            already = await self._already_posted(client, to) if resend else {}
            for index, item in enumerate(plan_delivery(list(replies))):
                mark = f"{seed}:{index}"
                if isinstance(item, SlackMessage):
                    if mark in already:
                        on_screen_at = already[mark]
                        continue
                    # The mark travels with the message, so a resend can see it arrived.
                    posted = await client.chat_postMessage(
                        channel=to.address, thread_ts=to.thread, text=item.text, blocks=item.blocks,
                        metadata={"event_type": MESSAGE_MARK, "event_payload": {"id": mark}})
                    on_screen_at = slack_time(posted.get("ts")) or None
                elif isinstance(item, (Image, Document)):
                    if item.name in already:
                        continue
                    await self._upload(client, to, item)
        except SlackApiError as exc:
            raise _send_failed(exc) from exc
        except (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise SendFailed(f"Slack did not answer: {exc!r}", maybe_sent=True) from exc
        return on_screen_at

    async def _already_posted(self, client: AsyncWebClient, to: Destination) -> dict[str, float | None]:
        """The marks of our recent messages (and the names of our recent files) in the channel, with
        when each was posted."""
        channel = await self._channel_for(client, to.workspace, to.address)
        history = await client.conversations_history(channel=channel, limit=RESEND_LOOKBACK,
                                                     include_all_metadata=True)
        found: dict[str, float | None] = {}
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == MESSAGE_MARK:
                found[str((metadata.get("event_payload") or {}).get("id"))] = slack_time(message.get("ts")) or None
            found.update((str(f.get("name")), None) for f in message.get("files") or [])
        return found

    async def _users_info(self, who: ConversationKey) -> dict | None:
        """users.info's `user` (remembered for a few seconds; lookups made meanwhile share the one
        call: the role and the name are asked for side by side); None when Slack did not say."""
        cached = self._user_info.get(who)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        return await self._asking.run(who, lambda: self._ask_users_info(who))

    async def _ask_users_info(self, who: ConversationKey) -> dict | None:
        try:
            client = await self._client_for(who.workspace)
            if client is None:
                return None
            user = (await client.users_info(user=who.user))["user"] or {}
        except (SlackApiError, SlackClientError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("users.info failed for %s: %s", who, exc)
            return None
        if len(self._user_info) > 1000:
            self._user_info.clear()
        self._user_info[who] = (time.monotonic() + USER_INFO_SECONDS, user)
        return user

    async def is_workspace_admin(self, who: ConversationKey) -> bool | None:
        """Whether Slack says the person administers the workspace: an owner or admin of it
        (users.info), or the person who installed the app there (OAuth installs); None when
        Slack could not be asked."""
        if self.settings.uses_oauth:
            try:
                installation = await self.installations.async_find_installation(enterprise_id=None,
                                                                                team_id=who.workspace)
            except STORE_ERRORS as exc:
                log.warning("installation of %s not readable: %r", who.workspace, exc)
                installation = None
            if installation is not None and installation.user_id == who.user:
                return True
        user = await self._users_info(who)
        if user is None:
            return None
        return bool(user.get("is_owner") or user.get("is_admin") or user.get("is_primary_owner"))

    async def display_name(self, who: ConversationKey) -> str | None:
        user = await self._users_info(who)
        if user is None:
            return None
        profile = user.get("profile") or {}
        return profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")

    async def _client_for(self, team: str) -> AsyncWebClient | None:
        if not self.settings.uses_oauth:
            return self.client
        bot = await self.installations.async_find_bot(enterprise_id=None, team_id=team)
        if bot is None:
            return None
        return AsyncWebClient(token=bot.bot_token, base_url=self.client.base_url, session=self.client.session,
                              retry_handlers=self.client.retry_handlers, logger=self.client.logger)

    async def _channel_for(self, client: AsyncWebClient, team: str, channel: str) -> str:
        """A user id stands for the DM with that user; files need the DM's channel id."""
        if not channel.startswith(("U", "W")):
            return channel
        cached = self._dm_channels.get((team, channel))
        if cached is None:
            opened = await client.conversations_open(users=channel)
            cached = self._dm_channels[(team, channel)] = opened["channel"]["id"]
        return cached

    async def _upload(self, client: AsyncWebClient, to: Destination, item: Image | Document) -> None:
        channel = await self._channel_for(client, to.workspace, to.address)
        if isinstance(item, Document):
            data = await self.engine.render_document(item)
            await client.files_upload_v2(channel=channel, thread_ts=to.thread, content=data,
                                         filename=item.name, title=item.title)
            return
        data = await self.engine.render_image(item)
        await client.files_upload_v2(channel=channel, thread_ts=to.thread, content=data,
                                     filename=item.name, title=item.alt_text, alt_txt=item.alt_text)


def _send_failed(exc: SlackApiError) -> SendFailed:
    status = exc.response.status_code
    if status == 429:
        return SendFailed("Slack rate limit", retry_after=float(exc.response.headers.get("Retry-After", 1)))
    if status >= 500:
        return SendFailed(f"Slack answered {status}", maybe_sent=True)
    return SendFailed(f"Slack refused it: {exc.response.get('error')}", permanent=True)


def _destination(team: str, channel: str, thread: str | None = None) -> Destination:
    return Destination(PLATFORM, team, channel, thread)


def _event_for_text(who: ConversationKey, text: str, event_id: str | None, *,
                    channel: str | None = None) -> IncomingEvent:
    """A typed message; an empty one (a bare mention or slash command) opens the menu."""
    kind = _MESSAGE if text else _START
    return IncomingEvent(who=who, kind=kind, text=text, event_id=event_id, channel=channel,
                         channels=_channels_in(text), capabilities=_CAPABILITIES)


def slack_time(ts: object) -> float:
    """A Slack timestamp ("1700000000.000100") as epoch seconds; 0.0 when it is not one."""
    try:
        value = float(ts) if isinstance(ts, str) and len(ts) <= 32 else 0.0
    except ValueError:
        return 0.0
    return value if 0.0 < value < 1e11 else 0.0


def _channels_in(text: str) -> tuple[str, ...]:
    bare = _BARE_CHANNEL.match(text.strip())
    return (bare.group(1),) if bare else tuple(dict.fromkeys(_CHANNEL_MARKUP.findall(text)))
