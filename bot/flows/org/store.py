"""The organisation behind a workspace: its name and who is responsible for what.

An organisation can use several platforms (a Slack workspace and a LINE
account): each (platform, workspace) is bound to one organisation id. Its
responsible people are listed by role, each with where they are reached.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

import redis.asyncio as aioredis

from bot.core.replies import Recipient
from bot.store.conversations import StoreOp
from bot.store.keys import Keys

# Role ids; what they are called in the chat is content (texts.yaml: role.<id>).
ROLES: tuple[str, ...] = ("security_lead", "executive", "privacy_officer", "it_vendor")


@dataclass
class Organisation:
    id: str
    name: str
    workspaces: list[tuple[str, str]] = field(default_factory=list)
    contacts: dict[str, list[Recipient]] = field(default_factory=dict)

    def reach(self, role: str) -> list[Recipient]:
        return list(self.contacts.get(role, ()))

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "Organisation":
        data = json.loads(raw)
        return cls(
            id=data["id"],
            name=data["name"],
            workspaces=[tuple(w) for w in data.get("workspaces", [])],
            contacts={role: [Recipient(**r) for r in people] for role, people in data.get("contacts", {}).items()},
        )


def is_responsible(org: Organisation, *, platform: str, user: str, channel: str | None) -> bool:
    """Whether someone is one of the organisation's registered people: listed themselves,
    or acting inside a channel that is listed."""
    for people in org.contacts.values():
        for person in people:
            if person.platform != platform:
                continue
            if person.kind == "user" and person.id == user:
                return True
            if person.kind == "channel" and channel is not None and person.id == channel:
                return True
    return False


def organisations(conv: Any) -> "OrgStore":
    """The organisation records, for a flow handling `conv`."""
    return OrgStore(conv.services.store.client, conv.services.store.keys)


class OrgStore:
    def __init__(self, client: aioredis.Redis, keys: Keys):
        self.client = client
        self.keys = keys

    async def for_workspace(self, platform: str, workspace: str) -> Organisation | None:
        org_id = await self.client.get(self.keys.organisation_of(platform, workspace))
        return await self.get(org_id.decode()) if org_id else None

    async def get(self, org_id: str) -> Organisation | None:
        raw = await self.client.get(self.keys.organisation(org_id))
        return Organisation.from_json(raw) if raw else None

    @staticmethod
    def new(name: str) -> Organisation:
        return Organisation(id=secrets.token_hex(4), name=name)

    async def create(self, name: str) -> Organisation:
        org = self.new(name)
        await self.save(org)
        return org

    def save_ops(self, org: Organisation) -> list[StoreOp]:
        """The writes that store an organisation (for a conversation's atomic commit)."""
        ops = [StoreOp("SET", self.keys.organisation(org.id), (org.to_json(),))]
        ops += [StoreOp("SET", self.keys.organisation_of(platform, workspace), (org.id,))
                for platform, workspace in org.workspaces]
        return ops

    async def save(self, org: Organisation) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            for op in self.save_ops(org):
                pipe.execute_command(op.command, op.key, *op.args)
            await pipe.execute()

    async def bind(self, org: Organisation, platform: str, workspace: str) -> None:
        if (platform, workspace) not in org.workspaces:
            org.workspaces.append((platform, workspace))
        await self.save(org)

    async def add_contact(self, org: Organisation, role: str, recipient: Recipient) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; known: {', '.join(ROLES)}")
        people = org.contacts.setdefault(role, [])
        if recipient not in people:
            people.append(recipient)
        await self.save(org)
