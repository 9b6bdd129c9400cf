"""SECURITY ACTION (administrators only): which star the company is ready to declare, and the
情報セキュリティ基本方針 drafted in the chat for ★★.

「SECURITY ACTION」 (a command, and a choice in 「管理」) shows the readiness (`security_action.readiness`)
and how to declare. 「基本方針をつくる」 drafts the policy from content/policy_template.yaml: the
company's name (default: the organisation's), the representative's title and name, the date
(default: today, JST; a typed date is accepted) and the commitments (all kept to begin with;
each can be dropped and taken back), then shows the draft: 確定 or 修正 (any part, then the draft
again). 確定 stores the policy on the organisation and hands over its PDF (a Document: a file in
Slack, a link on LINE, a path in the local chat) with where and how to declare. 「公開しました」
records that it is public, which ★★ needs.

The readiness is computed from the company's own self-check (会社として診断, company_checks.py); until
there is one, from the administrator's own latest self-check. The chat says which result it used.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from bot.core.conversation import Conversation
from bot.core.events import action_value
from bot.core.flow import Flow, Handler, on
from bot.core.replies import Choice, Document
from bot.flows.menu import MENU
from bot.flows.org.company_checks import company_checks
from bot.flows.org.flow import may_administer
from bot.flows.org.policy_pdf import POLICY_PDF, draw_policy_pdf, policy_params
from bot.flows.org.security_action import (
    NEEDS_POLICY,
    NEEDS_PUBLISHING,
    NEEDS_SELF_CHECK,
    Readiness,
    SecurityPolicy,
    policies,
    readiness,
)
from bot.flows.org.store import Organisation, organisations

NAME = "policy"  # the draft, under conv.data
# One state while drafting; which step it is at (a part, or "confirm") is kept with the draft, so that
# the machine stays small and a button from an earlier step is recognised as stale.
DRAFTING = "policy_drafting"
CONFIRM = "confirm"
CHOOSE = "policy_choice"
DONE = "admin_done"  # back to the menu state, saying nothing (the admin flow's)
COMPANY_MAX, TITLE_MAX, PERSON_MAX = 60, 30, 30  # characters kept of what is typed
PARTS = ("company", "title", "name", "date", "commitments")  # what 修正 can change, in the draft's order
_DIGITS = re.compile(r"\d+")


# --- who may, and what the company has -------------------------------------------------------------

async def _refuse(conv: Conversation) -> None:
    conv.out.choices(conv.text("policy.not_admin"),
                     [Choice(conv.text("admin.enter_code"), action_value("admin_ask_code")),
                      Choice(conv.text("result.menu"), action_value("show_menu"))])


async def _org(conv: Conversation) -> Organisation | None:
    return await organisations(conv).for_workspace(conv.who.platform, conv.who.workspace)


def _no_org(conv: Conversation) -> None:
    conv.out.choices(conv.text("policy.no_org"),
                     [Choice(conv.text("policy.to_admin"), action_value("start_admin")),
                      Choice(conv.text("result.menu"), action_value("show_menu"))])


async def _allowed_org(conv: Conversation) -> Organisation | None:
    """The organisation, when the person may administer it (else they are told why not: None)."""
    if not await may_administer(conv):
        await _refuse(conv)
        return None
    org = await _org(conv)
    if org is None:
        _no_org(conv)
    return org


async def _company_answers(conv: Conversation, org: Organisation) -> tuple[list[int] | None, str]:
    """The self-check the readiness is computed from, and a line saying which one it is.

    The company's own self-check (会社として診断) when there is one: the whole company's (「全社」),
    else the latest site's. Without one, the administrator's own latest self-check stands in (many
    small companies' administrator answers for the company anyway), and the chat says so."""
    store = conv.services.store
    checks = await company_checks(store.client, store.keys, org.id)
    if checks:
        whole = conv.text("company_check.whole")
        chosen = next((c for c in checks if c.get("site") == whole), None) or max(checks, key=lambda c: c["at"])
        when = conv.content.texts.date(datetime.fromisoformat(chosen["at"]))
        return list(chosen["answers"]), conv.text("policy.based_on_company", date=when, site=chosen["site"])
    results = await store.results(conv.who, limit=1)
    if not results:
        return None, conv.text("policy.based_on_none")
    latest = results[-1]
    return list(latest["answers"]), conv.text("policy.based_on",
                                              date=conv.content.texts.date(datetime.fromisoformat(latest["at"])))


# --- the readiness -------------------------------------------------------------------------------

def _item_refs(conv: Conversation, numbers: tuple[int, ...]) -> str:
    checklist = conv.content.checklist
    return conv.content.texts.join(conv.text("list.item_ref", no=no, topic=checklist.item(no).topic)
                                   for no in numbers)


def _one_star_status(conv: Conversation, ready: Readiness) -> str:
    if not ready.self_check_done:
        return conv.text("policy.one_star_no_check")
    if ready.one_star_ready:
        return conv.text("policy.one_star_ready")
    status = conv.text("policy.one_star_gaps", items=_item_refs(conv, ready.one_star_gaps))
    if ready.unknown_items:
        status += "\n" + conv.text("policy.one_star_unknown", items=_item_refs(conv, ready.unknown_items))
    return status


def _two_star_status(conv: Conversation, ready: Readiness) -> str:
    missing = ready.two_star_missing
    rows = [conv.text("policy.step_done" if need not in missing else "policy.step_todo",
                      step=conv.text(f"policy.need_{need}"))
            for need in (NEEDS_SELF_CHECK, NEEDS_POLICY, NEEDS_PUBLISHING)]
    return "\n".join(rows)


def readiness_text(conv: Conversation, ready: Readiness, *, org_name: str, based_on: str) -> str:
    action = conv.content.security_action
    star = {2: action.two_star_name, 1: action.one_star_name}.get(ready.star, conv.text("policy.no_star"))
    basis = based_on
    return conv.text("policy.status", org=org_name, star=star, basis=basis,
                     one_star_name=action.one_star_name, one_star_requirement=action.one_star_requirement,
                     one_star_status=_one_star_status(conv, ready),
                     two_star_name=action.two_star_name, two_star_requirement=action.two_star_requirement,
                     two_star_status=_two_star_status(conv, ready))


async def show_status(conv: Conversation) -> None:
    org = await _allowed_org(conv)
    if org is None:
        return
    await _show_status(conv, org, await policies(conv).load(org.id))


async def _show_status(conv: Conversation, org: Organisation, policy: SecurityPolicy | None) -> None:
    answers, based_on = await _company_answers(conv, org)
    ready = readiness(answers, policy, one_star_items=conv.content.security_action.one_star_items)
    conv.out.text(readiness_text(conv, ready, org_name=org.name, based_on=based_on))
    conv.out.text(conv.text("policy.how_to_declare", url=conv.content.security_action.url))
    options = []
    if not ready.self_check_done:
        options.append(Choice(conv.text("diagnosis.menu_start"), action_value("start_diagnosis")))
    options.append(Choice(conv.text("policy.redraft" if policy else "policy.draft"), action_value("policy_begin")))
    if policy is not None:
        options.append(Choice(conv.text("policy.resend"), action_value("policy_resend")))
        if not policy.published:
            options.append(Choice(conv.text("policy.mark_published"), action_value("policy_published")))
    options.append(Choice(conv.text("result.menu"), action_value("show_menu")))
    conv.out.choices(conv.text("policy.status_prompt"), options)


# --- drafting ------------------------------------------------------------------------------------

def _draft(conv: Conversation) -> dict[str, Any]:
    return conv.data.setdefault(NAME, {})


async def begin(conv: Conversation) -> None:
    org = await _allowed_org(conv)
    if org is None:
        return
    conv.data[NAME] = {"org_name": org.name, "dropped": []}
    conv.out.text(conv.text("policy.intro"))
    await conv.trigger("policy_step", "company")


async def ask(conv: Conversation, step: str = "") -> None:
    """Show the question of a step (a part, or the draft to confirm) and wait at it."""
    if step not in (*PARTS, CONFIRM) or "org_name" not in _draft(conv):  # no draft begun by an administrator
        conv.out.text(conv.text("menu.stale_choice"))
        await conv.trigger(DONE)
        return
    _draft(conv)["step"] = step
    await _ASKS[step](conv)


async def reprompt_step(conv: Conversation) -> None:
    await ask(conv, _draft(conv).get("step", ""))


async def _next(conv: Conversation, done: str) -> None:
    """After one part: the draft when a part was being changed (修正), else the next part."""
    draft = _draft(conv)
    if draft.pop("editing", False) or done == PARTS[-1]:
        await conv.trigger("policy_step", CONFIRM)
        return
    await conv.trigger("policy_step", PARTS[PARTS.index(done) + 1])


async def choose(conv: Conversation, what: str = "", *args: str) -> None:
    """A choice on a step's screen (`_CHOICES`); one from another step's (an older screen) is stale."""
    step, handler = _CHOICES.get(what, ("", None))
    if handler is None or _draft(conv).get("step") != step:
        conv.out.text(conv.text("menu.stale_choice"))
        await reprompt_step(conv)
        return
    await handler(conv, *args)


def _typed(text: str, limit: int) -> str:
    """What was typed, on one line and cut to `limit`."""
    return " ".join(text.split())[:limit]


async def _save_typed(conv: Conversation, step: str, text: str, limit: int) -> None:
    """Keep what was typed for `step` (the company, the title, the name) and go on; asked again
    with the step's hint when nothing usable was typed."""
    value = _typed(text, limit)
    if not value:
        conv.out.text(conv.text(f"policy.{step}_hint"))
        await ask(conv, step)
        return
    _draft(conv)[step] = value
    await _next(conv, step)


async def save_text(conv: Conversation, text: str = "") -> None:
    """Typed text at a step: the company, title, name or date; at the others, what the step expects."""
    step = _draft(conv).get("step", "")
    save = _SAVES.get(step)
    heard = conv.heard  # the router's reading of the message (this trigger is only routed for typed text)
    number = heard.number if heard is not None else None
    if number is not None and conv.offered:
        # A number that picks none of the choices shown: which numbers do (as everywhere else).
        conv.out.text(conv.text("menu.number_range", count=len(conv.offered)))
        await reprompt_step(conv)
        return
    if number is not None or (heard is not None and heard.stray and step in ("company", "title")):
        text = ""  # 「5」「ok」「👍」 are no company and no title: asked again, with what is expected
    if save is None:
        conv.out.text(conv.text("policy.commitments_hint" if step == "commitments" else "policy.confirm_hint"))
        await reprompt_step(conv)
        return
    await save(conv, text)


async def ask_company(conv: Conversation) -> None:
    draft = _draft(conv)
    current = draft.get("company") or draft.get("org_name", "")
    options = [Choice(conv.text("policy.keep_company", name=current), action_value(CHOOSE, "keep_company"))] \
        if current else []
    options.append(Choice(conv.text("policy.cancel"), action_value("cancel")))
    conv.out.choices(conv.text("policy.ask_company"), options)


async def save_company(conv: Conversation, text: str = "") -> None:
    await _save_typed(conv, "company", text, COMPANY_MAX)


async def keep_company(conv: Conversation) -> None:
    draft = _draft(conv)
    await save_company(conv, draft.get("company") or draft.get("org_name", ""))


async def ask_title(conv: Conversation) -> None:
    options = [Choice(title, action_value(CHOOSE, "title", i))
               for i, title in enumerate(conv.content.texts["policy.titles"].split(","))]
    options.append(Choice(conv.text("policy.cancel"), action_value("cancel")))
    conv.out.choices(conv.text("policy.ask_title"), options)


async def save_title(conv: Conversation, text: str = "") -> None:
    await _save_typed(conv, "title", text, TITLE_MAX)


async def pick_title(conv: Conversation, index: str = "") -> None:
    titles = conv.content.texts["policy.titles"].split(",")
    if not index.isdigit() or int(index) >= len(titles):
        conv.out.text(conv.text("menu.stale_choice"))
        await ask(conv, "title")
        return
    await save_title(conv, titles[int(index)])


async def ask_name(conv: Conversation) -> None:
    conv.out.text(conv.text("policy.ask_name", title=_draft(conv).get("title", "")))


async def save_name(conv: Conversation, text: str = "") -> None:
    await _save_typed(conv, "name", text, PERSON_MAX)


def parse_date(text: str, *, today: date) -> date | None:
    """A typed date: year, month and day (2026年11月20日, 2026/11/20, 2026-11-20) or month and day of
    this year (11月20日, 11/20), in any width; None when it is not one."""
    numbers = [int(n) for n in _DIGITS.findall(unicodedata.normalize("NFKC", text))]
    if len(numbers) == 2:
        numbers = [today.year, *numbers]
    if len(numbers) != 3 or not 1900 <= numbers[0] <= 2999:
        return None
    try:
        return date(*numbers)
    except ValueError:
        return None


async def ask_date(conv: Conversation) -> None:
    today = conv.services.clock().date()
    conv.out.choices(conv.text("policy.ask_date"), [
        Choice(conv.text("policy.today", date=conv.content.texts.date(today)), action_value(CHOOSE, "today"),
               means="today"),
        Choice(conv.text("policy.cancel"), action_value("cancel"))])


async def save_date(conv: Conversation, text: str = "") -> None:
    today = conv.services.clock().date()
    day = parse_date(text, today=today)
    if day is None:
        conv.out.text(conv.text("policy.date_hint"))
        await ask(conv, "date")
        return
    if abs((day - today).days) > 366:
        conv.out.text(conv.text("policy.date_far", date=conv.content.texts.date(day)))
        await ask(conv, "date")
        return
    _draft(conv)["date"] = day.isoformat()
    await _next(conv, "date")


async def date_today(conv: Conversation) -> None:
    today = conv.services.clock().date()
    await save_date(conv, today.isoformat())


def _kept(conv: Conversation) -> list[str]:
    dropped = set(_draft(conv).get("dropped", []))
    return [c.id for c in conv.content.policy_template.commitments if c.id not in dropped]


async def ask_commitments(conv: Conversation) -> None:
    template = conv.content.policy_template
    kept = set(_kept(conv))
    rows = [conv.text("policy.commitment_kept" if c.id in kept else "policy.commitment_dropped",
                      n=n, heading=c.heading) for n, c in enumerate(template.commitments, start=1)]
    options = [Choice(conv.text("policy.drop" if c.id in kept else "policy.keep", label=c.label),
                      action_value(CHOOSE, "toggle", c.id)) for c in template.commitments]
    options += [Choice(conv.text("policy.commitments_done"), action_value(CHOOSE, "done")),
                Choice(conv.text("policy.cancel"), action_value("cancel"))]
    conv.out.choices(conv.text("policy.ask_commitments", rows="\n".join(rows)), options)


async def toggle(conv: Conversation, commitment_id: str = "") -> None:
    commitment = conv.content.policy_template.commitment(commitment_id)
    if commitment is None:
        conv.out.text(conv.text("menu.stale_choice"))
    else:
        dropped = _draft(conv).setdefault("dropped", [])
        if commitment_id in dropped:
            dropped.remove(commitment_id)
            conv.out.text(conv.text("policy.kept", heading=commitment.heading))
        else:
            dropped.append(commitment_id)
            conv.out.text(conv.text("policy.dropped", heading=commitment.heading))
    await ask(conv, "commitments")


async def commitments_done(conv: Conversation) -> None:
    if not _kept(conv):
        conv.out.text(conv.text("policy.none_kept"))
        await ask(conv, "commitments")
        return
    await _next(conv, "commitments")


# --- the draft, 修正 and 確定 -------------------------------------------------------------------------

def _policy_of(conv: Conversation) -> SecurityPolicy | None:
    """The draft as a policy; None when a part is missing (a draft from an older screen)."""
    draft = _draft(conv)
    if not all(draft.get(part) for part in ("company", "title", "name", "date")):
        return None
    return SecurityPolicy(company=draft["company"], title=draft["title"], name=draft["name"], date=draft["date"],
                          commitments=tuple(_kept(conv)))


def policy_text(conv: Conversation, policy: SecurityPolicy) -> str:
    """The policy as the PDF says it, in the chat."""
    template = conv.content.policy_template
    chosen = [c for c in template.commitments if c.id in policy.commitments]
    sections = "\n\n".join(conv.text("policy.draft_section", n=n, heading=c.heading, text=c.text)
                           for n, c in enumerate(chosen, start=1))
    values = {"company": policy.company, "title": policy.title, "name": policy.name,
              "date": conv.content.texts.date(date.fromisoformat(policy.date))}
    return conv.text("policy.draft_text", title=template.title, preamble=template.preamble.format(**values),
                     sections=sections, signature="\n".join(line.format(**values) for line in template.signature))


async def show_draft(conv: Conversation) -> None:
    policy = _policy_of(conv)
    if policy is None:
        conv.out.text(conv.text("menu.stale_choice"))
        await conv.trigger(DONE)
        return
    conv.out.text(policy_text(conv, policy))
    conv.out.choices(conv.text("policy.confirm_prompt"), [
        Choice(conv.text("policy.confirm"), action_value(CHOOSE, "confirm"), means="confirm"),
        Choice(conv.text("policy.fix"), action_value(CHOOSE, "fix"), means="fix"),
        Choice(conv.text("policy.cancel"), action_value("cancel"))])


async def ask_fix(conv: Conversation) -> None:
    options = [Choice(conv.text(f"policy.part_{part}"), action_value(CHOOSE, "edit", part)) for part in PARTS]
    options.append(Choice(conv.text("policy.back_to_draft"), action_value("policy_step", CONFIRM)))
    conv.out.choices(conv.text("policy.fix_prompt"), options)


async def edit(conv: Conversation, part: str = "") -> None:
    if part not in PARTS:
        conv.out.text(conv.text("menu.stale_choice"))
        await ask(conv, CONFIRM)
        return
    _draft(conv)["editing"] = True
    await ask(conv, part)


def _document(conv: Conversation, policy: SecurityPolicy) -> Document:
    return Document(name=f"security-policy-{policy.date.replace('-', '')}.pdf",
                    title=conv.text("policy.document_title", company=policy.company),
                    renderer=POLICY_PDF, params=policy_params(policy))


async def decide(conv: Conversation) -> None:
    policy = _policy_of(conv)
    org = await _allowed_org(conv)
    await conv.trigger(DONE)  # the draft is done with, whatever happens next
    if org is None:
        return
    if policy is None:
        conv.out.text(conv.text("menu.stale_choice"))
        return
    policy = replace(policy, decided_at=conv.services.clock().isoformat(timespec="seconds"), decided_by=conv.who.user)
    conv.ops.append(policies(conv).save_op(org.id, policy))
    conv.data.pop(NAME, None)
    conv.out.text(conv.text("policy.decided", company=policy.company))
    conv.out.add(_document(conv, policy))
    conv.out.text(conv.text("policy.after_decided", url=conv.content.security_action.url))
    conv.out.choices(conv.text("policy.after_prompt"), [
        Choice(conv.text("policy.mark_published"), action_value("policy_published")),
        Choice(conv.text("policy.status_button"), action_value("start_security_action")),
        Choice(conv.text("result.menu"), action_value("show_menu"))])


async def resend(conv: Conversation) -> None:
    org = await _allowed_org(conv)
    if org is None:
        return
    policy = await policies(conv).load(org.id)
    if policy is None:
        conv.out.text(conv.text("policy.none_yet"))
        await show_status(conv)
        return
    conv.out.add(_document(conv, policy))
    conv.out.choices(conv.text("policy.after_prompt"), [
        Choice(conv.text("policy.status_button"), action_value("start_security_action")),
        Choice(conv.text("result.menu"), action_value("show_menu"))])


async def mark_published(conv: Conversation) -> None:
    org = await _allowed_org(conv)
    if org is None:
        return
    store = policies(conv)
    policy = await store.load(org.id)
    if policy is None:
        conv.out.text(conv.text("policy.none_yet"))
    elif not policy.published:
        at = conv.services.clock().isoformat(timespec="seconds")
        conv.ops.append(store.published_op(org.id, at))
        policy = replace(policy, published_at=at)  # as it stands once this step is committed
        conv.out.text(conv.text("policy.published"))
    await _show_status(conv, org, policy)


ENTRY = [MENU, DRAFTING]
# What each choice of a drafting step does: choice -> (the step whose screen offers it, handler).
_CHOICES: dict[str, tuple[str, Handler]] = {
    "keep_company": ("company", keep_company), "title": ("title", pick_title), "today": ("date", date_today),
    "toggle": ("commitments", toggle), "done": ("commitments", commitments_done),
    "fix": (CONFIRM, ask_fix), "edit": (CONFIRM, edit), "confirm": (CONFIRM, decide)}
_ASKS: dict[str, Handler] = {"company": ask_company, "title": ask_title, "name": ask_name, "date": ask_date,
                             "commitments": ask_commitments, CONFIRM: show_draft}
_SAVES: dict[str, Handler] = {"company": save_company, "title": save_title, "name": save_name, "date": save_date}

FLOW = Flow(
    name=NAME,
    states=(DRAFTING,),
    transitions=(
        # From the menu (where the admin screens leave a conversation) or a draft; typed elsewhere, the
        # command gives the menu first. Not "*": what works from anywhere is kept to a short list.
        {"trigger": "start_security_action", "source": ENTRY, "dest": MENU, "after": on(show_status)},
        {"trigger": "policy_begin", "source": ENTRY, "dest": MENU, "after": on(begin)},
        {"trigger": "policy_step", "source": "*", "dest": DRAFTING, "after": on(ask)},
        {"trigger": "policy_text", "source": DRAFTING, "dest": None, "after": on(save_text)},
        {"trigger": CHOOSE, "source": DRAFTING, "dest": None, "after": on(choose)},
        {"trigger": "policy_resend", "source": ENTRY, "dest": MENU, "after": on(resend)},
        {"trigger": "policy_published", "source": ENTRY, "dest": MENU, "after": on(mark_published)},
    ),
    reprompts={DRAFTING: reprompt_step},
    hints={DRAFTING: "policy.step_hint"},
    free_text={DRAFTING: "policy_text"},
    commands={"security_action": "start_security_action"},
    documents={POLICY_PDF: draw_policy_pdf},
)
