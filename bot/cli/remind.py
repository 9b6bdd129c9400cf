"""`bot remind`: the reminders due now (or at --at), printed (--dry-run) or sent.

    bot remind --dry-run --at 2026-11-20T10:00     who would get what (nothing sent or marked)
    bot remind                                     send what is due now (as `bot serve` would)

A reminder sent by `bot serve` (or an earlier run) is not listed or sent again.
"""
from __future__ import annotations

import argparse
import asyncio
import sys

from bot.adapters.local import render_replies
from bot.cli.triage import UsageError, parse_moment
from bot.content.loader import load_content
from bot.core.engine import JST
from bot.core.scheduler import Outgoing
from bot.flows.reminders.calendar import is_working_day
from bot.flows.reminders.policy import ReminderPolicy
from bot.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    remind = commands.add_parser("remind", help="the reminders due now: print who would get what (--dry-run), "
                                                "or send them")
    remind.add_argument("--dry-run", action="store_true", help="print them; send nothing")
    remind.add_argument("--at", metavar="ISO-DATETIME", help="with --dry-run: at this moment (Japan time "
                                                             "unless an offset is given), e.g. 2026-11-20T10:00")
    remind.set_defaults(func=run)


def describe(message: Outgoing, texts) -> str:
    to = message.to
    heading = f"[{message.kind}] {to.platform} {to.workspace} {to.kind} {to.id}" + (f" ({to.label})" if to.label else "")
    body = render_replies(list(message.replies), texts=texts)
    return heading + "\n" + "\n".join(f"  | {line}" if line else "  |" for line in body.splitlines())


def why_nothing(settings: Settings, at) -> str:
    hours = ReminderPolicy.from_settings(settings).hours
    if hours.contains(at):
        return "nothing is due"
    start, end = (f"{m // 60:02d}:{m % 60:02d}" for m in (hours.start, hours.end))
    if not is_working_day(at.date()):
        return "not a working day (weekend, public holiday or 12/29-1/3): only escalations could be due"
    return f"outside working hours ({start}-{end}): only escalations could be due"


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        if args.at and not args.dry_run:
            raise UsageError("--at goes with --dry-run (reminders are sent only at the moment they are due)")
        at = parse_moment(args.at)
    except UsageError as exc:
        print(f"bot remind: {exc}", file=sys.stderr)
        return 2
    texts = load_content(settings.content_dir).texts
    from bot.runtime.reminders import due_reminders, send_due_reminders

    moment = f"{at.astimezone(JST):%Y-%m-%d %H:%M} JST ({('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[at.weekday()]})"
    if args.dry_run:
        due = asyncio.run(due_reminders(settings, at))
        print(f"{moment}: {len(due)} reminder(s) would be sent" + ("" if due else f" ({why_nothing(settings, at)})"))
        for message in due:
            print(describe(message, texts))
        return 0
    sent = asyncio.run(send_due_reminders(settings))
    print(f"{moment}: {sum(1 for _, posted in sent if posted)} reminder(s) sent"
          + ("" if sent else f" ({why_nothing(settings, at)})"))
    for message, posted in sent:
        print(("" if posted else "(sent meanwhile by another process) ") + describe(message, texts))
    return 0
