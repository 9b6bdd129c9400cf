"""The public page that tells whether a 修了証 is genuine (GET /certificates/{id})."""
from __future__ import annotations

from datetime import date
from html import escape

from bot.content.loader import Texts
from bot.flows.learning.certificates import Status, Verdict

_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>
body{{font-family:system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",sans-serif;margin:0;background:#f6f7f9;color:#1f2933}}
main{{max-width:40rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px #0002}}
h1{{font-size:1.4rem}} .ok{{color:#18794e}} .ng{{color:#b42318}}
dl{{display:grid;grid-template-columns:6rem 1fr;gap:.5rem 1rem}} dt{{color:#5f6b7a}} dd{{margin:0;overflow-wrap:anywhere}}
img{{max-width:100%;margin-top:1rem;border:1px solid #ddd}}
</style></head><body><main>
<h1 class="{cls}">{heading}</h1>
<p>{message}</p>
{details}
</main></body></html>
"""


def _issuer(verdict: Verdict, texts: Texts) -> str:
    """Who issued it: the organisation recorded with it, else the desk itself."""
    record = verdict.record
    return record.organisation if record is not None and record.organisation else texts["cert.issuer_default"]


def render_verification_page(verdict: Verdict, certificate_id: str, texts: Texts) -> str:
    key = verdict.status.value
    details = ""
    record = verdict.record
    if record is not None and verdict.status is not Status.ALTERED:
        rows = [(texts["verify.holder"], record.holder), (texts["verify.theme"], record.theme),
                (texts["verify.date"], texts.date(date.fromisoformat(record.issued_on)))]
        if record.organisation:
            rows.append((texts["verify.organisation"], record.organisation))
        rows.append((texts["verify.number"], certificate_id))
        details = "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows) + "</dl>"
        if verdict.status is Status.VALID:
            details += f'<img src="/certificates/{escape(certificate_id)}.png" alt="{escape(record.theme)}">'
    return _PAGE.format(
        title=escape(texts["verify.title"]),
        cls="ok" if verdict.status is Status.VALID else "ng",
        heading=escape(texts[f"verify.{key}"]),
        message=escape(texts.render(f"verify.{key}_message", issuer=_issuer(verdict, texts))),
        details=details,
    )
