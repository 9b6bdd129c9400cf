"""Replies as the local chat shows them."""
from __future__ import annotations

from functools import lru_cache

from bot.adapters import local
from bot.content.loader import load_content
from bot.settings import DEFAULT_CONTENT_DIR


@lru_cache(maxsize=1)
def _texts():
    return load_content(DEFAULT_CONTENT_DIR).texts


def render_replies(replies) -> str:
    """The replies as the local chat shows them."""
    return local.render_replies(list(replies), texts=_texts())
