"""An outbox entry: what one committed step has to say, and to whom (JSON, in the tenant's stream)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from bot.core.events import Destination
from bot.core.replies import Reply
from bot.core.reply_codec import decode_replies, encode_replies


@dataclass(frozen=True)
class OutboxEntry:
    to: Destination  # where the person's own replies go (notices carry their own recipient)
    replies: tuple[Reply, ...]
    seed: str  # stable for this step: platforms that de-duplicate retried sends key on it

    def encode(self) -> str:
        return json.dumps({"to": self.to.to_dict(), "replies": json.loads(encode_replies(self.replies)),
                           "seed": self.seed}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str | bytes) -> "OutboxEntry":
        data = json.loads(raw)
        return cls(Destination.from_dict(data["to"]), tuple(decode_replies(json.dumps(data["replies"]))),
                   data["seed"])
