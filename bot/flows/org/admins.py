"""Who administers a workspace: proven, never self-appointed.

An administrator is someone the platform says administers the workspace (the adapter
marks their events with PLATFORM_ADMIN: a Slack workspace owner or admin, or the person
who installed the app there), or someone listed in the workspace's administrators set:
whoever redeemed a one-time code (made by `bot org invite`, or by an administrator in
the chat), or whom the operator added with `bot org add-admin`. Typing 「管理」 makes
nobody an administrator.

A code is 8 capital letters (shown as ABCD-EFGH; I and O left out) and is stored only
as its SHA-256, with what it grants and when it expires, under a key that also expires;
it is redeemed in the conversation's commit with the key's value as a precondition and
the key deleted, so a code works once even when two people type it at the same moment.
The set and the codes live in the tenant's slot (with the conversations).
"""
from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from bot.core.events import PLATFORM_ADMIN
from bot.store.conversations import Precondition, StoreOp
from bot.store.keys import ConversationKey, Keys

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: read out and typed without confusion
CODE_LENGTH = 8
DEFAULT_CODE_HOURS = 72
CLEANUP_SECONDS = 3600  # the key outlives the code's expiry a little (the expiry itself is checked)


def new_code() -> str:
    letters = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{letters[:4]}-{letters[4:]}"


def normalise_code(text: str) -> str | None:
    """The code in what was typed (width, case, spaces and hyphens ignored); None when it is not one."""
    letters = "".join(ch for ch in unicodedata.normalize("NFKC", text).upper() if ch.isalnum())
    if len(letters) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in letters):
        return None
    return letters


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True)
class Invite:
    """What a code grants: administrator, and optionally a responsible role (e.g. security_lead)."""

    role: str
    expires_at: float  # epoch seconds
    by: str  # who made it: "cli" or the administrator's user id
    raw: bytes  # the stored value, for the precondition


def administrators_of(conv: Any) -> "Administrators":
    return Administrators(conv.services.store.client, conv.services.store.keys)


class Administrators:
    def __init__(self, client: aioredis.Redis, keys: Keys):
        self.client = client
        self.keys = keys

    async def listed(self, platform: str, workspace: str) -> list[str]:
        members = await self.client.smembers(self.keys.administrators(platform, workspace))
        return sorted(m.decode() for m in members)

    async def is_listed(self, who: ConversationKey) -> bool:
        return bool(await self.client.sismember(self.keys.administrators(who.platform, who.workspace), who.user))

    async def is_administrator(self, who: ConversationKey, capabilities: frozenset[str]) -> bool:
        return PLATFORM_ADMIN in capabilities or await self.is_listed(who)

    # --- writes, as ops for a conversation's commit -----------------------------------------

    def add_op(self, who: ConversationKey) -> StoreOp:
        return StoreOp("SADD", self.keys.administrators(who.platform, who.workspace), (who.user,))

    def remove_op(self, platform: str, workspace: str, user: str) -> StoreOp:
        return StoreOp("SREM", self.keys.administrators(platform, workspace), (user,))

    def invite_ops(self, platform: str, workspace: str, code: str, *, role: str, by: str,
                   now: datetime, hours: float = DEFAULT_CODE_HOURS) -> list[StoreOp]:
        expires_at = now.timestamp() + hours * 3600
        value = json.dumps({"role": role, "expires_at": expires_at, "by": by})
        key = self.keys.invite(platform, workspace, code_digest(normalise_code(code) or code))
        return [StoreOp("SET", key, (value, "EX", int(hours * 3600) + CLEANUP_SECONDS))]

    async def find_invite(self, platform: str, workspace: str, code: str) -> Invite | None:
        raw = await self.client.get(self.keys.invite(platform, workspace, code_digest(code)))
        if raw is None:
            return None
        data = json.loads(raw)
        return Invite(role=data.get("role", ""), expires_at=float(data["expires_at"]), by=data.get("by", ""), raw=raw)

    def redeem(self, who: ConversationKey, code: str, invite: Invite) -> tuple[list[StoreOp], list[Precondition]]:
        """Make `who` an administrator with `invite`: the code must still be stored as read (the
        commit re-runs the step otherwise, and then finds it gone) and is deleted with it."""
        key = self.keys.invite(who.platform, who.workspace, code_digest(code))
        return ([StoreOp("DEL", key), self.add_op(who)],
                [Precondition(key, "", invite.raw.decode())])

    # --- the same at once (the `bot org` command) ----------------------------------------------

    async def apply(self, ops: list[StoreOp]) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for op in ops:
                pipe.execute_command(op.command, op.key, *op.args)
            await pipe.execute()

    async def create_invite(self, platform: str, workspace: str, *, role: str, now: datetime,
                            hours: float = DEFAULT_CODE_HOURS, by: str = "cli") -> str:
        code = new_code()
        await self.apply(self.invite_ops(platform, workspace, code, role=role, by=by, now=now, hours=hours))
        return code
