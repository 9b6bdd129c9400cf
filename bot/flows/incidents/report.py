"""What an incident report looks like: the routing message for the reporter and the
card (with buttons) for the company's responsible people."""
from __future__ import annotations

from datetime import date, datetime

from bot.content.incidents import Contact, GeneralSteps, Playbook, TriageStep
from bot.content.loader import Content, Texts
from bot.content.schema import URGENT_STEPS
from bot.core.conversation import Conversation
from bot.core.events import action_value
from bot.core.replies import Card, Choice, Choices, Field, Recipient, Text
from bot.flows.incidents.escalation import (
    CHECK,
    CLOSED,
    NOT_REQUIRED,
    OPEN,
    OPEN_ALWAYS,
    REQUIRED,
    SEND_NOW,
    VARIES,
    Availability,
    LeakReport,
    availability,
    leak_deadlines,
    leak_report,
    route_contacts,
)
from bot.flows.incidents.records import Incident
from bot.flows.org.store import organisations


def status_label(conv: Conversation, status: str) -> str:
    return conv.text(f"incident.status_{status}")


# --- the first message and the rest of the steps ---------------------------------------------

def first_steps_text(texts: Texts, playbook: Playbook, incident_id: str) -> str:
    """The first message: the most urgent steps only, with the report's number."""
    return texts.render("incident.first_steps", name=playbook.name, do=texts.numbered(playbook.do[:URGENT_STEPS]),
                        id=incident_id)


def steps_now_text(texts: Texts, playbook: Playbook) -> str:
    """A kind's most urgent steps before it has a report of its own (another incident typed during a
    report's questions)."""
    return texts.render("incident.first_steps_now", name=playbook.name, do=texts.numbered(playbook.do[:URGENT_STEPS]))


def general_steps_text(texts: Texts, general: GeneralSteps) -> str:
    """When the kind is not clear: the steps that are safe whatever happened."""
    return texts.render("incident.general", do=texts.numbered(general.do))


def more_steps_text(texts: Texts, playbook: Playbook) -> str:
    """One tap away: the other steps (numbered on from the urgent ones) and what not to do."""
    blocks = []
    rest = playbook.do[URGENT_STEPS:]
    if rest:
        steps = "\n".join(texts.render("list.numbered", n=n, item=item)
                          for n, item in enumerate(rest, start=URGENT_STEPS + 1))
        blocks.append(texts.render("incident.more_do", do=steps))
    blocks.append(texts.render("incident.more_dont", dont=texts.bullets(playbook.dont, key="list.dont")))
    return "\n\n".join(blocks)


# --- the routing message: pure functions of the content, the answers and the time ------------

def moment_text(content: Content, moment: datetime, *, now: datetime, whole_day: bool = False) -> str:
    """「11月24日(火) 10:00」, the day alone for a whole day, with the year when it is not this year's."""
    day = content.texts.short_date(moment, today=now)
    return day if whole_day else f"{day} {moment:%H:%M}"


def availability_text(content: Content, contact: Contact, state: Availability, now: datetime) -> str:
    """What the reply says about a contact's hours right now."""
    render = content.texts.render
    until = render("incident.until", time=f"{state.until:%H:%M}") if state.until else ""
    if state.state == OPEN_ALWAYS:
        return render("incident.open_always")
    if state.state == VARIES:
        return render("incident.hours_vary")
    if state.state == OPEN:
        return render("incident.open_now", until=until)
    if state.state not in (CLOSED, SEND_NOW):
        # Read all day (hours not known to the hour): no claim that someone reads it at this moment.
        return render("incident.send_open", until=until) if state.until else render("incident.send_open_day")
    reason = render("incident.closed_reason", holiday=state.reason) if state.reason else ""
    opening = (moment_text(content, state.next_opening, now=now, whole_day=state.next_is_whole_day)
               if state.next_opening else "-")
    key = "incident.closed_now" if state.state == CLOSED else "incident.send_now"
    return render(key, reason=reason, next=opening, advice=contact.when_closed)


def contact_text(content: Content, contact: Contact, now: datetime, outside: dict[str, str] | None = None) -> str:
    """One contact: its name, how to reach it, its note, and whether it answers now. A contact the
    organisation keeps for itself shows what was registered (`outside`, by contact id), or what to
    do while nothing is."""
    render = content.texts.render
    if contact.own:
        registered = (outside or {}).get(contact.id, "")
        reach = registered or render("incident.own_unset", unset=contact.unset)
        return "\n".join([render("incident.contact_heading", name=contact.name), reach])
    reach = [part for part in (
        render("incident.contact_phone", phone=contact.phone) if contact.phone else "",
        render("incident.contact_email", email=contact.email) if contact.email else "",
        render("incident.contact_url", url=contact.url) if contact.url else "",
        contact.reach,
    ) if part]
    note = [render("incident.contact_note", note=contact.note)] if contact.note else []
    state = availability_text(content, contact, availability(contact, now), now)
    return "\n".join([render("incident.contact_heading", name=contact.name), *reach, *note, state])


def leak_text(content: Content, playbook: Playbook, report: LeakReport, now: datetime) -> str | None:
    """The 個人情報保護委員会 block: the dates when reporting is required, the four cases with the dates
    when it has to be checked, a line when none applies; None when personal data is not involved."""
    render = content.texts.render
    if report.status == NOT_REQUIRED:
        return render("incident.ppc_not_required")
    if report.status not in (REQUIRED, CHECK):
        return None
    deadlines = leak_deadlines(playbook, now)

    def day(value: date) -> str:
        return content.texts.short_date(value, today=now)

    dates = {"discovered": day(deadlines.discovered), "preliminary_by": day(deadlines.preliminary_by),
             "final_by": day(deadlines.final_by), "days": deadlines.final_days}
    if report.status == REQUIRED:
        reason = render("incident.ppc_reason_presumed" if report.presumed else "incident.ppc_reason_answer")
        block = render("incident.ppc_required", reason=reason, **dates)
    else:
        note = ("" if playbook.malicious
                else render("incident.ppc_malicious_note", final_by=day(deadlines.final_by_malicious)))
        block = render("incident.ppc_check", malicious_note=note, **dates)
    return block + "\n" + render("incident.ppc_clock_start")


def routing_message(content: Content, playbook: Playbook, answers: dict[str, str], level: str,
                    now: datetime, outside: dict[str, str] | None = None) -> str:
    """The severity, the 個人情報保護委員会 block when it applies, and every contact routed for these
    answers with whether it answers now; `outside`: what the organisation registered for its own
    contacts (its IT vendor, its insurer)."""
    render = content.texts.render
    blocks = [render("incident.severity", level=render(f"incident.severity_{level}"))]
    contacts = route_contacts(playbook, answers, content.incidents.contacts, content.incidents.escalation)
    if any(c.emergency for c in contacts):
        blocks.append(render("incident.emergency_first"))
    leak = leak_text(content, playbook, leak_report(playbook, answers, content.incidents.escalation), now)
    if leak:
        blocks.append(leak)
    blocks.append(render("incident.contacts_heading", time=moment_text(content, now, now=now)))
    blocks += [contact_text(content, c, now, outside) for c in contacts]
    return "\n\n".join(blocks)


async def routing_text(conv: Conversation, playbook: Playbook, answers: dict[str, str], level: str,
                       now: datetime) -> str:
    org = await organisations(conv).for_workspace(conv.who.platform, conv.who.workspace)
    return routing_message(conv.content, playbook, answers, level, now, org.outside if org else None)


async def contacts_now_text(conv: Conversation, heading: str, contact_ids: tuple[str, ...], now: datetime) -> str:
    """Some contacts at once, each with whether it answers right now (money already sent: the bank and
    the police; when the kind is not clear: the contacts for any incident)."""
    org = await organisations(conv).for_workspace(conv.who.platform, conv.who.workspace)
    contacts = conv.content.incidents.contacts
    blocks = [conv.text(heading, time=moment_text(conv.content, now, now=now))]
    blocks += [contact_text(conv.content, contacts[c], now, org.outside if org else None)
               for c in contact_ids if c in contacts]
    return "\n\n".join(blocks)


def answer_label(content: Content, step: TriageStep | None, answer: str) -> str:
    """はい / いいえ / わからない, or the label of the option picked."""
    if step is not None and step.has_options:
        return step.labels.get(answer, answer)
    return content.texts.render(f"incident.answer_{answer}")


def _asked(content: Content, playbook: Playbook, question: str) -> TriageStep | None:
    """The question as this playbook asked it, else as another did (answered before the kind changed)."""
    for candidate in (playbook, *content.incidents.playbooks.values()):
        step = next((s for s in candidate.triage if s.id == question), None)
        if step is not None:
            return step
    return None


def incident_card(conv: Conversation, incident: Incident) -> Card:
    playbook = conv.content.incidents.playbooks[incident.kind]
    steps = {k: _asked(conv.content, playbook, k) for k in incident.answers}
    answers = [Field(steps[k].question if steps[k] else k, answer_label(conv.content, steps[k], v))
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
                       update: bool = False, heading: str = "", actions: bool = True, **params: str) -> str | None:
    """Send the card to the organisation's people in these roles, under `heading` (a texts.yaml key,
    given name and id and `params`; by default incident.notice_new, or incident.notice_update).

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
    key = heading or ("incident.notice_update" if update else "incident.notice_new")
    heading = conv.text(key, name=incident.reporter_name, id=incident.id, **params)
    card = incident_card(conv, incident)
    buttons = Choices(conv.text("incident.notice_prompt"), (
        Choice(conv.text("incident.to_in_progress"), action_value("incident_status", incident.id, "in_progress")),
        Choice(conv.text("incident.to_done"), action_value("incident_status", incident.id, "done")),
        Choice(conv.text("incident.details"), action_value("incident_view", incident.id)),
    ))
    for person in recipients:
        conv.out.notice(person, [Text(heading), card, buttons] if actions else [Text(heading), card])
    return conv.content.texts.join(labels)
