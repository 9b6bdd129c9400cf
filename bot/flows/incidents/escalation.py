"""Where an incident report goes: severity, public contacts (open or not, right now), the
company's own roles, and the 個人情報保護委員会 漏えい等報告.

Pure functions of the playbook, the triage answers, the escalation rules and the time (JST),
so they are tested with a frozen clock, and `bot triage` prints what they give. The rules are
content: the severity levels and the roles told at each (incidents/policy.yaml), what each triage
answer does (incidents/triage.yaml), which kinds are presumed malicious (`malicious:` in each
playbook), and each contact's hours (contacts.yaml).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from bot.content.incidents import (
    AnswerEffect,
    Contact,
    Escalation,
    Hours,
    Playbook,
    TimeRange,
    TriageStep,
)

YES, NO, UNKNOWN = "yes", "no", "unknown"
DAY = 24 * 60  # minutes
_LOOK_AHEAD_DAYS = 40  # the longest closure plus weekends and holidays fits well inside


@lru_cache(maxsize=8)
def _japanese_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year, language="ja")


def holiday_name(day: date) -> str | None:
    return _japanese_holidays(day.year).get(day)


def is_year_end(day: date) -> bool:
    """12/29 - 1/3: the year end of public offices (行政機関の休日)."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_business_day(day: date) -> bool:
    """A working day of public offices: not a weekend, a public holiday or the year end."""
    return day.weekday() < 5 and holiday_name(day) is None and not is_year_end(day)


# --- opening hours ---------------------------------------------------------------------

def day_type(day: date) -> str:
    """holidays for a public holiday (whatever weekday it is), else saturdays, sundays or weekdays."""
    if holiday_name(day) is not None:
        return "holidays"
    return {5: "saturdays", 6: "sundays"}.get(day.weekday(), "weekdays")


def day_hours(hours: Hours, day: date) -> tuple[tuple[TimeRange, ...], str]:
    """The ranges a contact is open on this day, and why it is closed all day ("" when no reason is said:
    a weekend, a day type without hours)."""
    for closure in hours.closures:
        if closure.contains(day):
            return (), closure.label
    kind = day_type(day)
    ranges = hours.ranges(kind)
    if kind == "holidays" and not ranges:
        return (), holiday_name(day) or ""
    return ranges, ""


def _minute(at: datetime) -> int:
    return at.hour * 60 + at.minute


def _at(day: date, minute: int, tzinfo) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tzinfo)


def _current_range(hours: Hours, at: datetime) -> TimeRange | None:
    ranges, _ = day_hours(hours, at.date())
    now = _minute(at)
    return next(((start, end) for start, end in ranges if start <= now < end), None)


def is_open(contact: Contact, at: datetime) -> bool:
    """Answered (or read) right now (as far as is known: a contact whose hours vary is not said to be)."""
    return contact.hours.always or _current_range(contact.hours, at) is not None


def next_opening(contact: Contact, at: datetime) -> datetime | None:
    """When the contact's next range starts after `at` (None for one that never closes, or whose
    hours are not known here)."""
    hours = contact.hours
    if hours.always or hours.varies:
        return None
    for offset in range(_LOOK_AHEAD_DAYS):
        day = at.date() + timedelta(days=offset)
        ranges, _ = day_hours(hours, day)
        for start, _end in ranges:
            opening = _at(day, start, at.tzinfo)
            if opening > at:
                return opening
    return None


OPEN_ALWAYS, OPEN, CLOSED, SEND_NOW, SEND_OPEN = "always", "open", "closed", "send_now", "send_open"
VARIES = "varies"


@dataclass(frozen=True)
class Availability:
    """What can be said about a contact at a moment.

    state: always (never closes), open (answered now), closed (not now: next_opening), send_now (a
    form or mail can be sent now but is read only from next_opening), send_open (can be sent, and
    it is within the hours it is read), varies (each one has its own hours, not known here: call
    and see).
    """

    state: str
    until: time | None = None  # the end of the range open now (None: open to the end of the day, or always)
    next_opening: datetime | None = None
    next_is_whole_day: bool = False  # the next range starts at 00:00: say the day, not the time
    reason: str = ""  # why it is closed today: a public holiday or a closure ("" for a weekend, after hours)

    @property
    def open(self) -> bool:
        return self.state in (OPEN_ALWAYS, OPEN, SEND_OPEN)

    @property
    def accepts_now(self) -> bool:
        """Something can be sent or said to it right now (or may be: its hours vary)."""
        return self.state != CLOSED


def availability(contact: Contact, at: datetime) -> Availability:
    hours = contact.hours
    if hours.always:
        return Availability(OPEN_ALWAYS)
    if hours.varies:
        return Availability(VARIES)
    current = _current_range(hours, at)
    if current is not None:
        end = current[1]
        until = None if end >= DAY else time(end // 60, end % 60)
        return Availability(SEND_OPEN if hours.accepts_any_time else OPEN, until=until)
    opening = next_opening(contact, at)
    _, reason = day_hours(hours, at.date())
    return Availability(SEND_NOW if hours.accepts_any_time else CLOSED, next_opening=opening,
                        next_is_whole_day=opening is not None and _minute(opening) == 0, reason=reason)


# --- severity, roles, contacts -----------------------------------------------------------

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


def resolved_kind(playbooks: dict[str, Playbook], kind: str, answers: dict[str, str]) -> str:
    """Facts beat labels: the kind these answers make of a report of `kind` (each playbook's `becomes`
    rules, followed until none applies; a rule leading back to a kind already passed is not taken)."""
    seen = {kind}
    while True:
        following = next((change.kind for change in playbooks[kind].becomes if change.kind in playbooks
                          and all(holds(c, answers) for c in change.when)), None)
        if following is None or following in seen:
            return kind
        seen.add(following)
        kind = following


def remaining_steps(playbook: Playbook, answers: dict[str, str]) -> list[TriageStep]:
    """The playbook's questions not answered yet and not ruled out by an answer (their `unless`)."""
    return [step for step in playbook.triage
            if step.id not in answers and not any(holds(c, answers) for c in step.unless)]


def answer_contacts(answers: dict[str, str], rules: Escalation) -> tuple[str, ...]:
    """The contacts the answers add to the report (in the order of the questions), each once."""
    found: list[str] = []
    for effect in _effects(answers, rules):
        found += [c for c in effect.contacts if c not in found]
    return tuple(found)


def holds(condition: str, answers: dict[str, str]) -> bool:
    """A contact's condition: "question" (answered yes) or "question=answer"."""
    question, _, answer = condition.partition("=")
    return answers.get(question) == (answer or YES)


def route_contacts(playbook: Playbook, answers: dict[str, str], contacts: dict[str, Contact],
                   rules: Escalation | None = None) -> list[Contact]:
    """The contacts for this case: emergencies first, then those an answer added (money already sent: the
    bank), then the playbook's in its order, then the others whose condition holds.

    A contact without a condition is routed when the playbook lists it. A conditional one (when_yes,
    when_leak_report) is routed when its condition holds and the playbook lists it or it is for this
    kind (no for_kinds: any kind), and whatever the answers for the kinds in its always_for. A contact
    is not routed (emergencies aside) after one of its `unless` answers: it does not fit the case.
    when_leak_report holds when the 個人情報保護委員会 clock is shown (reporting required, or to be
    checked): it needs the escalation rules. With them, a contact an answer adds (triage.yaml `contacts`:
    money already sent adds the bank and the police) is routed whatever the kind and its `unless`."""
    clock = rules is not None and leak_report(playbook, answers, rules).status in (REQUIRED, CHECK)
    added = answer_contacts(answers, rules) if rules is not None else ()
    chosen: list[Contact] = []
    for contact in contacts.values():
        if contact.id in added and not contact.emergency:
            chosen.append(contact)
            continue
        triggered = (any(holds(c, answers) for c in contact.when_yes) or (contact.when_leak_report and clock)
                     or playbook.id in contact.always_for)
        if contact.emergency:
            if triggered:
                chosen.append(contact)
            continue
        if any(holds(c, answers) for c in contact.unless):
            continue
        listed = contact.id in playbook.contacts
        for_kind = not contact.for_kinds or playbook.id in contact.for_kinds
        if listed and not contact.conditional:
            chosen.append(contact)
        elif contact.conditional and triggered and (listed or for_kind):
            chosen.append(contact)
    order = {c: i for i, c in enumerate(playbook.contacts)}
    first = {c: i for i, c in enumerate(added)}
    return sorted(chosen, key=lambda c: (not c.emergency, first.get(c.id, len(first)), order.get(c.id, len(order))))


# --- 個人情報保護委員会 漏えい等報告 -------------------------------------------------------
# Reporting (and telling the people affected) is required only for the four cases of 施行規則7条;
# triage.yaml says which answers settle it (leak_report:). See content/incidents/triage.yaml.

REQUIRED, CHECK, NOT_REQUIRED = "required", "check", "not_required"


@dataclass(frozen=True)
class LeakReport:
    status: str  # required, check (it has to be checked against the four cases), not_required, or ""
    presumed: bool = False  # required because the kind is presumed malicious (不正目的のおそれ), not by an answer


def leak_report(playbook: Playbook, answers: dict[str, str], rules: Escalation) -> LeakReport:
    """What the answers say about reporting: required (one of the four cases answered yes, or personal
    data in a kind presumed malicious), check (personal data is or may be involved; the four cases are
    to be checked), not_required (involved, but none of the four cases), "" (personal data not involved)."""
    said = {effect.leak_report for effect in _effects(answers, rules)}
    if "required" in said:
        return LeakReport(REQUIRED)
    if not said & {"involved", "unsure"}:
        return LeakReport("")
    if "not_required" in said:
        return LeakReport(NOT_REQUIRED)
    if "involved" in said and playbook.malicious:
        return LeakReport(REQUIRED, presumed=True)
    return LeakReport(CHECK)


PRELIMINARY_DAYS = 5  # 速報: 「速やかに」, about 3-5 days at the latest (通則編ガイドライン 3-5-3-3)
FINAL_DAYS, FINAL_DAYS_MALICIOUS = 30, 60  # 確報 (施行規則8条2項); 60 for 不正の目的によるおそれ


def _day(discovered: date, number: int) -> date:
    """Day `number`, counting the day it became known as day 1."""
    return discovered + timedelta(days=number - 1)


@dataclass(frozen=True)
class LeakDeadlines:
    discovered: date  # day 1: the day anyone in the company first knew (here: when the bot was told)
    preliminary_by: date  # 速報: as soon as possible; this is the latest day of the guide
    final_by: date  # 確報: its last day
    final_days: int  # 30, or 60 when the leak may be by someone with 不正の目的
    final_by_malicious: date  # the 60-day date, for when the third case turns out to apply


def leak_deadlines(playbook: Playbook, discovered: datetime | date) -> LeakDeadlines:
    day = discovered.date() if isinstance(discovered, datetime) else discovered
    days = FINAL_DAYS_MALICIOUS if playbook.malicious else FINAL_DAYS
    return LeakDeadlines(discovered=day, preliminary_by=_day(day, PRELIMINARY_DAYS), final_by=_day(day, days),
                         final_days=days, final_by_malicious=_day(day, FINAL_DAYS_MALICIOUS))
