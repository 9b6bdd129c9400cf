"""Routing with a frozen clock: opening hours, weekends, Japanese public holidays, year-end,
severity, roles and the 個人情報保護委員会 deadlines."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.core.engine import JST
from bot.flows.incidents.escalation import (
    holiday_name,
    is_business_day,
    is_open,
    leak_deadlines,
    next_opening,
    roles_to_notify,
    route_contacts,
    severity,
)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=JST)


@pytest.fixture(scope="module")
def anshin(content):
    """IPA 情報セキュリティ安心相談窓口: weekdays 10:00-12:00 and 13:30-17:00, closed on holidays and year-end."""
    return content.incidents.contacts["ipa_anshin"]


def test_open_inside_the_hours_of_a_weekday(anshin):
    assert is_open(anshin, at(2026, 11, 20, 11, 0))  # Friday
    assert is_open(anshin, at(2026, 11, 20, 16, 59))


def test_closed_at_lunch_and_after_hours_with_the_next_opening(anshin):
    assert not is_open(anshin, at(2026, 11, 20, 12, 30))
    assert next_opening(anshin, at(2026, 11, 20, 12, 30)) == at(2026, 11, 20, 13, 30)
    assert not is_open(anshin, at(2026, 11, 20, 17, 0))


def test_closed_on_the_weekend_and_a_public_holiday(anshin):
    saturday = at(2026, 11, 21, 11, 0)
    assert not is_open(anshin, saturday)
    # Monday 23 November is 勤労感謝の日: the next opening is Tuesday.
    assert holiday_name(date(2026, 11, 23)) == "勤労感謝の日"
    assert not is_open(anshin, at(2026, 11, 23, 11, 0))
    assert next_opening(anshin, saturday) == at(2026, 11, 24, 10, 0)


def test_closed_over_the_year_end(anshin):
    assert not is_business_day(date(2026, 12, 29)) and not is_business_day(date(2027, 1, 1))
    assert next_opening(anshin, at(2026, 12, 28, 18, 0)) == at(2027, 1, 4, 10, 0)


def test_always_open_channels_never_close(content):
    for always in ("police_110", "ppc_leak_report"):
        contact = content.incidents.contacts[always]
        assert is_open(contact, at(2027, 1, 1, 3, 0)) and next_opening(contact, at(2027, 1, 1, 3, 0)) is None


def test_routing_picks_contacts_for_the_kind_and_the_answers(content):
    playbooks, contacts, rules = content.incidents.playbooks, content.incidents.contacts, content.incidents.escalation
    plain = [c.id for c in route_contacts(playbooks["ransomware"], {"personal_data": "no"}, contacts, rules)]
    assert "ipa_cs_support" in plain and "no_more_ransom" in plain and "ppc_leak_report" not in plain
    leak = [c.id for c in route_contacts(playbooks["ransomware"], {"personal_data": "yes"}, contacts, rules)]
    assert "ppc_leak_report" in leak
    paid = [c.id for c in route_contacts(playbooks["bec"], {"money_transferred": "yes"}, contacts)]
    assert "bank_fraud_desk" in paid
    assert "bank_fraud_desk" not in [c.id for c in route_contacts(playbooks["bec"], {"money_transferred": "no"},
                                                                   contacts)]


def test_a_threat_to_life_puts_110_first(content):
    routed = route_contacts(content.incidents.playbooks["insider"], {"threat_to_life": "yes"},
                            content.incidents.contacts)
    assert routed[0].id == "police_110" and routed[0].phone == "110"


def test_severity_rises_with_the_answers(content):
    lost, rules = content.incidents.playbooks["lost_device"], content.incidents.escalation
    assert lost.severity == "medium"
    assert severity(lost, {"personal_data": "no"}, rules) == "medium"
    assert severity(lost, {"personal_data": "yes"}, rules) == "high"
    assert severity(lost, {"stolen": "yes"}, rules) == "high"
    assert severity(content.incidents.playbooks["bec"], {"money_transferred": "yes"}, rules) == "critical"


def test_severity_raises_add_up_to_the_top_and_a_set_level_wins(content):
    rules = content.incidents.escalation
    extortion = content.incidents.playbooks["extortion_email"]
    assert extortion.severity == "low"
    both = {"still_spreading": "yes", "multiple_devices": "yes"}
    assert severity(extortion, both, rules) == "high"
    assert severity(content.incidents.playbooks["ransomware"], both, rules) == "critical"
    assert severity(extortion, {"regulated_business": "yes", "personal_data": "unknown"}, rules) == "high"
    assert severity(extortion, {"threat_to_life": "yes", "personal_data": "yes"}, rules) == "critical"


def test_roles_follow_severity_and_personal_data(content):
    rules = content.incidents.escalation
    assert roles_to_notify("medium", {}, rules) == ("security_lead",)
    assert roles_to_notify("critical", {}, rules) == ("security_lead", "executive", "it_vendor")
    assert "privacy_officer" in roles_to_notify("high", {"personal_data": "yes"}, rules)
    assert "privacy_officer" in roles_to_notify("low", {"personal_data": "unknown"}, rules)
    assert "privacy_officer" not in roles_to_notify("critical", {"personal_data": "no"}, rules)


def test_leak_deadlines_are_dates(content):
    # The day it became known is day 1: 速報 by day 5 at the latest, 確報 on day 30 (60).
    found = at(2026, 11, 20, 10, 0)
    mistake = leak_deadlines(content.incidents.playbooks["data_leak"], found)
    assert mistake.discovered == date(2026, 11, 20) and mistake.preliminary_by == date(2026, 11, 24)
    assert mistake.final_by == date(2026, 12, 19) and mistake.final_days == 30
    attack = leak_deadlines(content.incidents.playbooks["ransomware"], found)
    assert attack.final_by == date(2027, 1, 18) and attack.final_days == 60


def test_the_kinds_presumed_malicious_get_60_days(content):
    found = at(2026, 11, 20, 10, 0)
    days = {kind: leak_deadlines(p, found).final_days for kind, p in content.incidents.playbooks.items()}
    assert {kind for kind, d in days.items() if d == 60} == {
        "ransomware", "malware", "suspicious_email", "phishing", "account_takeover", "web_compromise", "insider",
        "bec", "fake_alert", "extortion_email"}
    assert {kind for kind, d in days.items() if d == 30} == {"data_leak", "lost_device", "dos"}
