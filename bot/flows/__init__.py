"""The conversations, one package or module each, combined in one place.

Menu order (緊急相談 first: someone in trouble should not have to look for it); the
menu flow comes last so that its catch-all transitions (source "*") are tried after
every flow's own.
"""
from __future__ import annotations

from bot.core.flow import Flow
from bot.flows import menu
from bot.flows.incidents import flow as incidents
from bot.flows.learning import flow as learning
from bot.flows.org import company_flow as company
from bot.flows.org import flow as org
from bot.flows.org import policy_flow, privacy
from bot.flows.reminders import flow as reminders
from bot.flows.selfcheck import flow as selfcheck

DEFAULT_FLOWS: tuple[Flow, ...] = (incidents.FLOW, selfcheck.FLOW, learning.FLOW, org.FLOW, company.FLOW,
                                   policy_flow.FLOW, privacy.FLOW, reminders.FLOW, menu.FLOW)
