"""Where an incident report goes: severity, public contacts (open or not, right now), the
company's own roles, and the 個人情報保護委員会 deadlines.

Pure functions of the playbook, the triage answers and the time (JST), so they are
tested with a frozen clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from bot.content.incidents import Contact, Playbook

SEVERITIES = ("low", "medium", "high", "critical")
YES, NO, UNKNOWN = "yes", "no", "unknown"
# Kinds where a leak is presumed to be by someone with 不正の目的 (the 確報 is due in 60 days).
MALICIOUS_KINDS = frozenset({"ransomware", "malware", "suspicious_email", "phishing", "account_takeover",
                             "web_compromise", "insider", "bec", "fake_alert", "extortion_email"})


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


def severity(playbook: Playbook, answers: dict[str, str]) -> str:
    level = SEVERITIES.index(playbook.severity)
    if answers.get("still_spreading") == YES:
        level += 1
    if answers.get("multiple_devices") == YES:
        level += 1
    if answers.get("personal_data") == YES or answers.get("regulated_business") == YES:
        level = max(level, SEVERITIES.index("high"))
    if answers.get("money_transferred") == YES or answers.get("threat_to_life") == YES:
        level = SEVERITIES.index("critical")
    return SEVERITIES[min(level, len(SEVERITIES) - 1)]


ROLES_BY_SEVERITY = {
    "low": ("security_lead",),
    "medium": ("security_lead",),
    "high": ("security_lead", "executive"),
    "critical": ("security_lead", "executive", "it_vendor"),
}


def roles_to_notify(level: str, answers: dict[str, str]) -> tuple[str, ...]:
    roles = list(ROLES_BY_SEVERITY[level])
    if answers.get("personal_data") in (YES, UNKNOWN):
        roles.append("privacy_officer")
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


def leak_deadlines(kind: str, discovered: datetime) -> LeakDeadlines:
    days = 60 if kind in MALICIOUS_KINDS else 30
    day = discovered.date()
    return LeakDeadlines(discovered=day, preliminary_from=day + timedelta(days=3),
                         preliminary_by=day + timedelta(days=5), final_by=day + timedelta(days=days),
                         final_days=days)
