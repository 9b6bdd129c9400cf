"""An incident alert nobody acknowledged: escalated once, `escalate_after` (15 minutes) after the
company's people were first told, if the report is still 受付 (nobody set it to 対応中, 完了, and the
reporter did not withdraw it).

Inside working hours it goes to the next role: the first of security_lead, executive,
privacy_officer, it_vendor (bot.flows.org.store.ROLES, in that order) that was not told about the
report and has someone registered. Outside working hours it goes to whoever the organisation
registered as reachable then (the role 時間外の連絡先, `after_hours`, set up with 「管理」). When the
one has nobody, the other is tried; whoever was told already is not told again.

The incident flow schedules the task when it first tells the company's people (`schedule_op`).
"""
from __future__ import annotations

from datetime import datetime

from bot.content.loader import Content
from bot.core.events import action_value
from bot.core.replies import Choice, Choices, Recipient, Text
from bot.core.scheduler import DAY_SECONDS, Outgoing
from bot.flows.incidents.escalation import roles_to_notify
from bot.flows.incidents.records import Incident, IncidentStore
from bot.flows.incidents.report import incident_card
from bot.flows.org.store import AFTER_HOURS, ROLES, Organisation, OrgStore
from bot.flows.reminders.policy import ReminderPolicy
from bot.store.conversations import Store, StoreOp
from bot.store.schedule import Schedule

TASK = "escalate"
ESCALATION_ORDER = tuple(role for role in ROLES if role != AFTER_HOURS)


def task_of(incident_id: str) -> str:
    return f"{TASK}:{incident_id}"


def schedule_op(store: Store, incident_id: str, told_at: datetime,
                policy: ReminderPolicy = ReminderPolicy()) -> StoreOp:
    """The escalation check of a report whose alert went out at `told_at` (for the commit that told)."""
    return Schedule(store.client, store.keys).add_op(task_of(incident_id),
                                                     (told_at + policy.escalate_after).timestamp())


class _Voice:
    """What incident_card needs of a conversation: the content and its texts."""

    def __init__(self, content: Content):
        self.content = content

    def text(self, key: str, **params) -> str:
        return self.content.texts.render(key, **params)


def _targets(org: Organisation, told: tuple[str, ...], *, in_hours: bool) -> tuple[str, list[Recipient]]:
    """(why, whom): the next role's people in working hours, the reachable people outside them."""
    already = [person for role in told for person in org.reach(role)]
    next_role = next((role for role in ESCALATION_ORDER if role not in told
                      and any(p not in already for p in org.reach(role))), None)
    choices = [(next_role, "next_role"), (AFTER_HOURS, "after_hours")]
    if not in_hours:
        choices.reverse()
    for role, why in choices:
        people = [p for p in org.reach(role) if p not in already] if role else []
        if people:
            return why, people
    return "", []


async def escalation_reminders(content: Content, store: Store, policy: ReminderPolicy, incident_id: str,
                               at: datetime) -> list[Outgoing]:
    incident = await IncidentStore(store.client, store.keys).load(incident_id)
    if incident is None or incident.status != "received" or not incident.told:
        return []  # acknowledged, finished, withdrawn, or never alerted
    playbook = content.incidents.playbooks.get(incident.kind)
    org = await OrgStore(store.client, store.keys).for_workspace(incident.reporter.platform,
                                                                  incident.reporter.workspace)
    if playbook is None or org is None:
        return []
    rules = content.incidents.escalation
    told = roles_to_notify(incident.severity or playbook.severity, incident.answers, rules)
    why, people = _targets(org, told, in_hours=policy.hours.contains(at))
    reporter = incident.reporter
    people = [p for p in people if not (p.kind == "user" and p.platform == reporter.platform and p.id == reporter.user)]
    if not people:
        return []
    replies = escalation_message(content, incident, why, told, policy)
    return [Outgoing(task_of(incident.id), person, replies, kind="escalation", ttl_seconds=7 * DAY_SECONDS)
            for person in people]


def escalation_message(content: Content, incident: Incident, why: str, told: tuple[str, ...],
                       policy: ReminderPolicy) -> tuple:
    texts = content.texts
    voice = _Voice(content)
    playbook = content.incidents.playbooks[incident.kind]
    heading = texts.render(f"remind.escalation_{why}", id=incident.id, name=playbook.name,
                           reporter=incident.reporter_name,
                           minutes=int(policy.escalate_after.total_seconds() // 60),
                           roles=texts.join(texts.render(f"role.{role}") for role in told))
    buttons = Choices(texts.render("incident.notice_prompt"), (
        Choice(texts.render("incident.to_in_progress"), action_value("incident_status", incident.id, "in_progress")),
        Choice(texts.render("incident.to_done"), action_value("incident_status", incident.id, "done")),
        Choice(texts.render("incident.details"), action_value("incident_view", incident.id)),
    ))
    return (Text(heading), incident_card(voice, incident), buttons)
