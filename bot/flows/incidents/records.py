"""Incident records in Redis.

An incident is a hash (one field per fact, so the reporter's answers and a
responsible person's status change never overwrite each other), a timeline list
(appended to, never rewritten) and two sorted indexes: by workspace (for the
responsible people) and by reporter. Every change is a set of StoreOps committed
with the conversation of whoever made it.

Kept for the incident retention (BOT_INCIDENT_RETENTION_DAYS, default three years) after the
report: the hash and the timeline get an expiry when the report is made (later writes keep it),
and each index expires that long after its newest report, dropping older ids as a report is added.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from bot.settings import incident_retention_days
from bot.store.conversations import Precondition, StoreOp
from bot.store.keys import ConversationKey, Keys

STATUSES = ("received", "in_progress", "done")  # 受付 / 対応中 / 完了: what a responsible person sets
WITHDRAWN = "withdrawn"  # 取り消し: the reporter took it back (a false alarm)
_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass
class Incident:
    id: str
    kind: str
    reporter: ConversationKey
    reporter_name: str
    description: str
    reported_at: str
    status: str = "received"
    severity: str = ""
    answers: dict[str, str] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    # Whether the company's responsible people were told of it (only once it was plausible: README,
    # "Nobody is paged by accident"); if so, they are told when it is withdrawn.
    told: bool = False


def new_incident_id(now: datetime) -> str:
    """Short enough to read out on the phone; 32^6 per day, and checked against existing ones."""
    return f"INC-{now:%Y%m%d}-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(6))


class IncidentStore:
    def __init__(self, client: aioredis.Redis, keys: Keys, *, retention_days: int | None = None):
        self.client = client
        self.keys = keys
        self.retention_seconds = (retention_days or incident_retention_days()) * 24 * 3600

    async def unused_id(self, now: datetime) -> str:
        for _ in range(5):
            candidate = new_incident_id(now)
            if not await self.client.exists(self.keys.incident(candidate)):
                return candidate
        raise RuntimeError("could not find an unused incident id")

    def _event(self, incident_id: str, at: datetime, what: str, by: str, text: str = "") -> StoreOp:
        entry = {"at": at.isoformat(timespec="seconds"), "what": what, "by": by}
        if text:
            entry["text"] = text
        return StoreOp("RPUSH", self.keys.incident_timeline(incident_id), (json.dumps(entry, ensure_ascii=False),))

    def create(self, incident: Incident, at: datetime) -> list[StoreOp]:
        who = incident.reporter
        score = int(at.timestamp())
        return [
            StoreOp("HSET", self.keys.incident(incident.id), (
                "kind", incident.kind, "reporter", json.dumps([who.platform, who.workspace, who.user]),
                "reporter_name", incident.reporter_name, "description", incident.description,
                "reported_at", incident.reported_at, "status", incident.status, "severity", incident.severity,
                "answers", json.dumps(incident.answers, ensure_ascii=False), "told", "1" if incident.told else "")),
            StoreOp("ZADD", self.keys.incidents_of_workspace(who.platform, who.workspace), (score, incident.id)),
            StoreOp("ZADD", self.keys.incidents_by(who), (score, incident.id)),
            self._event(incident.id, at, "received", incident.reporter_name),
            *self._retention_ops(incident.id, who, score),
        ]

    def _retention_ops(self, incident_id: str, who: ConversationKey, reported: int) -> list[StoreOp]:
        """Every key of the report expires `retention_seconds` after it was made."""
        until = reported + self.retention_seconds
        ops = [StoreOp("EXPIREAT", self.keys.incident(incident_id), (until,)),
               StoreOp("EXPIREAT", self.keys.incident_timeline(incident_id), (until,))]
        for index in (self.keys.incidents_of_workspace(who.platform, who.workspace), self.keys.incidents_by(who)):
            ops += [StoreOp("ZREMRANGEBYSCORE", index, ("-inf", f"({reported - self.retention_seconds}")),
                    StoreOp("EXPIREAT", index, (until,))]
        return ops

    def record_triage(self, incident_id: str, answers: dict[str, str], severity: str, at: datetime,
                      by: str) -> list[StoreOp]:
        return [
            StoreOp("HSET", self.keys.incident(incident_id), (
                "answers", json.dumps(answers, ensure_ascii=False), "severity", severity)),
            self._event(incident_id, at, "triaged", by, severity),
        ]

    def set_status(self, incident_id: str, status: str, at: datetime, by: str) -> list[StoreOp]:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        return [StoreOp("HSET", self.keys.incident(incident_id), ("status", status)),
                self._event(incident_id, at, status, by)]

    def mark_told(self, incident_id: str) -> list[StoreOp]:
        return [StoreOp("HSET", self.keys.incident(incident_id), ("told", "1"))]

    def change_kind(self, incident_id: str, kind: str, at: datetime, by: str, text: str) -> list[StoreOp]:
        """The facts given show it is another kind of incident (`text`: which, for the timeline)."""
        return [StoreOp("HSET", self.keys.incident(incident_id), ("kind", kind)),
                self._event(incident_id, at, "kind_changed", by, text)]

    def withdraw(self, incident_id: str, at: datetime, by: str) -> list[StoreOp]:
        return [StoreOp("HSET", self.keys.incident(incident_id), ("status", WITHDRAWN)),
                self._event(incident_id, at, WITHDRAWN, by)]

    def status_unchanged(self, incident: Incident) -> Precondition:
        """The status must still be the one the step read (another admin's change re-runs the step)."""
        return Precondition(self.keys.incident(incident.id), "status", incident.status)

    def add_note(self, incident_id: str, text: str, at: datetime, by: str) -> list[StoreOp]:
        return [self._event(incident_id, at, "note", by, text)]

    async def load(self, incident_id: str) -> Incident | None:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.keys.incident(incident_id))
            pipe.lrange(self.keys.incident_timeline(incident_id), 0, -1)
            fields, timeline = await pipe.execute()
        if not fields:
            return None
        data = {k.decode(): v.decode() for k, v in fields.items()}
        platform, workspace, user = json.loads(data["reporter"])
        return Incident(
            id=incident_id, kind=data["kind"], reporter=ConversationKey(platform, workspace, user),
            reporter_name=data.get("reporter_name", ""), description=data.get("description", ""),
            reported_at=data["reported_at"], status=data.get("status", "received"),
            severity=data.get("severity", ""), answers=json.loads(data.get("answers") or "{}"),
            timeline=[json.loads(entry) for entry in timeline],
            told=data.get("told", "1") == "1",  # a report from before the field was told at once
        )

    async def _load_many(self, ids: list[bytes]) -> list[Incident]:
        loaded = [await self.load(i.decode()) for i in ids]
        return [incident for incident in loaded if incident is not None]

    async def of_workspace(self, platform: str, workspace: str, *, limit: int = 10) -> list[Incident]:
        ids = await self.client.zrevrange(self.keys.incidents_of_workspace(platform, workspace), 0, limit - 1)
        return await self._load_many(ids)

    async def by_reporter(self, who: ConversationKey, *, limit: int = 10) -> list[Incident]:
        return await self._load_many(await self.client.zrevrange(self.keys.incidents_by(who), 0, limit - 1))
