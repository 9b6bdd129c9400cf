"""The main menu and what works from anywhere: menu, help, cancel, closings, not understood.

Its transitions come last when flows are combined: a flow that needs its own
handling of, say, `cancel` declares it and is matched first.
"""
from __future__ import annotations

from bot.core.conversation import Conversation
from bot.core.events import action_value
from bot.core.flow import (
    OUT_OF_RANGE,
    TYPED_EARLY,
    Flow,
    IntentRoute,
    hint_key,
    menu_choices,
    on,
    reprompt,
)
from bot.core.replies import Choice

MENU = "menu"


def help_entry(conv: Conversation) -> list[Choice]:
    return [Choice(conv.text("menu.help"), action_value("show_help"))]


async def send_menu(conv: Conversation, *_: str) -> None:
    conv.out.choices(conv.text("menu.prompt"), menu_choices(conv))


async def welcome(conv: Conversation, *_: str) -> None:
    conv.out.text(conv.text("menu.welcome"))
    await send_menu(conv)


async def send_help(conv: Conversation, *_: str) -> None:
    conv.out.text(conv.text("help.body"))
    await reprompt(conv)


async def send_overview(conv: Conversation, *_: str) -> None:
    """進捗: what each flow has to show for this user (latest result, progress), then the menu."""
    for flow in conv.services.flows:
        if flow.home:
            await flow.home(conv)
    await send_menu(conv)


async def cancelled(conv: Conversation, *_: str) -> None:
    conv.out.text(conv.text("menu.cancelled"))
    await send_menu(conv)


async def not_understood(conv: Conversation, *args: str) -> None:
    """The state's hint, then what it waits for again. A number that picks none of the choices
    shown is told which numbers do (「1〜4の番号で答えてください」)."""
    if len(args) == 2 and args[0] == OUT_OF_RANGE and args[1].isdigit() and int(args[1]) > 0:
        conv.out.text(conv.text("menu.number_range", count=int(args[1])))
    else:
        conv.out.text(conv.text(hint_key(conv) or "menu.not_understood"))
    await reprompt(conv)


async def closing(conv: Conversation, *_: str) -> None:
    """ありがとう, 了解, bye: a short polite answer, then what the state waits for (the menu when idle)."""
    conv.out.text(conv.text("menu.closing"))
    await reprompt(conv)


async def stale_choice(conv: Conversation, *args: str) -> None:
    typed_early = bool(args) and args[0] == TYPED_EARLY
    conv.out.text(conv.text("menu.stale_typed" if typed_early else "menu.stale_choice"))
    await reprompt(conv)


FLOW = Flow(
    name="menu",
    states=(MENU,),
    transitions=(
        {"trigger": "start", "source": "*", "dest": MENU, "after": on(welcome)},
        {"trigger": "show_menu", "source": "*", "dest": MENU, "after": on(send_menu)},
        {"trigger": "show_help", "source": "*", "dest": None, "after": on(send_help)},
        {"trigger": "show_progress", "source": "*", "dest": MENU, "after": on(send_overview)},
        {"trigger": "cancel", "source": "*", "dest": MENU, "after": on(cancelled)},
        {"trigger": "not_understood", "source": "*", "dest": None, "after": on(not_understood)},
        {"trigger": "closing", "source": "*", "dest": None, "after": on(closing)},
        {"trigger": "stale_choice", "source": "*", "dest": None, "after": on(stale_choice)},
    ),
    reprompts={MENU: send_menu},
    hints={MENU: "menu.not_understood"},
    menu_entries=help_entry,
    commands={"menu": "show_menu", "cancel": "cancel", "help": "show_help", "progress": "show_progress",
              "closing": "closing"},
    intents=(IntentRoute(intents=lambda content: ("help",), trigger="show_help", confidence=0.5),
             IntentRoute(intents=lambda content: ("closing",), trigger="closing", confidence=0.5)),
    idle_states=(MENU,),
)
