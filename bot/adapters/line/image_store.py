"""Images served by `bot serve` at unguessable URLs (LINE needs an HTTPS URL, not bytes).

Each image gets a random token. What is kept under it in Redis (with a TTL) is first the
image's description (its renderer and parameters, as in the outbox): the reply carrying the URLs
goes out at once, and the PNG and its small preview are drawn when LINE first fetches either,
then kept. Drawing before replying made the person wait for the chart before reading their
score. Knowing one URL tells nothing about another.
"""
from __future__ import annotations

import json
import logging
import secrets
from typing import Any, Awaitable, Callable, Literal

import redis.asyncio as aioredis

from bot.core.images import render_preview
from bot.core.offload import Offload
from bot.core.replies import Image
from bot.core.single_flight import SingleFlight
from bot.store.keys import Keys

log = logging.getLogger(__name__)

CHART_TTL_SECONDS = 90 * 24 * 3600
Variant = Literal["original", "preview"]
Draw = Callable[[Image], Awaitable[bytes]]  # Engine.render_image
_KEEP_DRAWING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'original', ARGV[1], 'preview', ARGV[2])
end
return 0
"""


class ImageStore:
    def __init__(self, client: aioredis.Redis, keys: Keys, offload: Offload, draw: Draw):
        self.client = client
        self.keys = keys
        self.offload = offload
        self.draw = draw
        self._drawing: SingleFlight[tuple[bytes, bytes]] = SingleFlight()  # by token, drawn here
        self._keep = client.register_script(_KEEP_DRAWING)

    async def save(self, image: Image, *, ttl_seconds: int = CHART_TTL_SECONDS) -> str:
        """Keep the image's description under a new token; it is drawn on the first fetch."""
        token = secrets.token_urlsafe(18)
        spec = json.dumps({"name": image.name, "alt": image.alt_text, "renderer": image.renderer,
                           "params": image.params}, ensure_ascii=False)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.image(token), "spec", spec)
            pipe.expire(self.keys.image(token), ttl_seconds)
            await pipe.execute()
        return token

    async def load(self, token: str, variant: Variant = "original") -> bytes | None:
        """The PNG (drawn now if it has not been yet); None for an unknown or expired token."""
        drawn, spec = await self.client.hmget(self.keys.image(token), [variant, "spec"])
        if drawn is not None or spec is None:
            return drawn
        # LINE asks for the original and the preview together: one drawing.
        drawn = await self._drawing.run(token, lambda: self._draw_and_keep(token, json.loads(spec)))
        return drawn[0 if variant == "original" else 1]

    async def _draw_and_keep(self, token: str, spec: dict) -> tuple[bytes, bytes]:
        png = await self.draw(Image(spec["name"], spec["alt"], spec["renderer"], spec["params"]))
        preview = await self.offload.run(render_preview, png)
        # Beside the description, under its TTL (another process may have drawn it meanwhile: the same
        # bytes, as drawing is deterministic). Only if the key is still there: an expired image stays gone.
        await self._keep(keys=[self.keys.image(token)], args=[png, preview])
        log.debug("image %s… drawn on first fetch (%d bytes)", token[:6], len(png))
        return png, preview


def line_images(engine: Any) -> ImageStore:
    """The image store of a `bot.core.engine.Engine` (drawing with its renderers)."""
    return ImageStore(engine.store.client, engine.store.keys, engine.services.offload, engine.render_image)


def image_urls(public_url: str, token: str) -> tuple[str, str]:
    """(original, preview) URLs of a stored image."""
    base = public_url.rstrip("/")
    return f"{base}/images/{token}.png", f"{base}/images/{token}/preview.png"
