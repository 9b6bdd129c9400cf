"""People's display names from their platform profile: in memory, then Redis (a day), then the API."""
from __future__ import annotations

import logging
import time
from typing import Any, Awaitable, Callable

from bot.store.keys import ConversationKey, Keys

log = logging.getLogger(__name__)

NAME_TTL_SECONDS = 24 * 3600
MEMORY_SECONDS = 3600
MISSING_SECONDS = 600  # a profile that could not be had is not asked for again at once

# Looks the name up on the platform; None when it cannot be had (the error is the fetcher's to log).
Fetch = Callable[[ConversationKey], Awaitable[str | None]]


class DisplayNames:
    def __init__(self, redis_client: Any, keys: Keys, *, memory_size: int = 10_000):
        self._redis = redis_client
        self._keys = keys
        self._memory: dict[ConversationKey, tuple[float, str]] = {}
        self._memory_size = memory_size

    async def get(self, who: ConversationKey, fetch: Fetch) -> str | None:
        cached = self._memory.get(who)
        if cached and cached[0] > time.monotonic():
            return cached[1] or None
        key = self._keys.display_name(who)
        raw = await self._redis.get(key)
        name = raw.decode() if raw else await fetch(who)
        if name and not raw:
            await self._redis.set(key, name, ex=NAME_TTL_SECONDS)
        if len(self._memory) >= self._memory_size:
            self._memory.clear()
        self._memory[who] = (time.monotonic() + (MEMORY_SECONDS if name else MISSING_SECONDS), name or "")
        return name or None
