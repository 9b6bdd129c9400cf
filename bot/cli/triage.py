"""`bot triage`: what a reporter would be told, for the people who keep the content.

    bot triage bec --at 2026-12-30T10:30 --answer money_transferred=yes --answer personal_data=no
    bot triage fake_alert --at 2026-11-28T11:00 --answer money_transferred=yes --json

Prints the first steps, the advice each given answer brings, the routing message (severity,
the 個人情報保護委員会 dates when they apply, each contact open or closed at that moment with
its next opening) and the follow-up, built by the same pure functions the chat uses: no engine,
no Redis. --json gives the same as data (contacts with their state, the reporting dates).
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.content.incidents import Playbook
from bot.content.loader import Content, load_content
from bot.core.engine import JST
from bot.flows.incidents.escalation import (
    availability,
    leak_deadlines,
    leak_report,
    remaining_steps,
    resolved_kind,
    roles_to_notify,
    route_contacts,
    severity,
)
from bot.flows.incidents.report import (
    answer_label,
    first_steps_text,
    more_steps_text,
    routing_message,
)
from bot.settings import Settings


class UsageError(Exception):
    """A kind, an answer or a moment that cannot be used: said in one line, exit status 2."""


def parse_answers(pairs: list[str], playbook: Playbook, playbooks: dict[str, Playbook] | None = None) -> dict[str, str]:
    """["personal_data=yes", "lost_item=phone", ...] -> {"personal_data": "yes", ...}, checked against the
    playbook's questions (and, with `playbooks`, those of the kinds the answers may make of it) and the
    answers each takes (yes / no / unknown, or its options)."""
    reachable, kinds = [playbook], {playbook.id}
    for current in reachable:  # the kinds the answers may make of it (its `becomes`, theirs...)
        for change in current.becomes:
            if change.kind in (playbooks or {}) and change.kind not in kinds:
                kinds.add(change.kind)
                reachable.append(playbooks[change.kind])
    steps = {step.id: step for other in reversed(reachable) for step in other.triage}
    answers: dict[str, str] = {}
    for pair in pairs:
        question, sep, answer = pair.partition("=")
        if not sep:
            raise UsageError(f"--answer {pair!r}: write ID=yes, ID=no or ID=unknown (or ID=OPTION)")
        if question not in steps:
            raise UsageError(f"--answer {pair!r}: {playbook.id} asks {', '.join(s.id for s in playbook.triage)}")
        if answer not in steps[question].answers:
            raise UsageError(f"--answer {pair!r}: {question} is answered {', '.join(steps[question].answers)}")
        answers[question] = answer
    return answers


def parse_moment(text: str | None) -> datetime:
    """An ISO date-time; without an offset it is Japan time. None: now."""
    if text is None:
        return datetime.now(JST)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--at {text!r}: not an ISO date-time (e.g. 2026-11-28T11:00)") from exc
    return moment.replace(tzinfo=JST) if moment.tzinfo is None else moment.astimezone(JST)


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def triage_report(content: Content, kind: str, answers: dict[str, str], at: datetime) -> dict[str, Any]:
    """Everything a reporter of this kind, with these answers, would get at this moment, as data. The
    answers may make it another kind (facts beat labels: the playbooks' `becomes`); that one is reported."""
    incidents = content.incidents
    reported_as = kind
    kind = resolved_kind(incidents.playbooks, kind, answers)
    playbook = incidents.playbooks[kind]
    level = severity(playbook, answers, incidents.escalation)
    report = leak_report(playbook, answers, incidents.escalation)
    leak: dict[str, Any] | None = None
    if report.status:
        leak = {"status": report.status, "presumed": report.presumed}
        if report.status != "not_required":
            deadlines = leak_deadlines(playbook, at)
            leak.update(day_1=_iso(deadlines.discovered), preliminary_by=_iso(deadlines.preliminary_by),
                        final_by=_iso(deadlines.final_by), final_days=deadlines.final_days,
                        final_by_if_malicious=_iso(deadlines.final_by_malicious))
    contacts = []
    for contact in route_contacts(playbook, answers, incidents.contacts, incidents.escalation):
        state = availability(contact, at)
        contacts.append({
            "id": contact.id, "name": contact.name, "state": state.state, "open": state.open,
            "accepts_now": state.accepts_now, "until": state.until.strftime("%H:%M") if state.until else None,
            "next_opening": _iso(state.next_opening), "reason": state.reason or None,
            "phone": contact.phone or None, "email": contact.email or None, "url": contact.url or None,
            "own": contact.own,
        })
    steps = []
    remaining = remaining_steps(playbook, answers)
    for step in [s for s in playbook.triage if s.id in answers or s in remaining]:
        answer = answers.get(step.id)
        advice = step.advice.get(answer, "") if answer else ""
        label = answer_label(content, step, answer) if answer else None
        steps.append({"id": step.id, "question": step.question, "answers": list(step.answers), "answer": answer,
                      "answer_label": label, "advice": advice or None})
    return {
        "kind": kind, "reported_as": reported_as, "name": playbook.name, "at": at.isoformat(timespec="minutes"),
        "answers": answers, "unanswered": [s["id"] for s in steps if s["answer"] is None],
        "severity": level, "roles": list(roles_to_notify(level, answers, incidents.escalation)),
        "do": list(playbook.do), "dont": list(playbook.dont), "triage": steps,
        "first_message": first_steps_text(content.texts, playbook, "-"),
        "more_message": more_steps_text(content.texts, playbook),
        "contacts": contacts, "leak_report": leak, "follow_up": list(playbook.follow_up),
        "message": routing_message(content, playbook, answers, level, at),
    }


def triage_text(content: Content, data: dict[str, Any]) -> str:
    """The replies in the order the chat sends them."""
    texts = content.texts
    playbook = content.incidents.playbooks[data["kind"]]
    parts = [data["first_message"], f"[{texts['incident.more']}]\n{data['more_message']}"]
    for n, step in enumerate(data["triage"], start=1):
        question = texts.render("incident.question", n=n, total=len(data["triage"]), question=step["question"])
        parts.append(f"{question}\n> {step['answer_label'] or '-'}")
        if step["advice"]:
            parts.append(texts.render("incident.advice", advice=step["advice"]))
    parts.append(data["message"])
    parts.append(texts.render("incident.follow_up", steps=texts.bullets(playbook.follow_up)))
    header = f"# bot triage {data['reported_as']} at {data['at']}"
    if data["kind"] != data["reported_as"]:
        header += f" (handled as {data['kind']} after the answers)"
    if data["unanswered"]:
        header += f" (not answered: {', '.join(data['unanswered'])})"
    return "\n\n".join([header, *parts]) + "\n"


def cmd_triage(args: argparse.Namespace) -> int:
    content_dir = Path(args.dir) if args.dir else Settings.from_env().content_dir
    content = load_content(content_dir)
    try:
        if args.kind not in content.incidents.playbooks:
            raise UsageError(f"no kind {args.kind!r}; the kinds are {', '.join(content.incidents.kinds)}")
        playbook = content.incidents.playbooks[args.kind]
        answers = parse_answers(args.answer, playbook, content.incidents.playbooks)
        data = triage_report(content, args.kind, answers, parse_moment(args.at))
    except UsageError as exc:
        print(f"bot triage: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(triage_text(content, data), end="")
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    triage = commands.add_parser(
        "triage", help="print what a reporter of this kind would get: first steps, contacts open or closed "
                       "at that moment, the personal-data (PPC) reporting dates when they apply")
    triage.add_argument("kind", help="the incident kind (incidents/policy.yaml), e.g. ransomware")
    triage.add_argument("--at", help="the moment, ISO date-time; Japan time unless it has an offset (default: now)")
    triage.add_argument("--answer", action="append", default=[], metavar="ID=ANSWER",
                        help="a triage answer (repeatable): yes, no, unknown, or one of the question's options, "
                             "e.g. --answer personal_data=yes --answer lost_item=phone")
    triage.add_argument("--json", action="store_true", help="print the result as JSON")
    triage.add_argument("--dir", help="content directory (default: BOT_CONTENT_DIR, else the shipped content)")
    triage.set_defaults(func=cmd_triage)
