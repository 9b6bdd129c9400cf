"""The engine: one inbound event in, the replies for it out.

For each event: read the conversation (one round trip, which also tells
whether this event id was handled before), decide which trigger the event
means, run it on the shared state machine, then commit the new record and the
flow's writes atomically. If another event for the same user committed in
between, the whole step is re-run on the fresh record, so nothing is lost or
counted twice; replies are only returned for a committed step.

Within one process, events for the same user also wait for each other (a lock
per conversation, taken before the read), so a burst of clicks is handled in
turn instead of racing; the commit's version check is what keeps two
processes from overwriting each other.
"""
from __future__ import annotations

import asyncio
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

from bot.content.loader import Content
from bot.core.classifier import IntentClassifier
from bot.core.conversation import INITIAL_STATE, Conversation, Services
from bot.core.events import Destination, IncomingEvent
from bot.core.flow import NOT_UNDERSTOOD, OVERVIEW, Flow
from bot.core.machine import build_machine
from bot.core.outbox import OutboxEntry
from bot.core.replies import Document, Image, Reply, Text
from bot.core.router import Router
from bot.store.conversations import STORE_ERRORS, CommitOutcome, Store
from bot.store.keys import ConversationKey
from bot.store.locks import KeyedLocks

log = logging.getLogger(__name__)

JST = ZoneInfo("Asia/Tokyo")
MAX_ATTEMPTS = 8


def now_jst() -> datetime:
    return datetime.now(JST)


class Engine:
    def __init__(
        self,
        *,
        content: Content,
        store: Store,
        flows: tuple[Flow, ...],
        clock: Callable[[], datetime] = now_jst,
        resources: Mapping[str, Any] | None = None,
    ):
        self.content = content
        self.store = store
        self.machine = build_machine(flows)
        self.classifier = IntentClassifier(content.intents)
        self.router = Router(flows=flows, content=content, machine=self.machine, classifier=self.classifier)
        self.services = Services(content=content, store=store, clock=clock, flows=flows,
                                 resources=dict(resources or {}))
        self._locks = KeyedLocks()
        self._renderers = {name: draw for flow in flows for name, draw in flow.images.items()}
        self._documents = {name: make for flow in flows for name, make in flow.documents.items()}

    async def step(self, event: IncomingEvent, *, reply_to: Destination | None = None) -> Step:
        """Handle one event; with `reply_to`, its replies are committed to the tenant's outbox
        with the new state. Store errors and repeated conflicts are raised (the caller retries)."""
        async with self._locks(event.who):
            return await self._handle(event, reply_to)

    async def handle(self, event: IncomingEvent) -> list[Reply]:
        """The replies to send for this event (empty when it was already handled), or an apology."""
        try:
            return (await self.step(event)).replies
        except STORE_ERRORS as exc:
            log.error("store unavailable while handling %s for %s: %r", event.kind.value, event.who, exc)
            return [Text(self.content.texts["error.store_unavailable"])]
        except ConcurrentUpdateError:
            log.warning("gave up after %d conflicting updates for %s", MAX_ATTEMPTS, event.who)
            return [Text(self.content.texts["error.busy"])]
        except Exception:
            log.exception("failed to handle %s for %s", event, event.who)
            return [Text(self.content.texts["error.unexpected"])]

    async def home(self, who: ConversationKey, *, capabilities: frozenset[str] = frozenset()) -> list[Reply]:
        """A read-only overview for the user (latest results, progress) and the menu; `capabilities` as
        the adapter vouches for them (e.g. that the platform calls the person an administrator)."""
        conv = Conversation(await self.store.read(who), self.services, capabilities=capabilities)
        await self._fire(conv, OVERVIEW, ())  # nothing is committed: the state change is dropped
        return conv.out.replies

    async def render_image(self, image: Image) -> bytes:
        """The PNG bytes of a described image (drawing runs off the event loop)."""
        draw = self._renderers.get(image.renderer)
        if draw is None:
            raise LookupError(f"no flow declares the image renderer {image.renderer!r}")
        return await draw(image.params, self.services)

    async def render_document(self, document: Document) -> bytes:
        """The bytes of a described file (made off the event loop)."""
        make = self._documents.get(document.renderer)
        if make is None:
            raise LookupError(f"no flow declares the document renderer {document.renderer!r}")
        return await make(document.params, self.services)

    async def _handle(self, event: IncomingEvent, reply_to: Destination | None) -> Step:
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                # Another process wrote first; back off a little, at random, before re-reading.
                await asyncio.sleep(random.uniform(0, 0.005 * 2 ** attempt))
            snapshot = await self.store.read(event.who, platform_event_id=event.event_id)
            if snapshot.already_handled:
                log.debug("event %s for %s already handled; ignored", event.event_id, event.who)
                return Step([])
            conv = Conversation(snapshot, self.services, display_name=event.display_name, channel=event.channel,
                                mentioned_channels=event.channels, capabilities=event.capabilities)
            if conv.saved_state not in self.machine.states:
                conv.saved_state = INITIAL_STATE
            seed = f"{event.who}:{event.event_id or uuid.uuid4().hex}"
            conv.step_seed = seed if reply_to is not None else ""
            await self._run(conv, event)
            record = conv.to_record(now=self.services.clock())
            replies = conv.out.replies
            offers = conv.step_seed != "" and conv.offered_in == conv.step_seed
            entry = OutboxEntry(reply_to, tuple(replies), seed=seed, offers_to=event.who if offers else None)
            committed = await self.store.commit(
                snapshot, record, platform_event_id=event.event_id, ops=conv.ops, checks=conv.checks,
                outbox_entry=entry.encode() if reply_to is not None and replies else "")
            if committed.outcome is CommitOutcome.COMMITTED:
                return Step(replies, entry, committed.outbox_id, committed.writes_applied)
            if committed.outcome is CommitOutcome.DUPLICATE:
                log.debug("event %s for %s handled concurrently; ignored", event.event_id, event.who)
                return Step([])
            log.debug("conflicting update for %s; retrying", event.who)
        raise ConcurrentUpdateError(str(event.who))

    async def _run(self, conv: Conversation, event: IncomingEvent) -> None:
        trigger, args = self.router.route(conv, event)
        await self._fire(conv, trigger, args)

    async def _fire(self, conv: Conversation, trigger: str, args: tuple[str, ...]) -> None:
        self.machine.add_model(conv, initial=conv.saved_state)
        try:
            done = await conv.trigger(trigger, *args)
            _raise_if_cancelled()
            if not done:  # every transition's conditions refused
                await conv.trigger(NOT_UNDERSTOOD)
                _raise_if_cancelled()
        finally:
            self.machine.remove_model(conv)

@dataclass(frozen=True)
class Step:
    """What one handled event says; `outbox_id` names its outbox entry when it was committed to one."""

    replies: list[Reply]
    entry: OutboxEntry | None = None
    outbox_id: str = ""
    writes_applied: bool = True  # False: writes to shared records still wait in the outbox entry


def _raise_if_cancelled() -> None:
    """transitions answers a cancelled callback with False (as if the conditions had refused);
    a step whose task is being cancelled must never be committed, least of all as "not understood"."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class ConcurrentUpdateError(Exception):
    """Other events for the same user kept committing first."""
