"""The local chat: the engine in a terminal, replies rendered as plain text."""
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from bot.content.loader import Texts
from bot.core.engine import Engine
from bot.core.events import IncomingEvent
from bot.core.replies import (
    Card,
    Choices,
    Document,
    Image,
    Notice,
    Progress,
    Reply,
    Text,
)
from bot.store.keys import ConversationKey

PLATFORM = "local"
BAR_WIDTH = 20


def _bar(texts: Texts, ratio: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, ratio)) * width)
    return texts["local.bar_filled"] * filled + texts["local.bar_empty"] * (width - filled)


def render_reply(reply: Reply, *, texts: Texts, image_paths: dict[str, Path] | None = None) -> str:
    if isinstance(reply, Text):
        return reply.text
    if isinstance(reply, Choices):
        options = "\n".join(f"  {i}. {option.label}" for i, option in enumerate(reply.options, start=1))
        return f"{reply.prompt}\n{options}"
    if isinstance(reply, Progress):
        label = f" {reply.label}" if reply.label else ""
        return f"[{reply.current}/{reply.total}]{label} {_bar(texts, reply.current / reply.total, 25)}"
    if isinstance(reply, Card):
        lines = [f"== {reply.title} =="]
        width = max((len(f.label) for f in reply.fields), default=0)
        for field in reply.fields:
            bar = f"  {_bar(texts, field.ratio)}" if field.ratio is not None else ""
            lines.append(f"{field.label.ljust(width, '　')}  {field.value}{bar}")
        if reply.body:
            lines.append(reply.body)
        if reply.footer:
            lines.append(reply.footer)
        return "\n".join(lines)
    if isinstance(reply, Image):
        path = (image_paths or {}).get(reply.name)
        return texts.render("local.image", alt=reply.alt_text) + (f"\n{path}" if path else "")
    if isinstance(reply, Document):
        path = (image_paths or {}).get(reply.name)
        return texts.render("local.document", title=reply.title) + (f"\n{path}" if path else "")
    if isinstance(reply, Notice):
        who = reply.to.label or reply.to.id
        inner = render_replies(list(reply.replies), texts=texts, image_paths=image_paths)
        indented = "\n".join(f"  | {line}" if line else "  |" for line in inner.splitlines())
        return texts.render("local.notice", who=who, kind=reply.to.kind, id=reply.to.id) + "\n" + indented
    raise TypeError(f"no local rendering for {type(reply).__name__}")


def render_replies(replies: list[Reply], *, texts: Texts, image_paths: dict[str, Path] | None = None) -> str:
    return "\n\n".join(render_reply(r, texts=texts, image_paths=image_paths) for r in replies)


def _files(replies: list[Reply]) -> list[Image | Document]:
    found: list[Image | Document] = []
    for reply in replies:
        if isinstance(reply, (Image, Document)):
            found.append(reply)
        elif isinstance(reply, Notice):
            found.extend(_files(list(reply.replies)))
    return found


async def save_images(engine: Engine, replies: list[Reply], directory: Path) -> dict[str, Path]:
    """Draw every image (and make every document, e.g. a PDF) in the replies into `directory`;
    name -> absolute path."""
    paths = {}
    for item in _files(replies):
        if isinstance(item, Document):
            data = await engine.render_document(item)
        else:
            data = await engine.render_image(item)
        directory.mkdir(parents=True, exist_ok=True)
        path = (directory / item.name).resolve()
        await asyncio.to_thread(path.write_bytes, data)
        paths[item.name] = path
    return paths


class LocalChat:
    """One person talking to the engine, as `bot chat` and the flow tests do."""

    def __init__(self, engine: Engine, *, user: str, workspace: str = "local", image_dir: Path | None = None):
        self.engine = engine
        self.who = ConversationKey(PLATFORM, workspace, user)
        self.image_dir = image_dir

    async def render(self, replies: list[Reply]) -> str:
        """The replies as terminal text, images saved under image_dir (their paths printed)."""
        paths = await save_images(self.engine, replies, self.image_dir) if self.image_dir else {}
        return render_replies(replies, texts=self.engine.content.texts, image_paths=paths)

    async def start(self) -> list[Reply]:
        return await self.engine.handle(IncomingEvent.start(self.who, event_id=uuid.uuid4().hex))


    async def send(self, text: str, *, event_id: str | None = None) -> list[Reply]:
        return await self.engine.handle(
            IncomingEvent.message(self.who, text, event_id=event_id or uuid.uuid4().hex))

    async def click(self, value: str, *, event_id: str | None = None) -> list[Reply]:
        return await self.engine.handle(IncomingEvent.choice(self.who, value, event_id=event_id or uuid.uuid4().hex))
