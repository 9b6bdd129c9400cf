"""Where an incident report goes: severity, public contacts (open or not, right now), the
company's own roles, and the 個人情報保護委員会 deadlines.

Pure functions of the playbook, the triage answers, the escalation rules and the time (JST),
so they are tested with a frozen clock. The rules are content: the severity levels and the
roles told at each (incidents/policy.yaml), what each triage answer does (incidents/triage.yaml),
and which kinds are presumed malicious (`malicious:` in each playbook).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from bot.content.incidents import AnswerEffect, Contact, Escalation, Playbook

YES, NO, UNKNOWN = "yes", "no", "unknown"


@lru_cache(maxsize=8)
def _japanese_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year, language="ja")


def is_year_end(day: date) -> bool:
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_business_day(day: date, *, closed_on_holidays: bool = True, year_end_closure: bool = True) -> bool:
    if day.weekday() >= 5:
        return False
    if closed_on_holidays and day in _japanese_holidays(day.year):
        return False
    return not (year_end_closure and is_year_end(day))


def holiday_name(day: date) -> str | None:
    return _japanese_holidays(day.year).get(day)


def _ranges(contact: Contact) -> list[tuple[time, time]]:
    return [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in contact.hours.weekdays]


def is_open(contact: Contact, at: datetime) -> bool:
    hours = contact.hours
    if hours.always:
        return True
    if not is_business_day(at.date(), closed_on_holidays=hours.closed_on_holidays,
                           year_end_closure=hours.year_end_closure):
        return False
    now = at.time()
    return any(start <= now < end for start, end in _ranges(contact))


def next_opening(contact: Contact, at: datetime) -> datetime | None:
    """When the contact opens next (None for one that never closes)."""
    hours = contact.hours
    if hours.always or not hours.weekdays:
        return None
    for offset in range(0, 15):
        day = at.date() + timedelta(days=offset)
        if not is_business_day(day, closed_on_holidays=hours.closed_on_holidays,
                               year_end_closure=hours.year_end_closure):
            continue
        for start, _ in _ranges(contact):
            opening = datetime.combine(day, start, tzinfo=at.tzinfo)
            if opening > at:
                return opening
    return None


def _effects(answers: dict[str, str], rules: Escalation) -> list[AnswerEffect]:
    """What the answers do, in the order of the triage questions."""
    effects = []
    for question, by_answer in rules.effects.items():
        effect = by_answer.get(answers.get(question, ""))
        if effect is not None:
            effects.append(effect)
    return effects


def severity(playbook: Playbook, answers: dict[str, str], rules: Escalation) -> str:
    """The playbook's severity moved by the answers: raises first (at most the highest level),
    then each at_least, then a set level overrides (the highest set wins)."""
    levels = rules.severities
    effects = _effects(answers, rules)
    level = min(levels.index(playbook.severity) + sum(e.raise_by for e in effects), len(levels) - 1)
    level = max([level, *(levels.index(e.at_least) for e in effects if e.at_least)])
    chosen = [levels.index(e.set_to) for e in effects if e.set_to]
    return levels[max(chosen) if chosen else level]


def roles_to_notify(level: str, answers: dict[str, str], rules: Escalation) -> tuple[str, ...]:
    """The roles told at this severity, then those the answers add."""
    roles = list(rules.roles[level])
    for effect in _effects(answers, rules):
        roles += [role for role in effect.roles if role not in roles]
    return tuple(roles)


def route_contacts(playbook: Playbook, answers: dict[str, str], contacts: dict[str, Contact]) -> list[Contact]:
    """The public contacts for this case: emergencies first, then the playbook's, then those a 'yes' calls for."""
    chosen: list[Contact] = []
    for contact in contacts.values():
        triggered = any(answers.get(t) == YES for t in contact.when_yes)
        if contact.emergency:
            if triggered:
                chosen.append(contact)
            continue
        listed = contact.id in playbook.contacts
        for_kind = not contact.for_kinds or playbook.id in contact.for_kinds
        if listed and not contact.when_yes:
            chosen.append(contact)
        elif contact.when_yes and triggered and (listed or for_kind):
            chosen.append(contact)
    order = {c: i for i, c in enumerate(playbook.contacts)}
    return sorted(chosen, key=lambda c: (not c.emergency, order.get(c.id, len(order))))


@dataclass(frozen=True)
class LeakDeadlines:
    discovered: date
    preliminary_from: date  # 速報: within about 3-5 days of discovery
    preliminary_by: date
    final_by: date  # 確報: 30 days, 60 when the leak may be by someone with 不正の目的
    final_days: int


def leak_deadlines(playbook: Playbook, discovered: datetime) -> LeakDeadlines:
    days = 60 if playbook.malicious else 30
    day = discovered.date()
    return LeakDeadlines(discovered=day, preliminary_from=day + timedelta(days=3),
                         preliminary_by=day + timedelta(days=5), final_by=day + timedelta(days=days),
                         final_days=days)
