"""Japanese working days and the hours reminders may be sent in (JST).

A working day is one public offices work: not a weekend, a public holiday (the `holidays`
package, JP) or the year end 12/29-1/3, as the incident desk counts them
(bot.flows.incidents.escalation.is_business_day).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.flows.incidents.escalation import is_business_day

_FAR = 40  # days looked through for a working day (the longest run of days off is far shorter)


def is_working_day(day: date) -> bool:
    return is_business_day(day)


@dataclass(frozen=True)
class WorkingHours:
    start: int  # minutes after midnight, JST
    end: int

    def contains(self, at: datetime) -> bool:
        minute = at.hour * 60 + at.minute
        return is_working_day(at.date()) and self.start <= minute < self.end

    def opening(self, day: date, tzinfo) -> datetime:
        return datetime.combine(day, time(self.start // 60, self.start % 60), tzinfo=tzinfo)

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself when it is inside working hours, else when they next begin."""
        if self.contains(at):
            return at
        day = at.date()
        if is_working_day(day) and at.hour * 60 + at.minute < self.start:
            return self.opening(day, at.tzinfo)
        return self.opening(next_working_day(day), at.tzinfo)


def next_working_day(day: date) -> date:
    for offset in range(1, _FAR):
        candidate = day + timedelta(days=offset)
        if is_working_day(candidate):
            return candidate
    raise ValueError(f"no working day within {_FAR} days after {day}")


def working_days_after(start: date, end: date) -> int:
    """How many working days there are after `start`, up to and including `end`."""
    return sum(1 for n in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=n)))


def working_day_on_or_before(day: date) -> date:
    for offset in range(_FAR):
        candidate = day - timedelta(days=offset)
        if is_working_day(candidate):
            return candidate
    raise ValueError(f"no working day within {_FAR} days before {day}")


def working_days_before(day: date, count: int) -> date:
    """The working day `count` working days before `day` (Friday for a Tuesday and 2)."""
    found = day
    for _ in range(count):
        found = working_day_on_or_before(found - timedelta(days=1))
    return found


def first_working_day_of_week(day: date) -> date | None:
    """The first working day of `day`'s week (Monday to Sunday), None when it has none."""
    monday = day - timedelta(days=day.weekday())
    return next((monday + timedelta(days=n) for n in range(7) if is_working_day(monday + timedelta(days=n))), None)
