"""The organisation behind a workspace: its name and who is responsible for what.

An organisation can use several platforms (a Slack workspace and a LINE
account): each (platform, workspace) is bound to one organisation id. Its
responsible people are listed by role, each with where they are reached.

Stored field by field, so that people acting at the same moment never undo
each other: the name (and the organisation's own outside contacts, e.g. its IT
vendor, as `outside:<contact id>` fields) in a hash, the workspaces and each
role's people in sorted sets (ordered by when they were added); adding or
removing someone touches only their own member. A record written whole by an earlier version
(one JSON string) is converted the first time it is read.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import redis.asyncio as aioredis

from bot.core.replies import Recipient
from bot.store.conversations import Precondition, StoreOp
from bot.store.keys import Keys

# Role ids; what they are called in the chat is content (texts.yaml: role.<id>). The order is the
# order an unacknowledged incident alert is escalated in (bot/flows/reminders/escalation.py);
# AFTER_HOURS is not in that chain: whoever is reachable outside working hours.
AFTER_HOURS = "after_hours"
ROLES: tuple[str, ...] = ("security_lead", "executive", "privacy_officer", "it_vendor", AFTER_HOURS)


@dataclass
class Organisation:
    id: str
    name: str
    workspaces: list[tuple[str, str]] = field(default_factory=list)
    contacts: dict[str, list[Recipient]] = field(default_factory=dict)
    # How to reach the organisation's own outside contacts (contacts.yaml own_contacts), by contact id:
    # free text as registered ("〇〇システム 03-1234-5678、平日9〜18時").
    outside: dict[str, str] = field(default_factory=dict)

    def reach(self, role: str) -> list[Recipient]:
        return list(self.contacts.get(role, ()))

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "Organisation":
        data = json.loads(raw)
        return cls(
            id=data["id"],
            name=data["name"],
            workspaces=[tuple(w) for w in data.get("workspaces", [])],
            contacts={role: [Recipient(**r) for r in people] for role, people in data.get("contacts", {}).items()},
            outside=dict(data.get("outside", {})),
        )


OUTSIDE_FIELD = "outside:"  # hash field prefix of an outside contact


def _member(recipient: Recipient) -> str:
    """One person as a set member: the same person is always the same string."""
    return json.dumps(asdict(recipient), ensure_ascii=False, sort_keys=True)


def _workspace_member(platform: str, workspace: str) -> str:
    return json.dumps([platform, workspace], ensure_ascii=False)


def _now_score() -> int:
    return time.time_ns() // 1000


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
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.keys.organisation(org_id))
            pipe.zrange(self.keys.organisation_workspaces(org_id), 0, -1)
            for role in ROLES:
                pipe.zrange(self.keys.organisation_role(org_id, role), 0, -1)
            pipe.get(self.keys.legacy_organisation(org_id))
            fields, workspaces, *people, legacy = await pipe.execute()
        fields = {key.decode(): value.decode() for key, value in fields.items()}
        if "name" not in fields:
            return await self._convert_legacy(legacy) if legacy else None
        return Organisation(
            id=org_id, name=fields["name"],
            workspaces=[tuple(json.loads(w)) for w in workspaces],
            contacts={role: [Recipient(**json.loads(p)) for p in members]
                      for role, members in zip(ROLES, people) if members},
            outside={key.removeprefix(OUTSIDE_FIELD): value for key, value in fields.items()
                     if key.startswith(OUTSIDE_FIELD) and value})

    async def _convert_legacy(self, raw: bytes) -> Organisation:
        org = Organisation.from_json(raw)
        # Every write here is idempotent; on a cluster they span the organisation's and the
        # tenant's slots, which one transaction cannot.
        async with self.client.pipeline(transaction=False) as pipe:
            for op in self.create_ops(org):
                pipe.execute_command(op.command, op.key, *op.args)
            for role, people in org.contacts.items():
                for person in people:
                    op = self.add_contact_op(org.id, role, person)
                    pipe.execute_command(op.command, op.key, *op.args)
            pipe.delete(self.keys.legacy_organisation(org.id))
            await pipe.execute()
        return org

    @staticmethod
    def new(name: str) -> Organisation:
        return Organisation(id=secrets.token_hex(4), name=name)

    # --- writes, as ops for a conversation's atomic commit -------------------------

    def create_ops(self, org: Organisation) -> list[StoreOp]:
        """A new organisation with its name and workspaces (its people are added one by one)."""
        ops = [StoreOp("HSET", self.keys.organisation(org.id), ("name", org.name))]
        for platform, workspace in org.workspaces:
            ops += self.bind_ops(org.id, platform, workspace)
        return ops

    def unbound_checks(self, org: Organisation) -> list[Precondition]:
        """The workspaces must still have no organisation (two people creating one at once)."""
        return [Precondition(self.keys.organisation_of(platform, workspace)) for platform, workspace in org.workspaces]

    def bind_ops(self, org_id: str, platform: str, workspace: str) -> list[StoreOp]:
        return [StoreOp("ZADD", self.keys.organisation_workspaces(org_id),
                        ("NX", _now_score(), _workspace_member(platform, workspace))),
                StoreOp("SET", self.keys.organisation_of(platform, workspace), (org_id,))]

    def set_outside_op(self, org_id: str, contact_id: str, text: str) -> StoreOp:
        """How to reach one of the organisation's outside contacts (empty text: forget it; kept as an
        empty field, since a conversation's commit takes no HDEL)."""
        return StoreOp("HSET", self.keys.organisation(org_id), (OUTSIDE_FIELD + contact_id, text))

    def add_contact_op(self, org_id: str, role: str, recipient: Recipient) -> StoreOp:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; known: {', '.join(ROLES)}")
        return StoreOp("ZADD", self.keys.organisation_role(org_id, role), ("NX", _now_score(), _member(recipient)))

    # --- the same writes at once (the `bot org` command) ---------------------------------

    async def _apply(self, ops: list[StoreOp]) -> None:
        # Idempotent writes (set members, the same name): no transaction needed, and on a cluster
        # they span the organisation's and the tenant's slots.
        async with self.client.pipeline(transaction=False) as pipe:
            for op in ops:
                pipe.execute_command(op.command, op.key, *op.args)
            await pipe.execute()

    async def create(self, name: str) -> Organisation:
        org = self.new(name)
        await self._apply(self.create_ops(org))
        return org

    async def bind(self, org: Organisation, platform: str, workspace: str) -> None:
        if (platform, workspace) not in org.workspaces:
            org.workspaces.append((platform, workspace))
        await self._apply(self.bind_ops(org.id, platform, workspace))

    async def set_outside(self, org: Organisation, contact_id: str, text: str) -> None:
        if text:
            org.outside[contact_id] = text
        else:
            org.outside.pop(contact_id, None)
        await self._apply([self.set_outside_op(org.id, contact_id, text)])

    async def add_contact(self, org: Organisation, role: str, recipient: Recipient) -> None:
        op = self.add_contact_op(org.id, role, recipient)
        people = org.contacts.setdefault(role, [])
        if recipient not in people:
            people.append(recipient)
        await self._apply([op])
