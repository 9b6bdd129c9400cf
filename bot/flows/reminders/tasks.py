"""The scheduled tasks behind reminders, and what is due at a given moment (`bot remind`).

- `daily`: at the start of working hours on each working day, one task per workspace with people
  (`people:…`) and one per organisation (`org:…`) is scheduled for now, then `daily` waits for
  the next working day. Fanned out so that each tick's work stays small, and a process that dies
  half-way leaves the rest to the others.
- `people:PLATFORM:WORKSPACE:DAY`: the employees' messages (bot/flows/reminders/people.py).
- `org:ORG:DAY`: the weekly digest and the report deadlines (bot/flows/reminders/company.py).
- `escalate:INCIDENT`: scheduled by the incident flow when it tells the company's people
  (bot/flows/reminders/escalation.py).
A `people:` or `org:` task of an earlier day is dropped: what it had to say is said today by
today's task.
"""
from __future__ import annotations

from datetime import date, datetime
from urllib.parse import quote, unquote

from bot.content.loader import Content
from bot.core.scheduler import Handler, Outgoing, Scheduler, TaskResult
from bot.flows.org.store import OrgStore
from bot.flows.reminders.calendar import next_working_day
from bot.flows.reminders.company import company_reminders
from bot.flows.reminders.escalation import TASK as ESCALATE
from bot.flows.reminders.escalation import escalation_reminders
from bot.flows.reminders.people import employee_reminders, tenants_with_people
from bot.flows.reminders.policy import ReminderPolicy
from bot.store.conversations import Store

DAILY, PEOPLE, ORG = "daily", "people", "org"


def people_task(platform: str, workspace: str, day: date) -> str:
    return f"{PEOPLE}:{quote(platform, safe='')}:{quote(workspace, safe='')}:{day.isoformat()}"


def org_task(org_id: str, day: date) -> str:
    return f"{ORG}:{quote(org_id, safe='')}:{day.isoformat()}"


class Reminders:
    def __init__(self, content: Content, store: Store, policy: ReminderPolicy, scheduler: Scheduler):
        self.content = content
        self.store = store
        self.policy = policy
        self.scheduler = scheduler
        self.orgs = OrgStore(store.client, store.keys)

    def handlers(self) -> dict[str, Handler]:
        return {DAILY: self.daily, PEOPLE: self.people, ORG: self.organisation, ESCALATE: self.escalate}

    async def start(self, now: datetime) -> None:
        """Make sure the daily task is scheduled (once for every process and restart)."""
        await self.scheduler.schedule.add(DAILY, self.policy.hours.next_opening(now).timestamp())

    # --- the tasks ----------------------------------------------------------------------

    async def daily(self, task: str, now: datetime) -> TaskResult:
        hours = self.policy.hours
        if not hours.contains(now):
            return TaskResult(next_at=hours.next_opening(now))
        today = now.date()
        tenants = await tenants_with_people(self.store.client, self.store.keys)
        for platform, workspace in tenants:
            await self.scheduler.schedule.add(people_task(platform, workspace, today), now.timestamp())
        for org_id in await self._organisations(tenants):
            await self.scheduler.schedule.add(org_task(org_id, today), now.timestamp())
        return TaskResult(next_at=hours.opening(next_working_day(today), now.tzinfo))

    async def people(self, task: str, now: datetime) -> TaskResult:
        _, platform, workspace, day = task.split(":")
        if day != now.date().isoformat():
            return TaskResult()
        return TaskResult(tuple(await employee_reminders(self.content, self.store, self.policy, unquote(platform),
                                                         unquote(workspace), now)))

    async def organisation(self, task: str, now: datetime) -> TaskResult:
        _, org_id, day = task.split(":")
        org = await self.orgs.get(unquote(org_id))
        if day != now.date().isoformat() or org is None:
            return TaskResult()
        return TaskResult(tuple(await company_reminders(self.content, self.store, self.policy, org, now)))

    async def escalate(self, task: str, now: datetime) -> TaskResult:
        incident_id = task.split(":", 1)[1]
        return TaskResult(tuple(await escalation_reminders(self.content, self.store, self.policy, incident_id, now)))

    # --- what is due at a moment (`bot remind`) -------------------------------------------

    async def due_at(self, at: datetime) -> list[Outgoing]:
        """Every reminder due at `at` that was not sent yet: the employees' and the organisations' (inside
        working hours) and the escalations scheduled by then."""
        messages: list[Outgoing] = []
        tenants = await tenants_with_people(self.store.client, self.store.keys)
        for platform, workspace in tenants:
            messages += await employee_reminders(self.content, self.store, self.policy, platform, workspace, at)
        for org_id in await self._organisations(tenants):
            org = await self.orgs.get(org_id)
            if org is not None:
                messages += await company_reminders(self.content, self.store, self.policy, org, at)
        for task, _ in await self.scheduler.schedule.due(at.timestamp(), prefix=f"{ESCALATE}:"):
            messages += (await self.escalate(task, at)).messages
        sent = await self.scheduler.already_sent(messages)
        return [message for message, was_sent in zip(messages, sent) if not was_sent]

    async def _organisations(self, tenants: list[tuple[str, str]]) -> list[str]:
        ids: set[str] = set()
        for platform, workspace in tenants:
            org_id = await self.store.client.get(self.store.keys.organisation_of(platform, workspace))
            if org_id:
                ids.add(org_id.decode())
        return sorted(ids)
