"""「通知オフ」/「通知オン」: whether the person gets reminders (bot/flows/reminders/people.py and the
weekly digest). Kept on a key of its own without expiry (not in the conversation, which expires),
erased with the person's other data by 「データ削除」. Incident alerts and report deadlines reach
the company's responsible people whatever they chose: they are the company's duties."""
from __future__ import annotations

from bot.core.conversation import Conversation
from bot.core.events import action_value
from bot.core.flow import Flow, on, reprompt
from bot.core.replies import Choice
from bot.flows.menu import MENU
from bot.store.conversations import StoreOp

NAME = "reminders"


async def _is_off(conv: Conversation) -> bool:
    return bool(await conv.services.store.client.exists(conv.services.store.keys.reminders_off(conv.who)))


async def _confirm(conv: Conversation, key: str, undo: str, undo_trigger: str) -> None:
    """Said, then: at the menu, the way back and the menu; in the middle of something (a self-check
    question), what was waiting, again."""
    if conv.state != MENU:
        conv.out.text(conv.text(key))
        await reprompt(conv)
        return
    conv.out.choices(conv.text(key), [Choice(conv.text(undo), action_value(undo_trigger)),
                                      Choice(conv.text("result.menu"), action_value("show_menu"))])


async def turn_off(conv: Conversation) -> None:
    key = "remind.off_already" if await _is_off(conv) else "remind.off_done"
    conv.ops.append(StoreOp("SET", conv.services.store.keys.reminders_off(conv.who), ("1",)))
    await _confirm(conv, key, "remind.on_button", "reminders_on")


async def turn_on(conv: Conversation) -> None:
    key = "remind.on_done" if await _is_off(conv) else "remind.on_already"
    conv.ops.append(StoreOp("DEL", conv.services.store.keys.reminders_off(conv.who)))
    await _confirm(conv, key, "remind.off_button", "reminders_off")


FLOW = Flow(
    name=NAME,
    states=(),
    transitions=(
        {"trigger": "reminders_off", "source": "*", "dest": None, "after": on(turn_off)},
        {"trigger": "reminders_on", "source": "*", "dest": None, "after": on(turn_on)},
    ),
    commands={"reminders_off": "reminders_off", "reminders_on": "reminders_on"},
)
