"""The LINE rich menu: four tiles (自社診断 / ポイント学習 / 緊急相談 / 進捗), image drawn here."""
from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from .images import load_font

WIDTH, HEIGHT = 2500, 843  # LINE's compact full-width size


@dataclass(frozen=True)
class Tile:
    label: str
    note: str
    emblem: str
    colour: tuple[int, int, int]
    action: dict  # a LINE action object


TILES: tuple[Tile, ...] = (
    Tile("自社診断", "25問で会社の対策を確認", "診", (29, 53, 87),
         {"type": "postback", "data": "start_diagnosis", "displayText": "自社診断", "label": "自社診断"}),
    Tile("ポイント学習", "5分で学んで修了証", "学", (42, 111, 151),
         {"type": "postback", "data": "start_lessons", "displayText": "ポイント学習", "label": "ポイント学習"}),
    Tile("緊急相談", "困ったらすぐ、初動を案内", "急", (178, 34, 34),
         {"type": "postback", "data": "choose_incident", "displayText": "緊急相談", "label": "緊急相談"}),
    Tile("進捗", "結果と学習の進み具合", "進", (61, 90, 64),
         {"type": "postback", "data": "show_progress", "displayText": "進捗", "label": "進捗"}),
)


def rich_menu_request() -> dict:
    """The body of the Messaging API's create-rich-menu call."""
    width = WIDTH // len(TILES)
    return {
        "size": {"width": WIDTH, "height": HEIGHT},
        "selected": True,
        "name": "security-desk-main",
        "chatBarText": "メニュー",
        "areas": [
            {"bounds": {"x": i * width, "y": 0, "width": width if i < len(TILES) - 1 else WIDTH - i * width,
                        "height": HEIGHT},
             "action": tile.action}
            for i, tile in enumerate(TILES)
        ],
    }


def render_rich_menu() -> bytes:
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
        draw.text((centre, 240), tile.emblem, font=emblem_font, fill=tile.colour, anchor="mm")
        draw.text((centre, 540), tile.label, font=label_font, fill=(255, 255, 255), anchor="mm")
        draw.text((centre, 680), tile.note, font=note_font, fill=(230, 236, 242), anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
