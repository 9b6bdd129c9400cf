"""PNG rendering: the score chart, the bundled Japanese font, previews."""
from __future__ import annotations

import io
from functools import lru_cache

import pytest
from PIL import Image, ImageChops, ImageDraw

from bot.core import images
from bot.core.images import (
    BACKGROUND,
    TRACK_COLOUR,
    load_font,
    png_size,
    render_preview,
    render_score_chart,
)

SAMPLE_BARS = [
    ("合計", 72, 100),
    ("基本的対策", 14, 20),
    ("従業員としての対策", 43, 52),
    ("組織としての対策", 23, 28),
]
MISSING_GLYPH = "\ue000"  # private use: not in Noto Sans CJK JP


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.load()
    return image.convert("RGB")


def test_chart_is_a_png_1200_wide_growing_with_bars():
    heights = []
    for count in (1, 2, 4):
        data = render_score_chart(title="診断結果", bars=SAMPLE_BARS[:count])
        image = open_png(data)
        assert image.width == 1200
        assert png_size(data) == image.size
        heights.append(image.height)
    assert heights[0] < heights[1] < heights[2]
    assert heights[2] - heights[1] >= 2 * 100  # room for two more bars


def test_chart_is_deterministic_and_caption_is_drawn():
    with_caption = render_score_chart(title="診断結果", bars=SAMPLE_BARS, caption="2026年11月21日 の自社診断")
    again = render_score_chart(title="診断結果", bars=SAMPLE_BARS, caption="2026年11月21日 の自社診断")
    without = render_score_chart(title="診断結果", bars=SAMPLE_BARS)
    assert with_caption == again
    assert png_size(with_caption)[1] > png_size(without)[1]
    # The caption strip at the bottom holds ink.
    image = open_png(with_caption)
    strip = image.crop((0, image.height - 55, image.width, image.height))
    assert ImageChops.difference(strip, Image.new("RGB", strip.size, BACKGROUND)).getbbox()


def test_chart_rejects_non_positive_max():
    with pytest.raises(ValueError):
        render_score_chart(title="x", bars=[("合計", 1, 0)])


def _text_image(text: str, size: int = 40) -> Image.Image:
    image = Image.new("L", (size * (len(text) + 1), size * 2), 0)
    ImageDraw.Draw(image).text((4, 4), text, font=load_font(size), fill=255)
    return image


def test_japanese_glyphs_are_real_not_tofu():
    font = load_font(40)
    missing = font.getmask(MISSING_GLYPH)
    for char in "基本的対策点合計":
        mask = font.getmask(char)
        assert mask.getbbox() is not None, char
        assert bytes(mask) != bytes(missing), char
    label = _text_image("基本的対策")
    tofu = _text_image(MISSING_GLYPH * 5)
    assert label.getbbox() is not None
    assert ImageChops.difference(label, tofu).getbbox() is not None
    # Each glyph differs from the others too (tofu boxes would all look alike).
    glyphs = {bytes(font.getmask(char)) for char in "基本的対策"}
    assert len(glyphs) == 5


def test_chart_draws_the_label_glyphs():
    real = render_score_chart(title="診断結果", bars=[("基本的対策", 10, 20)])
    tofu = render_score_chart(title="診断結果", bars=[(MISSING_GLYPH * 5, 10, 20)])
    assert ImageChops.difference(open_png(real), open_png(tofu)).getbbox() is not None


def test_font_is_cached_per_size():
    assert load_font(30) is load_font(30)
    assert load_font(30) is not load_font(31)
    assert load_font(31).size == 31


def test_missing_font_package_raises_clear_error(monkeypatch):
    monkeypatch.setattr(images, "_FONT_PACKAGE", "no_such_font_package_xyz")
    load_font.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="noto-cjk-sans-jp-regular"):
            load_font(12)
    finally:
        monkeypatch.undo()
        load_font.cache_clear()
    assert load_font(12).size == 12


@lru_cache(maxsize=1)
def _track_y() -> int:
    """Middle row of the track of a one-bar chart, found on an empty bar."""
    image = open_png(render_score_chart(title="t", bars=[("合計", 0, 100)]))
    rows = [
        y for y in range(image.height)
        if sum(1 for x in range(image.width) if image.getpixel((x, y)) == TRACK_COLOUR) > 600
    ]
    assert rows, "no track found"
    return (rows[0] + rows[-1]) // 2


def _track_row(image: Image.Image) -> list[tuple[int, int, int]]:
    """The pixels of the middle row of the (single) bar's track."""
    y = _track_y()
    return [image.getpixel((x, y)) for x in range(image.width)]


def _filled_fraction(score: int, max_score: int = 100) -> tuple[int, float]:
    """(filled pixels, filled / bar length) on the track row of a one-bar chart."""
    image = open_png(render_score_chart(title="t", bars=[("合計", score, max_score)]))
    row = _track_row(image)
    bar = [pixel for pixel in row if pixel != BACKGROUND]
    assert len(bar) > 1000  # the row really crosses the bar
    filled = sum(1 for pixel in bar if pixel != TRACK_COLOUR)
    return filled, filled / len(bar)


def test_fill_length_follows_score():
    low, low_fraction = _filled_fraction(25)
    high, high_fraction = _filled_fraction(75)
    assert high > 2 * low
    assert low_fraction == pytest.approx(0.25, abs=0.02)
    assert high_fraction == pytest.approx(0.75, abs=0.02)
    full, full_fraction = _filled_fraction(130)  # clamped to the track
    assert full_fraction == pytest.approx(1.0, abs=0.01)


def test_fill_colour_depends_on_ratio():
    def fill_colours(score: int) -> set[tuple[int, int, int]]:
        row = _track_row(open_png(render_score_chart(title="t", bars=[("合計", score, 100)])))
        return {pixel for pixel in row[100:200]}

    assert fill_colours(90) != fill_colours(60) != fill_colours(20)
    assert fill_colours(90) != fill_colours(20)


def test_negative_score_draws_no_fill_but_prints_number():
    filled, _ = _filled_fraction(-25)
    assert filled <= 2  # at most anti-aliased edge pixels
    negative = open_png(render_score_chart(title="t", bars=[("合計", -25, 100)]))
    positive = open_png(render_score_chart(title="t", bars=[("合計", 25, 100)]))
    zero = open_png(render_score_chart(title="t", bars=[("合計", 0, 100)]))
    # Same empty bar as zero, but the number area differs ("-25" vs "0").
    number_area = (800, 130, 1200, 210)
    assert ImageChops.difference(negative.crop(number_area), zero.crop(number_area)).getbbox()
    assert ImageChops.difference(negative, positive).getbbox()


def test_preview_is_smaller_and_png_size_agrees():
    chart = render_score_chart(title="診断結果", bars=SAMPLE_BARS, caption="2026年11月21日 の自社診断")
    for max_side in (240, 100):
        preview = render_preview(chart, max_side=max_side)
        image = Image.open(io.BytesIO(preview))
        assert image.format == "PNG"
        assert max(image.size) <= max_side
        assert max(image.size) >= max_side - 1
        assert png_size(preview) == image.size
        chart_w, chart_h = png_size(chart)
        assert image.width / image.height == pytest.approx(chart_w / chart_h, rel=0.03)


def test_png_size_reads_header_and_rejects_other_data():
    buffer = io.BytesIO()
    Image.new("RGB", (37, 19), "white").save(buffer, format="PNG")
    assert png_size(buffer.getvalue()) == (37, 19)
    with pytest.raises(ValueError):
        png_size(b"GIF89a" + b"\0" * 30)
    with pytest.raises(ValueError):
        render_preview(b"not a png")


def test_rich_menu_image_has_the_size_line_expects_and_four_tiles(content):
    from PIL import Image as PILImage
    from PIL import ImageChops

    from bot.adapters.line.rich_menu import HEIGHT, WIDTH, render_rich_menu

    image = PILImage.open(io.BytesIO(render_rich_menu(content.texts))).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    assert len({image.getpixel((x, 20)) for x in (100, 700, 1300, 1900)}) == 4
    assert ImageChops.difference(image.crop((0, 0, 600, 843)), image.crop((625, 0, 1225, 843))).getbbox()


def test_a_bar_of_any_width_is_drawn():
    """Every fill width a score can give, including a bar exactly as wide as it is high (the two
    rounded ends meet): the bar's centre is painted and nothing outside its box."""
    from bot.core.images import _rounded_bar

    for height in (40, 41, 54):
        for width in range(1, 3 * height):
            image = Image.new("RGB", (200, 80), BACKGROUND)
            _rounded_bar(image, (10, 10, 10 + width, 10 + height), (229, 83, 75))
            assert image.getpixel((10 + width // 2, 10 + height // 2)) != BACKGROUND, (width, height)
            assert ImageChops.difference(image, Image.new("RGB", image.size, BACKGROUND)).getbbox()[2] <= 10 + width
