"""How a conversation flow is declared: as data, for one shared `transitions` machine.

A flow module declares its states, its transitions (trigger, source, dest,
conditions, callbacks), per state what to show again when the user says
something the state does not understand, and what typed text leads into it
(commands, topics, numbered commands, classifier intents). `bot.core.machine`
combines every flow into one machine and `bot.core.router` combines what they
answer to, both once at start-up; each event attaches the user's conversation
to the machine for the time of one trigger.

Callbacks are written as `handler(conv, *args)`; `on` and `when` adapt them to
transitions' EventData calling convention.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable

from bot.core.conversation import Conversation
from bot.core.replies import Choice

Handler = Callable[..., Awaitable[None]]
ImageRenderer = Callable[[dict[str, Any], Any], Awaitable[bytes]]  # (params, Services) -> PNG bytes
DocumentRenderer = Callable[[dict[str, Any], Any], Awaitable[bytes]]  # (params, Services) -> the file's bytes
Check = Callable[..., bool]


def _arity(func: Callable[..., Any]) -> int | None:
    """How many trigger arguments `func` takes after the conversation (None: any number)."""
    params = list(inspect.signature(func).parameters.values())[1:]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return len(params)


def on(handler: Handler) -> Callable[[Any], Awaitable[None]]:
    # A choice value may carry more arguments than a handler takes (e.g. a stale
    # button): extra ones are dropped rather than failing the event.
    arity = _arity(handler)

    async def callback(event: Any) -> None:
        await handler(event.model, *event.args[:arity])

    callback.__name__ = handler.__name__
    return callback


def when(check: Check) -> Callable[[Any], bool]:
    arity = _arity(check)

    def condition(event: Any) -> bool:
        return check(event.model, *event.args[:arity])

    condition.__name__ = check.__name__
    return condition


# Triggers every combination of flows must provide (the menu flow does): the engine and
# the router fall back on them.
START = "start"
SHOW_MENU = "show_menu"
NOT_UNDERSTOOD = "not_understood"
STALE_CHOICE = "stale_choice"
# stale_choice's argument when the stale choice was typed before its question reached the screen.
TYPED_EARLY = "typed_early"
# not_understood's first argument when a number was typed that picks none of the choices shown
# (the second is how many there are).
OUT_OF_RANGE = "out_of_range"
OVERVIEW = "show_progress"
CORE_TRIGGERS = (START, SHOW_MENU, NOT_UNDERSTOOD, STALE_CHOICE, OVERVIEW)


@dataclass(frozen=True)
class IntentRoute:
    """Classifier intents that lead into a flow.

    When the classifier's best intent is one of `intents` (given by the content, e.g.
    every playbook kind) with at least `confidence`, the router fires `trigger` with
    the intent and, when `with_text`, the text and the confidence ("0.87"). An `urgent` route is tried before
    topic phrases: someone in trouble is not sent to a lesson because a word in
    their message names one. With `unsure_trigger`, a message whose likeliest
    intent of the family reaches `unsure_floor` (and is the overall best, or the
    conversation is idle) fires it with the plausible intents, comma-separated,
    so that a vague report is never a dead end.
    """

    intents: Callable[[Any], Iterable[str]]  # Content -> intent names
    trigger: str
    confidence: float
    with_text: bool = False
    urgent: bool = False
    unsure_trigger: str | None = None
    unsure_floor: float = 0.25
    candidate_floor: float = 0.1
    max_candidates: int = 5


@dataclass(frozen=True)
class Flow:
    name: str
    states: tuple[str, ...]
    transitions: tuple[dict[str, Any], ...]
    # state -> what to show again (the current question, the menu...)
    reprompts: dict[str, Handler] = field(default_factory=dict)
    # state -> texts.yaml key explaining what the state expects
    hints: dict[str, str] = field(default_factory=dict)
    # what this flow adds to the main menu
    menu_entries: Callable[[Conversation], list[Choice]] | None = None
    # what this flow shows on the user's home/progress page (Slack App Home, LINE 進捗)
    home: Handler | None = None
    # state -> trigger that receives any typed text as its argument (e.g. a note being written)
    free_text: dict[str, str] = field(default_factory=dict)
    # state -> trigger that receives typed text that is no choice, command or urgent intent, when it is
    # not stray (numbers, single characters, short tokens): a remark kept with what the state is about
    # (a note on a report while its questions are asked). Stray text gets the state's hint instead.
    remarks: dict[str, str] = field(default_factory=dict)
    # What typed text leads here. Keys name phrase groups in content/phrases.yaml.
    commands: dict[str, str] = field(default_factory=dict)  # whole-message command -> trigger
    topics: dict[str, str] = field(default_factory=dict)  # topic phrase -> trigger (in content order)
    numbered: dict[str, str] = field(default_factory=dict)  # 「学習 3」 -> trigger("3")
    intents: tuple[IntentRoute, ...] = ()
    # States in which nothing in particular is awaited (a vague message may be asked about).
    idle_states: tuple[str, ...] = ()
    # The pictures this flow describes in its replies: renderer name -> draw(params, services) -> PNG.
    images: dict[str, ImageRenderer] = field(default_factory=dict)
    # The files this flow describes in its replies (a PDF): renderer name -> make(params, services) -> bytes.
    documents: dict[str, DocumentRenderer] = field(default_factory=dict)


async def reprompt(conv: Conversation) -> None:
    """Show again what the conversation's current state is waiting for."""
    flows: tuple[Flow, ...] = conv.services.flows
    for flow in flows:
        if conv.state in flow.reprompts:
            await flow.reprompts[conv.state](conv)
            return


def hint_key(conv: Conversation) -> str | None:
    for flow in conv.services.flows:
        if conv.state in flow.hints:
            return flow.hints[conv.state]
    return None


def menu_choices(conv: Conversation) -> list[Choice]:
    """The main menu: each flow's entries, in the order the flows are combined."""
    return [choice for flow in conv.services.flows if flow.menu_entries for choice in flow.menu_entries(conv)]
