"""Making someone an administrator as the operator does (`bot org add-admin`), for tests of what
administrators do: nobody becomes one by typing 「管理」 (tests/test_admins.py)."""
from __future__ import annotations

from bot.flows.org.admins import Administrators
from bot.store.keys import ConversationKey


async def make_admin(engine, user: str, *, platform: str = "local", workspace: str = "local") -> None:
    admins = Administrators(engine.store.client, engine.store.keys)
    await admins.apply([admins.add_op(ConversationKey(platform, workspace, user))])
