"""The 情報セキュリティ基本方針 as a PDF the company can publish (a Document's renderer).

The outbox keeps the description (the policy's fields); the words come from
content/policy_template.yaml when the PDF is made, off the event loop.
"""
from __future__ import annotations

from contextlib import ExitStack
from datetime import date, datetime, time
from typing import Any

from bot.content.loader import PolicyTemplate, Texts
from bot.core.pdf import JapaneseDocument
from bot.flows.org.security_action import SecurityPolicy

POLICY_PDF = "security_policy_pdf"


def policy_params(policy: SecurityPolicy) -> dict[str, Any]:
    return {"company": policy.company, "title": policy.title, "name": policy.name, "date": policy.date,
            "commitments": list(policy.commitments)}


def render_policy_pdf(template: PolicyTemplate, texts: Texts, params: dict[str, Any]) -> bytes:
    """The policy's PDF bytes (synchronous, CPU-bound: call it in a thread)."""
    day = date.fromisoformat(params["date"])
    values = {"company": params["company"], "title": params["title"], "name": params["name"],
              "date": texts.date(day)}
    chosen = [c for c in template.commitments if c.id in set(params["commitments"])]
    with ExitStack() as stack:
        document = JapaneseDocument(title=texts.render("policy.document_title", company=params["company"]),
                                    author=params["company"],
                                    created=datetime.combine(day, time(9, 0)), stack=stack)
        document.title(template.title)
        document.paragraph(template.preamble.format(company=params["company"]))
        document.space(6)
        for number, commitment in enumerate(chosen, start=1):
            document.section(number, commitment.heading, commitment.text)
        document.space(6)
        document.right([line.format(**values) for line in template.signature])
        return document.output()


async def draw_policy_pdf(params: dict[str, Any], services: Any) -> bytes:
    content = services.content
    return await services.offload.run(render_policy_pdf, content.policy_template, content.texts, params)
