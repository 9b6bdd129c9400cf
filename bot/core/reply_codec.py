"""Replies as JSON, so that they can wait in the outbox (and survive a restart) until sent."""
from __future__ import annotations

import json
from typing import Any, Sequence

from bot.core.replies import (
    Card,
    Choice,
    Choices,
    Document,
    Field,
    Image,
    Notice,
    Progress,
    Recipient,
    Reply,
    Text,
)


def _encode(reply: Reply) -> dict[str, Any]:
    if isinstance(reply, Text):
        return {"type": "text", "text": reply.text}
    if isinstance(reply, Choices):
        return {"type": "choices", "prompt": reply.prompt, "options": [[o.label, o.value] for o in reply.options]}
    if isinstance(reply, Progress):
        return {"type": "progress", "current": reply.current, "total": reply.total, "label": reply.label}
    if isinstance(reply, Card):
        return {"type": "card", "title": reply.title, "body": reply.body, "footer": reply.footer,
                "fields": [[f.label, f.value, f.ratio] for f in reply.fields]}
    if isinstance(reply, Image):
        return {"type": "image", "name": reply.name, "alt": reply.alt_text, "renderer": reply.renderer,
                "params": reply.params}
    if isinstance(reply, Document):
        return {"type": "document", "name": reply.name, "title": reply.title, "renderer": reply.renderer,
                "params": reply.params, "media_type": reply.media_type}
    if isinstance(reply, Notice):
        to = reply.to
        return {"type": "notice", "to": [to.platform, to.workspace, to.kind, to.id, to.label],
                "replies": [_encode(r) for r in reply.replies]}
    raise TypeError(f"cannot encode {type(reply).__name__}")


def _decode(data: dict[str, Any]) -> Reply:
    kind = data["type"]
    if kind == "text":
        return Text(data["text"])
    if kind == "choices":
        return Choices(data["prompt"], tuple(Choice(label, value) for label, value in data["options"]))
    if kind == "progress":
        return Progress(data["current"], data["total"], data["label"])
    if kind == "card":
        return Card(data["title"], tuple(Field(label, value, ratio) for label, value, ratio in data["fields"]),
                    data["body"], data["footer"])
    if kind == "image":
        return Image(data["name"], data["alt"], data["renderer"], data["params"])
    if kind == "document":
        return Document(data["name"], data["title"], data["renderer"], data["params"], data["media_type"])
    if kind == "notice":
        platform, workspace, to_kind, address, label = data["to"]
        return Notice(Recipient(platform, workspace, to_kind, address, label),
                      tuple(_decode(r) for r in data["replies"]))
    raise ValueError(f"unknown reply type {kind!r}")


def encode_replies(replies: Sequence[Reply]) -> str:
    return json.dumps([_encode(r) for r in replies], ensure_ascii=False, separators=(",", ":"))


def decode_replies(raw: str | bytes) -> list[Reply]:
    return [_decode(item) for item in json.loads(raw)]
