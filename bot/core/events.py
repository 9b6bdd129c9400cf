"""What adapters hand to the engine: one inbound event from one user."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.core.replies import Recipient
from bot.store.keys import ConversationKey

# The platform can post to shared channels, so a channel can be registered to receive reports.
CAN_POST_TO_CHANNELS = "channels"
# The platform itself says this person administers the workspace (a Slack workspace owner or admin,
# or whoever installed the app there). Set only by an adapter after asking the platform, never taken
# from what the person sent.
PLATFORM_ADMIN = "platform_admin"
# The platform can say who administers a workspace (so PLATFORM_ADMIN is looked up for everyone).
KNOWS_ADMINS = "knows_admins"
# The replies fill the person's home tab (Slack's App Home), not a chat: there is room for more.
HOME_TAB = "home_tab"
# What a person types in one message; longer text is cut (silently: no one types more), so that
# one message never costs the classifier and the flows more than a few milliseconds.
MAX_TEXT_CHARS = 2000


class EventKind(Enum):
    MESSAGE = "message"  # the user typed text
    ACTION = "action"  # the user picked a choice (button, postback)
    START = "start"  # a new conversation: first contact, follow, `bot chat` start


@dataclass(frozen=True)
class IncomingEvent:
    who: ConversationKey
    kind: EventKind
    text: str = ""
    action: str = ""
    # The platform's own id for this delivery; a repeated id is ignored.
    event_id: str | None = None
    display_name: str | None = None
    # Where it happened when that is a shared place (a Slack channel), for permissions.
    channel: str | None = None
    # Shared channels the message names, as platform ids (the adapter reads the platform's markup).
    channels: tuple[str, ...] = ()
    # What the person's platform can do beyond text and choices (see CAN_POST_TO_CHANNELS).
    capabilities: frozenset[str] = frozenset()
    # When the person sent it (epoch seconds, the platform's clock); 0 when unknown. A typed answer
    # sent before the question it would answer was on their screen was meant for an earlier one.
    sent_at: float = 0.0

    def __post_init__(self) -> None:
        # Whatever the adapter passed: at most MAX_TEXT_CHARS, and storable as UTF-8 (JSON allows
        # a lone surrogate such as "\ud800"; Redis and the platforms' APIs do not).
        object.__setattr__(self, "text", _storable(self.text[:MAX_TEXT_CHARS]))
        object.__setattr__(self, "action", _storable(self.action[:MAX_TEXT_CHARS]))

    def to_dict(self) -> dict:
        """JSON-able, to wait in the inbox."""
        return {"who": [self.who.platform, self.who.workspace, self.who.user], "kind": self.kind.value,
                "text": self.text, "action": self.action, "event_id": self.event_id,
                "display_name": self.display_name, "channel": self.channel, "channels": list(self.channels),
                "capabilities": sorted(self.capabilities), "sent_at": self.sent_at}

    @classmethod
    def from_dict(cls, data: dict) -> "IncomingEvent":
        return cls(who=ConversationKey(*data["who"]), kind=EventKind(data["kind"]), text=data["text"],
                   action=data["action"], event_id=data["event_id"], display_name=data["display_name"],
                   channel=data["channel"], channels=tuple(data["channels"]),
                   capabilities=frozenset(data["capabilities"]), sent_at=float(data.get("sent_at") or 0.0))

    @classmethod
    def message(cls, who: ConversationKey, text: str, *, event_id: str | None = None,
                sent_at: float = 0.0) -> "IncomingEvent":
        return cls(who=who, kind=EventKind.MESSAGE, text=text, event_id=event_id, sent_at=sent_at)

    @classmethod
    def choice(cls, who: ConversationKey, value: str, *, event_id: str | None = None) -> "IncomingEvent":
        return cls(who=who, kind=EventKind.ACTION, action=value, event_id=event_id)

    @classmethod
    def start(cls, who: ConversationKey, *, event_id: str | None = None) -> "IncomingEvent":
        return cls(who=who, kind=EventKind.START, event_id=event_id)


@dataclass(frozen=True)
class Action:
    """A choice value decoded: 'answer:7:1' -> trigger 'answer', args ('7', '1')."""

    trigger: str
    args: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str) -> "Action":
        trigger, *args = value.split(":")
        return cls(trigger=trigger, args=tuple(args))

    def encode(self) -> str:
        return ":".join((self.trigger, *self.args))


def _storable(text: str) -> str:
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:  # a lone surrogate becomes "?"
        return text.encode("utf-8", "replace").decode("utf-8")


def action_value(trigger: str, *args: object) -> str:
    return Action(trigger, tuple(str(a) for a in args)).encode()


HOME_SURFACE = "home"


@dataclass(frozen=True)
class Destination:
    """Where replies go: a person or a channel on one platform, perhaps with a way to reply in place."""

    platform: str
    workspace: str
    address: str  # a user or channel id
    thread: str | None = None  # a thread inside the channel, where the platform has them
    reply_token: str | None = None  # a single-use handle to answer one event, where the platform has one
    received_at: float = 0.0  # when that event was sent (epoch seconds); reply handles go stale
    surface: str = ""  # "" a conversation; HOME_SURFACE: the person's home tab (address: the user)

    @classmethod
    def of(cls, recipient: Recipient) -> "Destination":
        return cls(recipient.platform, recipient.workspace, recipient.id)

    def to_dict(self) -> dict:
        return {"platform": self.platform, "workspace": self.workspace, "address": self.address,
                "thread": self.thread, "reply_token": self.reply_token, "received_at": self.received_at,
                "surface": self.surface}

    @classmethod
    def from_dict(cls, data: dict) -> "Destination":
        return cls(**data)
