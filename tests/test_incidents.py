"""緊急相談 through the local adapter: recognition, playbook at once, triage, routing, records."""
from __future__ import annotations

import pytest

from bot.adapters.local import LocalChat
from bot.core.replies import Choices, Notice, Recipient, Text
from bot.flows.incidents.records import IncidentStore
from bot.flows.org.store import OrgStore
from tests.support.admins import make_admin
from tests.support.cli import run
from tests.support.orgs import company
from tests.support.replies import render_replies


@pytest.fixture
async def org(engine):
    return await company(engine)


def notices(replies) -> list[Notice]:
    return [r for r in replies if isinstance(r, Notice)]


def incident_id(replies) -> str:
    return render_replies(replies).split("受付番号：")[1].split("\n")[0]


async def test_ransomware_gets_the_playbook_in_the_first_message(chat, org):
    replies = await chat.send("ファイルが暗号化された")
    first = replies[0]
    assert isinstance(first, Text)
    for must in ("LANケーブル", "Wi-Fi", "電源は切らず、再起動やスリープもしない", "撮影", "責任者"):
        assert must in first.text, must
    assert "やってはいけないこと" not in first.text  # one tap away
    question = next(r for r in replies if isinstance(r, Choices))
    assert question.prompt.startswith("状況の確認 1/4") and [o.label for o in question.options] == [
        "はい", "いいえ", "わからない", "続きを見る（ほかの手順と注意）"]
    # Critical from the start: the security lead and the executive hear at once.
    assert sorted(n.to.id for n in notices(replies)) == ["shacho", "soumu"]
    more = render_replies(await chat.click(question.options[3].value))
    for must in ("■ ほかにやること", "4. 外付けHDD", "■ やってはいけないこと", "身代金を払", "記録が消える操作"):
        assert must in more, must
    again = more.split("状況の確認 1/4")[1]  # the same question again, without the button this time
    assert "続きを見る" not in again and "わからない" in again


async def test_triage_routes_the_report_and_records_it(chat, org, engine, clock):
    replies = await chat.send("会社のスマホを電車に置き忘れました")
    number = incident_id(replies)
    assert "紛失" in replies[0].text
    assert "遠隔" not in replies[0].text  # not before it is known that it was a phone
    asked = render_replies(replies)
    assert "なくした（盗まれた）ものはどれですか？" in asked and "USBメモリー・外付けディスク" in asked
    phone = render_replies(await chat.send("スマホ・携帯電話"))
    assert "遠隔ロック" in phone and "携帯電話会社" in phone and "責任者がすぐ消去を決めて" in phone
    await chat.send("いいえ")  # not stolen
    await chat.send("はい")  # personal data
    await chat.send("はい")  # one of the four cases that make reporting required
    done = await chat.send("いいえ")  # regulated business
    text = render_replies(done)
    assert "重要度：高" in text
    assert "■ 契約している携帯電話会社" in text and "■ 警察 最寄りの警察署・交番" in text
    # 速報 as soon as possible (not a window starting on day 3); 確報 on day 30, counting 11/20 as day 1.
    assert "速報：できるだけ早く。遅くとも11月24日(火)ごろまでに。" in text and "確報：12月19日(土)まで（30日目）" in text
    assert "個人情報保護委員会 漏えい等報告" in text
    assert "このあとの対応" in text
    told = {n.to.id for n in notices(done)}
    assert told == {"soumu", "shacho", "jinji"}  # high + personal data
    record = await IncidentStore(engine.store.client, engine.store.keys).load(number)
    assert record.kind == "lost_device" and record.status == "received" and record.severity == "high"
    assert record.answers == {"lost_item": "phone", "stolen": "no", "personal_data": "yes", "leak_report_trigger": "yes",
                              "regulated_business": "no"}
    assert record.description == "会社のスマホを電車に置き忘れました"
    assert [e["what"] for e in record.timeline] == ["received", "triaged"]


async def test_the_responsible_person_changes_the_status_and_the_reporter_hears(engine, org):
    reporter = LocalChat(engine, user="tanaka")
    number = incident_id(await reporter.send("怪しいメールの添付を開いてしまった"))
    lead = LocalChat(engine, user="soumu")
    changed = await lead.click(f"incident_status:{number}:in_progress")
    assert f"{number} の状態を「対応中」にしました" in render_replies(changed)
    [notice] = notices(changed)
    assert notice.to.id == "tanaka" and "対応中" in notice.replies[0].text
    record = await IncidentStore(engine.store.client, engine.store.keys).load(number)
    assert record.status == "in_progress" and record.timeline[-1]["by"] == "soumu"
    stranger = LocalChat(engine, user="someone")
    refused = await stranger.click(f"incident_status:{number}:done")
    assert "登録された担当者だけ" in render_replies(refused)
    assert (await IncidentStore(engine.store.client, engine.store.keys).load(number)).status == "in_progress"


async def test_the_reporter_adds_a_note_and_lists_reports(chat, engine, org):
    number = incident_id(await chat.send("不正ログインされたみたいです"))
    await chat.send("やめる")
    await chat.click(f"incident_note:{number}")
    saved = await chat.send("14時ごろ知らない国からのログイン通知が来ていました")
    assert f"{number} にメモを追加しました" in render_replies(saved)
    record = await IncidentStore(engine.store.client, engine.store.keys).load(number)
    assert record.timeline[-1]["what"] == "note" and "知らない国" in record.timeline[-1]["text"]
    listed = render_replies(await chat.send("報告一覧"))
    assert number in listed and "受付" in listed


async def test_unclear_trouble_asks_which_kind_and_never_dead_ends(chat):
    replies = await chat.send("助けて")
    menu = replies[-1]
    assert isinstance(menu, Choices)
    kinds = [o.value for o in menu.options if o.value.startswith("report_incident:")]
    assert len(kinds) >= 5 and len(menu.options) <= 13
    chosen = await chat.click(kinds[0])
    assert "まずこれをしてください" in render_replies(chosen)


async def test_menu_entry_offers_every_kind_over_two_pages(chat):
    first = (await chat.click("choose_incident"))[-1]
    second = (await chat.click("incident_kinds:2"))[-1]
    values = {o.value for o in first.options + second.options if o.value.startswith("report_incident:")}
    assert len(values) == 13


async def test_without_an_organisation_the_reporter_is_told_to_call_someone(chat):
    text = render_replies(await chat.send("ファイルが暗号化された"))
    assert "直接連絡してください" in text


async def test_a_threat_to_life_says_110_first(chat, org):
    await chat.send("元社員が顧客データを持ち出していた")
    for answer in ("いいえ", "いいえ", "いいえ", "はい"):  # personal data, spreading, regulated, threat to life
        replies = await chat.send(answer)
    text = render_replies(replies)
    assert "110番" in text.split("■ 相談・報告先")[0]
    contacts = [line for line in text.split("■ 相談・報告先")[1].splitlines()[1:] if line.startswith("■ ")]
    assert contacts[0].startswith("■ 警察 110番")


async def test_admin_conversation_sets_up_the_organisation(engine):
    await make_admin(engine, "soumu")
    admin = LocalChat(engine, user="soumu")
    assert "会社（組織）の名前を送ってください" in render_replies(await admin.send("管理"))
    await admin.send("鈴木工務店")
    await admin.send("情報セキュリティ責任者")
    done = render_replies(await admin.send("自分を登録する"))
    assert "・情報セキュリティ責任者：soumu" in done
    org = await OrgStore(engine.store.client, engine.store.keys).for_workspace("local", "local")
    assert org.name == "鈴木工務店" and org.reach("security_lead")[0].id == "soumu"
    outsider = LocalChat(engine, user="intruder")
    assert "管理者だけが使えます" in render_replies(await outsider.send("管理"))


def test_bot_classify_prints_intent_and_confidence(tmp_path):
    result = run("bot classify", data_dir=tmp_path, stdin="ファイルが暗号化された\n社用スマホをなくした\nこんにちは\n")
    lines = [line.split("\t") for line in result.stdout.strip().splitlines()]
    assert [intent for intent, _ in lines] == ["ransomware", "lost_device", "unknown"]
    assert all(0.0 <= float(confidence) <= 1.0 for _, confidence in lines)


async def test_text_typed_during_triage_is_kept_as_a_note_not_a_new_report(chat, engine, org):
    number = incident_id(await chat.send("ファイルが暗号化された"))
    again = render_replies(await chat.send("はい、他のパソコンのファイルも暗号化されています"))
    assert "メモとして記録しました" in again and "状況の確認 1/4" in again
    assert await chat.click("report_incident:ransomware") != []  # a double click on the kind...
    mine = await IncidentStore(engine.store.client, engine.store.keys).by_reporter(chat.who)
    assert [i.id for i in mine] == [number]  # ...creates nothing new
    assert mine[0].timeline[-1]["text"] == "はい、他のパソコンのファイルも暗号化されています"


async def test_the_update_card_keeps_the_report_time_and_words(chat, org, clock):
    await chat.send("社用スマホをなくした")
    clock.advance(minutes=25)
    for answer in ("スマホ・携帯電話", "いいえ", "いいえ", "いいえ"):
        await chat.send(answer)
    done = await chat.send("いいえ")
    card = next(r for n in notices(done) for r in n.replies if hasattr(r, "fields"))
    fields = {f.label: f.value for f in card.fields}
    assert fields["受付日時"] == "2026-11-20 10:00" and card.body == "社用スマホをなくした"
    assert fields["なくした（盗まれた）ものはどれですか？"] == "スマホ・携帯電話"  # the option's label


async def test_a_lead_on_line_may_act_on_a_report_made_in_the_local_chat(engine, org):
    from bot.core.events import IncomingEvent
    from bot.store.keys import ConversationKey

    orgs = OrgStore(engine.store.client, engine.store.keys)
    await orgs.bind(org, "line", "Bline")
    await orgs.add_contact(org, "security_lead", Recipient("line", "Bline", "user", "Ulead", "情報セキュリティ責任者"))
    number = incident_id(await LocalChat(engine, user="tanaka").send("怪しいメールの添付を開いてしまった"))
    lead = ConversationKey("line", "Bline", "Ulead")
    await engine.handle(IncomingEvent.choice(lead, f"incident_status:{number}:done", event_id="e-line-1"))
    assert (await IncidentStore(engine.store.client, engine.store.keys).load(number)).status == "done"
    other_org_lead = ConversationKey("line", "Bother", "Ulead")
    other = OrgStore(engine.store.client, engine.store.keys)
    foreign = await other.create("別会社")
    await other.bind(foreign, "line", "Bother")
    await other.add_contact(foreign, "security_lead", Recipient("line", "Bother", "user", "Ulead", "情報セキュリティ責任者"))
    refused = await engine.handle(IncomingEvent.choice(other_org_lead, f"incident_status:{number}:received",
                                                       event_id="e-line-2"))
    assert "登録された担当者だけ" in render_replies(refused)


async def test_a_stale_name_prompt_cannot_replace_the_organisation(engine):
    mallory, boss = LocalChat(engine, user="mallory"), LocalChat(engine, user="boss")
    await make_admin(engine, "mallory")
    await make_admin(engine, "boss")
    await mallory.send("管理")  # the name prompt stays open
    await boss.send("管理")
    await boss.send("山田商事")
    await boss.send("情報セキュリティ責任者")
    await boss.send("自分を登録する")
    reply = render_replies(await mallory.send("乗っ取り商事"))
    assert "すでに組織が登録されています" in reply
    org = await OrgStore(engine.store.client, engine.store.keys).for_workspace("local", "local")
    assert org.name == "山田商事" and [p.id for p in org.reach("security_lead")] == ["boss"]


async def test_an_organisation_with_only_a_channel_is_not_open_to_everyone(engine):
    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create("チャンネルだけ商事")
    await orgs.bind(org, "local", "local")
    await orgs.add_contact(org, "security_lead", Recipient("local", "local", "channel", "C0SEC", "情報セキュリティ責任者"))
    assert "管理者だけが使えます" in render_replies(await LocalChat(engine, user="anyone").send("管理"))


@pytest.mark.parametrize("text", ["パソコンが変です", "お客さんの情報がやばいかも", "ネットがおかしい"])
async def test_vague_trouble_is_never_a_dead_end(chat, text):
    replies = await chat.send(text)
    rendered = render_replies(replies)
    offered = [o.value for o in replies[-1].options] if isinstance(replies[-1], Choices) else []
    # Either the playbook at once, or kinds to pick from (with a way to see them all).
    assert "まずこれをしてください" in rendered or (
        any(v.startswith("report_incident:") for v in offered)
        and ("incident_kinds:1" in offered or "incident_kinds:2" in offered))
