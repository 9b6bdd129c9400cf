"""「データ削除」: a person deletes what the bot keeps about them, after a confirmation.

What goes (bot/flows/org/data.py): their conversation, self-check results, lesson progress,
certificates (erased: their ids verify as revoked), display name and the list of their reports.
What stays: the reports themselves, which are the company's records, until the incident
retention ends. One state, `data_confirm`: the next answer says whether to delete.
"""
from __future__ import annotations

from bot.core.conversation import Conversation
from bot.core.events import action_value
from bot.core.flow import Flow, on
from bot.core.replies import Choice
from bot.flows.incidents.records import IncidentStore
from bot.flows.menu import MENU, send_menu
from bot.flows.org.data import certificate_serials, erase_person_ops

NAME = "privacy"
CONFIRM = "data_confirm"
DAYS_PER_YEAR = 365


def _retention(conv: Conversation) -> str:
    days = IncidentStore(conv.services.store.client, conv.services.store.keys).retention_seconds // 86400
    if days >= DAYS_PER_YEAR and days % DAYS_PER_YEAR in (0, 1):  # three years, a leap day included
        return conv.text("data.years", years=days // DAYS_PER_YEAR)
    return conv.text("data.days", days=days)


async def ask(conv: Conversation) -> None:
    store = conv.services.store
    results = len(await store.results(conv.who, limit=10_000))
    lessons = sum(1 for p in (await store.lesson_progress(conv.who)).values() if p.get("passed_at"))
    certificates = len(await certificate_serials(store.client, store.keys, conv.who))
    conv.out.choices(conv.text("data.confirm", results=results, lessons=lessons, certificates=certificates,
                               retention=_retention(conv)),
                     [Choice(conv.text("data.yes"), action_value("data_delete_confirm"), means="yes"),
                      Choice(conv.text("data.no"), action_value("data_keep"), means="no")])


async def delete(conv: Conversation) -> None:
    store = conv.services.store
    conv.ops.extend(await erase_person_ops(store.client, store.keys, conv.who))
    conv.data.clear()
    conv.out.text(conv.text("data.deleted"))


async def keep(conv: Conversation) -> None:
    conv.out.text(conv.text("data.kept"))
    await send_menu(conv)


FLOW = Flow(
    name=NAME,
    states=(CONFIRM,),
    transitions=(
        {"trigger": "data_delete", "source": "*", "dest": CONFIRM, "after": on(ask)},
        {"trigger": "data_delete_confirm", "source": CONFIRM, "dest": MENU, "after": on(delete)},
        {"trigger": "data_keep", "source": CONFIRM, "dest": MENU, "after": on(keep)},
    ),
    reprompts={CONFIRM: ask},
    hints={CONFIRM: "data.hint"},
    commands={"delete_data": "data_delete"},
)
