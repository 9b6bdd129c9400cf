"""緊急相談: what to do right now, a few triage questions, and the report routed.

States: `incident_choosing` (which kind of trouble, when it was not clear from the
message), `incident_triage` (one question waits: はい/いいえ/わからない, or one of its
options), `incident_switching` (a new incident was typed during another's questions: a
new report, or the same one of another kind?) and `incident_note` (the next message is
a note for the report). Data (conv.data["incident"]): {"id", "kind", "answers": {triage
id: answer}, "more": the other steps were shown, "told": the company's people were told,
"pending": the kind and text typed during the questions}; conv.data["incident_last"]
is the reporter's latest report (the one 「取り消し」 takes back after its questions).

The playbook's most urgent steps (the first three of `do`) go out in the very
first reply, before any question, short enough for a phone; the other steps and
the don'ts are one tap away (a 「続きを見る」 choice offered with each question
until it is used, `incident_more`). The questions asked are the kind's that are not
answered yet and not ruled out by an answer (`unless`), so a kind that changes keeps
what was already said.

Facts beat labels: after each answer, the playbook's `becomes` rules may make the report
another kind (a password entered: phishing; nothing entered: a suspicious mail); the
reporter gets that kind's first steps at once. An answer may add contacts (money
already sent: the bank and the police), shown at once.

Nobody is paged by accident (README): the company's responsible people are told only
once the report is plausible: the classifier was sure enough of the kind (policy.yaml
notify_confidence), or the reporter picked the kind, or answered one of its questions.
They are told again when the questions are done, when the kind changes, and when the
reporter withdraws the report (「取り消し」「間違いでした」).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.content.incidents import Playbook, TriageStep
from bot.core.conversation import Conversation
from bot.core.events import action_value
from bot.core.flow import Flow, IntentRoute, on, reprompt, when
from bot.core.replies import Choice, Recipient, Text
from bot.flows.incidents.escalation import (
    remaining_steps,
    resolved_kind,
    roles_to_notify,
    severity,
)
from bot.flows.incidents.records import STATUSES, WITHDRAWN, Incident, IncidentStore
from bot.flows.incidents.report import (
    answer_label,
    contacts_now_text,
    first_steps_text,
    general_steps_text,
    incident_card,
    more_steps_text,
    notify_roles,
    routing_text,
    status_label,
    steps_now_text,
)
from bot.flows.menu import MENU, send_menu, stale_choice
from bot.flows.org.store import is_responsible, organisations
from bot.flows.reminders.escalation import schedule_op as escalation_check

NAME = "incident"
LAST = "incident_last"
CHOOSING = "incident_choosing"
TRIAGE = "incident_triage"
SWITCHING = "incident_switching"
NOTE = "incident_note"
KINDS_PER_PAGE = 7


def _incidents(conv: Conversation) -> IncidentStore:
    return IncidentStore(conv.services.store.client, conv.services.store.keys)


def _playbooks(conv: Conversation) -> dict[str, Playbook]:
    return conv.content.incidents.playbooks


def _draft(conv: Conversation) -> dict[str, Any] | None:
    draft = conv.data.get(NAME)
    if not draft or draft.get("kind") not in _playbooks(conv) or "answers" not in draft:
        return None
    if "told" not in draft:  # begun before reports waited to be plausible: they were told at once
        draft.update(told=True, plausible=True)
    return draft


def _reporter_name(conv: Conversation) -> str:
    return conv.display_name or conv.who.user


# --- choosing the kind ---------------------------------------------------------

def _kind_choice(conv: Conversation, kind: str) -> Choice:
    return Choice(_playbooks(conv)[kind].name, action_value("report_incident", kind))


def _unsure_choice(conv: Conversation) -> Choice:
    """わからない: the steps that are safe whatever happened, then the kinds again."""
    return Choice(conv.text("incident.kind_unknown"), action_value("incident_general"), means="unknown")


async def choose_kind(conv: Conversation, candidates: str = "", *_: str) -> None:
    """Which kind of trouble: the likeliest first (from the classifier), then a page of all kinds."""
    kinds = [k for k in candidates.split(",") if k in _playbooks(conv)][:5]
    if kinds:
        conv.out.text(conv.text("incident.unsure"))
        options = [_kind_choice(conv, k) for k in kinds]
        options.append(Choice(conv.text("incident.other_kinds"), action_value("incident_kinds", 1)))
        options.append(_unsure_choice(conv))
    else:
        conv.out.text(conv.text("incident.describe"))
        options = _kind_page(conv, 1)
    options.append(Choice(conv.text("result.menu"), action_value("show_menu")))
    conv.out.choices(conv.text("incident.choose_prompt"), options)


def _kind_page(conv: Conversation, page: int, *, unsure: bool = True) -> list[Choice]:
    kinds = list(_playbooks(conv))
    pages = (len(kinds) + KINDS_PER_PAGE - 1) // KINDS_PER_PAGE
    page = min(max(page, 1), pages)
    options = [_kind_choice(conv, k) for k in kinds[(page - 1) * KINDS_PER_PAGE:page * KINDS_PER_PAGE]]
    if page < pages:
        options.append(Choice(conv.text("incident.other_kinds"), action_value("incident_kinds", page + 1)))
    elif page > 1:
        options.append(Choice(conv.text("lesson.previous"), action_value("incident_kinds", page - 1)))
    if unsure:
        options.append(_unsure_choice(conv))
    return options


async def kinds_page(conv: Conversation, page: str = "1") -> None:
    options = _kind_page(conv, int(page) if page.isdigit() else 1)
    options.append(Choice(conv.text("result.menu"), action_value("show_menu")))
    conv.out.choices(conv.text("incident.choose_prompt"), options)


async def general_steps(conv: Conversation, *_: str) -> None:
    """Trouble without a kind (「なんか変」, わからない at the kinds): the steps safe for any incident and
    the contacts for any incident, then the kinds to pick from. No report yet, nobody told."""
    incidents = conv.content.incidents
    conv.out.text(general_steps_text(conv.content.texts, incidents.general))
    conv.out.text(await contacts_now_text(conv, "incident.general_contacts", incidents.general.contacts,
                                          conv.services.clock()))
    options = _kind_page(conv, 1, unsure=False)
    options.append(Choice(conv.text("result.menu"), action_value("show_menu")))
    conv.out.choices(conv.text("incident.choose_after_general"), options)


# --- which question, and what the answers make of the report -------------------------------

def _resolved_kind(conv: Conversation, kind: str, answers: dict[str, str]) -> str:
    return resolved_kind(_playbooks(conv), kind, answers)


def _remaining(conv: Conversation, kind: str, answers: dict[str, str]) -> list[TriageStep]:
    return remaining_steps(_playbooks(conv)[kind], answers)


def _current_step(conv: Conversation, draft: dict[str, Any]) -> TriageStep | None:
    remaining = _remaining(conv, draft["kind"], draft["answers"])
    return remaining[0] if remaining else None


def _plausible(conv: Conversation, description: str, confidence: str) -> bool:
    """Picked by the reporter (no text: a button or a typed label), or recognised surely enough."""
    if not description:
        return True
    try:
        return float(confidence) >= conv.content.incidents.notify_confidence
    except ValueError:
        return False


async def _tell(conv: Conversation, draft: dict[str, Any], *, created: Incident | None = None, heading: str = "",
                **params: str) -> str | None:
    """Tell the company's people in the roles for the report as it stands (`created`: its record, made in
    this step); remember they were told."""
    incident = await _incident_now(conv, draft, created)
    rules = conv.content.incidents.escalation
    told = await notify_roles(conv, incident, roles_to_notify(incident.severity, draft["answers"], rules),
                              update=draft["told"], heading=heading, **params)
    if told is not None and not draft["told"]:
        draft["told"] = True
        conv.ops.extend(_incidents(conv).mark_told(draft["id"]))
        # Nobody marks it 対応中 within 15 minutes: it is escalated (bot/flows/reminders/escalation.py).
        conv.ops.append(escalation_check(conv.services.store, draft["id"], conv.services.clock()))
    return told


async def _incident_now(conv: Conversation, draft: dict[str, Any], created: Incident | None = None) -> Incident:
    """The report as this step leaves it (its record as stored, or as created in this step, with this step's
    kind, answers and severity)."""
    playbook = _playbooks(conv)[draft["kind"]]
    now = conv.services.clock()
    incident = created or await _incidents(conv).load(draft["id"]) or Incident(
        id=draft["id"], kind=playbook.id, reporter=conv.who, reporter_name=_reporter_name(conv),
        description="", reported_at=now.isoformat(timespec="seconds"))
    incident.kind, incident.answers = playbook.id, dict(draft["answers"])
    incident.severity = severity(playbook, draft["answers"], conv.content.incidents.escalation)
    return incident


def _say_told(conv: Conversation, told: str | None, key: str = "incident.told") -> None:
    if told is None:
        conv.out.text(conv.text("incident.no_org"))
    else:
        conv.out.text(conv.text(key, to=told) if told else conv.text("incident.told_nobody"))


# --- the report ------------------------------------------------------------------

def is_unknown_kind(conv: Conversation, kind: str = "", *_: str) -> bool:
    return kind not in _playbooks(conv)


def is_same_report(conv: Conversation, kind: str = "", *_: str) -> bool:
    """The kind being asked about again (a double click, or the same trouble typed again)."""
    draft = _draft(conv)
    return draft is not None and draft["kind"] == kind


def is_typed_other_kind(conv: Conversation, kind: str = "", description: str = "", *_: str) -> bool:
    """Another kind of incident typed while a report's questions are asked."""
    draft = _draft(conv)
    return draft is not None and draft["kind"] != kind and bool(description)


async def same_report(conv: Conversation, kind: str = "", description: str = "", *_: str) -> None:
    _draft(conv).pop("pending", None)
    if description:
        await triage_text(conv, description)
    else:
        await ask_step(conv)


async def report(conv: Conversation, kind: str, description: str = "", confidence: str = "") -> None:
    """A new report: its first steps at once; the company's people told when it is plausible."""
    await _open(conv, kind, description, plausible=_plausible(conv, description, confidence))


async def _open(conv: Conversation, kind: str, description: str, *, plausible: bool, shown: bool = False,
                previous: str = "") -> None:
    playbook = _playbooks(conv)[kind]
    now = conv.services.clock()
    incident = Incident(id=await _incidents(conv).unused_id(now), kind=kind, reporter=conv.who,
                        reporter_name=_reporter_name(conv),
                        description=description, reported_at=now.isoformat(timespec="seconds"),
                        severity=playbook.severity)
    conv.ops.extend(_incidents(conv).create(incident, now))
    draft = {"id": incident.id, "kind": kind, "answers": {}, "more": False, "told": False, "plausible": plausible}
    conv.data[NAME] = draft
    conv.data[LAST] = incident.id
    if shown:  # its steps were just shown (a new incident typed during another's questions)
        conv.out.text(conv.text("incident.received", id=incident.id, previous=previous))
    else:
        conv.out.text(first_steps_text(conv.content.texts, playbook, incident.id))
    if plausible:
        _say_told(conv, await _tell(conv, draft, created=incident), "incident.told_withdraw")
    elif await organisations(conv).for_workspace(conv.who.platform, conv.who.workspace) is None:
        conv.out.text(conv.text("incident.no_org"))
    else:
        conv.out.text(conv.text("incident.not_told_yet"))
    await ask_step(conv)


async def ask_step(conv: Conversation) -> None:
    draft = _draft(conv)
    playbook = _playbooks(conv)[draft["kind"]]
    step = _current_step(conv, draft)
    if step is None:  # nothing left to ask (not normally reached: the last answer routes the report)
        await send_menu(conv)
        return
    options = [Choice(answer_label(conv.content, step, a), action_value("incident_answer", draft["id"], step.id, a),
                      means=a) for a in step.answers]
    if not draft.get("more"):
        options.append(Choice(conv.text("incident.more"), action_value("incident_more", draft["kind"], draft["id"])))
    asked = sum(1 for s in playbook.triage if s.id in draft["answers"])
    total = asked + len(_remaining(conv, draft["kind"], draft["answers"]))
    conv.out.choices(conv.text("incident.question", n=asked + 1, total=total, question=step.question), options)


async def show_more(conv: Conversation, kind: str = "", incident_id: str = "") -> None:
    """The other steps and the don'ts; then, while its questions are being asked, the question again."""
    playbook = _playbooks(conv).get(kind)
    if playbook is None:
        await stale_choice(conv)
        return
    conv.out.text(more_steps_text(conv.content.texts, playbook))
    draft = _draft(conv)
    if draft is not None and draft["id"] == incident_id and draft["kind"] == kind:
        draft["more"] = True
    await reprompt(conv)


def is_not_current_step(conv: Conversation, incident_id: str = "", step_id: str = "", answer: str = "") -> bool:
    draft = _draft(conv)
    if draft is None or incident_id != draft["id"]:
        return True
    step = _current_step(conv, draft)
    return step is None or step.id != step_id or answer not in step.answers


async def ignore_or_stale(conv: Conversation, incident_id: str = "", step_id: str = "", answer: str = "") -> None:
    draft = _draft(conv)
    if draft is not None and incident_id == draft["id"] and step_id in draft["answers"]:
        return  # a double click on a question already answered
    await stale_choice(conv)


def is_last_step(conv: Conversation, incident_id: str = "", step_id: str = "", answer: str = "") -> bool:
    """Nothing left to ask once this answer is given (and the kind it may lead to is taken)."""
    draft = _draft(conv)
    answers = {**draft["answers"], step_id: answer}
    return not _remaining(conv, _resolved_kind(conv, draft["kind"], answers), answers)


async def _take(conv: Conversation, step_id: str, answer: str, *, last: bool = False) -> str:
    """Record an answer: its advice, the contacts it adds (at once, unless the routing that lists them first
    follows: the `last` answer), and the kind it leads to (its first steps at once). Returns the kind
    before the answer."""
    draft = _draft(conv)
    before = draft["kind"]
    draft["answers"][step_id] = answer
    step = next(s for s in _playbooks(conv)[before].triage if s.id == step_id)
    if step.advice.get(answer):
        conv.out.text(conv.text("incident.advice", advice=step.advice[answer]))
    effect = conv.content.incidents.escalation.effects.get(step_id, {}).get(answer)
    if effect is not None and effect.contacts and not last:
        conv.out.text(await contacts_now_text(conv, "incident.contacts_now", effect.contacts, conv.services.clock()))
    kind = _resolved_kind(conv, before, draft["answers"])
    if kind != before:
        _change_kind(conv, draft, kind)
        playbook = _playbooks(conv)[kind]
        conv.out.text(conv.text("incident.kind_changed", name=playbook.name, previous=_playbooks(conv)[before].name))
        conv.out.text(first_steps_text(conv.content.texts, playbook, draft["id"]))
    return before


def _change_kind(conv: Conversation, draft: dict[str, Any], kind: str) -> None:
    previous = _playbooks(conv)[draft["kind"]]
    draft["kind"], draft["more"] = kind, False
    conv.ops.extend(_incidents(conv).change_kind(
        draft["id"], kind, conv.services.clock(), _reporter_name(conv),
        conv.text("incident.kind_change_note", previous=previous.name, name=_playbooks(conv)[kind].name)))


async def answer_and_continue(conv: Conversation, incident_id: str, step_id: str, answer: str) -> None:
    draft = _draft(conv)
    before = await _take(conv, step_id, answer)
    if not draft.get("plausible"):  # an answer makes the report plausible
        draft["plausible"] = True
        told = await _tell(conv, draft)
        if told is not None:  # (without an organisation, the first message said whom to tell)
            _say_told(conv, told)
    elif draft["told"] and draft["kind"] != before:
        told = await _tell(conv, draft, heading="incident.notice_kind_changed",
                           kind=_playbooks(conv)[draft["kind"]].name)
        if told:
            conv.out.text(conv.text("incident.updated", to=told))
    await ask_step(conv)


async def answer_and_route(conv: Conversation, incident_id: str, step_id: str, answer: str) -> None:
    draft = _draft(conv)
    await _take(conv, step_id, answer, last=True)
    conv.data.pop(NAME)
    playbook = _playbooks(conv)[draft["kind"]]
    now = conv.services.clock()
    answers = draft["answers"]
    rules = conv.content.incidents.escalation
    level = severity(playbook, answers, rules)
    conv.ops.extend(_incidents(conv).record_triage(draft["id"], answers, level, now, _reporter_name(conv)))
    conv.out.text(await routing_text(conv, playbook, answers, level, now))
    conv.out.text(conv.text("incident.follow_up", steps=conv.content.texts.bullets(playbook.follow_up)))
    first = not draft["told"]
    told = await _tell(conv, draft)
    if first and told is not None:
        _say_told(conv, told)
    elif told:
        conv.out.text(conv.text("incident.updated", to=told))
    conv.out.choices(conv.text("incident.after_prompt", id=draft["id"]), [
        Choice(conv.text("incident.add_note"), action_value("incident_note", draft["id"])),
        Choice(conv.text("incident.my_reports"), action_value("my_incidents")),
        Choice(conv.text("incident.withdraw"), action_value("incident_withdraw", draft["id"])),
        Choice(conv.text("result.menu"), action_value("show_menu")),
    ])


async def triage_text(conv: Conversation, text: str = "") -> None:
    """Something typed while a question waits (not an answer, not stray): kept with the report, then the
    question again."""
    draft = _draft(conv)
    if draft is None:
        await send_menu(conv)
        return
    if text.strip():
        conv.ops.extend(_incidents(conv).add_note(draft["id"], text.strip(), conv.services.clock(),
                                                  _reporter_name(conv)))
        conv.out.text(conv.text("incident.noted_during_triage", id=draft["id"]))
    await ask_step(conv)


async def pause(conv: Conversation) -> None:
    draft = conv.data.pop(NAME, None)
    conv.out.text(conv.text("incident.paused", id=draft["id"] if draft else "-"))
    await send_menu(conv)


async def reprompt_triage(conv: Conversation) -> None:
    if _draft(conv) is None:
        await send_menu(conv)
    else:
        await ask_step(conv)


# --- a new incident typed during another's questions ---------------------------------

async def ask_new_or_change(conv: Conversation, kind: str, description: str = "", *_: str) -> None:
    """Its first steps at once (whichever it turns out to be), then: a new report, or this one's kind?"""
    draft = _draft(conv)
    draft["pending"] = {"kind": kind, "text": description}
    conv.out.text(steps_now_text(conv.content.texts, _playbooks(conv)[kind]))
    await ask_switch(conv)


async def ask_switch(conv: Conversation) -> None:
    draft = _draft(conv)
    pending = (draft or {}).get("pending")
    if draft is None or not pending or pending.get("kind") not in _playbooks(conv):
        await send_menu(conv)
        return
    conv.out.choices(conv.text("incident.new_or_change", id=draft["id"], current=_playbooks(conv)[draft["kind"]].name,
                               name=_playbooks(conv)[pending["kind"]].name), [
        Choice(conv.text("incident.as_new"), action_value("incident_new", draft["id"]), means="new_report"),
        Choice(conv.text("incident.as_change"), action_value("incident_change", draft["id"]), means="change_kind"),
    ])


def is_not_pending(conv: Conversation, incident_id: str = "") -> bool:
    draft = _draft(conv)
    return draft is None or draft["id"] != incident_id or not draft.get("pending")


async def as_new_report(conv: Conversation, incident_id: str = "") -> None:
    """The reporter says it is another incident: a report of its own (the one before stays as it was)."""
    pending = _draft(conv).pop("pending")
    await _open(conv, pending["kind"], pending["text"], plausible=True, shown=True, previous=incident_id)


async def as_kind_change(conv: Conversation, incident_id: str = "") -> None:
    """The reporter says it is the same incident, of this other kind: the answers given are kept."""
    draft = _draft(conv)
    pending = draft.pop("pending")
    if pending["text"]:
        conv.ops.extend(_incidents(conv).add_note(draft["id"], pending["text"], conv.services.clock(),
                                                  _reporter_name(conv)))
    _change_kind(conv, draft, pending["kind"])
    conv.out.text(conv.text("incident.kind_switched", id=draft["id"], name=_playbooks(conv)[pending["kind"]].name))
    if draft["told"]:
        told = await _tell(conv, draft, heading="incident.notice_kind_changed",
                           kind=_playbooks(conv)[draft["kind"]].name)
        if told:
            conv.out.text(conv.text("incident.updated", to=told))
    else:  # the reporter confirmed it
        draft["plausible"] = True
        told = await _tell(conv, draft)
        if told is not None:
            _say_told(conv, told)
    if _current_step(conv, draft) is None:
        await _finish_without_questions(conv)
    else:
        await ask_step(conv)


async def _finish_without_questions(conv: Conversation) -> None:
    """A kind change that leaves nothing to ask: the routing at once."""
    draft = conv.data.pop(NAME)
    playbook = _playbooks(conv)[draft["kind"]]
    now = conv.services.clock()
    level = severity(playbook, draft["answers"], conv.content.incidents.escalation)
    conv.ops.extend(_incidents(conv).record_triage(draft["id"], draft["answers"], level, now, _reporter_name(conv)))
    conv.out.text(await routing_text(conv, playbook, draft["answers"], level, now))
    await send_menu(conv)


# --- withdrawing a report -----------------------------------------------------------

def _withdrawable(conv: Conversation, incident: Incident | None) -> bool:
    return incident is not None and incident.reporter == conv.who and incident.status != WITHDRAWN


CONFIRM, KEEP = "yes", "no"  # incident_withdraw's second argument: the confirmation's answer


def is_confirmed(conv: Conversation, incident_id: str = "", answer: str = "") -> bool:
    return answer == CONFIRM


async def ask_withdraw(conv: Conversation, incident_id: str = "", answer: str = "") -> None:
    """「取り消し」「間違いでした」: the report being asked about, or the latest one; after a confirmation
    (「取り消さない」: what was waiting, again)."""
    if answer == KEEP:
        conv.out.text(conv.text("incident.kept"))
        await reprompt(conv)
        return
    draft = _draft(conv)
    incident_id = incident_id or (draft["id"] if draft else "") or conv.data.get(LAST, "")
    incident = await _incidents(conv).load(incident_id) if incident_id else None
    if not _withdrawable(conv, incident):
        conv.out.text(conv.text("incident.nothing_to_withdraw"))
        await reprompt(conv)
        return
    playbook = _playbooks(conv).get(incident.kind)
    conv.out.choices(conv.text("incident.withdraw_prompt", id=incident.id, name=playbook.name if playbook else ""), [
        Choice(conv.text("incident.withdraw_yes"), action_value("incident_withdraw", incident.id, CONFIRM),
               means="yes"),
        Choice(conv.text("incident.withdraw_no"), action_value("incident_withdraw", incident.id, KEEP), means="no"),
    ])


async def withdraw(conv: Conversation, incident_id: str = "", *_: str) -> None:
    store = _incidents(conv)
    incident = await store.load(incident_id)
    if not _withdrawable(conv, incident):
        await stale_choice(conv)
        return
    draft = _draft(conv)
    if draft is not None and draft["id"] == incident.id:
        conv.data.pop(NAME)
    if conv.data.get(LAST) == incident.id:
        conv.data.pop(LAST)
    now = conv.services.clock()
    conv.ops.extend(store.withdraw(incident.id, now, _reporter_name(conv)))
    conv.checks.append(store.status_unchanged(incident))
    conv.out.text(conv.text("incident.withdrawn", id=incident.id))
    if incident.told:
        incident.status = WITHDRAWN
        rules = conv.content.incidents.escalation
        told = await notify_roles(conv, incident, roles_to_notify(incident.severity or _playbooks(conv)[
            incident.kind].severity, incident.answers, rules), heading="incident.notice_withdrawn", actions=False)
        if told:
            conv.out.text(conv.text("incident.withdrawn_told", to=told))
    await send_menu(conv)


# --- notes, status, lists ----------------------------------------------------------

async def _can_manage(conv: Conversation, incident: Incident | None = None) -> bool:
    """A registered responsible person of the organisation (of the incident's workspace, which may
    be on another platform than the one they act from)."""
    orgs = organisations(conv)
    org = await orgs.for_workspace(conv.who.platform, conv.who.workspace)
    if org is None or not is_responsible(org, platform=conv.who.platform, user=conv.who.user, channel=conv.channel):
        return False
    if incident is None:
        return True
    reporter_org = await orgs.for_workspace(incident.reporter.platform, incident.reporter.workspace)
    return reporter_org is not None and reporter_org.id == org.id


async def start_note(conv: Conversation, incident_id: str = "") -> None:
    incident = await _incidents(conv).load(incident_id)
    if incident is None or (incident.reporter != conv.who and not await _can_manage(conv, incident)):
        await stale_choice(conv)
        return
    conv.data[NAME + "_note"] = incident_id
    conv.out.text(conv.text("incident.note_prompt", id=incident_id))


def is_empty_text(conv: Conversation, text: str = "") -> bool:
    return not text.strip()


async def _say(conv: Conversation, key: str) -> None:
    conv.out.text(conv.text(key))


def has_note_target(conv: Conversation, *_: str) -> bool:
    return bool(conv.data.get(NAME + "_note"))


async def save_note(conv: Conversation, text: str = "") -> None:
    incident_id = conv.data.pop(NAME + "_note")
    conv.ops.extend(_incidents(conv).add_note(incident_id, text.strip(), conv.services.clock(), _reporter_name(conv)))
    conv.out.text(conv.text("incident.note_saved", id=incident_id))
    await send_menu(conv)


async def set_status(conv: Conversation, incident_id: str = "", status: str = "") -> None:
    store = _incidents(conv)
    incident = await store.load(incident_id)
    if incident is None or status not in STATUSES:
        await stale_choice(conv)
        return
    if not await _can_manage(conv, incident):
        conv.out.text(conv.text("incident.not_allowed"))
        return
    if incident.status == status:
        conv.out.text(conv.text("incident.status_same", id=incident_id, status=status_label(conv, status)))
        return
    now = conv.services.clock()
    conv.ops.extend(store.set_status(incident_id, status, now, _reporter_name(conv)))
    conv.checks.append(store.status_unchanged(incident))
    label = status_label(conv, status)
    conv.out.text(conv.text("incident.status_changed", id=incident_id, status=label))
    # The reporter hears about it where they reported.
    reporter = Recipient(incident.reporter.platform, incident.reporter.workspace, "user", incident.reporter.user,
                         incident.reporter_name)
    if incident.reporter != conv.who:
        conv.out.notice(reporter, [Text(conv.text("incident.status_notice", id=incident_id, status=label,
                                                  by=_reporter_name(conv)))])


async def view(conv: Conversation, incident_id: str = "") -> None:
    incident = await _incidents(conv).load(incident_id)
    manager = incident is not None and await _can_manage(conv, incident)
    if incident is None or (incident.reporter != conv.who and not manager):
        await stale_choice(conv)
        return
    conv.out.add(incident_card(conv, incident))
    texts = conv.content.texts
    timeline = "\n".join(conv.text("incident.timeline_row", at=texts.short_date_time(datetime.fromisoformat(e["at"])),
                                   what=conv.text(f"incident.event_{e['what']}"), by=e.get("by", ""),
                                   text=conv.text("incident.timeline_note", text=e["text"]) if e.get("text") else "")
                         for e in incident.timeline)
    conv.out.text(conv.text("incident.timeline", rows=timeline))
    options = [Choice(conv.text("incident.add_note"), action_value("incident_note", incident.id))]
    if manager:
        options = [Choice(conv.text(f"incident.to_{s}"), action_value("incident_status", incident.id, s))
                   for s in STATUSES if s != incident.status] + options
    if _withdrawable(conv, incident):
        options.append(Choice(conv.text("incident.withdraw"), action_value("incident_withdraw", incident.id)))
    options.append(Choice(conv.text("result.menu"), action_value("show_menu")))
    conv.out.choices(conv.text("incident.view_prompt"), options)


async def _list(conv: Conversation, incidents: list[Incident], empty_key: str) -> None:
    if not incidents:
        conv.out.text(conv.text(empty_key))
        await send_menu(conv)
        return
    rows = "\n".join(conv.text("incident.list_row", id=i.id, name=_playbooks(conv)[i.kind].name,
                               status=status_label(conv, i.status),
                               at=conv.content.texts.date_time(datetime.fromisoformat(i.reported_at)))
                     for i in incidents)
    options = [Choice(i.id, action_value("incident_view", i.id)) for i in incidents[:10]]
    options.append(Choice(conv.text("result.menu"), action_value("show_menu")))
    conv.out.choices(conv.text("incident.list", rows=rows), options)


async def my_incidents(conv: Conversation) -> None:
    await _list(conv, await _incidents(conv).by_reporter(conv.who), "incident.none_mine")


async def workspace_incidents(conv: Conversation) -> None:
    if not await _can_manage(conv):
        conv.out.text(conv.text("incident.not_allowed"))
        await send_menu(conv)
        return
    await _list(conv, await _incidents(conv).of_workspace(conv.who.platform, conv.who.workspace),
                "incident.none_all")


def menu_entries(conv: Conversation) -> list[Choice]:
    return [Choice(conv.text("incident.menu"), action_value("choose_incident"))]


FLOW = Flow(
    name=NAME,
    states=(CHOOSING, TRIAGE, SWITCHING, NOTE),
    transitions=(
        {"trigger": "choose_incident", "source": "*", "dest": CHOOSING, "after": on(choose_kind)},
        {"trigger": "incident_kinds", "source": "*", "dest": CHOOSING, "after": on(kinds_page)},
        {"trigger": "incident_general", "source": "*", "dest": CHOOSING, "after": on(general_steps)},
        {"trigger": "report_incident", "source": "*", "dest": None, "conditions": when(is_unknown_kind),
         "after": on(stale_choice)},
        {"trigger": "report_incident", "source": [TRIAGE, SWITCHING], "dest": TRIAGE,
         "conditions": when(is_same_report), "after": on(same_report)},
        {"trigger": "report_incident", "source": [TRIAGE, SWITCHING], "dest": SWITCHING,
         "conditions": when(is_typed_other_kind), "after": on(ask_new_or_change)},
        {"trigger": "report_incident", "source": "*", "dest": TRIAGE, "after": on(report)},
        {"trigger": "incident_new", "source": SWITCHING, "dest": None, "conditions": when(is_not_pending),
         "after": on(stale_choice)},
        {"trigger": "incident_new", "source": SWITCHING, "dest": TRIAGE, "after": on(as_new_report)},
        {"trigger": "incident_change", "source": SWITCHING, "dest": None, "conditions": when(is_not_pending),
         "after": on(stale_choice)},
        {"trigger": "incident_change", "source": SWITCHING, "dest": TRIAGE, "after": on(as_kind_change)},
        {"trigger": "incident_answer", "source": TRIAGE, "dest": None, "conditions": when(is_not_current_step),
         "after": on(ignore_or_stale)},
        {"trigger": "incident_answer", "source": TRIAGE, "dest": MENU, "conditions": when(is_last_step),
         "after": on(answer_and_route)},
        {"trigger": "incident_answer", "source": TRIAGE, "dest": None, "after": on(answer_and_continue)},
        {"trigger": "incident_more", "source": "*", "dest": None, "after": on(show_more)},
        {"trigger": "incident_withdraw", "source": "*", "dest": MENU, "conditions": when(is_confirmed),
         "after": on(withdraw)},
        {"trigger": "incident_withdraw", "source": "*", "dest": None, "after": on(ask_withdraw)},
        {"trigger": "cancel", "source": [TRIAGE, SWITCHING], "dest": MENU, "after": on(pause)},
        {"trigger": "incident_note", "source": "*", "dest": NOTE, "after": on(start_note)},
        {"trigger": "note_text", "source": NOTE, "dest": None, "conditions": when(is_empty_text),
         "after": on(lambda conv, *_: _say(conv, "incident.note_empty"))},
        {"trigger": "note_text", "source": NOTE, "dest": MENU, "conditions": when(has_note_target),
         "after": on(save_note)},
        {"trigger": "triage_text", "source": TRIAGE, "dest": None, "after": on(triage_text)},
        {"trigger": "incident_status", "source": "*", "dest": None, "after": on(set_status)},
        {"trigger": "incident_view", "source": "*", "dest": None, "after": on(view)},
        {"trigger": "my_incidents", "source": "*", "dest": MENU, "after": on(my_incidents)},
        {"trigger": "workspace_incidents", "source": "*", "dest": MENU, "after": on(workspace_incidents)},
    ),
    reprompts={CHOOSING: lambda conv: kinds_page(conv, "1"), TRIAGE: reprompt_triage, SWITCHING: ask_switch},
    hints={CHOOSING: "incident.choose_hint", TRIAGE: "incident.triage_hint", SWITCHING: "incident.switch_hint"},
    menu_entries=menu_entries,
    free_text={NOTE: "note_text"},
    # Typed during the questions (not an answer, a command or another incident, and not stray): a note.
    remarks={TRIAGE: "triage_text"},
    commands={"my_reports": "my_incidents", "all_reports": "workspace_incidents", "incident": "choose_incident",
              "trouble": "incident_general", "withdraw": "incident_withdraw"},
    # A report the classifier is sure of gets its playbook at once, in any state; a plausible
    # one is asked about (never a dead end).
    intents=(IntentRoute(intents=lambda content: content.incidents.playbooks, trigger="report_incident",
                         confidence=0.6, with_text=True, urgent=True, unsure_trigger="choose_incident"),
             # Trouble without a kind (「なんか変」「ネットがおかしい」: the classifier's `vague`): the steps safe
             # for any incident, then the kinds to pick from; never "not understood".
             IntentRoute(intents=lambda content: ("vague",), trigger="incident_general", confidence=0.2)),
    idle_states=(CHOOSING,),
)
