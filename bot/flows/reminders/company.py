"""Administrators' reminders: the weekly digest and the 個人情報保護委員会 report deadlines.

The digest goes once a week (on the first working day the scheduler runs in that week) to the
organisation's 情報セキュリティ責任者 and its listed administrators: how many of the people the bot
knows have a self-check result, and the reports not finished yet. It is this module's own small
count (the company report, 「会社の状況」, gives the full picture).

A report not finished (受付 / 対応中) whose answers require the 漏えい等報告, or require checking
whether it is required, has two dates (bot.flows.incidents.escalation.leak_deadlines): 速報 and
確報. For each, the 情報セキュリティ責任者 and the 個人情報担当 are reminded `deadline_lead_days`
working days before it, and on the day (on the last working day before it when the day is not
one).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.content.loader import Content
from bot.core.events import action_value
from bot.core.replies import Choice, Choices, Recipient, Text
from bot.core.scheduler import DAY_SECONDS, Outgoing
from bot.flows.incidents.escalation import CHECK, REQUIRED, leak_deadlines, leak_report
from bot.flows.incidents.records import Incident, IncidentStore
from bot.flows.org.admins import Administrators
from bot.flows.org.store import Organisation
from bot.flows.reminders.calendar import working_day_on_or_before, working_days_before
from bot.flows.reminders.people import people_of
from bot.flows.reminders.policy import ReminderPolicy
from bot.store.conversations import Store
from bot.store.keys import ConversationKey

OPEN_STATUSES = ("received", "in_progress")
RECENT_REPORTS = 200  # of each workspace, looked at for the digest
PPC_LEAK_REPORT = "ppc_leak_report"  # contacts.yaml: where the report is made


async def recipients(content: Content, store: Store, org: Organisation, roles: tuple[str, ...], *,
                     with_admins: bool, respect_off: bool) -> list[Recipient]:
    """The people in these roles, then (with_admins) each workspace's listed administrators; each
    once; without those who said 「通知オフ」 (respect_off)."""
    found: list[Recipient] = []
    for role in roles:
        found += [person for person in org.reach(role) if person not in found]
    if with_admins:
        admins = Administrators(store.client, store.keys)
        label = content.texts.render("remind.admin_label")
        for platform, workspace in org.workspaces:
            for user in await admins.listed(platform, workspace):
                if not any(p.platform == platform and p.kind == "user" and p.id == user for p in found):
                    found.append(Recipient(platform, workspace, "user", user, label))
    if not respect_off:
        return found
    kept = []
    for person in found:
        who = ConversationKey(person.platform, person.workspace, person.id)
        if person.kind == "user" and await store.client.exists(store.keys.reminders_off(who)):
            continue
        kept.append(person)
    return kept


async def open_incidents(store: Store, org: Organisation) -> list[Incident]:
    incidents = IncidentStore(store.client, store.keys)
    found = []
    for platform, workspace in org.workspaces:
        found += [i for i in await incidents.of_workspace(platform, workspace, limit=RECENT_REPORTS)
                  if i.status in OPEN_STATUSES]
    return sorted(found, key=lambda i: i.reported_at)


@dataclass(frozen=True)
class Deadline:
    incident: Incident
    which: str  # preliminary (速報) or final (確報)
    day: date
    required: bool  # required, or to be checked


def running_deadlines(content: Content, incident: Incident) -> list[Deadline]:
    """The report's 速報 and 確報 dates, when its answers make the 漏えい等報告 required or to be checked."""
    playbook = content.incidents.playbooks.get(incident.kind)
    if playbook is None:
        return []
    status = leak_report(playbook, incident.answers, content.incidents.escalation).status
    if status not in (REQUIRED, CHECK):
        return []
    dates = leak_deadlines(playbook, datetime.fromisoformat(incident.reported_at))
    return [Deadline(incident, "preliminary", dates.preliminary_by, status == REQUIRED),
            Deadline(incident, "final", dates.final_by, status == REQUIRED)]


def reminder_days(deadline: date, lead_days: int) -> dict[date, str]:
    """When a deadline is reminded: `lead_days` working days before ("soon"), and on the day ("today"),
    or on the last working day before it when it is not a working day ("last_day")."""
    on_day = working_day_on_or_before(deadline)
    days = {working_days_before(deadline, lead_days): "soon"}
    days[on_day] = "today" if on_day == deadline else "last_day"
    return days


def digest_message(content: Content, org: Organisation, known: int, done: int, incidents: list[Incident],
                   today: date) -> tuple[Text | Choices, ...]:
    texts = content.texts
    rows = []
    for incident in incidents:
        playbook = content.incidents.playbooks.get(incident.kind)
        upcoming = [d for d in running_deadlines(content, incident) if d.day >= today]
        deadline = (texts.render("remind.digest_deadline", which=texts.render(f"remind.ppc_{upcoming[0].which}"),
                                 date=texts.short_date(upcoming[0].day, today=today)) if upcoming else "")
        rows.append(texts.render("remind.digest_row", id=incident.id, name=playbook.name if playbook else incident.kind,
                                 status=texts.render(f"incident.status_{incident.status}"),
                                 date=texts.short_date(datetime.fromisoformat(incident.reported_at).date(), today=today),
                                 deadline=deadline))
    body = texts.render("remind.digest", org=org.name, known=known, done=done, open=len(incidents),
                        rows="\n".join(rows)).rstrip()
    return (Choices(body, (Choice(texts.render("admin.incidents"), action_value("workspace_incidents")),
                           Choice(texts.render("remind.off_button"), action_value("reminders_off")))),)


async def participation(store: Store, org: Organisation) -> tuple[int, int]:
    """(people the bot knows in the organisation's workspaces, of whom with a self-check result)."""
    known = done = 0
    for platform, workspace in org.workspaces:
        people = await people_of(store.client, store.keys, platform, workspace,
                                 kinds=("conv", "results", "lessons", "certs", "name"))
        async with store.client.pipeline(transaction=False) as pipe:
            for user in people:
                pipe.llen(store.keys.results(ConversationKey(platform, workspace, user)))
            counts = await pipe.execute() if people else []
        known += len(people)
        done += sum(1 for count in counts if count)
    return known, done


async def company_reminders(content: Content, store: Store, policy: ReminderPolicy, org: Organisation,
                            at: datetime) -> list[Outgoing]:
    """The digest (once a week) and the deadline reminders due today, inside working hours."""
    if not policy.hours.contains(at):
        return []
    today = at.date()
    messages: list[Outgoing] = []
    incidents = await open_incidents(store, org)
    year, week, _ = today.isocalendar()
    digest_to = await recipients(content, store, org, ("security_lead",), with_admins=True, respect_off=True)
    if digest_to:
        known, done = await participation(store, org)
        replies = digest_message(content, org, known, done, incidents, today)
        messages += [Outgoing(f"digest:{org.id}:{year}-W{week:02d}", person, replies, kind="digest",
                              ttl_seconds=8 * DAY_SECONDS) for person in digest_to]
    deadline_to: list[Recipient] | None = None
    for incident in incidents:
        for deadline in running_deadlines(content, incident):
            when = reminder_days(deadline.day, policy.deadline_lead_days).get(today)
            if when is None or today < datetime.fromisoformat(incident.reported_at).date():
                continue
            if deadline_to is None:
                deadline_to = (await recipients(content, store, org, ("security_lead", "privacy_officer"),
                                                with_admins=False, respect_off=False)
                               or await recipients(content, store, org, (), with_admins=True, respect_off=False))
            replies = deadline_message(content, deadline, when, today)
            messages += [Outgoing(f"ppc:{incident.id}:{deadline.which}:{today.isoformat()}", person, replies,
                                  kind="ppc") for person in deadline_to]
    return messages


def deadline_message(content: Content, deadline: Deadline, when: str, today: date) -> tuple[Any, ...]:
    texts = content.texts
    playbook = content.incidents.playbooks[deadline.incident.kind]
    contact = content.incidents.contacts.get(PPC_LEAK_REPORT)
    body = texts.render(f"remind.ppc_{when}", id=deadline.incident.id, name=playbook.name,
                        which=texts.render(f"remind.ppc_{deadline.which}"),
                        date=texts.short_date(deadline.day, today=today))
    what = texts.render("remind.ppc_required" if deadline.required else "remind.ppc_check",
                        url=contact.url if contact is not None else "")
    return (Choices(f"{body}\n{what}", (
        Choice(texts.render("incident.details"), action_value("incident_view", deadline.incident.id)),
        Choice(texts.render("admin.incidents"), action_value("workspace_incidents")),
    )),)
