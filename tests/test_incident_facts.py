"""The incident desk after issue 11: facts beat labels, nobody is paged by accident, a new incident
during another's questions, no dead ends. Through the local chat, on the real engine and Redis."""
from __future__ import annotations

import pytest

from bot.adapters.local import LocalChat
from bot.core.replies import Choices, Notice
from bot.flows.incidents.records import IncidentStore
from tests.support.orgs import company
from tests.support.replies import render_replies

RANSOMWARE_TYPED = "共有フォルダのファイルが全部暗号化されて身代金要求の画面が出てる！"
UNSURE_REPORT = "変なメールが来た"  # suspicious_email, between 0.6 and notify_confidence


@pytest.fixture
async def org(engine):
    return await company(engine, roles=("security_lead", "executive"))


@pytest.fixture
def incidents(engine):
    return IncidentStore(engine.store.client, engine.store.keys)


def notices(replies) -> list[Notice]:
    return [r for r in replies if isinstance(r, Notice)]


def notice_text(replies) -> str:
    return render_replies([r for r in replies if isinstance(r, Notice)])


def incident_id(replies) -> str:
    return render_replies(replies).split("受付番号：")[1].split("\n")[0].split("（")[0]


def question(replies) -> Choices:
    return next(r for r in replies if isinstance(r, Choices))


async def answer(chat: LocalChat, replies, label: str) -> list:
    return await chat.click(next(o.value for o in question(replies).options if o.label == label))


# --- facts beat labels ----------------------------------------------------------------------------

async def test_a_phishing_report_without_a_password_entered_is_not_handled_as_credential_theft(chat, org, incidents):
    replies = await chat.click("report_incident:phishing")
    number = incident_id(replies)
    assert "入力しましたか" in question(replies).prompt
    replies = await chat.send("いいえ")  # nothing typed into the page
    assert "心配はまずありません" in render_replies(replies)
    replies = await chat.send("いいえ")  # no app installed either
    switched = render_replies(replies)
    assert "「偽サイト・偽SMS（フィッシング）」ではなく「不審なメールが届いた・開いた」として対応します" in switched
    assert "【不審なメールが届いた・開いた】落ち着いて、まずこれをしてください。" in switched
    assert "すぐパスワードを変えて" not in switched and "カード会社" not in switched
    assert "入力しましたか" not in question(replies).prompt  # already answered: not asked again
    # The lead, told when it was picked, hears about the change.
    assert "「不審なメールが届いた・開いた」として対応することになりました" in notice_text(replies)
    while isinstance(replies[-1], Choices) and replies[-1].prompt.startswith("状況の確認"):
        replies = await chat.send("いいえ")
    routed = render_replies(replies)
    assert "重要度：高" not in routed and "■ クレジットカード会社" not in routed
    record = await incidents.load(number)
    assert record.kind == "suspicious_email" and record.severity in ("low", "medium")
    assert record.answers["password_entered"] == "no"
    assert any(e["what"] == "kind_changed" for e in record.timeline)


async def test_a_suspicious_mail_whose_reporter_entered_a_password_becomes_phishing(chat, org, incidents):
    replies = await chat.send("怪しいメールの添付を開いてしまった")
    number = incident_id(replies)
    assert "【不審なメールが届いた・開いた】" in render_replies(replies)
    replies = await chat.send("はい")  # opened
    assert "入力しましたか" in question(replies).prompt
    replies = await chat.send("はい")  # a password entered
    switched = render_replies(replies)
    assert "「偽サイト・偽SMS（フィッシング）」として対応します" in switched
    assert "すぐパスワードを変えてください" in switched  # phishing's first steps, at once
    record = await incidents.load(number)
    assert record.kind == "phishing"
    replies = await chat.send("いいえ")  # app
    while isinstance(replies[-1], Choices) and replies[-1].prompt.startswith("状況の確認"):
        replies = await chat.send("いいえ")
    assert "重要度：高" in render_replies(replies)  # a password entered: at least high
    assert (await incidents.load(number)).severity == "high"


async def test_a_mail_not_opened_is_not_asked_about_a_password(chat):
    replies = await chat.click("report_incident:suspicious_email")
    replies = await chat.send("いいえ")  # not opened
    assert "入力しましたか" not in question(replies).prompt


async def test_money_already_sent_brings_the_bank_and_the_police_at_once(chat, org):
    replies = await chat.click("report_incident:bec")
    assert "もう振り込みましたか" in question(replies).prompt
    paid = render_replies(await chat.send("はい"))
    now = paid.split("■ いますぐ連絡するところ")[1]
    assert now.index("■ 取引銀行") < now.index("■ 警察 サイバー事案") < now.index("#9110")
    assert "組戻し" in paid  # the advice of the answer, before the contacts
    assert "状況の確認 2/" in paid  # then the next question


async def test_money_sent_after_a_mail_not_opened_still_routes_the_bank_and_the_police_first(chat, org):
    await chat.click("report_incident:suspicious_email")
    await chat.send("いいえ")  # not opened: alone, no police (contacts.yaml `unless: opened=no`)
    await chat.send("いいえ")  # one device
    replies = await chat.send("いいえ")  # not spreading
    assert "お金を振り込んだり" in question(replies).prompt  # the last question
    paid = render_replies(await chat.send("はい"))
    assert "■ いますぐ連絡するところ" not in paid  # the routing that follows lists them first
    assert "重要度：緊急" in paid
    routed = paid.split("■ 相談・報告先")[1]
    assert routed.index("■ 取引銀行") < routed.index("■ 警察 サイバー事案") < routed.index("■ IPA")


# --- a new incident during another's questions ------------------------------------------------------

async def test_ransomware_typed_during_phishing_triage_gets_its_first_aid_and_a_report_of_its_own(
        chat, org, incidents, engine):
    first = await chat.click("report_incident:phishing")
    phishing = incident_id(first)
    replies = await chat.send(RANSOMWARE_TYPED)
    text = render_replies(replies)
    assert "【ランサムウェア被害】落ち着いて、まずこれをしてください。" in text
    assert "LANケーブル" in text and "電源は切らず" in text
    assert "メモとして記録しました" not in text
    assert [o.label for o in question(replies).options] == ["新しい報告にする", "この報告を切り替える"]
    filed = await chat.send("新しい報告にする")
    ransomware = incident_id(filed)
    assert ransomware != phishing
    new = await incidents.load(ransomware)
    assert new.kind == "ransomware" and new.description == RANSOMWARE_TYPED
    assert "yamadaさんから緊急相談がありました" in notice_text(filed)  # confirmed by the reporter: told
    assert RANSOMWARE_TYPED in notice_text(filed)
    assert "状況の確認 1/" in question(filed).prompt and "個人情報" in question(filed).prompt
    old = await incidents.load(phishing)
    assert old.kind == "phishing" and not any(e.get("text") == RANSOMWARE_TYPED for e in old.timeline)


async def test_ransomware_typed_during_phishing_triage_can_change_the_reports_kind(chat, org, incidents):
    first = await chat.click("report_incident:phishing")
    number = incident_id(first)
    await chat.send("いいえ")  # password: a phishing answer, kept
    replies = await chat.send(RANSOMWARE_TYPED)
    assert "電源は切らず" in render_replies(replies)
    changed = await chat.send("切り替え")
    assert f"{number} を「ランサムウェア被害」として対応します。" in render_replies(changed)
    assert "「ランサムウェア被害」として対応することになりました" in notice_text(changed)
    record = await incidents.load(number)
    assert record.kind == "ransomware"
    assert any(e["what"] == "note" and e["text"] == RANSOMWARE_TYPED for e in record.timeline)
    assert "個人情報" in question(changed).prompt  # ransomware's own questions now


@pytest.mark.parametrize("typed", ["6", "99", "０", "５"])
async def test_out_of_range_triage_answers_are_asked_again_not_kept(chat, incidents, typed):
    first = await chat.click("report_incident:phishing")
    number = incident_id(first)
    replies = await chat.send(typed)
    text = render_replies(replies)
    assert text.startswith("1〜4の番号で答えてください。") and "状況の確認 1/" in text
    record = await incidents.load(number)
    assert [e["what"] for e in record.timeline] == ["received"] and record.answers == {}


async def test_a_remark_during_the_questions_is_kept_as_a_note(chat, incidents):
    number = incident_id(await chat.click("report_incident:ransomware"))
    kept = render_replies(await chat.send("14時ごろ経理の田中さんのパソコンで最初に気づきました"))
    assert "メモとして記録しました" in kept
    assert (await incidents.load(number)).timeline[-1]["what"] == "note"


# --- nobody is paged by accident -------------------------------------------------------------------

async def test_an_unsure_report_tells_the_lead_only_once_a_question_is_answered(chat, org, engine):
    prediction = engine.classifier.classify(UNSURE_REPORT)
    assert prediction.intent == "suspicious_email"
    assert 0.6 <= prediction.confidence < engine.content.incidents.notify_confidence
    first = await chat.send(UNSURE_REPORT)
    assert "【不審なメールが届いた・開いた】" in render_replies(first)  # the steps at once
    assert not notices(first) and "まだ知らせていません" in render_replies(first)
    answered = await chat.send("はい")
    assert {n.to.id for n in notices(answered)} == {"soumu"}
    assert "yamadaさんから緊急相談がありました" in notice_text(answered)
    later = await chat.send("いいえ")
    assert not notices(later)  # told once, not at every answer


async def test_a_sure_report_tells_the_lead_at_once(chat, org, engine):
    typed = "ファイルが暗号化された"
    assert engine.classifier.classify(typed).confidence >= engine.content.incidents.notify_confidence
    first = await chat.send(typed)
    assert {n.to.id for n in notices(first)} == {"soumu", "shacho"}  # critical: the executive too
    assert "ファイルが暗号化された" in notice_text(first)  # what the reporter wrote, on the card
    assert "間違いだったときは「取り消し」と送ってください" in render_replies(first)


async def test_a_withdrawn_report_is_shown_withdrawn_to_the_lead(chat, org, incidents):
    number = incident_id(await chat.send("ファイルが暗号化された"))
    asked = await chat.send("間違いでした")
    assert f"報告 {number}（ランサムウェア被害）を取り消しますか？" in render_replies(asked)
    done = await chat.send("はい")
    assert f"報告 {number} を取り消しました。" in render_replies(done)
    told = {n.to.id: render_replies(list(n.replies)) for n in notices(done)}
    assert set(told) == {"soumu", "shacho"}
    for text in told.values():
        assert f"yamadaさんが報告 {number} を取り消しました" in text
        assert next(line for line in text.splitlines() if "状態" in line).endswith("取り消し")  # the card says so
        assert "対応中にする" not in text  # nothing to act on
    record = await incidents.load(number)
    assert record.status == "withdrawn" and record.timeline[-1]["what"] == "withdrawn"
    assert "取り消し" in render_replies(await chat.send("報告一覧"))
    assert "取り消せる報告はありません" in render_replies(await chat.send("取り消し"))


async def test_a_report_withdrawn_before_anyone_was_told_tells_nobody(chat, org, incidents):
    number = incident_id(await chat.send(UNSURE_REPORT))
    await chat.send("取り消し")
    done = await chat.send("取り消す")
    assert not notices(done) and (await incidents.load(number)).status == "withdrawn"


async def test_a_report_is_withdrawn_after_its_questions_too(chat, org, incidents):
    replies = await chat.click("report_incident:dos")
    number = incident_id(replies)
    while isinstance(replies[-1], Choices) and replies[-1].prompt.startswith("状況の確認"):
        replies = await chat.send("いいえ")
    assert "報告を取り消す" in [o.label for o in replies[-1].options]
    await chat.send("取り消し")
    done = await chat.send("はい")
    assert (await incidents.load(number)).status == "withdrawn" and notices(done)


async def test_keeping_the_report_asks_the_question_again(chat, org, incidents):
    number = incident_id(await chat.click("report_incident:ransomware"))
    await chat.send("取り消し")
    kept = await chat.send("取り消さない")
    assert "取り消しませんでした" in render_replies(kept) and "状況の確認 1/" in question(kept).prompt
    assert (await incidents.load(number)).status == "received"


async def test_only_the_reporter_withdraws(engine, org, incidents):
    reporter = LocalChat(engine, user="tanaka")
    number = incident_id(await reporter.click("report_incident:ransomware"))
    other = LocalChat(engine, user="someone")
    await other.click(f"incident_withdraw:{number}:yes")
    assert (await incidents.load(number)).status == "received"


# --- no dead ends ---------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["なんか変", "困ってる", "助けて"])
async def test_a_vague_report_gets_steps_safe_for_any_incident_then_the_kinds(chat, typed, incidents, engine):
    replies = await chat.send(typed)
    text = render_replies(replies)
    for must in ("何も消さないでください", "気づいた時刻", "支払いや、相手への返信", "責任者に、すぐ報告",
                 "■ IPA 企業組織向けサイバーセキュリティ相談窓口", "■ 警察 サイバー事案"):
        assert must in text, (typed, must)
    kinds = [o for o in replies[-1].options if o.value.startswith("report_incident:")]
    assert len(kinds) >= 5
    assert await incidents.by_reporter(chat.who) == []  # no report for a feeling
