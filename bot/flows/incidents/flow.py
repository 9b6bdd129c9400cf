"""緊急相談: what to do right now, a few triage questions, and the report routed.

States: `incident_choosing` (which kind of trouble, when it was not clear from the
message), `incident_triage` (はい/いいえ/わからない to one question), and
`incident_note` (the next message is a note for the report). Data
(conv.data["incident"]): {"id", "kind", "step": index of the triage question,
"answers": {triage id: yes/no/unknown}}.

The playbook's most urgent steps (the first three of `do`) go out in the very
first reply, before any question, short enough for a phone; the other steps and
the don'ts are one tap away (a 「続きを見る」 choice offered with each question
until it is used, `incident_more`). The company's responsible people are told at
once, and again with the answers once the triage is done. A question is answered
はい/いいえ/わからない, or by one of its options (「何をなくしましたか」).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.conversation import Conversation
from bot.core.events import action_value
from bot.core.flow import Flow, IntentRoute, on, reprompt, when
from bot.core.replies import Choice, Recipient, Text
from bot.flows.incidents.escalation import roles_to_notify, severity
from bot.flows.incidents.records import STATUSES, Incident, IncidentStore
from bot.flows.incidents.report import (
    answer_label,
    first_steps_text,
    incident_card,
    more_steps_text,
    notify_roles,
    routing_text,
    status_label,
)
from bot.flows.menu import MENU, send_menu, stale_choice
from bot.flows.org.store import is_responsible, organisations

NAME = "incident"
CHOOSING = "incident_choosing"
TRIAGE = "incident_triage"
NOTE = "incident_note"
KINDS_PER_PAGE = 7


def _incidents(conv: Conversation) -> IncidentStore:
    return IncidentStore(conv.services.store.client, conv.services.store.keys)


def _playbooks(conv: Conversation):
    return conv.content.incidents.playbooks


def _draft(conv: Conversation) -> dict[str, Any] | None:
    draft = conv.data.get(NAME)
    return draft if draft and draft.get("kind") in _playbooks(conv) else None


def _reporter_name(conv: Conversation) -> str:
    return conv.display_name or conv.who.user


# --- choosing the kind ---------------------------------------------------------

def _kind_choice(conv: Conversation, kind: str) -> Choice:
    return Choice(_playbooks(conv)[kind].name, action_value("report_incident", kind))


async def choose_kind(conv: Conversation, candidates: str = "", *_: str) -> None:
    """Which kind of trouble: the likeliest first (from the classifier), then a page of all kinds."""
    kinds = [k for k in candidates.split(",") if k in _playbooks(conv)][:5]
    if kinds:
        conv.out.text(conv.text("incident.unsure"))
        options = [_kind_choice(conv, k) for k in kinds]
        options.append(Choice(conv.text("incident.other_kinds"), action_value("incident_kinds", 1)))
    else:
        conv.out.text(conv.text("incident.describe"))
        options = _kind_page(conv, 1)
    options.append(Choice(conv.text("result.menu"), action_value("show_menu")))
    conv.out.choices(conv.text("incident.choose_prompt"), options)


def _kind_page(conv: Conversation, page: int) -> list[Choice]:
    kinds = list(_playbooks(conv))
    pages = (len(kinds) + KINDS_PER_PAGE - 1) // KINDS_PER_PAGE
    page = min(max(page, 1), pages)
    options = [_kind_choice(conv, k) for k in kinds[(page - 1) * KINDS_PER_PAGE:page * KINDS_PER_PAGE]]
    if page < pages:
        options.append(Choice(conv.text("incident.other_kinds"), action_value("incident_kinds", page + 1)))
    elif page > 1:
        options.append(Choice(conv.text("lesson.previous"), action_value("incident_kinds", page - 1)))
    return options


async def kinds_page(conv: Conversation, page: str = "1") -> None:
    options = _kind_page(conv, int(page) if page.isdigit() else 1)
    options.append(Choice(conv.text("result.menu"), action_value("show_menu")))
    conv.out.choices(conv.text("incident.choose_prompt"), options)


# --- the report ------------------------------------------------------------------

def is_unknown_kind(conv: Conversation, kind: str = "", *_: str) -> bool:
    return kind not in _playbooks(conv)


def is_same_report(conv: Conversation, kind: str = "", description: str = "") -> bool:
    """The kind's button again (a double click) while its questions are still being asked."""
    draft = _draft(conv)
    return draft is not None and draft["kind"] == kind and not description


async def report(conv: Conversation, kind: str, description: str = "") -> None:
    playbook = _playbooks(conv)[kind]
    now = conv.services.clock()
    incident = Incident(id=await _incidents(conv).unused_id(now), kind=kind, reporter=conv.who,
                        reporter_name=_reporter_name(conv),
                        description=description, reported_at=now.isoformat(timespec="seconds"),
                        severity=playbook.severity)
    conv.ops.extend(_incidents(conv).create(incident, now))
    conv.data[NAME] = {"id": incident.id, "kind": kind, "step": 0, "answers": {}, "more": False}
    conv.out.text(first_steps_text(conv.content.texts, playbook, incident.id))
    rules = conv.content.incidents.escalation
    told = await notify_roles(conv, incident, roles_to_notify(playbook.severity, {}, rules), update=False)
    if told is None:
        conv.out.text(conv.text("incident.no_org"))
    else:
        conv.out.text(conv.text("incident.told", to=told) if told else conv.text("incident.told_nobody"))
    await ask_step(conv)


async def ask_step(conv: Conversation) -> None:
    draft = _draft(conv)
    playbook = _playbooks(conv)[draft["kind"]]
    step = playbook.triage[draft["step"]]
    options = [Choice(answer_label(conv.content, step, a), action_value("incident_answer", draft["id"], step.id, a))
               for a in step.answers]
    if not draft.get("more"):
        options.append(Choice(conv.text("incident.more"), action_value("incident_more", draft["kind"], draft["id"])))
    conv.out.choices(
        conv.text("incident.question", n=draft["step"] + 1, total=len(playbook.triage), question=step.question),
        options,
    )


async def show_more(conv: Conversation, kind: str = "", incident_id: str = "") -> None:
    """The other steps and the don'ts; then, while its questions are being asked, the question again."""
    playbook = _playbooks(conv).get(kind)
    if playbook is None:
        await stale_choice(conv)
        return
    conv.out.text(more_steps_text(conv.content.texts, playbook))
    draft = _draft(conv)
    if draft is not None and draft["id"] == incident_id:
        draft["more"] = True
    await reprompt(conv)


def is_not_current_step(conv: Conversation, incident_id: str = "", step_id: str = "", answer: str = "") -> bool:
    draft = _draft(conv)
    if draft is None or incident_id != draft["id"]:
        return True
    step = _playbooks(conv)[draft["kind"]].triage[draft["step"]]
    return step.id != step_id or answer not in step.answers


async def ignore_or_stale(conv: Conversation, incident_id: str = "", step_id: str = "", answer: str = "") -> None:
    draft = _draft(conv)
    if draft is not None and incident_id == draft["id"] and step_id in draft["answers"]:
        return  # a double click on a question already answered
    await stale_choice(conv)


def is_last_step(conv: Conversation, *_: str) -> bool:
    draft = _draft(conv)
    return draft["step"] + 1 >= len(_playbooks(conv)[draft["kind"]].triage)


def _record(conv: Conversation, step_id: str, answer: str) -> None:
    draft = _draft(conv)
    draft["answers"][step_id] = answer
    step = next(s for s in _playbooks(conv)[draft["kind"]].triage if s.id == step_id)
    if step.advice.get(answer):
        conv.out.text(conv.text("incident.advice", advice=step.advice[answer]))
    draft["step"] += 1


async def answer_and_continue(conv: Conversation, incident_id: str, step_id: str, answer: str) -> None:
    _record(conv, step_id, answer)
    await ask_step(conv)


async def answer_and_route(conv: Conversation, incident_id: str, step_id: str, answer: str) -> None:
    _record(conv, step_id, answer)
    draft = conv.data.pop(NAME)
    playbook = _playbooks(conv)[draft["kind"]]
    now = conv.services.clock()
    answers = draft["answers"]
    rules = conv.content.incidents.escalation
    level = severity(playbook, answers, rules)
    conv.ops.extend(_incidents(conv).record_triage(draft["id"], answers, level, now, _reporter_name(conv)))
    conv.out.text(await routing_text(conv, playbook, answers, level, now))
    conv.out.text(conv.text("incident.follow_up", steps=conv.content.texts.bullets(playbook.follow_up)))
    incident = await _incidents(conv).load(draft["id"]) or Incident(
        id=draft["id"], kind=playbook.id, reporter=conv.who, reporter_name=_reporter_name(conv), description="",
        reported_at=now.isoformat(timespec="seconds"))
    incident.answers, incident.severity = answers, level  # this commit's, not yet stored
    told = await notify_roles(conv, incident, roles_to_notify(level, answers, rules), update=True)
    if told:
        conv.out.text(conv.text("incident.updated", to=told))
    conv.out.choices(conv.text("incident.after_prompt", id=draft["id"]), [
        Choice(conv.text("incident.add_note"), action_value("incident_note", draft["id"])),
        Choice(conv.text("incident.my_reports"), action_value("my_incidents")),
        Choice(conv.text("result.menu"), action_value("show_menu")),
    ])


async def triage_text(conv: Conversation, text: str = "") -> None:
    """Something typed while a question waits: kept with the report, then the question again."""
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
    states=(CHOOSING, TRIAGE, NOTE),
    transitions=(
        {"trigger": "choose_incident", "source": "*", "dest": CHOOSING, "after": on(choose_kind)},
        {"trigger": "incident_kinds", "source": "*", "dest": CHOOSING, "after": on(kinds_page)},
        {"trigger": "report_incident", "source": "*", "dest": None, "conditions": when(is_unknown_kind),
         "after": on(stale_choice)},
        {"trigger": "report_incident", "source": TRIAGE, "dest": None, "conditions": when(is_same_report),
         "after": on(lambda conv, *_: ask_step(conv))},
        {"trigger": "report_incident", "source": "*", "dest": TRIAGE, "after": on(report)},
        {"trigger": "incident_answer", "source": TRIAGE, "dest": None, "conditions": when(is_not_current_step),
         "after": on(ignore_or_stale)},
        {"trigger": "incident_answer", "source": TRIAGE, "dest": MENU, "conditions": when(is_last_step),
         "after": on(answer_and_route)},
        {"trigger": "incident_answer", "source": TRIAGE, "dest": None, "after": on(answer_and_continue)},
        {"trigger": "incident_more", "source": "*", "dest": None, "after": on(show_more)},
        {"trigger": "cancel", "source": TRIAGE, "dest": MENU, "after": on(pause)},
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
    reprompts={CHOOSING: lambda conv: kinds_page(conv, "1"), TRIAGE: reprompt_triage},
    hints={CHOOSING: "incident.choose_hint", TRIAGE: "incident.triage_hint"},
    menu_entries=menu_entries,
    free_text={NOTE: "note_text", TRIAGE: "triage_text"},
    commands={"my_reports": "my_incidents", "all_reports": "workspace_incidents", "incident": "choose_incident"},
    # A report the classifier is sure of gets its playbook at once, in any state; a plausible
    # one is asked about (never a dead end).
    intents=(IntentRoute(intents=lambda content: content.incidents.playbooks, trigger="report_incident",
                         confidence=0.6, with_text=True, urgent=True, unsure_trigger="choose_incident"),
             # Trouble without a kind (「なんか変」「ネットがおかしい」: the classifier's `vague`): the kinds to
             # pick from, never "not understood".
             IntentRoute(intents=lambda content: ("vague",), trigger="choose_incident", confidence=0.2)),
    idle_states=(CHOOSING,),
)
