"""`bot triage`: what a reporter would get, for the people who keep the content. Built on the same
pure functions as the chat, so it needs no Redis; run in-process (main) and once as a command."""
from __future__ import annotations

import json

import pytest

from bot.cli.main import main
from tests.support.cli import run


def triage(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["triage", *args])
    out, err = capsys.readouterr()
    return status, out, err


def triage_json(capsys, *args: str) -> dict:
    status, out, err = triage(capsys, *args, "--json")
    assert status == 0, err
    return json.loads(out)


def contact(data: dict, contact_id: str) -> dict:
    return next(c for c in data["contacts"] if c["id"] == contact_id)


def test_saturday_11_consumer_case_shows_188_open(capsys):
    data = triage_json(capsys, "fake_alert", "--at", "2026-11-28T11:00", "--answer", "money_transferred=yes")
    hotline = contact(data, "consumer_hotline")
    assert hotline["open"] and hotline["state"] == "open" and hotline["until"] == "16:00"
    assert hotline["phone"] == "188"
    status, text, _ = triage(capsys, "fake_alert", "--at", "2026-11-28T11:00", "--answer", "money_transferred=yes")
    block = text.split("■ 消費者ホットライン 188")[1]
    assert status == 0 and "いま受付時間内です（16:00まで）" in block and "消費者のための窓口" in block


def test_bec_with_money_sent_on_12_30_shows_the_bank_open(capsys):
    data = triage_json(capsys, "bec", "--at", "2026-12-30T10:30", "--answer", "money_transferred=yes")
    bank = contact(data, "bank_fraud_desk")
    assert data["contacts"][0]["id"] == "bank_fraud_desk"
    assert bank["open"] and bank["until"] == "15:00"
    assert data["severity"] == "critical"
    on_new_years_eve = triage_json(capsys, "bec", "--at", "2026-12-31T10:30", "--answer", "money_transferred=yes")
    closed = contact(on_new_years_eve, "bank_fraud_desk")
    assert not closed["open"] and closed["next_opening"] == "2027-01-04T09:00:00+09:00"


def test_the_police_desk_on_a_sunday_is_read_on_the_next_working_day(capsys):
    data = triage_json(capsys, "ransomware", "--at", "2026-11-29T14:00", "--answer", "personal_data=no")
    desk = contact(data, "police_cyber_desk")
    assert desk["state"] == "send_now" and desk["accepts_now"] and not desk["open"]
    assert desk["next_opening"] == "2026-11-30T08:30:00+09:00"
    status, text, _ = triage(capsys, "ransomware", "--at", "2026-11-29T14:00", "--answer", "personal_data=no")
    assert status == 0
    assert "送った内容が読まれるのは 11月30日(月) 08:30 以降です" in text.split("■ 警察 サイバー事案")[1]


def test_the_reporting_block_appears_only_with_a_case_answered_yes(capsys):
    base = ["data_leak", "--at", "2026-11-20T10:00", "--answer", "personal_data=yes"]
    yes = triage_json(capsys, *base, "--answer", "leak_report_trigger=yes")
    assert yes["leak_report"]["status"] == "required"
    assert yes["leak_report"]["final_by"] == "2026-12-19" and yes["leak_report"]["preliminary_by"] == "2026-11-24"
    assert "確報：12月19日(土)まで（30日目）" in yes["message"]
    no = triage_json(capsys, *base, "--answer", "leak_report_trigger=no")
    assert no["leak_report"] == {"status": "not_required", "presumed": False}
    assert "速報" not in no["message"] and "確報" not in no["message"]
    nothing = triage_json(capsys, "data_leak", "--at", "2026-11-20T10:00", "--answer", "personal_data=no")
    assert nothing["leak_report"] is None and "個人情報保護委員会への" not in nothing["message"]


def test_final_report_day_counting_across_the_year_end(capsys):
    data = triage_json(capsys, "lost_device", "--at", "2026-12-20T09:00", "--answer", "personal_data=yes",
                       "--answer", "leak_report_trigger=yes")
    leak = data["leak_report"]
    assert (leak["day_1"], leak["final_by"], leak["final_days"]) == ("2026-12-20", "2027-01-18", 30)
    assert "確報：2027年1月18日(月)まで（30日目）" in data["message"]
    attack = triage_json(capsys, "web_compromise", "--at", "2026-12-20T09:00", "--answer", "personal_data=yes")
    assert attack["leak_report"]["presumed"] and attack["leak_report"]["final_by"] == "2027-02-17"


def test_the_text_output_follows_the_chat(capsys):
    status, text, _ = triage(capsys, "lost_device", "--at", "2026-11-20T10:00", "--answer", "personal_data=yes")
    assert status == 0
    assert text.startswith("# bot triage lost_device at 2026-11-20T10:00+09:00 (not answered: lost_item, stolen, "
                           "leak_report_trigger, regulated_business)")
    order = ["まずこれをしてください", "■ やってはいけないこと", "状況の確認 1/5", "状況の確認 3/5",
             "→ 顧客や従業員の個人情報", "重要度：高", "当たるか確かめてください",
             "■ 相談・報告先（11月20日(金) 10:00 時点）", "このあとの対応"]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)


@pytest.mark.parametrize(("args", "message"), [
    (["no_such_kind"], "no kind 'no_such_kind'; the kinds are ransomware, malware"),
    (["bec", "--answer", "personal_data=maybe"], "personal_data is answered yes, no, unknown"),
    (["bec", "--answer", "personal_data"], "write ID=yes, ID=no or ID=unknown"),
    (["lost_device", "--answer", "lost_item=yes"], "lost_item is answered phone, computer, storage, paper"),
    (["bec", "--answer", "threat_to_life=yes"], "bec asks money_transferred, gift_cards, still_spreading, personal_data"),
    (["bec", "--at", "next friday"], "not an ISO date-time"),
])
def test_usage_errors_say_what_to_write(capsys, args, message):
    status, out, err = triage(capsys, *args)
    assert status == 2 and out == "" and message in err


def test_bot_triage_runs_as_a_command_without_a_store(tmp_path):
    result = run("bot triage bank_less_kind 2>&1; bot triage bec --at 2026-12-30T10:30 "
                 "--answer money_transferred=yes --json", data_dir=tmp_path, env={"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 0, result.stderr
    assert "no kind 'bank_less_kind'" in result.stdout
    data = json.loads(result.stdout.split("\n", 1)[1])
    assert data["kind"] == "bec" and data["contacts"][0]["open"]
