"""Images served by `bot serve` at unguessable URLs (LINE needs an HTTPS URL, not bytes).

Each image gets a random token; its PNG and a small preview are kept in Redis
(with a TTL unless it must stay, like a certificate). Knowing one URL tells
nothing about another.
"""
from __future__ import annotations

import asyncio
import secrets
from typing import Literal

import redis.asyncio as aioredis

from bot.core.images import render_preview
from bot.store.keys import Keys

CHART_TTL_SECONDS = 90 * 24 * 3600
Variant = Literal["original", "preview"]


class ImageStore:
    def __init__(self, client: aioredis.Redis, keys: Keys):
        self.client = client
        self.keys = keys

    async def save(self, png: bytes, *, ttl_seconds: int | None = CHART_TTL_SECONDS) -> str:
        preview = await asyncio.to_thread(render_preview, png)
        token = secrets.token_urlsafe(18)
        key = self.keys.image(token)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"original": png, "preview": preview})
            if ttl_seconds:
                pipe.expire(key, ttl_seconds)
            await pipe.execute()
        return token

    async def load(self, token: str, variant: Variant = "original") -> bytes | None:
        return await self.client.hget(self.keys.image(token), variant)


def image_urls(public_url: str, token: str) -> tuple[str, str]:
    """(original, preview) URLs of a stored image."""
    base = public_url.rstrip("/")
    return f"{base}/images/{token}.png", f"{base}/images/{token}/preview.png"
