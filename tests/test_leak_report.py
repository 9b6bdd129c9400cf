"""個人情報保護委員会 漏えい等報告, with a frozen clock.

- Reporting and telling the people affected are required only for the four cases of 施行規則7条;
  the triage question leak_report_trigger decides it (a kind presumed malicious is the third case).
- 速報 is 「速やかに」: as soon as possible, at the latest about day 5; not a window from day 3.
- 確報: the day it became known is day 1, so 30 days end on day 30 = 29 days later; dates in another
  year show the year; the clock starts when anyone in the company knew, which the reply says.
"""
from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.core.engine import JST
from bot.flows.incidents.escalation import (
    CHECK,
    NOT_REQUIRED,
    REQUIRED,
    leak_deadlines,
    leak_report,
    severity,
)
from bot.flows.incidents.report import routing_message

FOUND = datetime(2026, 11, 20, 10, 0, tzinfo=JST)


@pytest.fixture(scope="module")
def incidents(content):
    return content.incidents


def status(incidents, kind: str, answers: dict[str, str]):
    return leak_report(incidents.playbooks[kind], answers, incidents.escalation)


def message(content, kind: str, answers: dict[str, str], now: datetime = FOUND) -> str:
    playbook = content.incidents.playbooks[kind]
    return routing_message(content, playbook, answers, severity(playbook, answers, content.incidents.escalation),
                           now)


def test_the_question_that_decides_it_lists_the_four_cases(incidents, content):
    question = next(s.question for s in incidents.playbooks["data_leak"].triage if s.id == "leak_report_trigger")
    for case in ("要配慮個人情報", "お金の被害", "不正の目的", "1,000人"):
        assert case in question
    assert incidents.escalation.effects["leak_report_trigger"]["yes"].leak_report == "required"
    assert incidents.escalation.effects["leak_report_trigger"]["no"].leak_report == "not_required"


def test_kinds_that_ask_about_personal_data_also_settle_the_four_cases(incidents):
    """Either the kind asks the deciding question, or it is presumed malicious (the third case)."""
    for playbook in incidents.playbooks.values():
        asked = [step.id for step in playbook.triage]
        if "personal_data" in asked and not playbook.malicious:
            assert "leak_report_trigger" in asked, playbook.id
            assert asked.index("personal_data") < asked.index("leak_report_trigger"), playbook.id
    assert {p.id for p in incidents.playbooks.values() if "leak_report_trigger" in [s.id for s in p.triage]} == {
        "data_leak", "lost_device", "dos"}


def test_reporting_follows_the_answers(incidents):
    assert status(incidents, "data_leak", {"personal_data": "yes"}).status == CHECK
    assert status(incidents, "data_leak", {"personal_data": "unknown"}).status == CHECK
    assert status(incidents, "data_leak", {"personal_data": "yes", "leak_report_trigger": "unknown"}).status == CHECK
    assert status(incidents, "data_leak", {"personal_data": "yes", "leak_report_trigger": "yes"}).status == REQUIRED
    assert status(incidents, "data_leak", {"personal_data": "yes", "leak_report_trigger": "no"}).status == NOT_REQUIRED
    assert status(incidents, "data_leak", {"personal_data": "no", "leak_report_trigger": "no"}).status == ""
    assert status(incidents, "data_leak", {"personal_data": "no"}).status == ""
    presumed = status(incidents, "ransomware", {"personal_data": "yes"})
    assert presumed.status == REQUIRED and presumed.presumed
    assert status(incidents, "ransomware", {"personal_data": "unknown"}).status == CHECK
    assert status(incidents, "ransomware", {"personal_data": "no"}).status == ""


def test_the_dates_appear_only_when_reporting_applies(content):
    required = message(content, "data_leak", {"personal_data": "yes", "leak_report_trigger": "yes"})
    assert "速報：" in required and "確報：" in required
    assert "委員会への報告と、影響を受けたご本人への通知が必要です" in required
    not_required = message(content, "data_leak", {"personal_data": "yes", "leak_report_trigger": "no"})
    assert "速報" not in not_required and "確報" not in not_required
    assert "通知が必要" not in not_required and "義務はありません" in not_required
    assert "個人情報保護委員会への" not in message(content, "data_leak", {"personal_data": "no"})


def test_without_a_decision_the_reply_says_if_one_of_these_and_does_not_say_notify_unconditionally(content):
    text = message(content, "data_leak", {"personal_data": "yes", "leak_report_trigger": "unknown"})
    block = text.split("■ 相談・報告先")[0]
    assert "次のどれかに当たれば、委員会への報告と、影響を受けたご本人への通知が必要です" in block
    for case in ("要配慮個人情報", "お金の被害", "不正の目的", "1,000人"):
        assert case in block
    assert "当たる場合の期限" in block
    assert "確報：12月19日(土)まで（30日目）。③に当たる場合は2027年1月18日(月)まで（60日目）" in block


def test_preliminary_report_is_as_soon_as_possible_with_what_is_known(content):
    text = message(content, "data_leak", {"personal_data": "yes", "leak_report_trigger": "yes"})
    assert "速報：できるだけ早く。遅くとも11月24日(火)ごろまでに。わかっていることだけで出せます。" in text
    assert "〜" not in text.split("■ 相談・報告先")[0]  # no window that reads "not before the 23rd"


def test_the_clock_starts_when_anyone_in_the_company_knew(content):
    text = message(content, "lost_device", {"personal_data": "yes", "leak_report_trigger": "yes"})
    assert "1日目：11月20日(金)" in text
    assert "社内の誰かが最初に知った日を1日目として数えます（このボットに知らせた日ではありません）" in text


def test_a_kind_presumed_malicious_says_why_and_gives_60_days(content):
    text = message(content, "ransomware", {"personal_data": "yes"})
    assert "不正の目的によるおそれがあるため" in text and "確報：2027年1月18日(月)まで（60日目）" in text


def test_final_report_counts_the_day_of_discovery_as_day_1(incidents):
    data_leak, ransomware = incidents.playbooks["data_leak"], incidents.playbooks["ransomware"]
    assert leak_deadlines(data_leak, FOUND).final_by == date(2026, 12, 19)  # day 30
    assert leak_deadlines(data_leak, date(2026, 2, 1)).final_by == date(2026, 3, 2)
    assert leak_deadlines(ransomware, FOUND).final_by == date(2027, 1, 18)  # day 60


def test_dates_across_the_year_end_show_the_year(content):
    found = datetime(2026, 12, 20, 9, 0, tzinfo=JST)
    text = message(content, "data_leak", {"personal_data": "yes", "leak_report_trigger": "yes"}, found)
    assert "1日目：12月20日(日)" in text
    assert "遅くとも12月24日(木)ごろまでに" in text
    assert "確報：2027年1月18日(月)まで（30日目）" in text
    late = datetime(2026, 12, 29, 9, 0, tzinfo=JST)
    text = message(content, "data_leak", {"personal_data": "yes", "leak_report_trigger": "yes"}, late)
    assert "遅くとも2027年1月2日(土)ごろまでに" in text and "確報：2027年1月27日(水)まで" in text
