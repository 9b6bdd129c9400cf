"""The end of a self-check answered on the company's behalf: kept on the organisation, then shown.

Called by the self-check flow (bot/flows/selfcheck/flow.py) when its 25th answer comes in while
an administrator answers for the company; nothing of it goes to the administrator's own results.
"""
from __future__ import annotations

import dataclasses

from bot.core.conversation import Conversation
from bot.core.events import action_value
from bot.core.replies import Choice
from bot.flows.menu import send_menu
from bot.flows.org.company_checks import append_check_op, check_record, company_checks
from bot.flows.org.flow import may_administer
from bot.flows.org.store import organisations
from bot.flows.selfcheck.report import lead_text, score_card, score_chart
from bot.flows.selfcheck.scoring import DiagnosisScore


def company_options(conv: Conversation, site: str) -> list[Choice]:
    return [Choice(conv.text("company_check.details"), action_value("company_check_details", site)),
            Choice(conv.text("company.menu"), action_value("company_report")),
            Choice(conv.text("result.menu"), action_value("show_menu"))]


async def finish_for_company(conv: Conversation, score: DiagnosisScore, *, org_id: str, site: str) -> None:
    org = await organisations(conv).for_workspace(conv.who.platform, conv.who.workspace)
    if org is None or org.id != org_id or not await may_administer(conv):
        # No longer an administrator of that organisation (removed while answering): nothing is kept.
        conv.out.text(conv.text("company_check.not_kept"))
        await send_menu(conv)
        return
    store = conv.services.store
    previous = next((c for c in await company_checks(store.client, store.keys, org.id) if c.get("site") == site),
                    None)
    now = conv.services.clock()
    record = check_record(score, at=now, site=site, by=conv.who, name=conv.display_name or conv.who.user)
    conv.ops.append(append_check_op(store.keys, org.id, record))
    title = conv.text("company_check.title", site=site)
    conv.out.add(dataclasses.replace(score_card(conv, score, previous=previous, at=now), title=title))
    chart = score_chart(conv, score, at=now)
    conv.out.add(dataclasses.replace(chart, name=f"company-check-{now:%Y%m%d-%H%M}.png",
                                     params={**chart.params, "title": title}))
    conv.out.text(conv.text("company_check.kept", name=org.name, site=site))
    conv.out.text(lead_text(conv, score))
    conv.out.choices(conv.text("result.next_prompt", total=score.total), company_options(conv, site))
