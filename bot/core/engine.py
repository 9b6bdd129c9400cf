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
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from redis.exceptions import RedisError

from bot.flows.learning.certificates import Certificates
from bot.core.classifier import IntentClassifier
from bot.content.schema import INCIDENT_KINDS
from bot.content.loader import Content
from bot.core.conversation import INITIAL_STATE, Conversation, Services
from bot.core.events import Action, EventKind, IncomingEvent
from bot.core.flow import Flow
from bot.flows.menu import send_overview
from bot.store.keys import ConversationKey
from bot.store.locks import KeyedLocks
from bot.core.machine import build_machine
from bot.flows import DEFAULT_FLOWS
from bot.flows.org.store import OrgStore
from bot.core.replies import Reply, Text
from bot.store.conversations import CommitOutcome, Store
from bot.core.understanding import match_command, match_numbered, match_topic, match_topic_word, pick_offered

log = logging.getLogger(__name__)

JST = ZoneInfo("Asia/Tokyo")
MAX_ATTEMPTS = 8

# Typed commands -> triggers. `back` outside a flow that handles it means the menu.
COMMAND_TRIGGERS = {
    "menu": "show_menu",
    "cancel": "cancel",
    "help": "show_help",
    "back": "back",
    "restart": "restart_diagnosis",
    "progress": "show_progress",
    "admin": "start_admin",
    "my_reports": "my_incidents",
    "all_reports": "workspace_incidents",
    "incident": "choose_incident",
}
TOPIC_TRIGGERS = {
    "diagnosis": "start_diagnosis",
    "history": "show_history",
    "lesson": "start_lessons",
}
# What the classifier's other intents lead to.
INTENT_TRIGGERS = {
    "diagnosis": "start_diagnosis",
    "lesson": "start_lessons",
    "help": "show_help",
}
INCIDENT_CONFIDENCE = 0.6  # at or above: the playbook at once
OTHER_CONFIDENCE = 0.5
CANDIDATE_FLOOR = 0.1  # an incident kind this likely is offered when unsure...
UNSURE_FLOOR = 0.25  # ...when one kind is at least this likely: the best guess, or (outside a question) a second
# Typed "学習 3" and the like: a command word and a number.
NUMBERED_TRIGGERS = {
    "lesson": "open_lesson",
}


def now_jst() -> datetime:
    return datetime.now(JST)


class Engine:
    def __init__(
        self,
        *,
        content: Content,
        store: Store,
        clock: Callable[[], datetime] = now_jst,
        flows: tuple[Flow, ...] = DEFAULT_FLOWS,
        certificates: Certificates | None = None,
    ):
        self.content = content
        self.store = store
        self.machine = build_machine(flows)
        self._triggers = {state: frozenset(self.machine.get_triggers(state)) for state in self.machine.states}
        self._free_text = {state: trigger for flow in flows for state, trigger in flow.free_text.items()}
        self.classifier = IntentClassifier(content.intents)
        self.services = Services(
            content=content, store=store, clock=clock, orgs=OrgStore(store.client, store.keys),
            certificates=certificates, flows=flows)
        self._locks = KeyedLocks()

    async def handle(self, event: IncomingEvent) -> list[Reply]:
        """The replies to send for this event; empty when it was already handled."""
        try:
            async with self._locks(event.who):
                return await self._handle(event)
        except RedisError as exc:
            log.error("store unavailable while handling %s for %s: %r", event.kind.value, event.who, exc)
            return [Text(self.content.texts["error.store_unavailable"])]
        except ConcurrentUpdateError:
            log.warning("gave up after %d conflicting updates for %s", MAX_ATTEMPTS, event.who)
            return [Text(self.content.texts["error.busy"])]
        except Exception:
            log.exception("failed to handle %s for %s", event, event.who)
            return [Text(self.content.texts["error.unexpected"])]

    async def home(self, who: ConversationKey) -> list[Reply]:
        """A read-only overview for the user (latest results, progress) and the menu."""
        conv = Conversation(await self.store.read(who), self.services)
        await send_overview(conv)
        return conv.out.replies

    async def _handle(self, event: IncomingEvent) -> list[Reply]:
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                # Another process wrote first; back off a little, at random, before re-reading.
                await asyncio.sleep(random.uniform(0, 0.005 * 2 ** attempt))
            snapshot = await self.store.read(event.who, platform_event_id=event.event_id)
            if snapshot.already_handled:
                log.info("event %s for %s already handled; ignored", event.event_id, event.who)
                return []
            conv = Conversation(snapshot, self.services, display_name=event.display_name, channel=event.channel)
            if conv.saved_state not in self.machine.states:
                conv.saved_state = INITIAL_STATE
            await self._run(conv, event)
            record = conv.to_record(now=self.services.clock())
            outcome = await self.store.commit(snapshot, record, platform_event_id=event.event_id, ops=conv.ops)
            if outcome is CommitOutcome.COMMITTED:
                return conv.out.replies
            if outcome is CommitOutcome.DUPLICATE:
                log.info("event %s for %s handled concurrently; ignored", event.event_id, event.who)
                return []
            log.debug("conflicting update for %s; retrying", event.who)
        raise ConcurrentUpdateError(str(event.who))

    async def _run(self, conv: Conversation, event: IncomingEvent) -> None:
        trigger, args = self.route(conv, event)
        self.machine.add_model(conv, initial=conv.saved_state)
        try:
            done = await conv.trigger(trigger, *args)
            if not done:  # every transition's conditions refused
                await conv.trigger("not_understood")
        finally:
            self.machine.remove_model(conv)

    def _allowed(self, state: str, trigger: str) -> bool:
        return trigger in self._triggers[state]

    def route(self, conv: Conversation, event: IncomingEvent) -> tuple[str, tuple[str, ...]]:
        """Which trigger (and arguments) this event means in the conversation's state."""
        state = conv.saved_state
        if event.kind is EventKind.START:
            return "start", ()
        if event.kind is EventKind.ACTION:
            return self._route_action(state, event.action)
        picked = pick_offered(event.text, conv.offered)
        if picked is not None:
            return self._route_action(state, picked)
        phrases = self.content.phrases
        numbered = match_numbered(event.text, phrases)
        if numbered is not None:
            return NUMBERED_TRIGGERS[numbered[0]], (str(numbered[1]),)
        command = match_command(event.text, phrases)
        if command is not None:
            trigger = COMMAND_TRIGGERS[command]
            return (trigger, ()) if self._allowed(state, trigger) else ("show_menu", ())
        if state in self._free_text:
            return self._free_text[state], (event.text,)
        return self._route_free_text(state, event.text)

    def _route_free_text(self, state: str, text: str) -> tuple[str, tuple[str, ...]]:
        word = match_topic_word(text, self.content.phrases)
        if word is not None and self._allowed(state, TOPIC_TRIGGERS[word]):
            return TOPIC_TRIGGERS[word], ()
        prediction = self.classifier.classify(text)
        if prediction.intent in INCIDENT_KINDS and prediction.confidence >= INCIDENT_CONFIDENCE:
            return "report_incident", (prediction.intent, text.strip())
        topic = match_topic(text, self.content.phrases)
        if topic is not None and self._allowed(state, TOPIC_TRIGGERS[topic]):
            return TOPIC_TRIGGERS[topic], ()
        if prediction.intent in INTENT_TRIGGERS and prediction.confidence >= OTHER_CONFIDENCE:
            return INTENT_TRIGGERS[prediction.intent], ()
        likely = [intent for intent, p in prediction.ranked if intent in INCIDENT_KINDS and p >= CANDIDATE_FLOOR]
        best = max((p for intent, p in prediction.ranked if intent in INCIDENT_KINDS), default=0.0)
        idle = state in (INITIAL_STATE, "incident_choosing")
        if best >= UNSURE_FLOOR and (prediction.intent in INCIDENT_KINDS or idle):
            # Not sure which, but it sounds like trouble: never a dead end, ask which kind.
            return "choose_incident", (",".join(likely[:5]),)
        return "not_understood", ()

    def _route_action(self, state: str, value: str) -> tuple[str, tuple[str, ...]]:
        action = Action.parse(value)
        if not self._allowed(state, action.trigger):
            return "stale_choice", ()
        return action.trigger, action.args


class ConcurrentUpdateError(Exception):
    """Other events for the same user kept committing first."""
