"""Opening hours as data, with a frozen clock: per day type (weekdays, Saturdays, Sundays, public
holidays), closures such as the year end, and "accepts at any time, read during these hours".

Each contact's facts here are those checked in content/contacts.yaml (sources and dates there).
2026-11-28 is a Saturday, 11-23 a public holiday (勤労感謝の日), 12-29 and 12-30 a Tuesday and a
Wednesday.
"""
from __future__ import annotations

from datetime import date, datetime, time

import pytest

from bot.core.engine import JST
from bot.flows.incidents.escalation import (
    CLOSED,
    OPEN,
    OPEN_ALWAYS,
    SEND_NOW,
    SEND_OPEN,
    availability,
    day_type,
    is_open,
    next_opening,
)
from bot.flows.incidents.report import contact_text


def at(*args) -> datetime:
    return datetime(*args, tzinfo=JST)


@pytest.fixture(scope="module")
def contacts(content):
    return content.incidents.contacts


def test_each_day_has_one_type_and_a_holiday_wins_over_its_weekday():
    assert day_type(date(2026, 11, 27)) == "weekdays"
    assert day_type(date(2026, 11, 28)) == "saturdays"
    assert day_type(date(2026, 11, 29)) == "sundays"
    assert day_type(date(2026, 11, 23)) == "holidays"  # a Monday
    assert day_type(date(2027, 1, 1)) == "holidays"


# --- 188 消費者ホットライン ------------------------------------------------------------------

def test_188_is_answered_on_saturdays_sundays_and_holidays_from_10_to_16(contacts):
    hotline = contacts["consumer_hotline"]
    for moment in (at(2026, 11, 28, 11, 0), at(2026, 11, 29, 15, 59), at(2026, 11, 23, 10, 0)):
        assert is_open(hotline, moment), moment
    state = availability(hotline, at(2026, 11, 28, 11, 0))
    assert state.state == OPEN and state.until == time(16, 0)
    assert not is_open(hotline, at(2026, 11, 29, 16, 0))
    assert next_opening(hotline, at(2026, 11, 29, 16, 0)) == at(2026, 11, 30, 10, 0)


def test_188_on_a_saturday_says_open_not_closed_and_that_it_is_for_consumers(content, contacts):
    text = contact_text(content, contacts["consumer_hotline"], at(2026, 11, 28, 11, 0))
    assert "いま受付時間内です（16:00まで）" in text
    assert "受付時間外" not in text and "まず188にかけてみてください" not in text
    assert "消費者のための窓口" in text and "会社（事業者）として受けた被害は受け付けられないことがあります" in text


def test_188_is_closed_over_the_year_end_and_says_why(content, contacts):
    hotline = contacts["consumer_hotline"]
    state = availability(hotline, at(2026, 12, 30, 11, 0))
    assert state.state == CLOSED and state.reason == "年末年始"
    assert state.next_opening == at(2027, 1, 4, 10, 0)
    text = contact_text(content, hotline, at(2026, 12, 30, 11, 0))
    assert "いまは受付時間外です（年末年始）。次の受付は 2027年1月4日(月) 10:00 から。" in text


# --- the bank --------------------------------------------------------------------------------

def test_banks_are_open_on_12_29_and_12_30_and_closed_from_12_31_to_1_3(contacts):
    bank = contacts["bank_fraud_desk"]
    assert is_open(bank, at(2026, 12, 29, 10, 30)) and is_open(bank, at(2026, 12, 30, 10, 30))
    assert availability(bank, at(2026, 12, 30, 10, 30)).until == time(15, 0)
    closed = availability(bank, at(2026, 12, 31, 10, 30))
    assert closed.state == CLOSED and closed.reason == "年末年始の銀行休業日"
    assert closed.next_opening == at(2027, 1, 4, 9, 0)
    assert not is_open(bank, at(2027, 1, 3, 10, 0))
    assert not is_open(bank, at(2026, 11, 28, 10, 0))  # a Saturday
    assert not is_open(bank, at(2026, 11, 23, 10, 0))  # a public holiday


def test_a_closed_bank_says_to_call_its_emergency_number_now(content, contacts):
    text = contact_text(content, contacts["bank_fraud_desk"], at(2027, 1, 2, 10, 0))
    assert "次の受付は 1月4日(月) 09:00 から" in text and "緊急連絡先" in text


# --- the police --------------------------------------------------------------------------------

def test_the_police_online_desk_takes_a_report_on_sunday_read_on_the_next_working_day(content, contacts):
    desk = contacts["police_cyber_desk"]
    sunday = at(2026, 11, 29, 14, 0)
    state = availability(desk, sunday)
    assert state.state == SEND_NOW and state.accepts_now and not state.open
    assert state.next_opening == at(2026, 11, 30, 8, 30)
    text = contact_text(content, desk, sunday)
    assert "いつでも送れますが、いまは読まれない時間です。送った内容が読まれるのは 11月30日(月) 08:30 以降です。" in text
    assert "最寄りの警察署" in text and "110番" in text
    assert "いつでも受け付けています" not in text


def test_the_police_online_desk_on_a_working_day_and_over_the_year_end(contacts):
    desk = contacts["police_cyber_desk"]
    assert availability(desk, at(2026, 11, 27, 10, 0)).state == SEND_OPEN
    assert availability(desk, at(2026, 11, 23, 10, 0)).reason == "勤労感謝の日"
    year_end = availability(desk, at(2026, 12, 29, 10, 0))
    assert year_end.state == SEND_NOW and year_end.reason == "年末年始"
    assert year_end.next_opening == at(2027, 1, 4, 8, 30)


def test_the_prefectural_desk_and_9110_are_a_weekday_phone_with_hours_by_prefecture(content, contacts):
    prefecture = contacts["police_prefecture"]
    assert prefecture.phone == "#9110" and "サイバー犯罪相談窓口" in prefecture.name
    assert is_open(prefecture, at(2026, 11, 27, 9, 0)) and not is_open(prefecture, at(2026, 11, 28, 9, 0))
    text = contact_text(content, prefecture, at(2026, 11, 28, 9, 0))
    assert "都道府県によって違います" in text and "110番" in text and "最寄りの警察署" in text


def test_every_playbook_with_the_online_desk_also_offers_the_prefectural_desk(content):
    for playbook in content.incidents.playbooks.values():
        if "police_cyber_desk" in playbook.contacts:
            index = playbook.contacts.index("police_cyber_desk")
            assert playbook.contacts[index + 1] == "police_prefecture", playbook.id


# --- IPA ----------------------------------------------------------------------------------------

def test_ipa_business_desk_takes_mail_any_time_and_answers_on_working_days(content, contacts):
    desk = contacts["ipa_cs_support"]
    saturday = at(2026, 11, 28, 11, 0)
    state = availability(desk, saturday)
    assert state.state == SEND_NOW and state.next_opening == at(2026, 11, 30, 0, 0) and state.next_is_whole_day
    text = contact_text(content, desk, saturday)
    assert "いつでも送れますが" in text and "11月30日(月) 以降" in text and "00:00" not in text
    friday_night = at(2026, 11, 27, 22, 20)
    assert availability(desk, friday_night).state == SEND_OPEN
    # Answered on working days, at hours not known here: at 22:20 nobody is said to be reading it.
    night = contact_text(content, desk, friday_night)
    assert "今日は窓口の営業日です" in night and "いまは読まれて回答される" not in night
    assert availability(desk, at(2027, 1, 2, 10, 0)).next_opening == at(2027, 1, 4, 0, 0)


def test_targeted_attacks_go_to_the_business_desk_since_2025_04(contacts):
    targeted = contacts["ipa_jcrat"]
    assert targeted.email == "cs-support@ipa.go.jp"
    assert targeted.url == "https://www.ipa.go.jp/security/support/soudan.html"
    assert "tokubetsu" not in targeted.url and "2025年4月" in targeted.handles


def test_the_report_contact_points_at_the_report_list_not_the_anshin_page(contacts):
    reports = contacts["ipa_todokede"]
    assert "anshin" not in reports.source and "anshin" not in reports.url
    assert "届出" in reports.note


def test_every_contact_records_where_and_when_its_facts_were_checked(contacts):
    for contact in contacts.values():
        if contact.own:
            continue  # the organisation's own contacts: what it registers is what is said
        assert contact.source.startswith(("https://", "http://")), contact.id
        assert date.fromisoformat(contact.checked) <= date(2026, 11, 24), contact.id
    for updated in ("consumer_hotline", "bank_fraud_desk", "police_cyber_desk", "police_prefecture",
                    "ipa_cs_support", "ipa_jcrat", "ipa_todokede", "ppc_leak_report"):
        assert contacts[updated].checked == "2026-11-24", updated


def test_always_open_means_always(contacts):
    assert availability(contacts["police_110"], at(2027, 1, 1, 3, 0)).state == OPEN_ALWAYS


def test_hours_not_known_here_are_said_to_be_checked_with_the_contact(content, contacts):
    """Your bank's emergency line, your card company, your carrier, the police station: each has its own
    hours; the reply neither calls them open nor closed."""
    for varies in ("card_company", "mobile_carrier", "gift_card_issuer", "police_station", "houterasu"):
        state = availability(contacts[varies], at(2026, 12, 31, 23, 0))
        assert state.state == "varies" and state.accepts_now and state.next_opening is None, varies
        text = contact_text(content, contacts[varies], at(2026, 12, 31, 23, 0))
        assert "受付時間は、それぞれの窓口の案内で確かめてください。" in text, varies
        assert "受付時間外" not in text and "いつでも受け付けています" not in text, varies
