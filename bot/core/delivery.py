"""Delivery: an event from an adapter in, the engine's replies out, in one place.

For one inbound event: the person's display name (best effort), the engine's
step, then the person's own replies in order and, whatever happened to those,
each notice for someone else on its own (an incident alert must not wait for,
or fail with, anything else), on whichever platform that person is reached.
If the person's own replies cannot be sent, they get a short apology when that
is still possible, and the log has the detail.

Adapters implement only `Outlet`: send replies to a destination, and say a
person's display name.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Protocol, Sequence

from redis.exceptions import RedisError

from bot.core.engine import Engine
from bot.core.events import IncomingEvent
from bot.core.replies import Notice, Recipient, Reply, Text
from bot.store.display_names import DisplayNames
from bot.store.keys import ConversationKey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Destination:
    """Where replies go: a person or a channel on one platform, perhaps with a way to reply in place."""

    platform: str
    workspace: str
    address: str  # a user or channel id
    thread: str | None = None  # a thread inside the channel, where the platform has them
    reply_token: str | None = None  # a single-use handle to answer one event, where the platform has one
    received_at: float = 0.0  # when that event was sent (epoch seconds); reply handles go stale

    @classmethod
    def of(cls, recipient: Recipient) -> "Destination":
        return cls(recipient.platform, recipient.workspace, recipient.id)


class Outlet(Protocol):
    """What an adapter does for delivery."""

    async def send(self, to: Destination, replies: Sequence[Reply], *, seed: str) -> None:
        """Send in order; raise when they could not be sent. `seed` is stable for one delivery
        (the same event and recipient), for platforms that de-duplicate retried sends."""

    async def display_name(self, who: ConversationKey) -> str | None:
        """The person's name on the platform; None when it cannot be had."""


class Delivery:
    def __init__(self, engine: Engine, names: DisplayNames):
        self.engine = engine
        self.names = names
        self._outlets: dict[str, Outlet] = {}

    def register(self, platform: str, outlet: Outlet) -> None:
        self._outlets[platform] = outlet

    async def handle(self, event: IncomingEvent, reply_to: Destination) -> None:
        """Run one event through the engine and deliver what it says."""
        name = await self._display_name(event.who)
        replies = await self.engine.handle(dataclasses.replace(event, display_name=name))
        if replies:
            await self.deliver(replies, reply_to, seed=f"{event.who}:{event.event_id or id(event)}")

    async def deliver(self, replies: Sequence[Reply], to: Destination, *, seed: str) -> None:
        own = [r for r in replies if not isinstance(r, Notice)]
        if own:
            await self._send_own(own, to, seed=seed)
        for index, notice in enumerate(r for r in replies if isinstance(r, Notice)):
            await self._send_notice(notice, seed=f"{seed}:notice:{index}")

    async def _send_own(self, replies: list[Reply], to: Destination, *, seed: str) -> None:
        outlet = self._outlets.get(to.platform)
        if outlet is None:
            log.error("no %s adapter is mounted: replies to %s not delivered", to.platform, to)
            return
        try:
            await outlet.send(to, replies, seed=seed)
            return
        except Exception as exc:
            log.error("delivery to %s failed: %s", to, exc, exc_info=True)
        try:
            apology = Text(self.engine.content.texts["error.delivery_failed"])
            await outlet.send(to, [apology], seed=f"{seed}:apology")
        except Exception as exc:
            log.error("could not tell %s about the failed delivery either: %r", to, exc)

    async def _send_notice(self, notice: Notice, *, seed: str) -> None:
        outlet = self._outlets.get(notice.to.platform)
        if outlet is None:
            log.error("no %s adapter is mounted: notice to %s not delivered", notice.to.platform, notice.to)
            return
        try:
            await outlet.send(Destination.of(notice.to), notice.replies, seed=seed)
        except Exception as exc:
            # One recipient's failure must not stop the others.
            log.error("notice to %s failed: %s", notice.to, exc, exc_info=True)

    async def _display_name(self, who: ConversationKey) -> str | None:
        outlet = self._outlets.get(who.platform)
        if outlet is None:
            return None
        try:
            return await self.names.get(who, outlet.display_name)
        except RedisError as exc:
            # A name is a courtesy: without the cache, the step still runs (and says what it can).
            log.warning("display name of %s not available (store): %r", who, exc)
            return None

