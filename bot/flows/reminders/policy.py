"""When reminders are due: the numbers, in one place (working hours and the self-check renewal
come from the settings: BOT_WORKING_HOURS, BOT_SELFCHECK_RENEW_MONTHS)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.flows.reminders.calendar import WorkingHours
from bot.settings import DEFAULT_RENEW_MONTHS, Settings

DAY = 24 * 3600


@dataclass(frozen=True)
class ReminderPolicy:
    hours: WorkingHours = field(default_factory=lambda: WorkingHours(9 * 60, 18 * 60))
    renew_months: int = DEFAULT_RENEW_MONTHS  # a new self-check when the last is this old
    unfinished_after_days: int = 3  # working days without coming back to a self-check begun
    escalate_after: timedelta = timedelta(minutes=15)  # an alert nobody marked 対応中
    deadline_lead_days: int = 2  # working days before a 個人情報保護委員会 deadline
    renew_again_days: int = 30  # a renewal not acted on is asked again this much later

    @classmethod
    def from_settings(cls, settings: Settings) -> "ReminderPolicy":
        return cls(hours=WorkingHours(*settings.working_hours), renew_months=settings.selfcheck_renew_months)
