"""`bot org`: set up the organisation behind a workspace and its responsible people."""
from __future__ import annotations

import argparse
import asyncio

from bot.content.loader import Texts, load_content
from bot.core.replies import Recipient
from bot.flows.org.store import ROLES, Organisation, OrgStore
from bot.runtime.startup import open_store
from bot.settings import ConfigError, Settings


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
    org.set_defaults(func=run)


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
        return describe(org, texts)


def run(args: argparse.Namespace) -> int:
    print(asyncio.run(_run(args, Settings.from_env())))
    return 0
