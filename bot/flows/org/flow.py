"""組織設定: the admin conversation that sets up the organisation and its responsible people.

Only administrators may use it, and nobody becomes one by asking (`admins.py`): the
platform says so (a Slack workspace owner or admin, the app's installer), or the person
redeemed a one-time code. Anyone else who types 「管理」 is told how to become one. An
administrator adds others by making a code in the chat (「管理者の追加・削除」) and
removes them there. States: `admin_name` (the next message is the organisation's name),
`admin_channel` (the next message names a channel), `admin_outside` (the next message
says how to reach one of the organisation's own outside contacts, e.g. its IT vendor or
its cyber insurer: contacts.yaml own_contacts; the incident desk shows it when that
contact is routed) and `admin_code` (the next message is a one-time code).
"""
from __future__ import annotations

from bot.core.conversation import Conversation
from bot.core.events import CAN_POST_TO_CHANNELS, KNOWS_ADMINS, action_value
from bot.core.flow import Flow, on
from bot.core.replies import Choice, Recipient
from bot.flows.menu import MENU, send_menu
from bot.flows.org.admins import (
    DEFAULT_CODE_HOURS,
    administrators_of,
    new_code,
    normalise_code,
)
from bot.flows.org.store import ROLES, Organisation, organisations
from bot.store.keys import ConversationKey

NAME = "admin"
ASK_NAME = "admin_name"
ASK_CHANNEL = "admin_channel"
ASK_OUTSIDE = "admin_outside"
ASK_CODE = "admin_code"
MAX_REMOVE_CHOICES = 10  # administrators offered for removal at once (a LINE quick reply holds 13)
OUTSIDE_MAX = 200  # characters kept of what is typed for an outside contact


async def _org(conv: Conversation) -> Organisation | None:
    return await organisations(conv).for_workspace(conv.who.platform, conv.who.workspace)


async def may_administer(conv: Conversation) -> bool:
    """Whether the person is a proven administrator of this workspace (never because nobody is)."""
    return await administrators_of(conv).is_administrator(conv.who, conv.capabilities)


async def _refuse(conv: Conversation) -> None:
    """Not an administrator: say how to become one, and offer to type a code."""
    how = conv.text("admin.how_platform") if KNOWS_ADMINS in conv.capabilities else ""
    conv.out.choices(conv.text("admin.not_admin", how=how),
                     [Choice(conv.text("admin.enter_code"), action_value("admin_ask_code")),
                      Choice(conv.text("result.menu"), action_value("show_menu"))])


def _describe(conv: Conversation, org: Organisation) -> str:
    rows = []
    for role in ROLES:
        people = org.reach(role)
        names = conv.content.texts.join(conv.text("admin.channel_ref", id=p.id) if p.kind == "channel" else p.id
                                        for p in people) or conv.text("admin.nobody")
        rows.append(conv.text("admin.row", label=conv.text(f"role.{role}"), names=names))
    for contact in conv.content.incidents.own_contacts.values():
        rows.append(conv.text("admin.row", label=contact.label,
                              names=org.outside.get(contact.id) or conv.text("admin.nobody")))
    return conv.text("admin.summary", name=org.name, rows="\n".join(rows))


async def start(conv: Conversation) -> None:
    if not await may_administer(conv):
        await _refuse(conv)
        return
    await _open(conv, await _org(conv))


async def _open(conv: Conversation, org: Organisation | None) -> None:
    if org is None:
        conv.out.text(conv.text("admin.ask_name"))
        await conv.trigger("admin_wait_name")
        return
    conv.out.text(_describe(conv, org))
    await show_roles(conv)


async def show_roles(conv: Conversation) -> None:
    options = [Choice(conv.text(f"role.{role}"), action_value("admin_role", role)) for role in ROLES]
    options += [Choice(contact.label, action_value("admin_outside", contact.id))
                for contact in conv.content.incidents.own_contacts.values()]
    options += [Choice(conv.text("company.menu"), action_value("company_report")),  # company_flow.py
                Choice(conv.text("company.check_start"), action_value("company_check")),
                Choice(conv.text("admin.people"), action_value("admin_people")),
                Choice(conv.text("admin.incidents"), action_value("workspace_incidents")),
                Choice(conv.text("policy.menu"), action_value("start_security_action")),
                Choice(conv.text("result.menu"), action_value("show_menu"))]
    conv.out.choices(conv.text("admin.roles_prompt"), options)


async def save_name(conv: Conversation, text: str = "") -> None:
    name = text.strip()[:60]
    if not await may_administer(conv):
        await _refuse(conv)
        return
    if await _org(conv) is not None:  # someone else set it up while this prompt was open
        conv.out.text(conv.text("admin.exists"))
        await start(conv)
        return
    if not name:
        conv.out.text(conv.text("admin.ask_name"))
        await conv.trigger("admin_wait_name")
        return
    store = organisations(conv)
    org = store.new(name)
    org.workspaces.append((conv.who.platform, conv.who.workspace))
    conv.ops.extend(store.create_ops(org))
    conv.checks.extend(store.unbound_checks(org))  # someone else creating one at this moment: re-run
    role = conv.data.get(NAME, {}).get("role_on_create")
    conv.out.text(conv.text("admin.created", name=name))
    if role in ROLES:
        _register_self(conv, org, role)
    conv.data[NAME] = {"org": org.id, "pending": org.to_json()}
    await show_roles(conv)


async def _current(conv: Conversation) -> Organisation | None:
    stored = await _org(conv)
    pending = conv.data.get(NAME, {}).get("pending")
    if stored is None and pending:  # created by this conversation's previous step
        return Organisation.from_json(pending)
    return stored


async def pick_role(conv: Conversation, role: str = "") -> None:
    if role not in ROLES:
        await send_menu(conv)
        return
    options = [Choice(conv.text("admin.register_self"), action_value("admin_self", role))]
    if CAN_POST_TO_CHANNELS in conv.capabilities:
        options.append(Choice(conv.text("admin.register_channel"), action_value("admin_channel", role)))
    options.append(Choice(conv.text("result.menu"), action_value("show_menu")))
    conv.out.choices(conv.text("admin.role_prompt", role=conv.text(f"role.{role}")), options)


async def _add(conv: Conversation, role: str, recipient: Recipient) -> None:
    org = await _current(conv)
    if not await may_administer(conv):
        await _refuse(conv)
        return
    if org is None:
        conv.out.text(conv.text("menu.stale_choice"))
        return
    people = org.contacts.setdefault(role, [])
    if recipient not in people:
        people.append(recipient)
    conv.ops.append(organisations(conv).add_contact_op(org.id, role, recipient))
    conv.data.pop(NAME, None)
    conv.out.text(conv.text("admin.registered", role=conv.text(f"role.{role}"), who=recipient.id))
    conv.out.text(_describe(conv, org))
    await show_roles(conv)


async def register_self(conv: Conversation, role: str = "") -> None:
    if role in ROLES:
        await _add(conv, role, Recipient(conv.who.platform, conv.who.workspace, "user", conv.who.user,
                                         conv.text(f"role.{role}")))


async def ask_channel(conv: Conversation, role: str = "") -> None:
    conv.data.setdefault(NAME, {})["role"] = role
    conv.out.text(conv.text("admin.ask_channel", role=conv.text(f"role.{role}") if role in ROLES else role))


async def save_channel(conv: Conversation, text: str = "") -> None:
    role = conv.data.get(NAME, {}).get("role", "")
    if role not in ROLES or len(conv.mentioned_channels) != 1:
        conv.out.text(conv.text("admin.channel_hint"))
        await conv.trigger("admin_channel", role)
        return
    await _add(conv, role, Recipient(conv.who.platform, conv.who.workspace, "channel", conv.mentioned_channels[0],
                                     conv.text(f"role.{role}")))


async def ask_outside(conv: Conversation, contact_id: str = "") -> None:
    contact = conv.content.incidents.own_contacts.get(contact_id)
    org = await _current(conv)
    if not await may_administer(conv):
        await _refuse(conv)
        await conv.trigger("admin_done")
        return
    if contact is None or org is None:
        conv.out.text(conv.text("menu.stale_choice"))
        await conv.trigger("admin_done")
        return
    conv.data.setdefault(NAME, {})["outside"] = contact_id
    conv.out.text(conv.text("admin.ask_outside", name=contact.name, handles=contact.handles))


async def save_outside(conv: Conversation, text: str = "") -> None:
    contact_id = conv.data.get(NAME, {}).get("outside", "")
    contact = conv.content.incidents.own_contacts.get(contact_id)
    org = await _current(conv)
    text = " ".join(text.split())[:OUTSIDE_MAX]
    if not await may_administer(conv):
        await _refuse(conv)
        return
    if contact is None or org is None:
        conv.out.text(conv.text("menu.stale_choice"))
        return
    if not text:
        conv.out.text(conv.text("admin.outside_hint"))
        await conv.trigger("admin_outside", contact_id)
        return
    org.outside[contact_id] = text
    conv.ops.append(organisations(conv).set_outside_op(org.id, contact_id, text))
    conv.data.pop(NAME, None)
    conv.out.text(conv.text("admin.outside_saved", name=contact.name))
    conv.out.text(_describe(conv, org))
    await show_roles(conv)


# --- administrators: codes, and who they are ---------------------------------------------------

async def ask_code(conv: Conversation) -> None:
    conv.out.text(conv.text("admin.ask_code"))


async def redeem_code(conv: Conversation, text: str = "") -> None:
    code = normalise_code(text)
    if code is None:
        conv.out.text(conv.text("admin.not_a_code"))
        await send_menu(conv)
        return
    admins = administrators_of(conv)
    if await admins.is_administrator(conv.who, conv.capabilities):
        conv.out.text(conv.text("admin.already"))  # the code stays for whom it was meant
        await _open(conv, await _org(conv))
        return
    invite = await admins.find_invite(conv.who.platform, conv.who.workspace, code)
    if invite is None or invite.expires_at <= conv.services.clock().timestamp():
        conv.out.text(conv.text("admin.code_invalid"))
        await send_menu(conv)
        return
    ops, checks = admins.redeem(conv.who, code, invite)
    conv.ops.extend(ops)
    conv.checks.extend(checks)
    conv.out.text(conv.text("admin.welcome"))
    org = await _org(conv)
    if invite.role in ROLES:
        if org is None:  # registered once the organisation is named
            conv.data.setdefault(NAME, {})["role_on_create"] = invite.role
        else:
            _register_self(conv, org, invite.role)
    await _open(conv, org)


def _register_self(conv: Conversation, org: Organisation, role: str) -> None:
    person = Recipient(conv.who.platform, conv.who.workspace, "user", conv.who.user, conv.text(f"role.{role}"))
    if person not in org.contacts.setdefault(role, []):
        org.contacts[role].append(person)
    conv.ops.append(organisations(conv).add_contact_op(org.id, role, person))
    conv.out.text(conv.text("admin.registered", role=conv.text(f"role.{role}"), who=conv.who.user))


async def _name_of(conv: Conversation, user: str) -> str:
    """The person's display name as last seen by the bot, else their id."""
    raw = await conv.services.store.client.get(
        conv.services.store.keys.display_name(ConversationKey(conv.who.platform, conv.who.workspace, user)))
    return raw.decode() if raw else user


async def show_people(conv: Conversation) -> None:
    if not await may_administer(conv):
        await _refuse(conv)
        return
    listed = await administrators_of(conv).listed(conv.who.platform, conv.who.workspace)
    names = {user: await _name_of(conv, user) for user in listed}
    rows = "\n".join(conv.text("list.bullet", item=names[user]) for user in listed) or conv.text("admin.people_none")
    platform = conv.text("admin.people_platform") if KNOWS_ADMINS in conv.capabilities else ""
    options = [Choice(conv.text("admin.invite"), action_value("admin_invite"))]
    options += [Choice(conv.text("admin.remove", name=names[user]), action_value("admin_remove", user))
                for user in listed if user != conv.who.user][:MAX_REMOVE_CHOICES]
    options.append(Choice(conv.text("result.menu"), action_value("show_menu")))
    conv.out.choices(conv.text("admin.people_list", rows=rows, platform=platform), options)


async def make_invite(conv: Conversation) -> None:
    if not await may_administer(conv):
        await _refuse(conv)
        return
    code = new_code()
    conv.ops.extend(administrators_of(conv).invite_ops(conv.who.platform, conv.who.workspace, code, role="",
                                                       by=conv.who.user, now=conv.services.clock()))
    conv.out.text(conv.text("admin.invite_made", code=code, hours=DEFAULT_CODE_HOURS))
    await show_roles(conv)


async def remove_admin(conv: Conversation, user: str = "") -> None:
    if not await may_administer(conv):
        await _refuse(conv)
        return
    admins = administrators_of(conv)
    if user == conv.who.user:
        conv.out.text(conv.text("admin.remove_self"))
    elif user not in await admins.listed(conv.who.platform, conv.who.workspace):
        conv.out.text(conv.text("admin.not_listed"))
    else:
        conv.ops.append(admins.remove_op(conv.who.platform, conv.who.workspace, user))
        conv.out.text(conv.text("admin.removed", name=await _name_of(conv, user)))
    await show_roles(conv)


def menu_entries(conv: Conversation) -> list[Choice]:
    return []


FLOW = Flow(
    name=NAME,
    states=(ASK_NAME, ASK_CHANNEL, ASK_OUTSIDE, ASK_CODE),
    transitions=(
        {"trigger": "start_admin", "source": "*", "dest": MENU, "after": on(start)},
        {"trigger": "admin_wait_name", "source": "*", "dest": ASK_NAME},
        {"trigger": "admin_name_text", "source": ASK_NAME, "dest": MENU, "after": on(save_name)},
        {"trigger": "admin_role", "source": "*", "dest": MENU, "after": on(pick_role)},
        {"trigger": "admin_self", "source": "*", "dest": MENU, "after": on(register_self)},
        {"trigger": "admin_channel", "source": "*", "dest": ASK_CHANNEL, "after": on(ask_channel)},
        {"trigger": "admin_channel_text", "source": ASK_CHANNEL, "dest": MENU, "after": on(save_channel)},
        {"trigger": "admin_outside", "source": "*", "dest": ASK_OUTSIDE, "after": on(ask_outside)},
        {"trigger": "admin_outside_text", "source": ASK_OUTSIDE, "dest": MENU, "after": on(save_outside)},
        {"trigger": "admin_done", "source": "*", "dest": MENU},
        {"trigger": "admin_ask_code", "source": "*", "dest": ASK_CODE, "after": on(ask_code)},
        {"trigger": "admin_code_text", "source": ASK_CODE, "dest": MENU, "after": on(redeem_code)},
        {"trigger": "admin_people", "source": "*", "dest": MENU, "after": on(show_people)},
        {"trigger": "admin_invite", "source": "*", "dest": MENU, "after": on(make_invite)},
        {"trigger": "admin_remove", "source": "*", "dest": MENU, "after": on(remove_admin)},
    ),
    reprompts={ASK_NAME: lambda conv: _say(conv, "admin.ask_name"),
               ASK_CHANNEL: lambda conv: _say(conv, "admin.channel_hint"),
               ASK_OUTSIDE: lambda conv: _say(conv, "admin.outside_hint"),
               ASK_CODE: lambda conv: _say(conv, "admin.ask_code")},
    hints={ASK_NAME: "admin.ask_name", ASK_CHANNEL: "admin.channel_hint", ASK_OUTSIDE: "admin.outside_hint",
           ASK_CODE: "admin.ask_code"},
    free_text={ASK_NAME: "admin_name_text", ASK_CHANNEL: "admin_channel_text", ASK_OUTSIDE: "admin_outside_text",
               ASK_CODE: "admin_code_text"},
    commands={"admin": "start_admin", "invite_code": "admin_ask_code"},
)


async def _say(conv: Conversation, key: str) -> None:
    conv.out.text(conv.text(key))
