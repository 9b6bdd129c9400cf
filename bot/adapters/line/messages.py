"""Neutral replies -> LINE message objects (as the Messaging API's JSON), within LINE's limits.

Pure functions. Limits (developers.line.biz/en/reference/messaging-api): 5
messages a reply or push, 5000 characters a text, 13 quick reply items, 20
characters a quick reply label, 300 characters of postback data, 400
characters of altText, images as HTTPS URLs. On a phone, short messages read
better than many bubbles: consecutive texts are joined, and a choice list
becomes quick replies under the last text.
"""
from __future__ import annotations

from typing import Any

from bot.core.replies import (
    Card,
    Choice,
    Choices,
    Document,
    Image,
    Notice,
    Progress,
    Reply,
    Text,
)

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_QUICK_REPLIES = 13
MAX_ACTION_LABEL = 20
MAX_POSTBACK_DATA = 300
MAX_ALT_TEXT = 400
BAR_BLOCKS = 10

Message = dict[str, Any]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _split(text: str, limit: int = MAX_TEXT) -> list[str]:
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    parts.append(text)
    return parts


def _postback(choice: Choice, label: str | None = None) -> dict[str, Any]:
    return {
        "type": "postback",
        "label": label or _clip(choice.label, MAX_ACTION_LABEL),
        "data": choice.value[:MAX_POSTBACK_DATA],
        # What the user appears to have said: the chosen answer stays visible in the chat.
        "displayText": _clip(choice.label, 300),
    }


def _progress_line(reply: Progress) -> str:
    filled = round(reply.current / reply.total * BAR_BLOCKS)
    label = f" {reply.label}" if reply.label else ""
    return f"{reply.current}/{reply.total}{label} " + "▰" * filled + "▱" * (BAR_BLOCKS - filled)


def _bar_colour(ratio: float) -> str:
    return "#2E9E6B" if ratio >= 0.8 else "#E0A100" if ratio >= 0.5 else "#D64545"


def card_flex(card: Card) -> Message:
    rows: list[dict[str, Any]] = []
    for field in card.fields:
        row: dict[str, Any] = {
            "type": "box", "layout": "vertical", "spacing": "xs", "contents": [{
                "type": "box", "layout": "horizontal", "contents": [
                    {"type": "text", "text": field.label, "size": "sm", "flex": 3, "wrap": True, "color": "#333333"},
                    {"type": "text", "text": field.value, "size": "sm", "flex": 2, "align": "end",
                     "weight": "bold", "color": "#111111"},
                ],
            }],
        }
        if field.ratio is not None:
            ratio = max(0.0, min(1.0, field.ratio))
            row["contents"].append({
                "type": "box", "layout": "vertical", "height": "8px", "backgroundColor": "#E5E7EB",
                "cornerRadius": "4px", "contents": [{
                    "type": "box", "layout": "vertical", "height": "8px", "cornerRadius": "4px",
                    "width": f"{max(1, round(ratio * 100))}%",
                    "backgroundColor": _bar_colour(ratio) if ratio > 0 else "#E5E7EB",
                    "contents": [{"type": "filler"}],
                }],
            })
        rows.append(row)
    if card.body:
        rows.append({"type": "text", "text": card.body, "size": "sm", "wrap": True, "color": "#444444"})
    bubble: dict[str, Any] = {
        "type": "bubble",
        "header": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": card.title, "weight": "bold", "size": "lg", "wrap": True}]},
        "body": {"type": "box", "layout": "vertical", "spacing": "lg", "contents": rows or [{"type": "filler"}]},
    }
    if card.footer:
        bubble["footer"] = {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": card.footer, "size": "xs", "color": "#888888", "wrap": True}]}
    summary = " / ".join([card.title] + [f"{f.label} {f.value}" for f in card.fields])
    return {"type": "flex", "altText": _clip(summary, MAX_ALT_TEXT), "contents": bubble}


def choices_flex(reply: Choices) -> Message:
    """More choices than quick replies hold: a bubble with one button each."""
    return {
        "type": "flex",
        "altText": _clip(reply.prompt, MAX_ALT_TEXT),
        "contents": {
            "type": "bubble",
            "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
                {"type": "text", "text": _clip(reply.prompt, 2000), "wrap": True, "size": "sm"},
                *({"type": "button", "style": "secondary", "height": "sm", "action": _postback(option)}
                  for option in reply.options),
            ]},
        },
    }


def render(replies: list[Reply], images: dict[str, tuple[str, str]],
           documents: dict[str, str] | None = None) -> list[Message]:
    """LINE messages for the replies (notices excluded), with texts joined and choices as quick replies.

    `images` maps an Image's name to its (original, preview) HTTPS URLs; `documents` a Document's
    name to the text that gives its link (LINE sends no PDF in a chat).
    """
    messages: list[Message] = []
    texts: list[str] = []

    def flush_text(quick: tuple[Choice, ...] = (), numbered: bool = False) -> None:
        if not texts:
            return
        parts = _split("\n\n".join(texts))
        texts.clear()
        for part in parts:
            messages.append({"type": "text", "text": part})
        if quick:
            messages[-1]["quickReply"] = {"items": [
                {"type": "action", "action": _postback(o, str(i) if numbered else None)}
                for i, o in enumerate(quick, start=1)]}

    for reply in replies:
        if isinstance(reply, Text):
            texts.append(reply.text)
        elif isinstance(reply, Progress):
            texts.append(_progress_line(reply))
        elif isinstance(reply, Choices):
            if len(reply.options) <= MAX_QUICK_REPLIES:
                if any(len(o.label) > MAX_ACTION_LABEL for o in reply.options):
                    # Long answers do not fit on quick reply buttons: list them, number the buttons.
                    listed = "\n".join(f"{i}. {o.label}" for i, o in enumerate(reply.options, start=1))
                    texts.append(f"{reply.prompt}\n\n{listed}")
                    flush_text(reply.options, numbered=True)
                else:
                    texts.append(reply.prompt)
                    flush_text(reply.options)
            else:
                flush_text()
                messages.append(choices_flex(reply))
        elif isinstance(reply, Card):
            flush_text()
            messages.append(card_flex(reply))
        elif isinstance(reply, Image):
            flush_text()
            original, preview = images[reply.name]
            messages.append({"type": "image", "originalContentUrl": original, "previewImageUrl": preview})
        elif isinstance(reply, Document):
            texts.append((documents or {})[reply.name])
        elif isinstance(reply, Notice):
            continue  # delivered to its recipient, not in this conversation
    flush_text()
    return messages


def batches(messages: list[Message]) -> list[list[Message]]:
    """Groups of at most 5 (one reply, then pushes for the rest)."""
    return [messages[i:i + MAX_MESSAGES] for i in range(0, len(messages), MAX_MESSAGES)]
