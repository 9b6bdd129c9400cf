"""Neutral replies -> Slack Block Kit, within Slack's limits.

Pure functions: no Slack calls here. Limits (api.slack.com/reference/block-kit):
50 blocks a message, 3000 characters a section text, 10 fields a section,
25 elements an actions block, 75 characters a button label, 150 a header.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

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

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_ACTIONS = 25
MAX_BUTTON_TEXT = 75
MAX_HEADER_TEXT = 150
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK_TEXT = 3000
CHOICE_ACTION_PREFIX = "choice:"
BAR_WIDTH = 10


@dataclass(frozen=True)
class SlackMessage:
    text: str  # fallback for notifications and clients without blocks
    blocks: list[dict[str, Any]]


def escape(text: str) -> str:
    """Slack mrkdwn control characters (api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_text(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Chunks of at most `limit` characters, cut at line breaks where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single very long line
            if current:
                chunks.append(current)
                current = ""
            cut = _safe_cut(line, limit)
            chunks.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


def _safe_cut(line: str, limit: int) -> int:
    """A cut at or before `limit` that does not split an escape like '&amp;'."""
    amp = line.rfind("&", max(0, limit - 5), limit)
    if amp != -1 and ";" not in line[amp:limit]:
        return amp
    return limit


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _bar(ratio: float) -> str:
    filled = round(max(0.0, min(1.0, ratio)) * BAR_WIDTH)
    return "▰" * filled + "▱" * (BAR_WIDTH - filled)


class _BlockIds:
    """block_id values unique within one message."""

    def __init__(self) -> None:
        self.count = 0

    def next(self, kind: str) -> str:
        self.count += 1
        return f"{kind}-{self.count}"


def text_blocks(reply: Text) -> list[dict[str, Any]]:
    # Escape first, then split: escaping makes the text longer.
    return [_section(chunk) for chunk in split_text(escape(reply.text))]


def choices_blocks(reply: Choices, ids: _BlockIds) -> list[dict[str, Any]]:
    blocks = [_section(chunk) for chunk in split_text(escape(reply.prompt))]
    group = ids.next("choices")
    for start in range(0, len(reply.options), MAX_ACTIONS):
        part = reply.options[start:start + MAX_ACTIONS]
        blocks.append({
            "type": "actions",
            "block_id": f"{group}-{start // MAX_ACTIONS}",
            "elements": [
                {
                    "type": "button",
                    "action_id": f"{CHOICE_ACTION_PREFIX}{start + i}",
                    "text": {"type": "plain_text", "text": _clip(option.label, MAX_BUTTON_TEXT), "emoji": True},
                    "value": option.value[:MAX_BUTTON_VALUE],
                }
                for i, option in enumerate(part)
            ],
        })
    return blocks


def progress_blocks(reply: Progress) -> list[dict[str, Any]]:
    label = f" {escape(reply.label)}" if reply.label else ""
    text = f"*{reply.current}/{reply.total}*{label}  {_bar(reply.current / reply.total)}"
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}]


def card_blocks(reply: Card) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(reply.title, MAX_HEADER_TEXT), "emoji": True}}
    ]
    fields = []
    for field in reply.fields:
        bar = f"\n{_bar(field.ratio)}" if field.ratio is not None else ""
        fields.append({"type": "mrkdwn", "text": _clip(f"*{escape(field.label)}*\n{escape(field.value)}{bar}",
                                                       MAX_FIELD_TEXT)})
    for start in range(0, len(fields), MAX_FIELDS):
        blocks.append({"type": "section", "fields": fields[start:start + MAX_FIELDS]})
    if reply.body:
        blocks += [_section(chunk) for chunk in split_text(escape(reply.body))]
    if reply.footer:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(reply.footer)}]})
    return blocks


def fallback_text(reply: Reply) -> str:
    if isinstance(reply, Text):
        return reply.text
    if isinstance(reply, Choices):
        return reply.prompt
    if isinstance(reply, Card):
        return " / ".join([reply.title] + [f"{f.label} {f.value}" for f in reply.fields])
    if isinstance(reply, Progress):
        return f"{reply.current}/{reply.total}"
    return ""


def reply_blocks(reply: Reply, ids: _BlockIds) -> list[dict[str, Any]]:
    if isinstance(reply, Text):
        return text_blocks(reply)
    if isinstance(reply, Choices):
        return choices_blocks(reply, ids)
    if isinstance(reply, Progress):
        return progress_blocks(reply)
    if isinstance(reply, Card):
        return card_blocks(reply)
    raise TypeError(f"{type(reply).__name__} is not rendered as blocks")


Planned = SlackMessage | Image | Document | Notice


def plan_delivery(replies: list[Reply]) -> Iterator[Planned]:
    """Messages (each ≤ 50 blocks), images, files and notices, in the order the replies came."""
    ids = _BlockIds()
    blocks: list[dict[str, Any]] = []
    texts: list[str] = []

    def flush() -> Iterator[SlackMessage]:
        if blocks:
            yield SlackMessage(_clip("\n".join(t for t in texts if t), MAX_FALLBACK_TEXT), list(blocks))
            blocks.clear()
            texts.clear()

    for reply in replies:
        if isinstance(reply, (Image, Document, Notice)):
            yield from flush()
            yield reply
            continue
        new = reply_blocks(reply, ids)
        if len(blocks) + len(new) > MAX_BLOCKS:
            yield from flush()
        while len(new) > MAX_BLOCKS:  # one enormous reply
            blocks.extend(new[:MAX_BLOCKS])
            texts.append(fallback_text(reply))
            new = new[MAX_BLOCKS:]
            yield from flush()
        blocks.extend(new)
        texts.append(fallback_text(reply))
    yield from flush()


def home_view(title: str, replies: list[Reply]) -> dict[str, Any]:
    """An App Home tab built from neutral replies (no images, files or notices there)."""
    ids = _BlockIds()
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(title, MAX_HEADER_TEXT), "emoji": True}}
    ]
    for reply in replies:
        if not isinstance(reply, (Image, Document, Notice)):
            blocks += reply_blocks(reply, ids)
    return {"type": "home", "blocks": blocks[:100]}


def mark_chosen(blocks: list[dict[str, Any]], *, block_id: str, label: str) -> list[dict[str, Any]]:
    """The clicked message's blocks with that choice group's buttons replaced by what was chosen."""
    group = block_id.rsplit("-", 1)[0]
    updated: list[dict[str, Any]] = []
    replaced = False
    for block in blocks:
        if block.get("type") == "actions" and str(block.get("block_id", "")).rsplit("-", 1)[0] == group:
            if not replaced:
                updated.append({"type": "context", "block_id": f"{group}-chosen",
                                "elements": [{"type": "mrkdwn", "text": f"✅ *{escape(label)}*"}]})
                replaced = True
            continue
        updated.append(block)
    return updated
