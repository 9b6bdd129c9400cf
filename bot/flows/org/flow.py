"""組織設定: the admin conversation that sets up the organisation and its responsible people.

Anyone may set up a workspace that has no organisation yet; after that, only the
people registered for it may change it. States: `admin_name` (the next message is
the organisation's name), `admin_channel` (the next message names a channel) and
`admin_outside` (the next message says how to reach one of the organisation's own
outside contacts, e.g. its IT vendor or its cyber insurer: contacts.yaml own_contacts;
the incident desk shows it when that contact is routed).
"""
from __future__ import annotations

from bot.core.conversation import Conversation
from bot.core.events import CAN_POST_TO_CHANNELS, action_value
from bot.core.flow import Flow, on
from bot.core.replies import Choice, Recipient
from bot.flows.menu import MENU, send_menu
from bot.flows.org.store import ROLES, Organisation, is_responsible, organisations

NAME = "admin"
ASK_NAME = "admin_name"
ASK_CHANNEL = "admin_channel"
ASK_OUTSIDE = "admin_outside"
OUTSIDE_MAX = 200  # characters kept of what is typed for an outside contact


async def _org(conv: Conversation) -> Organisation | None:
    return await organisations(conv).for_workspace(conv.who.platform, conv.who.workspace)


def may_administer(conv: Conversation, org: Organisation | None) -> bool:
    """A workspace without an organisation (or one with nobody registered yet) may be set up by
    anyone; after that only its registered people may change it."""
    if org is None or not any(org.contacts.values()):
        return True
    return is_responsible(org, platform=conv.who.platform, user=conv.who.user, channel=conv.channel)


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
    org = await _org(conv)
    if not may_administer(conv, org):
        conv.out.text(conv.text("admin.not_allowed"))
        await send_menu(conv)
        return
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
    options += [Choice(conv.text("admin.incidents"), action_value("workspace_incidents")),
                Choice(conv.text("result.menu"), action_value("show_menu"))]
    conv.out.choices(conv.text("admin.roles_prompt"), options)


async def save_name(conv: Conversation, text: str = "") -> None:
    name = text.strip()[:60]
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
    conv.data[NAME] = {"org": org.id, "pending": org.to_json()}
    conv.out.text(conv.text("admin.created", name=name))
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
    if org is None or not may_administer(conv, org):
        conv.out.text(conv.text("admin.not_allowed"))
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
    if contact is None or org is None or not may_administer(conv, org):
        conv.out.text(conv.text("admin.not_allowed") if contact is not None and org is not None
                      else conv.text("menu.stale_choice"))
        await conv.trigger("admin_done")
        return
    conv.data.setdefault(NAME, {})["outside"] = contact_id
    conv.out.text(conv.text("admin.ask_outside", name=contact.name, handles=contact.handles))


async def save_outside(conv: Conversation, text: str = "") -> None:
    contact_id = conv.data.get(NAME, {}).get("outside", "")
    contact = conv.content.incidents.own_contacts.get(contact_id)
    org = await _current(conv)
    text = " ".join(text.split())[:OUTSIDE_MAX]
    if contact is None or org is None or not may_administer(conv, org):
        conv.out.text(conv.text("admin.not_allowed"))
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


def menu_entries(conv: Conversation) -> list[Choice]:
    return []


FLOW = Flow(
    name=NAME,
    states=(ASK_NAME, ASK_CHANNEL, ASK_OUTSIDE),
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
    ),
    reprompts={ASK_NAME: lambda conv: _say(conv, "admin.ask_name"),
               ASK_CHANNEL: lambda conv: _say(conv, "admin.channel_hint"),
               ASK_OUTSIDE: lambda conv: _say(conv, "admin.outside_hint")},
    hints={ASK_NAME: "admin.ask_name", ASK_CHANNEL: "admin.channel_hint", ASK_OUTSIDE: "admin.outside_hint"},
    free_text={ASK_NAME: "admin_name_text", ASK_CHANNEL: "admin_channel_text", ASK_OUTSIDE: "admin_outside_text"},
    commands={"admin": "start_admin"},
)


async def _say(conv: Conversation, key: str) -> None:
    conv.out.text(conv.text(key))
