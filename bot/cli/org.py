"""`bot org`: set up the organisation behind a workspace and its responsible people."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from bot.content.loader import Texts, load_content
from bot.core.engine import JST, now_jst
from bot.core.replies import Recipient
from bot.flows.org.admins import DEFAULT_CODE_HOURS, Administrators
from bot.flows.org.company_data import load_company
from bot.flows.org.company_report import compute_report
from bot.flows.org.company_text import report_csv, report_text
from bot.flows.org.data import delete_organisation, export_organisation, write_csv
from bot.flows.org.store import ROLES, Organisation, OrgStore
from bot.runtime.startup import open_store
from bot.settings import ConfigError, Settings
from bot.store.keys import ConversationKey


def add_parser(commands: argparse._SubParsersAction) -> None:
    org = commands.add_parser("org", help="the organisation behind a workspace and its responsible people")
    sub = org.add_subparsers(dest="org_command", required=True)

    def workspace_args(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--platform", required=True, choices=["slack", "line", "local"])
        parser.add_argument("--workspace", required=True,
                            help="Slack team id, LINE channel id, or 'local' for bot chat")

    create = sub.add_parser("create", help="create an organisation for a workspace")
    create.add_argument("name")
    workspace_args(create)

    bind = sub.add_parser("bind", help="add another workspace (e.g. the LINE account) to an organisation")
    bind.add_argument("org_id")
    workspace_args(bind)

    contact = sub.add_parser("add-contact", help="who is reached for a role, and where")
    workspace_args(contact)
    contact.add_argument("--role", required=True, choices=sorted(ROLES))
    target = contact.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", help="a user id (Slack U…, LINE U…, or a local user name)")
    target.add_argument("--channel", help="a Slack channel id (C…)")

    outside = sub.add_parser("set-outside", help="how to reach one of the organisation's own outside contacts "
                                                 "(its IT vendor, its cyber insurer): shown by the incident desk")
    workspace_args(outside)
    outside.add_argument("--contact", required=True, help="an own_contacts id of contacts.yaml, e.g. it_vendor")
    outside.add_argument("--text", required=True, help="name, phone, hours...; an empty text forgets it")

    show = sub.add_parser("show", help="print the organisation of a workspace")
    workspace_args(show)

    invite = sub.add_parser("invite", help="a one-time code that makes whoever types it in the chat an "
                                           "administrator of the workspace (shown once, stored hashed)")
    workspace_args(invite)
    invite.add_argument("--role", choices=sorted(ROLES),
                        help="also register the person for this role (e.g. security_lead)")
    invite.add_argument("--hours", type=float, default=DEFAULT_CODE_HOURS,
                        help=f"how long the code works (default {DEFAULT_CODE_HOURS})")

    export = sub.add_parser("export", help="the organisation's data (its people's results, lessons and "
                                           "certificates, its reports) as JSON on stdout")
    workspace_args(export)
    export.add_argument("--csv", metavar="DIR", type=Path, help="also write results/lessons/certificates/"
                                                                 "incidents .csv files into DIR")

    report = sub.add_parser("report", help="the company report (as in the chat) as text: participation, scores, learning, "
                                           "open incidents, the company's own self-check")
    workspace_args(report)
    report.add_argument("--csv", metavar="FILE", type=Path, help="also write one row per employee to FILE "
                                                                  "(UTF-8 with BOM)")
    report.add_argument("--at", metavar="ISO-DATETIME", type=_moment,
                        help="as of this moment (default: now, JST); e.g. 2026-11-20T10:00+09:00")

    delete = sub.add_parser("delete", help="delete the organisation and everything kept about its people and "
                                           "reports (asks for the organisation's name unless --yes)")
    workspace_args(delete)
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    for name, what in (("add-admin", "make a user an administrator of the workspace"),
                       ("remove-admin", "take a user's administrator rights away")):
        admin = sub.add_parser(name, help=what)
        workspace_args(admin)
        admin.add_argument("--user", required=True, help="a user id (Slack U…, LINE U…, or a local user name)")
    org.set_defaults(func=run)


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date and time: {text!r} (e.g. 2026-11-20T10:00+09:00)")
    return moment if moment.tzinfo else moment.replace(tzinfo=JST)


async def print_report(store, content, org_id: str, *, csv_path: Path | None, at: datetime) -> str:
    """The same report as 「会社の状況」 in the chat, as of `at`."""
    data = await load_company(store.client, store.keys, org_id)
    if data is None:
        raise ConfigError(f"no organisation with id {org_id}")
    report = compute_report(data, content, at)
    if csv_path:
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        csv_path.write_text(report_csv(report, content), encoding="utf-8-sig")
        print(f"wrote {csv_path} ({len(report.employees)} employees)", file=sys.stderr)
    return report_text(report, content)


def describe(org: Organisation, texts: Texts) -> str:
    lines = [f"{org.name} (id {org.id})"]
    lines += [f"  workspace: {platform} {workspace}" for platform, workspace in org.workspaces]
    for role in ROLES:
        for r in org.reach(role):
            lines.append(f"  {texts['role.' + role]} ({role}): {r.platform} {r.kind} {r.id}")
    lines += [f"  outside {contact_id}: {text}" for contact_id, text in sorted(org.outside.items())]
    return "\n".join(lines)


async def _run(args: argparse.Namespace, settings: Settings) -> str:
    content = load_content(settings.content_dir)
    texts = content.texts
    async with open_store(settings) as store:
        orgs = OrgStore(store.client, store.keys)
        admins = Administrators(store.client, store.keys)
        if args.org_command == "invite":
            if args.hours <= 0:
                raise ConfigError("--hours must be more than 0")
            code = await admins.create_invite(args.platform, args.workspace, role=args.role or "",
                                              now=datetime.now(timezone.utc), hours=args.hours)
            role = f", registered as {args.role}" if args.role else ""
            command = content.phrases.commands["invite_code"][0]
            return (f"{code}\n  one-time administrator code for {args.platform} {args.workspace}{role}; "
                    f"valid for {args.hours:g} hours, once.\n  The person sends {command} in the chat, then the code.")
        if args.org_command in ("add-admin", "remove-admin"):
            who = ConversationKey(args.platform, args.workspace, args.user)
            if args.org_command == "add-admin":
                await admins.apply([admins.add_op(who)])
            else:
                await admins.apply([admins.remove_op(args.platform, args.workspace, args.user)])
            listed = await admins.listed(args.platform, args.workspace)
            return f"administrators of {args.platform} {args.workspace}: {', '.join(listed) or '(none)'}"
        if args.org_command == "create":
            if await orgs.for_workspace(args.platform, args.workspace):
                raise ConfigError(f"{args.platform} {args.workspace} already belongs to an organisation")
            org = await orgs.create(args.name)
            await orgs.bind(org, args.platform, args.workspace)
            return describe(org, texts)
        if args.org_command == "bind":
            org = await orgs.get(args.org_id)
            if org is None:
                raise ConfigError(f"no organisation with id {args.org_id}")
            await orgs.bind(org, args.platform, args.workspace)
            return describe(org, texts)
        org = await orgs.for_workspace(args.platform, args.workspace)
        if org is None:
            raise ConfigError(
                f"{args.platform} {args.workspace} has no organisation yet: run `bot org create NAME "
                f"--platform {args.platform} --workspace {args.workspace}` first")
        if args.org_command == "export":
            data = await export_organisation(store.client, store.keys, org.id)
            if args.csv:
                for path in write_csv(data, args.csv):
                    print(f"wrote {path}", file=sys.stderr)
            return json.dumps(data, ensure_ascii=False, indent=2)
        if args.org_command == "report":
            return await print_report(store, content, org.id, csv_path=args.csv, at=args.at or now_jst())
        if args.org_command == "delete":
            if not args.yes:
                print(f"This deletes {org.name} (id {org.id}) and everything kept about its people and reports; "
                      f"it cannot be undone. Type the organisation's name to confirm:", file=sys.stderr)
                answer = sys.stdin.readline().strip()
                if answer != org.name:
                    raise ConfigError("not confirmed: nothing was deleted")
            counts = await delete_organisation(store.client, store.keys, org.id)
            return (f"deleted {org.name} (id {org.id}): {counts['people']} people's data, "
                    f"{counts['incidents']} reports, {counts['certificates']} certificates revoked")
        if args.org_command == "set-outside":
            known = content.incidents.own_contacts
            if args.contact not in known:
                raise ConfigError(f"no outside contact {args.contact!r}; contacts.yaml own_contacts has "
                                  f"{', '.join(known) or 'none'}")
            await orgs.set_outside(org, args.contact, " ".join(args.text.split()))
        if args.org_command == "add-contact":
            kind, target = ("user", args.user) if args.user else ("channel", args.channel)
            await orgs.add_contact(org, args.role, Recipient(
                platform=args.platform, workspace=args.workspace, kind=kind, id=target, label=texts["role." + args.role]))
        listed = await admins.listed(args.platform, args.workspace)
        return describe(org, texts) + f"\n  administrators: {', '.join(listed) or '(none listed)'}"


def run(args: argparse.Namespace) -> int:
    print(asyncio.run(_run(args, Settings.from_env())))
    return 0
