"""The LINE rich menu: four tiles (自社診断 / ポイント学習 / 緊急相談 / 進捗), image drawn here."""
from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.content.loader import Texts
from bot.core.images import load_font

WIDTH, HEIGHT = 2500, 843  # LINE's compact full-width size


@dataclass(frozen=True)
class Tile:
    key: str  # texts.yaml: richmenu.<key> (label), richmenu.<key>_note, richmenu.<key>_emblem
    trigger: str  # the postback the tile sends
    colour: tuple[int, int, int]


TILES: tuple[Tile, ...] = (
    Tile("diagnosis", "start_diagnosis", (29, 53, 87)),
    Tile("lesson", "start_lessons", (42, 111, 151)),
    Tile("incident", "choose_incident", (178, 34, 34)),
    Tile("progress", "show_progress", (61, 90, 64)),
)


def _label(texts: Texts, tile: Tile) -> str:
    return texts[f"richmenu.{tile.key}"]


def rich_menu_request(texts: Texts) -> dict:
    """The body of the Messaging API's create-rich-menu call."""
    width = WIDTH // len(TILES)
    return {
        "size": {"width": WIDTH, "height": HEIGHT},
        "selected": True,
        "name": "security-desk-main",
        "chatBarText": texts["richmenu.chat_bar"],
        "areas": [
            {"bounds": {"x": i * width, "y": 0, "width": width if i < len(TILES) - 1 else WIDTH - i * width,
                        "height": HEIGHT},
             "action": {"type": "postback", "data": tile.trigger, "displayText": _label(texts, tile),
                        "label": _label(texts, tile)}}
            for i, tile in enumerate(TILES)
        ],
    }


def render_rich_menu(texts: Texts) -> bytes:
    """The menu image as PNG (CPU-bound)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    width = WIDTH // len(TILES)
    emblem_font, label_font, note_font = load_font(170), load_font(96), load_font(46)
    for i, tile in enumerate(TILES):
        left = i * width
        draw.rectangle((left, 0, left + width, HEIGHT), fill=tile.colour)
        if i:
            draw.line((left, 60, left, HEIGHT - 60), fill=(255, 255, 255), width=4)
        centre = left + width // 2
        draw.ellipse((centre - 150, 90, centre + 150, 390), fill=(255, 255, 255))
        label = _label(texts, tile)
        draw.text((centre, 240), texts[f"richmenu.{tile.key}_emblem"], font=emblem_font, fill=tile.colour,
                  anchor="mm")
        draw.text((centre, 540), label, font=label_font, fill=(255, 255, 255), anchor="mm")
        draw.text((centre, 680), texts[f"richmenu.{tile.key}_note"], font=note_font, fill=(230, 236, 242),
                  anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
