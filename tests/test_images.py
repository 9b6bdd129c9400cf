"""Images with Japanese text: a real font from the package index, bars that follow the score."""
from __future__ import annotations

import io

from PIL import Image, ImageChops

from bot.images import (
    BACKGROUND,
    CHART_WIDTH,
    TRACK_COLOUR,
    _BARS_TOP,
    _TRACK_TOP,
    load_font,
    png_size,
    render_preview,
    render_score_chart,
)
from bot.rich_menu import HEIGHT, WIDTH, render_rich_menu


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


def test_chart_is_a_png_whose_height_grows_with_the_bars():
    one = open_png(render_score_chart(title="結果", bars=[("合計", 50, 100)]))
    four = open_png(render_score_chart(title="結果", bars=[("合計", 50, 100)] * 4, caption="2026年11月21日"))
    assert one.width == four.width == CHART_WIDTH and four.height > one.height


def test_japanese_glyphs_are_drawn_not_tofu():
    font = load_font(40)
    kanji = font.getmask("基本的対策")
    missing = font.getmask("\ue000\ue001\ue002\ue003\ue004")  # private-use: not in the font
    assert kanji.getbbox() is not None
    assert bytes(kanji) != bytes(missing)
    # Different kanji give different pictures (a tofu font draws the same box for each).
    assert bytes(font.getmask("診")) != bytes(font.getmask("断"))


def _far(colour, other) -> bool:
    return sum(abs(a - b) for a, b in zip(colour, other)) > 60


def filled_pixels(score: int) -> int:
    """Pixels on the middle row of the first track that are neither background nor track
    (anti-aliased edges of the rounded track are close to one of them)."""
    image = open_png(render_score_chart(title="結果", bars=[("合計", score, 100)]))
    y = _BARS_TOP + _TRACK_TOP + 20
    return sum(1 for x in range(image.width)
               if _far(image.getpixel((x, y)), BACKGROUND) and _far(image.getpixel((x, y)), TRACK_COLOUR))


def test_the_filled_bar_follows_the_score():
    quarter, three_quarters = filled_pixels(25), filled_pixels(75)
    assert three_quarters > 2.5 * quarter > 0
    assert filled_pixels(-5) == 0  # a negative score draws no fill


def test_preview_is_small_and_png_size_agrees_with_pillow():
    chart = render_score_chart(title="結果", bars=[("合計", 80, 100)] * 3)
    preview = render_preview(chart, max_side=240)
    assert max(png_size(preview)) <= 240
    assert png_size(preview) == open_png(preview).size
    assert png_size(chart) == open_png(chart).size


def test_rich_menu_image_has_the_size_line_expects_and_four_tiles(content):
    image = open_png(render_rich_menu(content.texts))
    assert image.size == (WIDTH, HEIGHT)
    colours = {image.getpixel((x, 20)) for x in (100, 700, 1300, 1900)}
    assert len(colours) == 4
    assert ImageChops.difference(image.crop((0, 0, 600, 843)), image.crop((625, 0, 1225, 843))).getbbox()
