"""Who has something kept in a tenant: found by key (one SCAN over the tenant's keys; on a cluster,
redis-py scans every node)."""
from __future__ import annotations

from typing import Any, Iterable
from urllib.parse import unquote

from bot.store.keys import Keys, tenant_tag

SCAN_COUNT = 1000


def glob_escape(text: str) -> str:
    """`text` as a literal in a SCAN MATCH pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


async def people_with(client: Any, keys: Keys, platform: str, workspace: str, kinds: Iterable[str]) -> list[str]:
    """The users of the tenant with a key of one of these kinds (Keys._person: conv, results, ...)."""
    wanted = set(kinds)
    prefix = f"{keys.prefix}:{tenant_tag(platform, workspace)}:"
    users: set[str] = set()
    async for raw in client.scan_iter(match=glob_escape(prefix) + "*", count=SCAN_COUNT):
        kind, _, user = raw.decode()[len(prefix):].partition(":")
        if kind in wanted and user:
            users.add(unquote(user))
    return sorted(users)
