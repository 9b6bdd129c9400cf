"""Issuing 修了証 at the end of a passed lesson (and of the whole course)."""
from __future__ import annotations

import logging
from typing import Any

from bot.content.lessons import Lesson
from bot.core.conversation import Conversation
from bot.core.replies import Image
from bot.flows.learning.certificate_image import render_certificate
from bot.flows.learning.certificates import RESOURCE as CERTIFICATES
from bot.flows.learning.certificates import certificates_of
from bot.flows.org.store import organisations

log = logging.getLogger(__name__)

COURSE = 0  # the "item" of the whole-course certificate


CERTIFICATE_IMAGE = "certificate"


async def draw_certificate(params: dict[str, Any], services: Any) -> bytes:
    """The PNG recorded when the certificate was issued (drawn once, then kept with its record)."""
    certificates = services.resources.get(CERTIFICATES)
    png = await certificates.png(params["serial"]) if certificates is not None else None
    if png is None:
        raise LookupError(f"certificate {params['serial']} has no stored image")
    return png


async def _issue(conv: Conversation, *, item: int, theme: str, detail: str) -> str:
    """Render, record (with the conversation's commit) and show one certificate; returns its id."""
    certificates = certificates_of(conv)
    holder = conv.display_name or conv.who.user
    org = await organisations(conv).for_workspace(conv.who.platform, conv.who.workspace)
    today = conv.services.clock().date()
    issued_on = today.isoformat()
    record = certificates.new_record(holder=holder, theme=theme, item=item, issued_on=issued_on,
                                     organisation=org.name if org else "", conversation=str(conv.who))
    url = certificates.url(record.id)
    verify = conv.text("cert.verify_url", url=url) if url else conv.text("cert.verify_cli", id=record.id)
    issuer = org.name if org else conv.text("cert.issuer_default")
    png = await conv.services.offload.run(
        render_certificate,
        title=conv.text("cert.title"), holder=conv.text("cert.holder", name=holder), theme=theme, detail=detail,
        statement=conv.text("cert.statement"), issued_on=conv.content.texts.date(today),
        issuer=conv.text("cert.issuer", issuer=issuer), notice=conv.text("cert.notice"),
        number=conv.text("cert.number", id=record.id), certificate_id=record.id, verify_text=verify,
        qr_data=url or record.id,
    )
    conv.ops.extend(certificates.record_op(record, png, holder=conv.who))
    conv.out.add(Image(name=f"certificate-{record.serial}.png", alt_text=conv.text("cert.alt", theme=theme),
                       renderer=CERTIFICATE_IMAGE, params={"serial": record.serial}))
    conv.out.text(conv.text("lesson.certificate", id=record.id, issuer=conv.text("cert.issuer", issuer=issuer),
                            notice=conv.text("cert.notice"), verify=verify))
    return record.id


async def issue_certificates(conv: Conversation, lesson: Lesson, record: dict[str, Any],
                             progress: dict[int, dict[str, Any]], *, course_complete: bool) -> None:
    if certificates_of(conv) is None:
        log.error("no certificate secret configured: certificate for %s not issued", conv.who)
        conv.out.text(conv.text("lesson.no_certificate"))
        return
    item = conv.content.checklist.item(lesson.item)
    record["certificate"] = await _issue(
        conv, item=lesson.item, theme=conv.text("cert.theme", title=lesson.title),
        detail=conv.text("cert.detail", no=lesson.item, topic=item.topic, count=len(lesson.quiz)))
    if course_complete:
        conv.out.text(conv.text("lesson.course_complete", total=len(conv.content.lessons)))
        await _issue(conv, item=COURSE, theme=conv.text("cert.course_theme", total=len(conv.content.lessons)),
                     detail=conv.text("cert.course_detail"))
