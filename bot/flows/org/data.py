"""The people's data: what is kept about a person, deleting it, exporting and deleting a company's.

About each person (platform, workspace, user), all in the tenant's slot: the conversation
(state of what they are doing, 30 days after their last message), their self-check results,
their lesson progress, the serials of their certificates, their display name (a day), what
the platform says their role is (minutes) and the index of the reports they made. Their
certificates are records of their own ({cert:SERIAL}); the reports they made are the
company's records ({incident:ID}, kept for the incident retention, then expired).

「データ削除」 erases the person's keys in their conversation's commit and erases each
certificate (verifies as revoked from then on). `bot org export` writes the company's data
as JSON (and CSV files); `bot org delete` removes the organisation and everything about
its workspaces' people and reports.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from bot.flows.incidents.records import IncidentStore
from bot.flows.org.admins import Administrators
from bot.flows.org.store import ROLES, OrgStore
from bot.store.conversations import StoreOp
from bot.store.keys import ConversationKey, Keys
from bot.store.people import glob_escape, people_with

# The kinds of keys kept per person (Keys._person): what 「データ削除」 erases.
PERSON_KINDS = ("conv", "results", "lessons", "certs", "name", "incidents-by", "platform-role", "remind-off")


def person_keys(keys: Keys, who: ConversationKey) -> list[str]:
    return [keys.conversation(who), keys.results(who), keys.lesson_progress(who), keys.certificates_of(who),
            keys.display_name(who), keys.incidents_by(who), keys.platform_role(who), keys.reminders_off(who)]


async def certificate_serials(client: aioredis.Redis, keys: Keys, who: ConversationKey) -> list[str]:
    """The person's certificates: listed since they are indexed, and those lesson progress names
    (issued before the index; a whole-course certificate of then is found only by its id)."""
    serials = {s.decode() for s in await client.smembers(keys.certificates_of(who))}
    for raw in (await client.hgetall(keys.lesson_progress(who))).values():
        certificate = json.loads(raw).get("certificate") or ""
        if certificate:
            serials.add(certificate.partition("-")[0])
    return sorted(serials)


async def erase_person_ops(client: aioredis.Redis, keys: Keys, who: ConversationKey) -> list[StoreOp]:
    """The writes that delete everything kept about one person (for their conversation's commit,
    after the record is written: the conversation is gone with the rest)."""
    ops = [StoreOp("DEL", key) for key in person_keys(keys, who)]
    for serial in await certificate_serials(client, keys, who):
        key = keys.certificate(serial)
        ops += [StoreOp("DEL", key), StoreOp("HSET", key, ("record", json.dumps({"serial": serial, "erased": True})))]
    return ops


async def _people(client: aioredis.Redis, keys: Keys, platform: str, workspace: str) -> list[str]:
    """Everyone with anything kept in the workspace."""
    return await people_with(client, keys, platform, workspace, PERSON_KINDS)


async def export_organisation(client: aioredis.Redis, keys: Keys, org_id: str) -> dict[str, Any]:
    """Everything kept about an organisation and its people, as JSON-able data."""
    orgs = OrgStore(client, keys)
    org = await orgs.get(org_id)
    if org is None:
        raise LookupError(f"no organisation {org_id}")
    admins = Administrators(client, keys)
    incidents = IncidentStore(client, keys)
    workspaces = []
    for platform, workspace in org.workspaces:
        people = []
        for user in await _people(client, keys, platform, workspace):
            who = ConversationKey(platform, workspace, user)
            name = await client.get(keys.display_name(who))
            results = [json.loads(r) for r in await client.lrange(keys.results(who), 0, -1)]
            progress = {int(item): json.loads(v) for item, v in (await client.hgetall(keys.lesson_progress(who))).items()}
            certificates = []
            for serial in await certificate_serials(client, keys, who):
                raw = await client.hget(keys.certificate(serial), "record")
                if raw:
                    certificates.append(json.loads(raw))
            people.append({"user": user, "display_name": name.decode() if name else "", "results": results,
                           "lessons": {str(k): v for k, v in sorted(progress.items())},
                           "certificates": certificates})
        ids = await client.zrevrange(keys.incidents_of_workspace(platform, workspace), 0, -1)
        reports = []
        for incident_id in ids:
            incident = await incidents.load(incident_id.decode())
            if incident is not None:
                reports.append({"id": incident.id, "kind": incident.kind, "status": incident.status,
                                "severity": incident.severity, "reported_at": incident.reported_at,
                                "reporter": incident.reporter.user, "reporter_name": incident.reporter_name,
                                "description": incident.description, "answers": incident.answers,
                                "timeline": incident.timeline})
        workspaces.append({"platform": platform, "workspace": workspace,
                           "administrators": await admins.listed(platform, workspace),
                           "people": people, "incidents": reports})
    policy = {key.decode(): value.decode()
              for key, value in (await client.hgetall(keys.security_policy(org_id))).items()}
    return {"organisation": {"id": org.id, "name": org.name, "outside": org.outside,
                             "security_policy": policy or None,
                             "contacts": {role: [{"platform": p.platform, "workspace": p.workspace, "kind": p.kind,
                                                  "id": p.id} for p in org.reach(role)] for role in ROLES}},
            "workspaces": workspaces,
            "company_checks": [json.loads(r) for r in await client.lrange(keys.company_checks(org_id), 0, -1)]}


def write_csv(export: dict[str, Any], directory: Path) -> list[Path]:
    """The export as CSV files (UTF-8 with BOM, so that Excel reads the Japanese): one row per
    self-check result, lesson, certificate and report."""
    directory.mkdir(parents=True, exist_ok=True)
    tables: dict[str, tuple[list[str], list[list[Any]]]] = {
        "results.csv": (["platform", "workspace", "user", "display_name", "at", "total", "categories", "answers"], []),
        "lessons.csv": (["platform", "workspace", "user", "display_name", "item", "passed_at", "attempts", "best",
                         "total", "certificate"], []),
        "certificates.csv": (["platform", "workspace", "user", "serial", "theme", "item", "issued_on", "holder",
                              "revoked"], []),
        "incidents.csv": (["platform", "workspace", "id", "kind", "status", "severity", "reported_at", "reporter",
                           "reporter_name", "description"], []),
    }
    for space in export["workspaces"]:
        where = [space["platform"], space["workspace"]]
        for person in space["people"]:
            who = where + [person["user"]]
            for r in person["results"]:
                tables["results.csv"][1].append(who + [person["display_name"], r.get("at"), r.get("total"),
                                                       json.dumps(r.get("categories"), ensure_ascii=False),
                                                       "".join(str(a) for a in r.get("answers", []))])
            for item, p in person["lessons"].items():
                tables["lessons.csv"][1].append(who + [person["display_name"], item, p.get("passed_at", ""),
                                                       p.get("attempts", ""), p.get("best", ""), p.get("total", ""),
                                                       p.get("certificate", "")])
            for c in person["certificates"]:
                tables["certificates.csv"][1].append(who + [c.get("serial"), c.get("theme", ""), c.get("item", ""),
                                                            c.get("issued_on", ""), c.get("holder", ""),
                                                            "yes" if c.get("revoked") or c.get("erased") else ""])
        for i in space["incidents"]:
            tables["incidents.csv"][1].append(where + [i["id"], i["kind"], i["status"], i["severity"], i["reported_at"],
                                                       i["reporter"], i["reporter_name"], i["description"]])
    written = []
    for name, (header, rows) in tables.items():
        path = directory / name
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(rows)
        written.append(path)
    return written


async def delete_organisation(client: aioredis.Redis, keys: Keys, org_id: str) -> dict[str, int]:
    """Remove everything about the organisation's workspaces' people (certificates erased: they
    verify as revoked), its reports, administrators and codes, then the organisation itself.
    Each write is idempotent and the organisation goes last, so a run stopped half-way is finished
    by running it again. Returns how many people, reports and certificates went."""
    org = await OrgStore(client, keys).get(org_id)
    if org is None:
        raise LookupError(f"no organisation {org_id}")
    counts = {"people": 0, "incidents": 0, "certificates": 0}
    doomed: list[str] = []
    for platform, workspace in org.workspaces:
        for user in await _people(client, keys, platform, workspace):
            ops = await erase_person_ops(client, keys, ConversationKey(platform, workspace, user))
            for op in ops:  # one key at a time: they span slots on a cluster
                await client.execute_command(op.command, op.key, *op.args)
            counts["people"] += 1
            counts["certificates"] += sum(1 for op in ops if op.command == "HSET")
        for incident_id in await client.zrange(keys.incidents_of_workspace(platform, workspace), 0, -1):
            await client.delete(keys.incident_timeline(incident_id.decode()))
            await client.delete(keys.incident(incident_id.decode()))
            counts["incidents"] += 1
        async for key in client.scan_iter(match=glob_escape(keys.invite(platform, workspace, "")) + "*", count=500):
            doomed.append(key.decode())
        doomed += [keys.incidents_of_workspace(platform, workspace), keys.administrators(platform, workspace)]
    doomed += [keys.organisation_role(org_id, r) for r in ROLES] + [keys.legacy_organisation(org_id)]
    doomed.append(keys.company_checks(org_id))  # the company's own self-checks (company_checks.py)
    doomed += [keys.organisation_of(p, w) for p, w in org.workspaces]
    doomed += [keys.organisation_workspaces(org_id), keys.organisation(org_id), keys.security_policy(org_id)]
    for key in doomed:
        await client.delete(key)
    return counts
