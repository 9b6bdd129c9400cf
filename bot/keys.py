"""Every Redis key the bot uses is built here."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


def _part(value: str) -> str:
    # Platform ids never contain ':' today; quoting keeps a local user name like "a:b" from
    # colliding with another key.
    return quote(value, safe="")


@dataclass(frozen=True)
class ConversationKey:
    """Who a conversation is with: one per (platform, workspace, user)."""

    platform: str
    workspace: str
    user: str

    def __str__(self) -> str:
        return f"{_part(self.platform)}:{_part(self.workspace)}:{_part(self.user)}"


@dataclass(frozen=True)
class Keys:
    prefix: str = "bot"

    def conversation(self, who: ConversationKey) -> str:
        return f"{self.prefix}:conv:{who}"

    def results(self, who: ConversationKey) -> str:
        return f"{self.prefix}:results:{who}"

    def seen_event(self, platform: str, event_id: str) -> str:
        return f"{self.prefix}:seen:{_part(platform)}:{_part(event_id)}"
