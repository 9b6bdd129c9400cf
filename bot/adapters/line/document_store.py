"""Files served by `bot serve` at unguessable, expiring URLs: LINE cannot send a PDF in a chat,
so the person gets a link to it instead.

Each file gets a random token (144 bits); its bytes, name and media type are kept in Redis
under a key of its own slot that expires with the link (7 days by default). Knowing one URL
tells nothing about another; after the expiry the URL answers 404.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.store.keys import Keys

DOCUMENT_TTL_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class StoredDocument:
    body: bytes
    name: str
    media_type: str


class DocumentStore:
    def __init__(self, client: aioredis.Redis, keys: Keys):
        self.client = client
        self.keys = keys

    async def save(self, body: bytes, *, name: str, media_type: str,
                   ttl_seconds: float = DOCUMENT_TTL_SECONDS) -> str:
        token = secrets.token_urlsafe(18)
        key = self.keys.document(token)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"body": body, "name": name, "media_type": media_type})
            pipe.pexpire(key, max(1, int(ttl_seconds * 1000)))
            await pipe.execute()
        return token

    async def load(self, token: str) -> StoredDocument | None:
        fields = await self.client.hgetall(self.keys.document(token))
        if b"body" not in fields:
            return None
        return StoredDocument(fields[b"body"], fields[b"name"].decode(), fields[b"media_type"].decode())


def document_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/documents/{token}.pdf"
