"""The 修了証 as a PNG (1600×1130, A4 landscape proportions), with a QR code to verify it."""
from __future__ import annotations

import io

import qrcode
from PIL import Image, ImageDraw, PngImagePlugin

from bot.core.images import load_font

WIDTH, HEIGHT = 1600, 1130
NAVY = (29, 53, 87)
GOLD = (176, 141, 60)
INK = (33, 37, 41)
MUTED = (96, 104, 112)
CERTIFICATE_ID_KEY = "certificate-id"


def _qr(data: str, size: int) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=10)
    code.add_data(data)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB").resize(
        (size, size), Image.NEAREST)


def _centred(draw: ImageDraw.ImageDraw, y: int, text: str, size: int, fill=INK, max_width: int = WIDTH - 260) -> None:
    font = load_font(size)
    while draw.textlength(text, font=font) > max_width and size > 20:
        size -= 2
        font = load_font(size)
    draw.text((WIDTH // 2, y), text, font=font, fill=fill, anchor="mm")


def render_certificate(*, title: str, holder: str, theme: str, detail: str, statement: str, issued_on: str,
                       issuer: str, notice: str, number: str, certificate_id: str, verify_text: str,
                       qr_data: str) -> bytes:
    """PNG bytes; the certificate id is also kept in the PNG's metadata for `bot cert verify FILE`.

    `issuer` names who issues it (the organisation, when one is set up); `notice` says what it is
    (an internal record of learning, not issued by IPA)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 253, 248))
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 30, WIDTH - 30, HEIGHT - 30), outline=NAVY, width=8)
    draw.rectangle((52, 52, WIDTH - 52, HEIGHT - 52), outline=GOLD, width=3)

    _centred(draw, 165, title, 104, NAVY)
    _centred(draw, 310, holder, 68)
    _centred(draw, 425, theme, 46, NAVY)
    _centred(draw, 495, detail, 32)
    _centred(draw, 560, statement, 32)
    _centred(draw, 645, issued_on, 36)
    _centred(draw, 715, issuer, 38, INK)
    _centred(draw, 775, notice, 26, MUTED)  # above the QR code (from y 810)

    qr_size = 210
    qr_left, qr_top = WIDTH - 110 - qr_size, HEIGHT - 110 - qr_size
    image.paste(_qr(qr_data, qr_size), (qr_left, qr_top))
    small = load_font(24)
    draw.text((110, HEIGHT - 175), number, font=small, fill=MUTED)
    draw.text((110, HEIGHT - 135), verify_text, font=small, fill=MUTED)

    info = PngImagePlugin.PngInfo()
    info.add_text(CERTIFICATE_ID_KEY, certificate_id)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, optimize=True)
    return out.getvalue()


def certificate_id_in(png: bytes) -> str | None:
    """The certificate id written into a PNG by render_certificate, if any."""
    try:
        with Image.open(io.BytesIO(png)) as image:
            return image.text.get(CERTIFICATE_ID_KEY) if hasattr(image, "text") else None
    except (OSError, ValueError, SyntaxError):
        return None
