"""Which trigger an event means, in the conversation's current state.

The tables are built once at start-up from what each flow declares it answers
to (commands, topics, numbered commands, classifier intents, free text, remarks); the
router itself knows no feature. A typed message is read once (`bot.core.understanding`:
one `Understanding`), and its readings are tried in this order:

1. one of the choices shown last (by number, label, an accepted word or its place);
2. a numbered command (「学習 3」);
3. a whole-message command (メニュー, やめる, 戻る…): the menu when the state has no use for it;
4. free text a state asks for (a note being written);
5. a number that picks no choice: the hint that says which numbers do (never a report);
6. a whole-message topic word (「履歴」);
7. an urgent intent the classifier is sure of (an incident report);
8. a remark, in a state that keeps them, unless the text is stray;
9. a topic phrase inside the message (「診断したい」);
10. another intent the classifier is sure enough of;
11. a plausible but unsure intent family (asks which one);
12. not understood (the state's hint, and what it waits for again).

Stray text (numbers, single characters, short tokens) is never an incident: the classifier
gives the incident kinds nothing for it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.content.loader import Content
from bot.core.classifier import IntentClassifier, Prediction
from bot.core.conversation import INITIAL_STATE, Conversation
from bot.core.events import Action, EventKind, IncomingEvent
from bot.core.flow import (
    CORE_TRIGGERS,
    NOT_UNDERSTOOD,
    OUT_OF_RANGE,
    SHOW_MENU,
    STALE_CHOICE,
    START,
    TYPED_EARLY,
    Flow,
    IntentRoute,
)
from bot.core.understanding import Reader, Understanding

Route = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class _IntentFamily:
    route: IntentRoute
    intents: frozenset[str]


class Router:
    def __init__(self, *, flows: tuple[Flow, ...], content: Content, machine: Any, classifier: IntentClassifier):
        self._classifier = classifier
        self.read = Reader(content.phrases, classifier)
        self._triggers = {state: frozenset(machine.get_triggers(state)) for state in machine.states}
        missing = [t for t in CORE_TRIGGERS if not any(t in triggers for triggers in self._triggers.values())]
        if missing:
            raise ValueError(f"no flow handles the core trigger(s) {missing}")
        self._free_text = {state: trigger for flow in flows for state, trigger in flow.free_text.items()}
        self._remarks = {state: trigger for flow in flows for state, trigger in flow.remarks.items()}
        self._commands = self._table(flows, "commands", content.phrases.commands)
        self._topics = self._table(flows, "topics", content.phrases.topics)
        self._numbered = self._table(flows, "numbered", content.phrases.numbered)
        families = [_IntentFamily(route, frozenset(route.intents(content))) for flow in flows for route in flow.intents]
        unknown = sorted({i for f in families for i in f.intents} - set(classifier.intents))
        if unknown:
            raise ValueError(f"flows answer to intents the classifier does not know: {unknown}")
        self._urgent = [f for f in families if f.route.urgent]
        self._other = [f for f in families if not f.route.urgent]
        self._unsure = [f for f in families if f.route.unsure_trigger]
        self._idle = frozenset(state for flow in flows for state in flow.idle_states) | {INITIAL_STATE}

    @staticmethod
    def _table(flows: tuple[Flow, ...], kind: str, phrases: dict[str, tuple[str, ...]]) -> dict[str, str]:
        table: dict[str, str] = {}
        for flow in flows:
            for group, trigger in getattr(flow, kind).items():
                if group not in phrases:
                    raise ValueError(f"flow {flow.name!r} answers to {kind} {group!r}, "
                                     f"which content/phrases.yaml does not define")
                if group in table:
                    raise ValueError(f"{kind} {group!r} is claimed by two flows")
                table[group] = trigger
        return table

    def allowed(self, state: str, trigger: str) -> bool:
        return trigger in self._triggers[state]

    def route(self, conv: Conversation, event: IncomingEvent) -> Route:
        state = conv.saved_state
        if event.kind is EventKind.START:
            return START, ()
        if event.kind is EventKind.ACTION:
            return self._route_action(state, event.action)
        heard = conv.heard = self.read(event.text, conv.offered)
        if heard.choice is not None:
            if conv.typed_before_shown(event.sent_at):
                # Typed before these choices were on screen: meant for the ones before (perhaps shown twice).
                return STALE_CHOICE, (TYPED_EARLY,)
            return self._route_action(state, heard.choice)
        if heard.numbered is not None and heard.numbered[0] in self._numbered:
            return self._numbered[heard.numbered[0]], (str(heard.numbered[1]),)
        if heard.command is not None and heard.command in self._commands:
            trigger = self._commands[heard.command]
            return (trigger, ()) if self.allowed(state, trigger) else (SHOW_MENU, ())
        if state in self._free_text:
            return self._free_text[state], (event.text,)
        if heard.number is not None:
            return NOT_UNDERSTOOD, (OUT_OF_RANGE, str(len(conv.offered)))
        return self._route_free_text(state, heard)

    def _topic(self, state: str, group: str | None) -> Route | None:
        trigger = self._topics.get(group) if group is not None else None
        return (trigger, ()) if trigger is not None and self.allowed(state, trigger) else None

    def _route_free_text(self, state: str, heard: Understanding) -> Route:
        found = self._topic(state, heard.topic_word)
        if found:
            return found
        prediction = heard.prediction
        if prediction is None:
            return NOT_UNDERSTOOD, ()
        found = self._confident(self._urgent, prediction, heard.text)
        if found:
            return found
        if state in self._remarks and not heard.stray:
            return self._remarks[state], (heard.text,)
        found = self._topic(state, heard.topic)
        if found:
            return found
        found = self._confident(self._other, prediction, heard.text)
        if found:
            return found
        for family in self._unsure:
            route = family.route
            ranked = [(intent, p) for intent, p in prediction.ranked if intent in family.intents]
            best = max((p for _, p in ranked), default=0.0)
            if best >= route.unsure_floor and (prediction.intent in family.intents or state in self._idle):
                likely = [intent for intent, p in ranked if p >= route.candidate_floor][:route.max_candidates]
                return route.unsure_trigger, (",".join(likely),)
        return NOT_UNDERSTOOD, ()

    @staticmethod
    def _confident(families: list[_IntentFamily], prediction: Prediction, text: str) -> Route | None:
        for family in families:
            route = family.route
            if prediction.intent in family.intents and prediction.confidence >= route.confidence:
                args = (prediction.intent, text.strip(), f"{prediction.confidence:.3f}") if route.with_text else ()
                return route.trigger, args
        return None

    def _route_action(self, state: str, value: str) -> Route:
        action = Action.parse(value)
        if not self.allowed(state, action.trigger):
            return STALE_CHOICE, ()
        return action.trigger, action.args
