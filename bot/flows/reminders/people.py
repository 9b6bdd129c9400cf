"""Employees' reminders: at most one message a day, bundling what is due for the person.

- a self-check begun and left: once the person has not come back for `unfinished_after_days`
  working days (once per self-check begun);
- a new self-check when the last result is `renew_months` old (asked again every
  `renew_again_days` while it is not done; not while a self-check is under way);
- one lesson a week from their weak items: the lessons not yet passed of the items their latest
  result answered 実施していない or わからない, a different one each week.

Nobody is reminded on a day they already talked to the bot, nor after 「通知オフ」.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote

from bot.content.loader import Content
from bot.core.events import action_value
from bot.core.replies import Choice, Choices, Recipient
from bot.core.scheduler import DAY_SECONDS, Outgoing, marker_of
from bot.flows.reminders.calendar import working_days_after
from bot.flows.reminders.policy import ReminderPolicy
from bot.store.conversations import Store
from bot.store.keys import ConversationKey, Keys, tenant_tag
from bot.store.people import glob_escape, people_with

WEAK_ANSWERS = ("not_done", "unknown")  # checklist.yaml answer ids: 実施していない, わからない
PEOPLE_KINDS = ("conv", "results")  # the keys that can make a person due for a reminder


async def people_of(client: Any, keys: Keys, platform: str, workspace: str,
                    kinds: tuple[str, ...] = PEOPLE_KINDS) -> list[str]:
    """The people of a workspace with any of these kinds of keys."""
    return await people_with(client, keys, platform, workspace, kinds)


async def tenants_with_people(client: Any, keys: Keys) -> list[tuple[str, str]]:
    """Every (platform, workspace) with a conversation or a result kept (one pass over the keys)."""
    found: set[tuple[str, str]] = set()
    start = f"{keys.prefix}:"
    for kind in PEOPLE_KINDS:
        async for raw in client.scan_iter(match=glob_escape(start) + "{*}:" + kind + ":*", count=1000):
            key = raw.decode()
            tag = key[len(start):].split("}", 1)[0].lstrip("{")
            platform, _, workspace = tag.partition(":")
            if workspace:
                found.add((unquote(platform), unquote(workspace)))
    for raw in await client.smembers(keys.tenants()):
        tag = raw.decode().strip("{}")
        platform, _, workspace = tag.partition(":")
        if workspace:
            found.add((unquote(platform), unquote(workspace)))
    return sorted(found)


@dataclass
class Person:
    who: ConversationKey
    record: dict[str, Any] | None  # the conversation, when kept
    last_result: dict[str, Any] | None
    passed: set[int]  # checklist items whose lesson was passed
    off: bool  # said 「通知オフ」


async def read_person(store: Store, who: ConversationKey) -> Person:
    keys = store.keys
    async with store.client.pipeline(transaction=False) as pipe:
        pipe.hget(keys.conversation(who), "record")
        pipe.lrange(keys.results(who), -1, -1)
        pipe.hgetall(keys.lesson_progress(who))
        pipe.exists(keys.reminders_off(who))
        record, results, progress, off = await pipe.execute()
    passed = {int(item) for item, raw in progress.items() if json.loads(raw).get("passed_at")}
    return Person(who, json.loads(record) if record else None, json.loads(results[0]) if results else None,
                  passed, bool(off))


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


@dataclass(frozen=True)
class Item:
    """One thing a person's message says: its id (marked once sent), for how long, and its line."""

    id: str
    ttl_seconds: int
    line: str
    choice: Choice | None = None


def _draft(content: Content, person: Person) -> dict[str, Any] | None:
    draft = ((person.record or {}).get("data") or {}).get("diagnosis")
    if draft and len(draft.get("answers", ())) == len(content.checklist.items):
        return draft
    return None


def due_items(content: Content, policy: ReminderPolicy, person: Person, today: date) -> list[Item]:
    """What is due for this person today, before looking at what was sent already."""
    texts = content.texts
    items: list[Item] = []
    draft = _draft(content, person)
    last_seen = (person.record or {}).get("updated_at")
    if last_seen and datetime.fromisoformat(last_seen).date() >= today:
        return []  # they talked to the bot today: nothing to chase
    if draft is not None and last_seen:
        idle = working_days_after(datetime.fromisoformat(last_seen).date(), today)
        if idle >= policy.unfinished_after_days:
            answered = sum(a is not None for a in draft["answers"])
            items.append(Item(f"selfcheck-unfinished:{draft.get('started_at', '')}", 40 * DAY_SECONDS,
                              texts.render("remind.unfinished", answered=answered, total=len(draft["answers"])),
                              Choice(texts.render("remind.resume_button"), action_value("start_diagnosis"))))
    if draft is None and person.last_result is not None:
        at = datetime.fromisoformat(person.last_result["at"])
        if today >= _add_months(at.date(), policy.renew_months):
            months = (today.year - at.year) * 12 + today.month - at.month - (today.day < at.day)
            items.append(Item(f"selfcheck-renew:{person.last_result['at']}", policy.renew_again_days * DAY_SECONDS,
                              texts.render("remind.renew", date=texts.date(at.date()), months=months),
                              Choice(texts.render("remind.renew_button"), action_value("start_diagnosis"))))
    lesson = weekly_lesson(content, person, today)
    if lesson is not None:
        year, week, _ = today.isocalendar()
        item = content.checklist.item(lesson)
        answer = content.checklist.answers[person.last_result["answers"][lesson - 1]].label
        items.append(Item(f"lesson:{year}-W{week:02d}", 8 * DAY_SECONDS,
                          texts.render("remind.lesson", no=lesson, topic=item.topic, answer=answer),
                          Choice(texts.render("remind.lesson_button", no=lesson), action_value("open_lesson", lesson))))
    return items


def weak_lessons(content: Content, person: Person) -> list[int]:
    """The lessons not passed yet of the items the latest result answered 実施していない or わからない."""
    if person.last_result is None:
        return []
    answers = content.checklist.answers
    weak = []
    for no, answer in enumerate(person.last_result.get("answers", ()), start=1):
        if isinstance(answer, int) and 0 <= answer < len(answers) and answers[answer].id in WEAK_ANSWERS:
            if no in content.lessons and no not in person.passed:
                weak.append(no)
    return weak


def weekly_lesson(content: Content, person: Person, today: date) -> int | None:
    """This week's lesson: the weak ones in turn, a different one each week."""
    weak = weak_lessons(content, person)
    return weak[(today.toordinal() // 7) % len(weak)] if weak else None


def recipient(content: Content, who: ConversationKey) -> Recipient:
    return Recipient(who.platform, who.workspace, "user", who.user, content.texts.render("remind.employee_label"))


async def employee_reminders(content: Content, store: Store, policy: ReminderPolicy, platform: str,
                             workspace: str, at: datetime) -> list[Outgoing]:
    """Each person's message for today (not sent yet), inside working hours; else nothing."""
    if not policy.hours.contains(at):
        return []
    today = at.date()
    tenant = tenant_tag(platform, workspace)
    messages = []
    for user in await people_of(store.client, store.keys, platform, workspace):
        person = await read_person(store, ConversationKey(platform, workspace, user))
        if person.off:
            continue
        items = due_items(content, policy, person, today)
        if not items:
            continue
        to = recipient(content, person.who)
        day_id = f"day:{today.isoformat()}"
        async with store.client.pipeline(transaction=False) as pipe:
            for reminder_id in (day_id, *(item.id for item in items)):
                pipe.exists(store.keys.reminder_sent(tenant, marker_of(to, reminder_id)))
            day_sent, *item_sent = await pipe.execute()
        items = [item for item, sent in zip(items, item_sent) if not sent]
        if day_sent or not items:
            continue
        messages.append(bundle(content, to, day_id, items))
    return messages


def bundle(content: Content, to: Recipient, day_id: str, items: list[Item]) -> Outgoing:
    texts = content.texts
    lines = [texts.render("remind.employee_heading"), *(item.line for item in items),
             texts.render("remind.employee_footer")]
    options = [item.choice for item in items if item.choice is not None]
    options.append(Choice(texts.render("remind.off_button"), action_value("reminders_off")))
    return Outgoing(day_id, to, (Choices("\n".join(lines), tuple(dict.fromkeys(options))),), kind="employee",
                    ttl_seconds=2 * DAY_SECONDS, also_mark=tuple((item.id, item.ttl_seconds) for item in items))
