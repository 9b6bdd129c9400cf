"""A company set up on the local platform, with the people its reports go to."""
from __future__ import annotations

from bot.core.replies import Recipient
from bot.flows.org.store import OrgStore

CONTACTS = {
    "security_lead": ("soumu", "情報セキュリティ責任者"),
    "executive": ("shacho", "経営者"),
    "privacy_officer": ("jinji", "個人情報担当"),
}


async def company(engine, *, roles: tuple[str, ...] = tuple(CONTACTS)):
    """山田商事, bound to the local workspace, with a contact for each of `roles`."""
    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create("山田商事")
    await orgs.bind(org, "local", "local")
    for role in roles:
        user, label = CONTACTS[role]
        await orgs.add_contact(org, role, Recipient("local", "local", "user", user, label))
    return org
