"""What an incident report looks like: the routing message for the reporter and the
card (with buttons) for the company's responsible people."""
from __future__ import annotations

from datetime import datetime

from bot.content.incidents import Contact, Playbook
from bot.core.conversation import Conversation
from bot.core.events import action_value
from bot.core.replies import Card, Choice, Choices, Field, Recipient, Text
from bot.flows.incidents.escalation import (
    YES,
    holiday_name,
    is_open,
    leak_deadlines,
    next_opening,
    route_contacts,
)
from bot.flows.incidents.records import Incident
from bot.flows.org.store import organisations


def status_label(conv: Conversation, status: str) -> str:
    return conv.text(f"incident.status_{status}")


def _contact_lines(conv: Conversation, contact: Contact, now: datetime) -> str:
    reach = [part for part in (
        conv.text("incident.contact_phone", phone=contact.phone) if contact.phone else "",
        conv.text("incident.contact_email", email=contact.email) if contact.email else "",
        conv.text("incident.contact_url", url=contact.url) if contact.url else "",
        contact.reach,
    ) if part]
    if is_open(contact, now):
        state = conv.text("incident.open_always") if contact.hours.always else conv.text("incident.open_now")
    else:
        opening = next_opening(contact, now)
        holiday = holiday_name(now.date())
        reason = conv.text("incident.closed_reason", holiday=holiday) if holiday else ""
        state = conv.text("incident.closed_now", reason=reason,
                          next=f"{conv.content.texts.short_date(opening)} {opening:%H:%M}" if opening else "-",
                          advice=contact.when_closed)
    return "\n".join([conv.text("incident.contact_heading", name=contact.name), *reach, state])


def routing_text(conv: Conversation, playbook: Playbook, answers: dict[str, str], level: str,
                 now: datetime) -> str:
    blocks = [conv.text("incident.severity", level=conv.text(f"incident.severity_{level}"))]
    contacts = route_contacts(playbook, answers, conv.content.incidents.contacts)
    if any(c.emergency for c in contacts):
        blocks.append(conv.text("incident.emergency_first"))
    if answers.get("personal_data") == YES:
        deadlines = leak_deadlines(playbook, now)
        short = conv.content.texts.short_date
        blocks.append(conv.text(
            "incident.ppc_clock", discovered=short(deadlines.discovered),
            preliminary_from=short(deadlines.preliminary_from), preliminary_by=short(deadlines.preliminary_by),
            final_by=short(deadlines.final_by), days=deadlines.final_days))
    blocks.append(conv.text("incident.contacts_heading", time=f"{conv.content.texts.short_date(now)} {now:%H:%M}"))
    blocks += [_contact_lines(conv, c, now) for c in contacts]
    return "\n\n".join(blocks)


def incident_card(conv: Conversation, incident: Incident) -> Card:
    playbook = conv.content.incidents.playbooks[incident.kind]
    steps = {s.id: s for s in playbook.triage}
    answers = [Field(steps[k].question if k in steps else k, conv.text(f"incident.answer_{v}"))
               for k, v in incident.answers.items()]
    level = incident.severity or playbook.severity
    return Card(
        title=conv.text("incident.card_title", name=playbook.name),
        fields=(
            Field(conv.text("incident.card_id"), incident.id),
            Field(conv.text("incident.card_severity"), conv.text(f"incident.severity_{level}")),
            Field(conv.text("incident.card_reporter"), incident.reporter_name),
            Field(conv.text("incident.card_time"),
                  conv.content.texts.date_time(datetime.fromisoformat(incident.reported_at))),
            Field(conv.text("incident.card_status"), status_label(conv, incident.status)),
            *answers,
        ),
        body=incident.description,
        footer=playbook.summary,
    )


async def notify_roles(conv: Conversation, incident: Incident, roles: tuple[str, ...], *,
                       update: bool) -> str | None:
    """Send the card to the organisation's people in these roles.

    Returns the roles told ('' when nobody but the reporter is registered for them), or
    None when the workspace has no organisation set up.
    """
    org = await organisations(conv).for_workspace(conv.who.platform, conv.who.workspace)
    if org is None:
        return None
    recipients: list[Recipient] = []
    labels: list[str] = []
    for role in roles:
        for person in org.reach(role):
            if person.kind == "user" and person.platform == conv.who.platform and person.id == conv.who.user:
                continue  # the reporter already knows
            if person not in recipients:
                recipients.append(person)
            if conv.text(f"role.{role}") not in labels:
                labels.append(conv.text(f"role.{role}"))
    heading = conv.text("incident.notice_update" if update else "incident.notice_new",
                        name=incident.reporter_name, id=incident.id)
    card = incident_card(conv, incident)
    buttons = Choices(conv.text("incident.notice_prompt"), (
        Choice(conv.text("incident.to_in_progress"), action_value("incident_status", incident.id, "in_progress")),
        Choice(conv.text("incident.to_done"), action_value("incident_status", incident.id, "done")),
        Choice(conv.text("incident.details"), action_value("incident_view", incident.id)),
    ))
    for person in recipients:
        conv.out.notice(person, [Text(heading), card, buttons])
    return conv.content.texts.join(labels)
