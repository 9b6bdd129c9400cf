"""The cases a review found answered with a neighbouring case's steps, each through the local chat:
the first message fits a phone, the rest is one tap away, and the steps fit the case."""
from __future__ import annotations

import pytest

from bot.adapters.local import LocalChat
from bot.content.schema import FIRST_MESSAGE_MAX
from bot.core.replies import Choices, Recipient, Text
from bot.flows.org.store import OrgStore
from tests.support.admins import make_admin
from tests.support.replies import render_replies


async def report(chat: LocalChat, kind: str) -> list:
    return await chat.click(f"report_incident:{kind}")


def question(replies) -> Choices:
    return next(r for r in replies if isinstance(r, Choices) and r.prompt.startswith("状況の確認"))


async def answer(chat: LocalChat, replies, label: str) -> list:
    """Pick an answer of the question on screen by its label."""
    return await chat.click(next(o.value for o in question(replies).options if o.label == label))


async def answer_all(chat: LocalChat, replies, label: str = "いいえ") -> str:
    """Answer every remaining question with `label` (the first option where there is no such label)."""
    text = ""
    while True:
        shown = question(replies) if any(isinstance(r, Choices) and r.prompt.startswith("状況の確認")
                                         for r in replies) else None
        if shown is None:
            return text
        labels = [o.label for o in shown.options]
        replies = await answer(chat, replies, label if label in labels else labels[0])
        text += render_replies(replies)


@pytest.mark.parametrize("kind", ["ransomware", "malware", "suspicious_email", "phishing", "account_takeover", "bec",
                                  "fake_alert", "extortion_email", "data_leak", "lost_device", "web_compromise", "dos",
                                  "insider"])
async def test_the_first_message_fits_a_phone_and_the_rest_is_one_tap_away(chat, content, kind):
    replies = await report(chat, kind)
    first = replies[0]
    assert isinstance(first, Text)
    rendered = render_replies([first])  # what the local adapter prints
    assert len(rendered) <= FIRST_MESSAGE_MAX, f"{kind}: {len(rendered)} characters"
    playbook = content.incidents.playbooks[kind]
    assert all(step in rendered for step in playbook.do[:3]) and playbook.do[3:4] and playbook.do[3] not in rendered
    assert not any(dont in rendered for dont in playbook.dont)
    more = next(o for o in question(replies).options if o.label == "続きを見る（ほかの手順と注意）")
    rest = render_replies(await chat.click(more.value))
    assert all(step in rest for step in playbook.do[3:]) and all(dont in rest for dont in playbook.dont)


async def test_ceo_fraud_is_checked_with_the_executive_and_money_sent_means_the_bank_first(chat):
    replies = await report(chat, "bec")
    first = replies[0].text
    steps = first.split("\n")
    assert "銀行に電話" in steps[1] and "組戻し" in steps[1]  # step 1: money already sent -> the bank
    assert "社長本人に、前から知っている番号で電話" in first  # not "the business partner" only
    paid = render_replies(await answer(chat, replies, "はい"))
    assert "今すぐ振込をした銀行に電話し、組戻し" in paid
    routed = await answer_all(chat, await chat.send("いいえ"))
    assert "■ 取引銀行" in routed and "■ 法テラス" in routed


async def test_gift_cards_asked_for_by_a_fake_executive_go_to_the_issuer_and_the_police(chat):
    replies = await report(chat, "bec")
    replies = await answer(chat, replies, "いいえ")  # no transfer
    advice = render_replies(await answer(chat, replies, "はい"))  # gift cards
    assert "発行会社の窓口に連絡して利用を止めて" in advice and "警察に相談" in advice
    routed = await answer_all(chat, await chat.send("いいえ"))
    assert "■ ギフトカード（電子マネー）の発行会社" in routed and "■ 警察 サイバー事案" in routed
    assert "■ 取引銀行" not in routed


@pytest.mark.parametrize(("lost", "remote"), [("スマホ・携帯電話", True), ("パソコン・タブレット", True),
                                              ("USBメモリー・外付けディスク", False), ("紙の書類", False)])
async def test_a_lost_thing_is_asked_first_and_remote_lock_is_only_for_devices(chat, lost, remote):
    replies = await report(chat, "lost_device")
    assert "遠隔" not in render_replies(replies)
    assert question(replies).prompt.endswith("なくした（盗まれた）ものはどれですか？")
    advice = render_replies(await answer(chat, replies, lost))
    assert ("遠隔でロックしてください" in advice or "遠隔ロックしてください" in advice) is remote
    # The exception to "do not wipe in a hurry", where there is a wipe at all.
    assert ("画面ロックや暗号化がない、取り戻せる見込みが低いときは、責任者がすぐ消去を決めて" in advice) is remote
    if not remote:
        assert "遠隔でロックや消去をする機能はありません" in advice or "紙の書類" in advice


async def test_a_lost_phone_routes_the_carrier_and_a_theft_the_police(chat):
    replies = await report(chat, "lost_device")
    replies = await answer(chat, replies, "スマホ・携帯電話")
    replies = await answer(chat, replies, "はい")  # stolen
    assert "被害届" in render_replies(replies)
    routed = await answer_all(chat, replies)
    assert "■ 契約している携帯電話会社" in routed and "■ 警察 最寄りの警察署・交番" in routed
    assert "■ クレジットカード会社" in routed


async def test_smishing_that_installed_an_app_is_malware_on_the_phone(chat):
    replies = await report(chat, "phishing")
    assert "機内モード" in replies[0].text.split("\n")[1]
    replies = await answer(chat, replies, "いいえ")  # nothing typed into the fake site
    advice = render_replies(await answer(chat, replies, "はい"))  # an app was installed
    for must in ("機内モードのまま", "アンインストール", "別の端末から変えます", "携帯電話会社"):
        assert must in advice, must
    routed = await answer_all(chat, await chat.send("いいえ"))
    assert "■ 契約している携帯電話会社" in routed and "■ フィッシング対策協議会" in routed


async def test_a_mail_not_opened_does_not_start_with_pulling_the_cable(chat):
    replies = await report(chat, "suspicious_email")
    steps = replies[0].text.split("\n")
    assert "まだ開いていなければ" in steps[1] and "LANケーブル" not in steps[1]
    advice = render_replies(await answer(chat, replies, "いいえ"))  # not opened
    assert "感染の心配はまずありません" in advice
    routed = await answer_all(chat, await chat.send("いいえ"))
    assert "重要度：低" in routed and "ウイルス・不正アクセス届出" not in routed


async def test_a_pc_that_does_not_start_goes_to_the_it_vendor_with_the_donts_that_protect_data(chat, engine):
    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create("山田商事")
    await orgs.bind(org, "local", "local")
    await orgs.set_outside(org, "it_vendor", "山田システム 03-1234-5678（平日9〜18時）")
    replies = await report(chat, "malware")
    assert question(replies).prompt.split("\n")[1].startswith("困っているのは「パソコンが起動しない")
    advice = render_replies(await answer(chat, replies, "はい"))
    for must in ("故障", "保守業者", "販売店", "電源の入れ直しを何度も繰り返す", "初期化やリカバリー", "分解"):
        assert must in advice, must
    routed = await answer_all(chat, await chat.send("いいえ"))
    assert "重要度：低" in routed
    assert "■ 自社のITベンダー・保守業者\n山田システム 03-1234-5678（平日9〜18時）" in routed
    assert "ウイルス・不正アクセス届出" not in routed and "JPCERT" not in routed


async def test_ransomware_says_no_restart_and_no_sleep(chat, content):
    replies = await report(chat, "ransomware")
    assert "再起動やスリープもしないでください" in replies[0].text
    assert any("スリープ" in dont for dont in content.incidents.playbooks["ransomware"].dont)


async def test_fake_alert_says_how_to_remove_the_notifications_allowed(chat):
    replies = await report(chat, "fake_alert")
    replies = await answer(chat, replies, "いいえ")  # nothing paid
    advice = render_replies(await answer(chat, replies, "はい"))  # notifications keep coming
    for must in ("「通知」を許可してしまったため", "「サイトの設定」→「通知」", "Cookieとサイトのアクセス許可", "削除"):
        assert must in advice, must


def test_the_still_spreading_question_has_examples_of_its_own_kind(content):
    asked = {kind: next(s.question for s in p.triage if s.id == "still_spreading")
             for kind, p in content.incidents.playbooks.items() if "still_spreading" in [s.id for s in p.triage]}
    assert len(asked) >= 10 and len(set(asked.values())) == len(asked)  # every kind its own wording
    for kind, wording in asked.items():
        if kind != "ransomware":
            assert "暗号化" not in wording, kind  # no ransomware examples elsewhere
    assert "依頼" in asked["bec"] and "つながらない" in asked["dos"]


async def test_the_organisation_registers_its_outside_contacts_in_the_chat(engine):
    await make_admin(engine, "soumu")
    admin = LocalChat(engine, user="soumu")
    await admin.send("管理")
    await admin.send("鈴木工務店")
    await admin.send("情報セキュリティ責任者")
    await admin.send("自分を登録する")
    asked = render_replies(await admin.send("社外：サイバー保険"))
    assert "「加入しているサイバー保険の事故受付窓口」の連絡先を" in asked
    saved = render_replies(await admin.send("○○損保 事故受付 0120-000-000（24時間） 証券番号 AB-123"))
    assert "・社外：サイバー保険：○○損保 事故受付 0120-000-000（24時間） 証券番号 AB-123" in saved
    org = await OrgStore(engine.store.client, engine.store.keys).for_workspace("local", "local")
    assert org.outside == {"cyber_insurance": "○○損保 事故受付 0120-000-000（24時間） 証券番号 AB-123"}
    reporter = LocalChat(engine, user="tanaka")
    routed = await answer_all(reporter, await report(reporter, "ransomware"))
    assert "■ 加入しているサイバー保険の事故受付窓口\n○○損保 事故受付 0120-000-000（24時間）" in routed
    assert "■ 自社のITベンダー・保守業者\n（未登録）" in routed
    outsider = LocalChat(engine, user="intruder")
    refused = render_replies(await outsider.click("admin_outside:it_vendor"))
    assert "管理者だけが使えます" in refused


async def test_the_first_reply_still_tells_the_company_at_once(chat, engine):
    """The first reply still tells the company's people at once (the steps got shorter, not the alert)."""
    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create("山田商事")
    await orgs.bind(org, "local", "local")
    await orgs.add_contact(org, "security_lead", Recipient("local", "local", "user", "soumu", "情報セキュリティ責任者"))
    replies = await report(chat, "phishing")
    assert "社内の情報セキュリティ責任者に、この報告を知らせました。" in render_replies(replies)
