"""PDF documents with Japanese text (a policy a company publishes), built with fpdf2.

The font is the same packaged Noto Sans CJK JP Regular as the images (`bot.core.images`):
nothing is downloaded and no system font is needed. reportlab cannot embed it (its TTFont
refuses CFF-based OpenType: "postscript outlines are not supported"); fpdf2 embeds a subset
of it (FontFile3), so a policy of two pages is about 30 KB.

Lines are broken here rather than by fpdf2, so that Japanese breaks where a reader expects:
between any two characters, but never before 、。）」 and the like (they hang at the end of
the line, 禁則処理), never after （「, and never inside a Latin word or a number.

Everything here is synchronous and CPU-bound (about 0.3 s a document): call it in a thread.
"""
from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Callable, Iterator

_FONT_PACKAGE = "noto_cjk_sans_jp_regular"
_FONT_DISTRIBUTION = "noto-cjk-sans-jp-regular"
_FONT_FILE = "NotoSansCJKjp-Regular.otf"
_FAMILY = "NotoSansCJKjp"

# Characters that must not begin a line (they hang at the end of the previous one) and that must
# not end one (they move to the next), after JIS X 4051: closing brackets, the ideographic comma and
# full stop and other punctuation, the long vowel mark, small kana and iteration marks; opening brackets.
# Written as code points: Python holds no Japanese text (tests/test_architecture.py).
NOT_AT_LINE_START = frozenset(
    ",.)]}!?:;"
    + "".join(map(chr, (0x3001, 0x3002, 0xFF0C, 0xFF0E, 0xFF09, 0x300D, 0x300F, 0x3011, 0x3015, 0x3009, 0x300B,
                        0xFF3D, 0xFF5D, 0xFF01, 0xFF1F, 0x30FC, 0x2026, 0x2025, 0x30FB, 0xFF1A, 0xFF1B, 0x3005,
                        0x309D, 0x309E, 0x30FD, 0x30FE, 0x303B)))
    + "".join(map(chr, (0x3041, 0x3043, 0x3045, 0x3047, 0x3049, 0x3063, 0x3083, 0x3085, 0x3087, 0x308E, 0x3095,
                        0x3096, 0x30A1, 0x30A3, 0x30A5, 0x30A7, 0x30A9, 0x30C3, 0x30E3, 0x30E5, 0x30E7, 0x30EE,
                        0x30F5, 0x30F6))))
NOT_AT_LINE_END = frozenset("([{" + "".join(map(chr, (0xFF08, 0x300C, 0x300E, 0x3010, 0x3014, 0x3008, 0x300A,
                                                        0xFF3B, 0xFF5B))))

PAGE_MARGIN_MM = 22.0
_PT = 25.4 / 72  # millimetres per point

TEXT_COLOUR = (31, 41, 51)
MUTED_COLOUR = (105, 114, 125)
ACCENT_COLOUR = (46, 92, 138)
RULE_COLOUR = (200, 206, 214)


def font_path(stack: ExitStack) -> Path:
    """The packaged font as a file (fpdf2 reads it by path), for as long as `stack` is open."""
    try:
        resource = resources.files(_FONT_PACKAGE).joinpath(_FONT_FILE)
    except ModuleNotFoundError as exc:
        raise RuntimeError(f"the Japanese font is missing: install the package {_FONT_DISTRIBUTION} "
                           f"(importable as {_FONT_PACKAGE})") from exc
    if not resource.is_file():
        raise RuntimeError(f"{_FONT_FILE} not found in the package {_FONT_DISTRIBUTION}; reinstall it")
    return stack.enter_context(resources.as_file(resource))


def _tokens(text: str) -> Iterator[str]:
    """Units a line is never broken inside: a run of Latin letters and digits, or one other character."""
    word = ""
    for char in text:
        if char.isascii() and (char.isalnum() or char in "@._-/:%"):
            word += char
            continue
        if word:
            yield word
            word = ""
        yield char
    if word:
        yield word


def wrap(text: str, width_of: Callable[[str], float], max_width: float) -> list[str]:
    """`text` (one paragraph, no newlines) as lines no wider than `max_width` (a hanging 、。 aside)."""
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        if not line or width_of(line + token) <= max_width:
            line += token
            continue
        if token in NOT_AT_LINE_START:
            line += token  # hangs past the margin rather than starting the next line
            continue
        carried = ""
        while line and line[-1] in NOT_AT_LINE_END:
            carried = line[-1] + carried
            line = line[:-1]
        if line.strip():
            lines.append(line.rstrip())
        line = (carried + token).lstrip()
    if line.strip():
        lines.append(line.rstrip())
    return lines


class JapaneseDocument:
    """An A4 document: a title, paragraphs, numbered sections and a block set to the right."""

    def __init__(self, *, title: str, author: str, created: datetime, stack: ExitStack):
        # Imported here, not at start-up: fpdf2 and fontTools take 0.15 s to import.
        from fpdf import FPDF

        self.pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        self.pdf.set_margins(PAGE_MARGIN_MM, PAGE_MARGIN_MM, PAGE_MARGIN_MM)
        self.pdf.set_auto_page_break(False)
        self.pdf.add_font(_FAMILY, fname=str(font_path(stack)))
        self.pdf.set_title(title)
        self.pdf.set_author(author)
        self.pdf.set_lang("ja")
        self.pdf.set_creation_date(created)
        self.pdf.add_page()

    @property
    def _width(self) -> float:
        return self.pdf.w - self.pdf.l_margin - self.pdf.r_margin

    def _room(self, height: float) -> None:
        """A new page when `height` more would not fit above the bottom margin."""
        if self.pdf.get_y() + height > self.pdf.h - PAGE_MARGIN_MM:
            self.pdf.add_page()

    def _lines(self, text: str, *, size: float, indent: float = 0.0, leading: float = 1.7,
               colour: tuple[int, int, int] = TEXT_COLOUR, align: str = "L") -> None:
        self.pdf.set_font(_FAMILY, size=size)
        self.pdf.set_text_color(*colour)
        height = size * _PT * leading
        width = self._width - indent
        for paragraph in text.split("\n"):
            for line in wrap(paragraph, self.pdf.get_string_width, width) or [""]:
                self._room(height)
                self.pdf.set_x(self.pdf.l_margin + indent)
                self.pdf.cell(width, height, line, align=align, new_x="LMARGIN", new_y="NEXT")

    def title(self, text: str, *, size: float = 19.0) -> None:
        self._lines(text, size=size, leading=1.6, align="C")
        self.space(2)
        y = self.pdf.get_y()
        self.pdf.set_draw_color(*RULE_COLOUR)
        self.pdf.set_line_width(0.4)
        self.pdf.line(self.pdf.l_margin, y, self.pdf.w - self.pdf.r_margin, y)
        self.space(7)

    def paragraph(self, text: str, *, size: float = 10.0, indent: float = 0.0) -> None:
        self._lines(text, size=size, indent=indent)

    def section(self, number: int, heading: str, body: str, *, size: float = 10.0) -> None:
        """「1. 見出し」 in the accent colour, then its text indented under it; kept together on one page
        when it fits on one."""
        heading_size = size + 1.5
        label = f"{number}."
        self.pdf.set_font(_FAMILY, size=size)
        body_lines = len(wrap(body, self.pdf.get_string_width, self._width - 7.0))
        self._room(heading_size * _PT * 1.8 + body_lines * size * _PT * 1.7)
        self._lines(f"{label} {heading}", size=heading_size, leading=1.8, colour=ACCENT_COLOUR)
        self._lines(body, size=size, indent=7.0)
        self.space(2)

    def right(self, lines: list[str], *, size: float = 10.5) -> None:
        """Lines set flush right (the date, the company and who signs)."""
        self._room(len(lines) * size * _PT * 1.9)
        for line in lines:
            self._lines(line, size=size, leading=1.9, align="R")

    def space(self, millimetres: float) -> None:
        self.pdf.set_y(self.pdf.get_y() + millimetres)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
