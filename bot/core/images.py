"""PNG images with Japanese text (score charts, previews) for the chat adapters.

The font is Noto Sans CJK JP Regular from the `noto-cjk-sans-jp-regular`
package, so no system font and no download is needed. All functions here are
synchronous and CPU-bound: call them in a thread from async code.
"""
from __future__ import annotations

import io
import struct
import zlib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw, ImageFont

_FONT_PACKAGE = "noto_cjk_sans_jp_regular"
_FONT_DISTRIBUTION = "noto-cjk-sans-jp-regular"
_FONT_FILE = "NotoSansCJKjp-Regular.otf"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

Colour = tuple[int, int, int]

# Layout of the score chart, in pixels.
CHART_WIDTH = 1200
_MARGIN = 60
_BARS_TOP = 150  # first bar block starts here
_BAR_BLOCK = 130  # vertical space per bar
_TRACK_TOP = 62  # track offset inside a bar block
_TRACK_HEIGHT = 40
_TOTAL_TRACK_HEIGHT = 54  # the first bar (the total) is thicker
_SUPERSAMPLE = 4  # for anti-aliased rounded bars

_TITLE_SIZE = 52
_LABEL_SIZE = 34
_SCORE_SIZE = 42
_UNIT_SIZE = 28
_CAPTION_SIZE = 26

BACKGROUND: Colour = (255, 255, 255)
TRACK_COLOUR: Colour = (230, 233, 237)
_TITLE_COLOUR: Colour = (31, 41, 51)
_LABEL_COLOUR: Colour = (50, 63, 75)
_MUTED_COLOUR: Colour = (105, 114, 125)
_RULE_COLOUR: Colour = (220, 224, 229)
# (minimum ratio, bar fill, text colour with enough contrast on white)
_GRADES: tuple[tuple[float, Colour, Colour], ...] = (
    (0.8, (59, 170, 120), (24, 121, 78)),  # green
    (0.5, (240, 180, 41), (166, 106, 0)),  # amber
    (float("-inf"), (229, 83, 75), (186, 44, 36)),  # red
)


@lru_cache(maxsize=None)
def load_font(size: int) -> ImageFont.FreeTypeFont:
    """Noto Sans CJK JP Regular at `size` px, loaded once per size."""
    if size <= 0:
        raise ValueError(f"font size must be positive, got {size}")
    try:
        resource = resources.files(_FONT_PACKAGE).joinpath(_FONT_FILE)
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            f"the Japanese font is missing: install the package "
            f"{_FONT_DISTRIBUTION} (importable as {_FONT_PACKAGE})"
        ) from exc
    if not resource.is_file():
        raise RuntimeError(
            f"{_FONT_FILE} not found in the package {_FONT_DISTRIBUTION}; reinstall it"
        )
    if isinstance(resource, Path):
        # A plain file: FreeType reads it lazily, no copy in memory per size.
        return ImageFont.truetype(str(resource), size)
    return ImageFont.truetype(io.BytesIO(resource.read_bytes()), size)


def _grade(ratio: float) -> tuple[Colour, Colour]:
    """Bar fill and text colour for a score ratio."""
    for minimum, fill, text in _GRADES:
        if ratio >= minimum:
            return fill, text
    raise AssertionError("unreachable")  # the last grade has no minimum


def _fit(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> str:
    """`text`, shortened with an ellipsis if it is wider than `max_width`."""
    if font.getlength(text) <= max_width:
        return text
    while text and font.getlength(text + "…") > max_width:
        text = text[:-1]
    return text + "…"


@lru_cache(maxsize=16)
def _disc_mask(diameter: int) -> Image.Image:
    """An anti-aliased filled circle, `diameter` px: the two ends of every bar of that height."""
    s = _SUPERSAMPLE
    big = Image.new("L", (diameter * s, diameter * s), 0)
    ImageDraw.Draw(big).ellipse((0, 0, diameter * s - 1, diameter * s - 1), fill=255)
    return big.resize((diameter, diameter), Image.Resampling.LANCZOS)


def _rounded_bar(image: Image.Image, box: tuple[int, int, int, int], colour: Colour) -> None:
    """Paste an anti-aliased pill-shaped bar covering `box` (x0, y0, x1, y1).

    A bar at least as wide as it is high is two halves of a cached disc and a rectangle:
    supersampling the whole bar each time cost two thirds of a chart's rendering time."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    if width <= 0 or height <= 0:
        return
    if width >= height:
        disc, half = _disc_mask(height), height // 2
        mask = Image.new("L", (width, height), 0)
        mask.paste(disc.crop((0, 0, half, height)), (0, 0))
        mask.paste(disc.crop((height - half, 0, height, height)), (width - half, 0))
        if width > 2 * half:  # else the two halves already meet
            ImageDraw.Draw(mask).rectangle((half, 0, width - half - 1, height - 1), fill=255)
    else:
        s = _SUPERSAMPLE
        mask = Image.new("L", (width * s, height * s), 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, width * s - 1, height * s - 1), radius=width * s / 2, fill=255)
        mask = mask.resize((width, height), Image.Resampling.LANCZOS)
    image.paste(colour, (x0, y0, x1, y1), mask)


def chart_height(bar_count: int, *, caption: bool = False) -> int:
    """Pixel height of a score chart with `bar_count` bars."""
    return _BARS_TOP + _BAR_BLOCK * bar_count + (60 if caption else 24)


def render_score_chart(
    *, title: str, bars: Sequence[tuple[str, int, int]], caption: str = "", unit_template: str = " / {max}"
) -> bytes:
    """A horizontal bar chart of (label, score, max_score) rows, as PNG bytes.

    The first bar (the total) is drawn thicker. A negative score gives an
    empty bar; the number is printed in every case.
    """
    for label, _, max_score in bars:
        if max_score <= 0:
            raise ValueError(f"max_score must be positive for {label!r}, got {max_score}")

    width, height = CHART_WIDTH, chart_height(len(bars), caption=bool(caption))
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    inner = width - 2 * _MARGIN

    title_font = load_font(_TITLE_SIZE)
    draw.text(
        (_MARGIN, 96), _fit(title, title_font, inner), font=title_font,
        fill=_TITLE_COLOUR, anchor="ls",
    )
    draw.line((_MARGIN, 124, width - _MARGIN, 124), fill=_RULE_COLOUR, width=2)

    label_font = load_font(_LABEL_SIZE)
    score_font = load_font(_SCORE_SIZE)
    unit_font = load_font(_UNIT_SIZE)
    for index, (label, score, max_score) in enumerate(bars):
        top = _BARS_TOP + index * _BAR_BLOCK
        baseline = top + 46
        ratio = min(max(score / max_score, 0.0), 1.0)
        fill_colour, text_colour = _grade(score / max_score)

        # "72 / 100点", right-aligned above the track.
        unit = unit_template.format(max=max_score)
        number = str(score)
        unit_x = width - _MARGIN - unit_font.getlength(unit)
        draw.text((unit_x, baseline), unit, font=unit_font, fill=_MUTED_COLOUR, anchor="ls")
        number_x = unit_x - score_font.getlength(number)
        draw.text((number_x, baseline), number, font=score_font, fill=text_colour, anchor="ls")

        # The label, on its own line to the left, never running into the score.
        label_text = _fit(label, label_font, number_x - _MARGIN - 24)
        draw.text((_MARGIN, baseline), label_text, font=label_font, fill=_LABEL_COLOUR, anchor="ls")

        track_height = _TOTAL_TRACK_HEIGHT if index == 0 else _TRACK_HEIGHT
        y0 = top + _TRACK_TOP
        y1 = y0 + track_height
        _rounded_bar(image, (_MARGIN, y0, _MARGIN + inner, y1), TRACK_COLOUR)
        fill_width = round(inner * ratio)
        if fill_width > 0:
            _rounded_bar(image, (_MARGIN, y0, _MARGIN + fill_width, y1), fill_colour)

    if caption:
        caption_font = load_font(_CAPTION_SIZE)
        draw.text(
            (_MARGIN, height - 28), _fit(caption, caption_font, inner), font=caption_font,
            fill=_MUTED_COLOUR, anchor="ls",
        )

    return _to_png(image)


_PNG_COLOUR_TYPES = {"L": 0, "RGB": 2, "RGBA": 6}  # 8 bits a sample


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _to_png(image: Image.Image) -> bytes:
    """Encode an image as PNG bytes (deterministic, no metadata).

    Written here rather than by Pillow: Pillow tries every PNG row filter on every row, which
    cost 20 ms a chart even at compression level 0, while these flat-coloured images compress
    as well unfiltered (filter type 0 on every row): 7 ms, and a smaller file."""
    if image.mode not in _PNG_COLOUR_TYPES:
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    width, height = image.size
    raw, stride = memoryview(image.tobytes()), width * len(image.getbands())
    compressor = zlib.compressobj(3)
    parts = []
    for offset in range(0, stride * height, stride):
        parts.append(compressor.compress(b"\x00"))  # the row's filter type: none
        parts.append(compressor.compress(raw[offset:offset + stride]))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOUR_TYPES[image.mode], 0, 0, 0)
    return (_PNG_SIGNATURE + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", b"".join(parts))
            + _png_chunk(b"IEND", b""))


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of PNG bytes, read from the IHDR header."""
    if len(data) < 24 or data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not PNG data")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def render_preview(data: bytes, *, max_side: int = 240) -> bytes:
    """A smaller PNG of the PNG `data`, aspect ratio kept, longest side <= `max_side`."""
    if max_side <= 0:
        raise ValueError(f"max_side must be positive, got {max_side}")
    png_size(data)  # reject non-PNG input early
    with Image.open(io.BytesIO(data)) as source:
        image = source.copy()
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return _to_png(image)
