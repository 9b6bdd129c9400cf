"""会社の状況 and the company's own self-check, for administrators (bot/flows/org/admins.py says who).

「会社の状況」 (typed, or in the admin menu) shows the organisation's report: a summary card, the
chart and the report's sections (company_report.py computes it, company_text.py words it). On the
Slack home tab an administrator sees the same report; in 「進捗」, its card.

「会社として診断」 asks for a site (or 「全社」) in the state `company_site`, then runs the self-check's
25 questions on the company's behalf (bot/flows/selfcheck, `begin_for_company`); the result is kept on
the organisation (company_checks.py), apart from the administrator's own results.
"""
from __future__ import annotations

from bot.core.conversation import Conversation
from bot.core.events import HOME_TAB, action_value
from bot.core.flow import Flow, on, when
from bot.core.replies import Choice
from bot.flows.menu import MENU, send_menu
from bot.flows.org.company_chart import COMPANY_CHART, draw_company_chart
from bot.flows.org.company_checks import company_checks, normalise_site
from bot.flows.org.company_data import load_company
from bot.flows.org.company_report import CompanyReport, compute_report
from bot.flows.org.company_result import company_options
from bot.flows.org.company_text import ReportText
from bot.flows.org.flow import may_administer
from bot.flows.org.store import Organisation, organisations
from bot.flows.selfcheck.flow import ASKING, begin_for_company
from bot.flows.selfcheck.report import render_details
from bot.flows.selfcheck.scoring import score_diagnosis

NAME = "company"
ASK_SITE = "company_site"
TO_MENU = "admin_done"  # the org flow's: back to the menu state, nothing said
SITES_OFFERED = 8  # sites answered before, offered as choices besides 「全社」


async def _org(conv: Conversation) -> Organisation | None:
    return await organisations(conv).for_workspace(conv.who.platform, conv.who.workspace)


async def _refuse(conv: Conversation) -> None:
    conv.out.choices(conv.text("company.not_admin"),
                     [Choice(conv.text("admin.enter_code"), action_value("admin_ask_code")),
                      Choice(conv.text("result.menu"), action_value("show_menu"))])


async def report_for(conv: Conversation, org: Organisation) -> CompanyReport | None:
    store = conv.services.store
    data = await load_company(store.client, store.keys, org.id)
    return compute_report(data, conv.content, conv.services.clock()) if data else None


async def _allowed_org(conv: Conversation) -> Organisation | None:
    """The organisation, when the person administers it; otherwise says why not and returns None."""
    if not await may_administer(conv):
        await _refuse(conv)
        return None
    org = await _org(conv)
    if org is None:
        conv.out.text(conv.text("company.no_org"))
        await send_menu(conv)
    return org


async def show_report(conv: Conversation) -> None:
    org = await _allowed_org(conv)
    if org is None:
        return
    report = await report_for(conv, org)
    if report is None:  # deleted a moment ago
        conv.out.text(conv.text("company.no_org"))
        await send_menu(conv)
        return
    view = ReportText(report, conv.content)
    conv.out.add(view.card())
    conv.out.add(view.chart())
    for block in view.sections():
        conv.out.text(block)
    conv.out.choices(conv.text("company.prompt"), [
        Choice(conv.text("company.check_start"), action_value("company_check")),
        Choice(conv.text("company.admin"), action_value("start_admin")),
        Choice(conv.text("result.menu"), action_value("show_menu")),
    ])


async def home(conv: Conversation) -> None:
    """For administrators only: the report on the home tab (Slack), its card in 「進捗」."""
    if not await may_administer(conv):
        return
    org = await _org(conv)
    report = await report_for(conv, org) if org else None
    if report is None:
        return
    view = ReportText(report, conv.content)
    conv.out.add(view.card())
    if HOME_TAB in conv.capabilities:
        for block in view.sections():
            conv.out.text(block)
    conv.out.choices(conv.text("company.home_prompt"),
                     [Choice(conv.text("company.menu"), action_value("company_report")),
                      Choice(conv.text("company.check_start"), action_value("company_check"))])


# --- the company's own self-check ---------------------------------------------------------------

async def ask_site(conv: Conversation) -> None:
    org = await _allowed_org(conv)
    if org is None:
        await conv.trigger(TO_MENU)
        return
    store = conv.services.store
    whole = conv.text("company_check.whole")
    sites = [c["site"] for c in await company_checks(store.client, store.keys, org.id) if c.get("site") != whole]
    options = [Choice(whole, action_value("company_check_site", whole))]
    options += [Choice(site, action_value("company_check_site", site)) for site in sites[:SITES_OFFERED]]
    options.append(Choice(conv.text("result.menu"), action_value("show_menu")))
    conv.out.choices(conv.text("company_check.ask_site", name=org.name), options)


def is_blank_site(conv: Conversation, site: str = "") -> bool:
    return not normalise_site(site)


async def site_hint(conv: Conversation, *_: str) -> None:
    conv.out.text(conv.text("company_check.site_hint"))


async def begin(conv: Conversation, site: str = "") -> None:
    org = await _allowed_org(conv)
    if org is None:
        await conv.trigger(TO_MENU)
        return
    await begin_for_company(conv, org.id, normalise_site(site))


async def show_details(conv: Conversation, site: str = "") -> None:
    org = await _allowed_org(conv)
    if org is None:
        return
    store = conv.services.store
    check = next((c for c in await company_checks(store.client, store.keys, org.id) if c.get("site") == site), None)
    if check is None:
        conv.out.text(conv.text("company_check.none"))
        await send_menu(conv)
        return
    render_details(conv, score_diagnosis(check["answers"], conv.content.checklist), can_share=False,
                   options=company_options(conv, site))


FLOW = Flow(
    name=NAME,
    states=(ASK_SITE,),
    transitions=(
        # From the menu (a command typed elsewhere shows the menu first, as other commands do), so that the
        # diagram's edges of what works from anywhere stay one line each.
        {"trigger": "company_report", "source": MENU, "dest": None, "after": on(show_report)},
        {"trigger": "company_check", "source": "*", "dest": ASK_SITE, "after": on(ask_site)},
        {"trigger": "company_site_text", "source": ASK_SITE, "dest": None, "conditions": when(is_blank_site),
         "after": on(site_hint)},
        {"trigger": "company_site_text", "source": ASK_SITE, "dest": ASKING, "after": on(begin)},
        {"trigger": "company_check_site", "source": ASK_SITE, "dest": None, "conditions": when(is_blank_site),
         "after": on(site_hint)},
        {"trigger": "company_check_site", "source": ASK_SITE, "dest": ASKING, "after": on(begin)},
        {"trigger": "company_check_details", "source": MENU, "dest": None, "after": on(show_details)},
    ),
    reprompts={ASK_SITE: site_hint},
    hints={ASK_SITE: "company_check.site_hint"},
    free_text={ASK_SITE: "company_site_text"},
    home=home,
    commands={"company_report": "company_report", "company_check": "company_check"},
    images={COMPANY_CHART: draw_company_chart},
)
