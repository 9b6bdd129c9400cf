"""An outbox entry: what one committed step has to say, and to whom (JSON, in the tenant's stream)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from bot.core.events import Destination
from bot.core.replies import Reply
from bot.core.reply_codec import decode_replies, encode_replies
from bot.store.keys import ConversationKey


@dataclass(frozen=True)
class OutboxEntry:
    to: Destination  # where the person's own replies go (notices carry their own recipient)
    replies: tuple[Reply, ...]
    seed: str  # stable for this step: platforms that de-duplicate retried sends key on it
    # The person whose conversation now waits for an answer to choices in these replies: once they
    # are on that person's screen, the conversation is told when (typed answers are checked by it).
    offers_to: ConversationKey | None = None

    def encode(self) -> str:
        data = {"to": self.to.to_dict(), "replies": json.loads(encode_replies(self.replies)), "seed": self.seed}
        if self.offers_to is not None:
            who = self.offers_to
            data["offers_to"] = [who.platform, who.workspace, who.user]
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str | bytes) -> "OutboxEntry":
        data = json.loads(raw)
        offers_to = ConversationKey(*data["offers_to"]) if data.get("offers_to") else None
        return cls(Destination.from_dict(data["to"]), tuple(decode_replies(json.dumps(data["replies"]))),
                   data["seed"], offers_to)
