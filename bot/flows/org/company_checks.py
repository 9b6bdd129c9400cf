"""The company's own self-check: the 25 items answered by an administrator on the organisation's behalf.

IPA's self-check is a statement about the company. Employees answer it for themselves (their
personal results, bot/flows/selfcheck); an administrator may also answer it for the company as a
whole (site 「全社」) or for one of its sites. Those answers are kept on the organisation
(`Keys.company_checks`, a list in the organisation's slot), never among anyone's personal results:
an administrator's own history does not show them and the employees' figures never count them.

A record: {"at": ISO time, "site": name, "total": points, "categories": {id: points},
"answers": [answer index per item: DONE=0, PARTIAL=1, NOT_DONE=2, UNKNOWN=3 (scoring.py)],
"by": {"platform", "workspace", "user", "name"}}.
"""
from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from bot.flows.selfcheck.scoring import DiagnosisScore
from bot.store.conversations import StoreOp
from bot.store.keys import ConversationKey, Keys

SITE_MAX = 30  # characters kept of a site's name


def normalise_site(text: str) -> str:
    """A site's name as typed, tidied: width folded, spaces collapsed, no ':' (it separates a
    choice's arguments), at most SITE_MAX characters; "" when nothing is left."""
    folded = unicodedata.normalize("NFKC", text)
    return " ".join(folded.replace(":", " ").split())[:SITE_MAX]


def check_record(score: DiagnosisScore, *, at: datetime, site: str, by: ConversationKey,
                 name: str) -> dict[str, Any]:
    return {"at": at.isoformat(timespec="seconds"), "site": site, "total": score.total,
            "categories": {c.id: c.score for c in score.categories}, "answers": list(score.answers),
            "by": {"platform": by.platform, "workspace": by.workspace, "user": by.user, "name": name}}


def append_check_op(keys: Keys, org_id: str, record: dict[str, Any]) -> StoreOp:
    """The write that keeps one company check (committed with the administrator's conversation)."""
    return StoreOp("RPUSH", keys.company_checks(org_id), (json.dumps(record, ensure_ascii=False),))


def latest_per_site(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest record of each site, in the order the sites were first answered."""
    latest: dict[str, dict[str, Any]] = {}
    for record in records:  # oldest first: a later one replaces an earlier one of its site
        latest[record.get("site", "")] = record
    return list(latest.values())


def parse_checks(raw: list[bytes | str]) -> list[dict[str, Any]]:
    return [json.loads(item) for item in raw]


async def all_company_checks(redis: aioredis.Redis, keys: Keys, org_id: str) -> list[dict[str, Any]]:
    """Every company check of the organisation, oldest first."""
    return parse_checks(await redis.lrange(keys.company_checks(org_id), 0, -1))


async def company_checks(redis: aioredis.Redis, keys: Keys, org_id: str) -> list[dict[str, Any]]:
    """The latest company check of each site (「全社」 or a site's name), as stored records."""
    return latest_per_site(await all_company_checks(redis, keys, org_id))
