"""自社診断: the 25 IPA questions one at a time, then the scored result.

States: `diagnosis_asking` (waiting for the answer to the current question);
the result is shown on the way back to the menu.

Data (conv.data["diagnosis"]): {"answers": [answer index or None] * 25,
"current": 0-based index of the question shown, "started_at": iso time}. The
draft survives やめる and restarts; it is cleared when a result is recorded.
Answers are stored by question, so a repeated or late click can change an
answer but never add a second one.

On the company's behalf (an administrator, bot/flows/org/company_flow.py): conv.data["diagnosis_for"]
= {"org": id, "site": name} while it is answered; its draft is kept apart (conv.data["diagnosis_company"],
so a personal draft in progress is not lost) and the result goes to the organisation
(bot/flows/org/company_checks.py), never to the person's own results.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.conversation import Conversation
from bot.core.events import action_value
from bot.core.flow import Flow, IntentRoute, on, when
from bot.core.replies import Choice, Choices, Progress, Recipient, Text
from bot.flows.menu import MENU, send_menu, stale_choice
from bot.flows.org.company_result import finish_for_company
from bot.flows.org.store import organisations
from bot.flows.selfcheck.report import (
    SCORE_CHART,
    draw_score_chart,
    render_details,
    render_history,
    render_result,
    result_key,
    result_record,
    score_card,
)
from bot.flows.selfcheck.scoring import score_diagnosis

NAME = "diagnosis"
ASKING = "diagnosis_asking"
FOR_COMPANY = "diagnosis_for"  # set while an administrator answers on the company's behalf
COMPANY_DRAFT = "diagnosis_company"


def _draft_key(conv: Conversation) -> str:
    return COMPANY_DRAFT if conv.data.get(FOR_COMPANY) else NAME


def answering_for(conv: Conversation) -> dict[str, str] | None:
    """{"org", "site"} while the self-check is answered on the company's behalf."""
    return conv.data.get(FOR_COMPANY) or None


def _item_count(conv: Conversation) -> int:
    return len(conv.content.checklist.items)


def _draft(conv: Conversation) -> dict[str, Any] | None:
    draft = conv.data.get(_draft_key(conv))
    if draft and len(draft.get("answers", ())) == _item_count(conv):
        return draft
    return None


def _new_draft(conv: Conversation) -> dict[str, Any]:
    draft = {
        "answers": [None] * _item_count(conv),
        "current": 0,
        "started_at": conv.services.clock().isoformat(timespec="seconds"),
    }
    company = answering_for(conv)
    if company:
        draft.update(org=company.get("org", ""), site=company.get("site", ""))
    conv.data[_draft_key(conv)] = draft
    return draft


def _answered(draft: dict[str, Any]) -> int:
    return sum(a is not None for a in draft["answers"])


def _first_unanswered(draft: dict[str, Any]) -> int | None:
    return next((i for i, a in enumerate(draft["answers"]) if a is None), None)


def _parse_answer(conv: Conversation, no: str, answer: str) -> tuple[int, int] | None:
    """(question index, answer index) from a choice's arguments, or None if they are not valid."""
    try:
        index, choice = int(no) - 1, int(answer)
    except ValueError:
        return None
    if 0 <= index < _item_count(conv) and 0 <= choice < len(conv.content.checklist.answers):
        return index, choice
    return None


# --- menu -------------------------------------------------------------------

def menu_entries(conv: Conversation) -> list[Choice]:
    draft = _draft(conv)
    if draft and _answered(draft):
        start = conv.text("diagnosis.menu_resume", answered=_answered(draft), total=_item_count(conv))
    else:
        start = conv.text("diagnosis.menu_start")
    return [
        Choice(start, action_value("start_diagnosis")),
        Choice(conv.text("diagnosis.menu_history"), action_value("show_history")),
    ]


# --- asking -----------------------------------------------------------------

async def ask_current(conv: Conversation) -> None:
    draft = _draft(conv) or _new_draft(conv)
    checklist = conv.content.checklist
    item = checklist.item(draft["current"] + 1)
    lines = [conv.text("diagnosis.question", no=item.no, question=item.question)]
    lines += [f"{mark} {note}" for mark, note in item.footnotes]
    given = draft["answers"][item.no - 1]
    if given is not None:
        lines.append(conv.text("diagnosis.current_answer", label=checklist.answers[given].label))
    label = checklist.category_of(item.no).name
    company = answering_for(conv)
    if company:
        label = conv.text("company_check.progress", site=company.get("site", ""), category=label)
    conv.out.add(Progress(item.no, len(checklist.items), label))
    conv.out.choices(
        "\n".join(lines),
        # Each answer also by the words people type for it (content/phrases.yaml answers: 「やってない」「一部」).
        [Choice(option.label, action_value("answer", item.no, i), means=option.id)
         for i, option in enumerate(checklist.answers)],
    )


async def begin(conv: Conversation) -> None:
    conv.data.pop(FOR_COMPANY, None)  # 「自社診断」 is always one's own
    await _begin(conv)


async def begin_for_company(conv: Conversation, org_id: str, site: str) -> None:
    """The same 25 questions, answered on the organisation's behalf (for one site, or 「全社」); a paused
    draft of the same site is resumed."""
    draft = conv.data.get(COMPANY_DRAFT)
    if draft and (draft.get("site") != site or draft.get("org") != org_id):
        del conv.data[COMPANY_DRAFT]
    conv.data[FOR_COMPANY] = {"org": org_id, "site": site}
    await _begin(conv, intro="company_check.intro", site=site)


async def _begin(conv: Conversation, *, intro: str = "diagnosis.intro", **params: str) -> None:
    draft = _draft(conv)
    if draft and _answered(draft):
        resume_at = _first_unanswered(draft)
        draft["current"] = draft["current"] if resume_at is None else resume_at
        conv.out.text(conv.text(
            "diagnosis.resumed", no=draft["current"] + 1, answered=_answered(draft), total=_item_count(conv)))
    else:
        _new_draft(conv)
        conv.out.text(conv.text(intro, total=_item_count(conv), **params))
    await ask_current(conv)


async def restart(conv: Conversation) -> None:
    _new_draft(conv)
    conv.out.text(conv.text("diagnosis.restarted", total=_item_count(conv)))
    await ask_current(conv)


def is_invalid_answer(conv: Conversation, no: str = "", answer: str = "") -> bool:
    return _draft(conv) is None or _parse_answer(conv, no, answer) is None


def is_for_other_question(conv: Conversation, no: str, answer: str) -> bool:
    index, _ = _parse_answer(conv, no, answer)
    return index != _draft(conv)["current"]


def completes_diagnosis(conv: Conversation, no: str, answer: str) -> bool:
    draft = _draft(conv)
    index, _ = _parse_answer(conv, no, answer)
    return all(a is not None for i, a in enumerate(draft["answers"]) if i != index)


async def record_and_ask_next(conv: Conversation, no: str, answer: str) -> None:
    draft = _draft(conv)
    index, choice = _parse_answer(conv, no, answer)
    draft["answers"][index] = choice
    following = index + 1
    draft["current"] = following if following < _item_count(conv) else _first_unanswered(draft)
    await ask_current(conv)


async def change_other_answer(conv: Conversation, no: str, answer: str) -> None:
    """A choice for a question other than the current one (a late or double click)."""
    draft = _draft(conv)
    index, choice = _parse_answer(conv, no, answer)
    previous = draft["answers"][index]
    if previous == choice:
        return  # the same answer again: already recorded, nothing to say
    if previous is None:
        conv.out.text(conv.text("menu.stale_choice"))
        await ask_current(conv)
        return
    draft["answers"][index] = choice
    label = conv.content.checklist.answers[choice].label
    conv.out.text(conv.text("diagnosis.answer_changed", no=index + 1, label=label))


async def finish(conv: Conversation, no: str, answer: str) -> None:
    draft = _draft(conv)
    index, choice = _parse_answer(conv, no, answer)
    draft["answers"][index] = choice
    checklist = conv.content.checklist
    score = score_diagnosis(draft["answers"], checklist)
    company = answering_for(conv)
    if company:
        del conv.data[COMPANY_DRAFT]
        conv.data.pop(FOR_COMPANY, None)
        await finish_for_company(conv, score, org_id=company.get("org", ""), site=company.get("site", ""))
        return
    store = conv.services.store
    previous = await store.results(conv.who, limit=1)
    now = conv.services.clock()
    conv.ops.append(store.append_result(conv.who, result_record(score, at=now)))
    del conv.data[NAME]
    leads = await _security_leads(conv)
    render_result(conv, score, previous=previous[-1] if previous else None, at=now, can_share=bool(leads))


async def _security_leads(conv: Conversation) -> list[Recipient]:
    org = await organisations(conv).for_workspace(conv.who.platform, conv.who.workspace)
    return org.reach("security_lead") if org else []


async def share_result(conv: Conversation) -> None:
    """Send the latest result to the organisation's security lead(s)."""
    results = await conv.services.store.results(conv.who, limit=2)
    leads = await _security_leads(conv)
    if not results or not leads:
        conv.out.text(conv.text("diagnosis.share_unavailable"))
        await send_menu(conv)
        return
    latest = results[-1]
    score = score_diagnosis(latest["answers"], conv.content.checklist)
    at = datetime.fromisoformat(latest["at"])
    previous = results[-2] if len(results) > 1 else None
    name = conv.display_name or conv.who.user
    for lead in leads:
        conv.out.notice(lead, [
            Text(conv.text("diagnosis.shared_notice", name=name)),
            score_card(conv, score, previous=previous, at=at),
            Choices(conv.text("diagnosis.shared_prompt"),
                    (Choice(conv.text("diagnosis.menu_start"), action_value("start_diagnosis")),)),
        ])
    conv.out.text(conv.text("diagnosis.shared", to=conv.content.texts.join(lead.label or lead.id for lead in leads)))
    await send_menu(conv)


async def show_details(conv: Conversation, at: str = "") -> None:
    """The rest of a result (its countermeasures, the わからない items, SECURITY ACTION), found by its time."""
    results = await conv.services.store.results(conv.who, limit=11)
    result = next((r for r in reversed(results) if result_key(r["at"]) == at), None)
    if result is None:
        await stale_choice(conv)
        return
    score = score_diagnosis(result["answers"], conv.content.checklist)
    render_details(conv, score, can_share=bool(await _security_leads(conv)))


async def back(conv: Conversation) -> None:
    draft = _draft(conv)
    if draft["current"] == 0:
        conv.out.text(conv.text("diagnosis.first_question"))
    else:
        draft["current"] -= 1
    await ask_current(conv)


async def pause(conv: Conversation) -> None:
    draft = _draft(conv)
    key = "company_check.paused" if conv.data.pop(FOR_COMPANY, None) else "diagnosis.paused"
    conv.out.text(conv.text(key, answered=_answered(draft), total=_item_count(conv)))
    await send_menu(conv)


async def show_history(conv: Conversation) -> None:
    results = await conv.services.store.results(conv.who, limit=11)
    render_history(conv, results)


async def home(conv: Conversation) -> None:
    results = await conv.services.store.results(conv.who, limit=2)
    if not results:
        conv.out.text(conv.text("home.no_result"))
        return
    latest = results[-1]
    score = score_diagnosis(latest["answers"], conv.content.checklist)
    conv.out.add(score_card(conv, score, previous=results[-2] if len(results) > 1 else None,
                            at=datetime.fromisoformat(latest["at"])))


def has_draft(conv: Conversation) -> bool:
    return _draft(conv) is not None


FLOW = Flow(
    name=NAME,
    states=(ASKING,),
    transitions=(
        {"trigger": "start_diagnosis", "source": "*", "dest": ASKING, "after": on(begin)},
        {"trigger": "restart_diagnosis", "source": "*", "dest": ASKING, "after": on(restart)},
        {"trigger": "answer", "source": ASKING, "dest": None, "conditions": when(is_invalid_answer),
         "after": on(stale_choice)},
        {"trigger": "answer", "source": ASKING, "dest": None, "conditions": when(is_for_other_question),
         "after": on(change_other_answer)},
        {"trigger": "answer", "source": ASKING, "dest": MENU, "conditions": when(completes_diagnosis),
         "after": on(finish)},
        {"trigger": "answer", "source": ASKING, "dest": None, "after": on(record_and_ask_next)},
        {"trigger": "back", "source": ASKING, "dest": None, "conditions": when(has_draft), "after": on(back)},
        {"trigger": "cancel", "source": ASKING, "dest": MENU, "conditions": when(has_draft), "after": on(pause)},
        {"trigger": "show_history", "source": "*", "dest": MENU, "after": on(show_history)},
        {"trigger": "share_result", "source": MENU, "dest": None, "after": on(share_result)},
        {"trigger": "result_details", "source": MENU, "dest": None, "after": on(show_details)},
    ),
    reprompts={ASKING: ask_current},
    hints={ASKING: "diagnosis.hint"},
    menu_entries=menu_entries,
    home=home,
    commands={"restart": "restart_diagnosis", "back": "back"},
    topics={"diagnosis": "start_diagnosis", "history": "show_history"},
    intents=(IntentRoute(intents=lambda content: ("diagnosis",), trigger="start_diagnosis", confidence=0.5),),
    images={SCORE_CHART: draw_score_chart},
)
