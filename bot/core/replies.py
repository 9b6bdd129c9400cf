"""The platform-neutral reply model.

Flows say what to show; each adapter decides how (plain text with numbered
choices locally, Block Kit in Slack, quick replies and Flex in LINE).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Choice:
    label: str
    # What the engine receives back when this choice is picked: "trigger" or
    # "trigger:arg:arg" (see bot.events.Action).
    value: str
    # What the choice means as an answer: a key of content/phrases.yaml `answers` (yes, no, unknown,
    # done...), so that typing one of its words (「うん」「やってない」) picks it. Never shown or sent.
    means: str = field(default="", compare=False)


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Choices:
    prompt: str
    options: tuple[Choice, ...]


@dataclass(frozen=True)
class Progress:
    current: int
    total: int
    label: str = ""


@dataclass(frozen=True)
class Field:
    label: str
    value: str
    # For bar-like rendering: the share of the maximum this value reaches (0..1), if any.
    ratio: float | None = None


@dataclass(frozen=True)
class Card:
    title: str
    fields: tuple[Field, ...] = ()
    body: str = ""
    footer: str = ""


@dataclass(frozen=True)
class Image:
    """A picture, described rather than drawn: a renderer declared by a flow (by name) and its
    JSON-able parameters, so that it can wait in the outbox and be drawn when it is sent
    (`Engine.render_image`)."""

    name: str  # a file name for it, e.g. "diagnosis-20261121.png"
    alt_text: str
    renderer: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Document:
    """A file to hand over (a PDF), described like an Image: a renderer declared by a flow (by name)
    and its JSON-able parameters, made when it is sent (`Engine.render_document`). Slack gets the
    file; LINE, which cannot send a PDF in a chat, a link to it on the bot's own server; the local
    chat a path."""

    name: str  # the file name, e.g. "security-policy-20261120.pdf"
    title: str  # what it is, in words (shown with the file or the link)
    renderer: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)
    media_type: str = "application/pdf"


@dataclass(frozen=True)
class Recipient:
    """Someone other than the person talking: a user or a channel on some platform."""

    platform: str
    workspace: str
    kind: Literal["user", "channel"]
    id: str
    label: str = ""  # who this is, for people reading logs or the local chat ("情報セキュリティ責任者")


@dataclass(frozen=True)
class Notice:
    """Replies addressed to someone else, e.g. a report to the organisation's responsible person."""

    to: Recipient
    replies: tuple["Reply", ...]


Reply = Text | Choices | Progress | Card | Image | Document | Notice


@dataclass
class Outbox:
    """Replies collected while handling one event."""

    replies: list[Reply] = field(default_factory=list)

    def text(self, text: str) -> None:
        self.replies.append(Text(text))

    def choices(self, prompt: str, options: list[Choice] | tuple[Choice, ...]) -> None:
        self.replies.append(Choices(prompt, tuple(options)))

    def add(self, reply: Reply) -> None:
        self.replies.append(reply)

    def notice(self, to: Recipient, replies: list[Reply]) -> None:
        self.replies.append(Notice(to, tuple(replies)))

    def last_choices(self) -> Choices | None:
        for reply in reversed(self.replies):
            if isinstance(reply, Choices):
                return reply
        return None
