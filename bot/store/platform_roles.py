"""Whether the platform says a person administers their workspace: in memory, then Redis, then the API.

Like display names (`display_names.py`), but kept for minutes rather than a day: someone whose
admin rights were taken away on the platform loses them here within `ROLE_TTL_SECONDS`. A lookup
that failed is not remembered in Redis (the next event asks again, after a short pause in memory).
"""
from __future__ import annotations

import time
from typing import Any, Awaitable, Callable

from bot.store.keys import ConversationKey, Keys

ROLE_TTL_SECONDS = 10 * 60
MEMORY_SECONDS = 60
FAILED_SECONDS = 30

# Asks the platform: True / False, or None when it could not say (the error is the fetcher's to log).
FetchRole = Callable[[ConversationKey], Awaitable[bool | None]]


class PlatformRoles:
    def __init__(self, redis_client: Any, keys: Keys, *, memory_size: int = 10_000):
        self._redis = redis_client
        self._keys = keys
        self._memory: dict[ConversationKey, tuple[float, bool]] = {}
        self._memory_size = memory_size

    async def is_admin(self, who: ConversationKey, fetch: FetchRole) -> bool:
        cached = self._memory.get(who)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        key = self._keys.platform_role(who)
        raw = await self._redis.get(key)
        if raw is not None:
            admin: bool | None = raw == b"admin"
        else:
            admin = await fetch(who)
            if admin is not None:
                await self._redis.set(key, "admin" if admin else "member", ex=ROLE_TTL_SECONDS)
        if len(self._memory) >= self._memory_size:
            self._memory.clear()
        seconds = FAILED_SECONDS if admin is None else MEMORY_SECONDS
        self._memory[who] = (time.monotonic() + seconds, bool(admin))
        return bool(admin)

    def forget(self, who: ConversationKey) -> None:
        self._memory.pop(who, None)
