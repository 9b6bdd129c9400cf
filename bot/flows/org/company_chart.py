"""The company report's picture: participation, the category means beside the company's own answer,
and the distribution of scores, as one PNG with Japanese labels (the packaged font, bot/core/images.py).

Described in a reply as the renderer COMPANY_CHART with JSON-able parameters (so it can wait in
the outbox) and drawn off the event loop when it is sent.
"""
from __future__ import annotations

from typing import Any, Sequence

from PIL import Image, ImageDraw

from bot.core.images import (
    BACKGROUND,
    CHART_WIDTH,
    TRACK_COLOUR,
    _fit,
    _rounded_bar,
    _to_png,
    load_font,
)

COMPANY_CHART = "company_chart"

_MARGIN = 60
_TITLE_SIZE = 48
_HEADING_SIZE = 34
_LABEL_SIZE = 28
_VALUE_SIZE = 28
_CAPTION_SIZE = 24
_ROW = 78  # a bar row: label line and track
_TRACK = 26
_SECTION_GAP = 36
_HEADING = 64

_INK = (31, 41, 51)
_LABEL = (50, 63, 75)
_MUTED = (105, 114, 125)
_RULE = (220, 224, 229)
# One colour per series (employees, the company, ...); distinguishable in grey print too.
SERIES_COLOURS = ((47, 111, 179), (230, 126, 34), (59, 170, 120))

Row = Sequence[Any]  # (label, value, maximum, value text, series)


def _height(sections: Sequence[dict[str, Any]], caption: bool) -> int:
    height = 140
    for section in sections:
        height += _HEADING + (40 if section.get("legend") else 0) + _ROW * len(section["rows"]) + _SECTION_GAP
    return height + (50 if caption else 10)


def render_company_chart(*, title: str, sections: Sequence[dict[str, Any]], caption: str = "") -> bytes:
    """Sections of horizontal bars: each {"heading", "rows": [(label, value, maximum, value text,
    series)], "legend": [(series, label)]}. A bar's length is value / maximum (a negative value draws
    none); its colour is its series'."""
    width, height = CHART_WIDTH, _height(sections, bool(caption))
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    inner = width - 2 * _MARGIN
    title_font, heading_font = load_font(_TITLE_SIZE), load_font(_HEADING_SIZE)
    label_font, value_font = load_font(_LABEL_SIZE), load_font(_VALUE_SIZE)
    draw.text((_MARGIN, 90), _fit(title, title_font, inner), font=title_font, fill=_INK, anchor="ls")
    draw.line((_MARGIN, 116, width - _MARGIN, 116), fill=_RULE, width=2)
    y = 140
    for section in sections:
        draw.text((_MARGIN, y + 44), _fit(section["heading"], heading_font, inner), font=heading_font, fill=_INK,
                  anchor="ls")
        y += _HEADING
        legend = section.get("legend") or []
        if legend:
            x = _MARGIN
            for series, label in legend:
                colour = SERIES_COLOURS[int(series) % len(SERIES_COLOURS)]
                draw.rounded_rectangle((x, y + 6, x + 26, y + 30), radius=5, fill=colour)
                draw.text((x + 36, y + 28), label, font=label_font, fill=_LABEL, anchor="ls")
                x += 36 + int(label_font.getlength(label)) + 40
            y += 40
        for label, value, maximum, text, series in section["rows"]:
            baseline = y + 30
            value_x = width - _MARGIN - value_font.getlength(text)
            draw.text((value_x, baseline), text, font=value_font, fill=_INK, anchor="ls")
            draw.text((_MARGIN, baseline), _fit(label, label_font, value_x - _MARGIN - 24), font=label_font,
                      fill=_LABEL, anchor="ls")
            top = y + 42
            _rounded_bar(image, (_MARGIN, top, _MARGIN + inner, top + _TRACK), TRACK_COLOUR)
            ratio = min(max(float(value) / float(maximum), 0.0), 1.0) if maximum else 0.0
            fill = round(inner * ratio)
            if fill > 0:
                _rounded_bar(image, (_MARGIN, top, _MARGIN + max(fill, _TRACK), top + _TRACK),
                             SERIES_COLOURS[int(series) % len(SERIES_COLOURS)])
            y += _ROW
        y += _SECTION_GAP
    if caption:
        caption_font = load_font(_CAPTION_SIZE)
        draw.text((_MARGIN, height - 24), _fit(caption, caption_font, inner), font=caption_font, fill=_MUTED,
                  anchor="ls")
    return _to_png(image)


async def draw_company_chart(params: dict[str, Any], services: Any) -> bytes:
    return await services.offload.run(render_company_chart, **params)
