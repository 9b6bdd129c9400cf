"""Everything the company report needs, loaded from Redis in a few round trips.

Who the employees are: everyone the bot knows in the organisation's workspaces, i.e. each
(platform, workspace, user) with anything kept about them there (a conversation of the last 30
days, self-check results, lesson progress, certificates, a cached name, reports they made: found
by one SCAN over each tenant's keys), plus the workspace's listed administrators and the people
registered for a role there, whether or not they have talked to the bot. Someone who uses both
Slack and LINE is two people here (the platforms do not say they are the same person).

Round trips: the organisation (one pipeline), a SCAN per workspace, one pipeline for every
person's results, lessons, certificates and name with the administrators, the incident indexes
and the company's own checks, and one more for the certificate records and the incidents.
Nothing here computes: bot/flows/org/company_report.py does, on what this returns.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from bot.flows.org.company_checks import parse_checks
from bot.flows.org.data import PERSON_KINDS
from bot.flows.org.store import OrgStore
from bot.store.keys import ConversationKey, Keys
from bot.store.people import people_with


@dataclass
class PersonData:
    who: ConversationKey
    name: str = ""  # the cached display name ("" when it expired or was never known)
    results: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    lessons: dict[int, dict[str, Any]] = field(default_factory=dict)  # by checklist item
    certificates: list[dict[str, Any]] = field(default_factory=list)  # the stored records, as kept


@dataclass
class CompanyData:
    org_id: str
    org_name: str
    workspaces: list[tuple[str, str]]
    people: list[PersonData]  # sorted by (platform, workspace, user)
    incidents: list[dict[str, Any]]  # decoded fields, with "id"
    company_checks: list[dict[str, Any]]  # oldest first
    policy: dict[str, str] = field(default_factory=dict)  # the 情報セキュリティ基本方針's fields (security_action.py)


async def _known_users(client: aioredis.Redis, keys: Keys, platform: str, workspace: str) -> set[str]:
    """Users with a key of their own in the tenant."""
    return set(await people_with(client, keys, platform, workspace, PERSON_KINDS))


def _decode_incident(incident_id: str, fields: dict[bytes, bytes]) -> dict[str, Any] | None:
    if not fields:
        return None  # expired since the index was read
    data = {k.decode(): v.decode() for k, v in fields.items()}
    platform, workspace, user = json.loads(data["reporter"])
    return {"id": incident_id, "kind": data.get("kind", ""), "status": data.get("status", "received"),
            "severity": data.get("severity", ""), "reported_at": data.get("reported_at", ""),
            "reporter": [platform, workspace, user], "reporter_name": data.get("reporter_name", ""),
            "answers": json.loads(data.get("answers") or "{}")}


async def load_company(client: aioredis.Redis, keys: Keys, org_id: str) -> CompanyData | None:
    """The organisation's people with their results, lessons and certificates, its incidents and its
    own self-checks; None when there is no such organisation."""
    org = await OrgStore(client, keys).get(org_id)
    if org is None:
        return None
    found: set[ConversationKey] = set()
    for platform, workspace in org.workspaces:
        found |= {ConversationKey(platform, workspace, user)
                  for user in await _known_users(client, keys, platform, workspace)}
    ours = set(org.workspaces)
    found |= {ConversationKey(p.platform, p.workspace, p.id) for people in org.contacts.values() for p in people
              if p.kind == "user" and (p.platform, p.workspace) in ours}

    async with client.pipeline(transaction=False) as pipe:
        for platform, workspace in org.workspaces:
            pipe.smembers(keys.administrators(platform, workspace))
            pipe.zrevrange(keys.incidents_of_workspace(platform, workspace), 0, -1)
        pipe.hgetall(keys.security_policy(org.id))
        pipe.lrange(keys.company_checks(org.id), 0, -1)
        answers = await pipe.execute()
    policy = {key.decode(): value.decode() for key, value in answers[-2].items()}
    incident_ids: list[str] = []
    for index, (platform, workspace) in enumerate(org.workspaces):
        found |= {ConversationKey(platform, workspace, user.decode()) for user in answers[2 * index]}
        incident_ids += [i.decode() for i in answers[2 * index + 1]]
    checks = parse_checks(answers[-1])

    people = [PersonData(who) for who in sorted(found, key=lambda w: (w.platform, w.workspace, w.user))]
    async with client.pipeline(transaction=False) as pipe:
        for person in people:
            pipe.lrange(keys.results(person.who), 0, -1)
            pipe.hgetall(keys.lesson_progress(person.who))
            pipe.smembers(keys.certificates_of(person.who))
            pipe.get(keys.display_name(person.who))
        answers = await pipe.execute()
    serials: list[tuple[PersonData, str]] = []
    for n, person in enumerate(people):
        results, lessons, certs, name = answers[4 * n:4 * n + 4]
        person.results = [json.loads(r) for r in results]
        person.lessons = {int(item): json.loads(value) for item, value in lessons.items()}
        person.name = name.decode() if name else ""
        # Listed since certificates are indexed; older ones are named by the lesson progress.
        own = {s.decode() for s in certs}
        own |= {p["certificate"].partition("-")[0] for p in person.lessons.values() if p.get("certificate")}
        serials += [(person, serial) for serial in sorted(own)]

    async with client.pipeline(transaction=False) as pipe:
        for _, serial in serials:
            pipe.hget(keys.certificate(serial), "record")
        for incident_id in incident_ids:
            pipe.hgetall(keys.incident(incident_id))
        answers = await pipe.execute()
    for (person, _), raw in zip(serials, answers[:len(serials)]):
        if raw:
            person.certificates.append(json.loads(raw))
    incidents = [incident for incident_id, fields in zip(incident_ids, answers[len(serials):])
                 if (incident := _decode_incident(incident_id, fields)) is not None]
    return CompanyData(org_id=org.id, org_name=org.name, workspaces=list(org.workspaces), people=people,
                       incidents=incidents, company_checks=checks, policy=policy)
