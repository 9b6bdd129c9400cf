"""A 修了証 tampered with, for the verification tests."""
from __future__ import annotations

import io

from PIL import Image as PILImage
from PIL import ImageDraw, PngImagePlugin


def edited_certificate(png: bytes) -> bytes:
    """The certificate with its picture changed (a name painted over) but its metadata kept."""
    with PILImage.open(io.BytesIO(png)) as picture:
        picture.load()
        info = PngImagePlugin.PngInfo()
        for key, value in picture.text.items():
            info.add_text(key, value)
        edited = picture.convert("RGB")
    ImageDraw.Draw(edited).rectangle((500, 280, 1100, 380), fill=(255, 253, 248))
    out = io.BytesIO()
    edited.save(out, format="PNG", pnginfo=info)
    return out.getvalue()
