"""The local chat: the engine in a terminal, replies rendered as plain text."""
from __future__ import annotations

import uuid

from ..engine import Engine
from ..events import IncomingEvent
from ..keys import ConversationKey
from ..replies import Card, Choices, Image, Progress, Reply, Text

PLATFORM = "local"
BAR_WIDTH = 20


def _bar(ratio: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, ratio)) * width)
    return "■" * filled + "□" * (width - filled)


def render_reply(reply: Reply) -> str:
    if isinstance(reply, Text):
        return reply.text
    if isinstance(reply, Choices):
        options = "\n".join(f"  {i}. {option.label}" for i, option in enumerate(reply.options, start=1))
        return f"{reply.prompt}\n{options}"
    if isinstance(reply, Progress):
        label = f" {reply.label}" if reply.label else ""
        return f"[{reply.current}/{reply.total}]{label} {_bar(reply.current / reply.total, 25)}"
    if isinstance(reply, Card):
        lines = [f"== {reply.title} =="]
        width = max((len(f.label) for f in reply.fields), default=0)
        for field in reply.fields:
            bar = f"  {_bar(field.ratio)}" if field.ratio is not None else ""
            lines.append(f"{field.label.ljust(width, '　')}  {field.value}{bar}")
        if reply.body:
            lines.append(reply.body)
        if reply.footer:
            lines.append(reply.footer)
        return "\n".join(lines)
    if isinstance(reply, Image):
        return f"[画像] {reply.alt_text}: {reply.path.resolve()}"
    raise TypeError(f"no local rendering for {type(reply).__name__}")


def render_replies(replies: list[Reply]) -> str:
    return "\n\n".join(render_reply(r) for r in replies)


class LocalChat:
    """One person talking to the engine, as `bot chat` and the flow tests do."""

    def __init__(self, engine: Engine, *, user: str, workspace: str = "local"):
        self.engine = engine
        self.who = ConversationKey(PLATFORM, workspace, user)

    async def start(self) -> list[Reply]:
        return await self.engine.handle(IncomingEvent.start(self.who, event_id=uuid.uuid4().hex))

    async def send(self, text: str, *, event_id: str | None = None) -> list[Reply]:
        return await self.engine.handle(
            IncomingEvent.message(self.who, text, event_id=event_id or uuid.uuid4().hex))

    async def click(self, value: str, *, event_id: str | None = None) -> list[Reply]:
        return await self.engine.handle(IncomingEvent.choice(self.who, value, event_id=event_id or uuid.uuid4().hex))
