"""The self-check driven through the local adapter: type a message, read the replies."""
from __future__ import annotations

import asyncio

from bot.adapters.local import LocalChat
from bot.core.replies import Card, Choices, Progress
from bot.runtime.startup import build_engine
from bot.store.conversations import Store, connect
from bot.store.keys import Keys
from tests.support.replies import render_replies

LABELS = ["実施している", "一部実施している", "実施していない", "わからない"]


async def say(chat: LocalChat, text: str) -> str:
    return render_replies(await chat.send(text))


async def answer_all(chat: LocalChat, answers: list[int]) -> list:
    """Answer questions in order by number (1-4); returns the last replies."""
    replies = []
    for a in answers:
        replies = await chat.send(str(a + 1))
    return replies


def card(replies) -> Card:
    return next(r for r in replies if isinstance(r, Card))


def card_values(replies) -> dict[str, str]:
    return {f.label: f.value for f in card(replies).fields}


def current_question(replies) -> int:
    return next(r for r in replies if isinstance(r, Progress)).current


async def test_menu_greets_and_offers_the_self_check(chat):
    replies = await chat.start()
    text = render_replies(replies)
    assert "相談窓口" in text
    menu = replies[-1]
    assert isinstance(menu, Choices)
    assert [o.value for o in menu.options] == [
        "choose_incident", "start_diagnosis", "show_history", "start_lessons", "show_help"]


async def test_all_done_scores_100_with_category_subtotals(chat):
    await chat.start()
    first = await chat.send("自社診断")
    assert current_question(first) == 1
    assert "No.1 パソコンやスマホなど情報機器のOSやソフトウェアは常に最新の状態にしていますか？" in render_replies(first)
    replies = await answer_all(chat, [0] * 25)
    values = card_values(replies)
    assert values["合計"] == "100 / 100点"
    assert values["基本的対策"] == "20 / 20点"
    assert values["従業員としての対策"] == "52 / 52点"
    assert values["組織としての対策"] == "28 / 28点"
    assert "すべての項目を「実施している」" in render_replies(replies)


async def test_mixed_answers_give_weak_items_unknowns_and_security_action(chat, content):
    answers = [0] * 25
    answers[2] = 2   # No.3 not done
    answers[3] = 1   # No.4 partly
    answers[10] = 2  # No.11 not done
    answers[8] = 3   # No.9 unknown
    answers[23] = 3  # No.24 unknown
    await chat.send("チェックリスト")
    replies = await answer_all(chat, answers)
    values = card_values(replies)
    # 20 items done (80) + one partly (2) + two not done (0) + two unknown (-2)
    assert values["合計"] == "80 / 100点"
    assert values["基本的対策"] == "14 / 20点"
    assert values["従業員としての対策"] == "43 / 52点"
    assert values["組織としての対策"] == "23 / 28点"
    lead = render_replies(replies)
    assert "【まず取り組む3つ】\n1. No.3 パスワードの強化：" in lead and "2. No.11 " in lead and "3. No.4 " in lead
    assert content.checklist.item(3).countermeasure not in lead  # one tap away
    text = render_replies(await chat.send("詳しい結果と対策を見る"))
    weak = text.split("【優先して取り組みたい項目と対策】")[1].split("【確認が必要な項目】")[0]
    # not done first, then partly done
    assert weak.index("No.3 ") < weak.index("No.11 ") < weak.index("No.4 ")
    assert content.checklist.item(3).countermeasure in weak
    assert "ほかにも" not in weak  # four items to improve: all shown
    unknown = text.split("【確認が必要な項目】")[1].split("【SECURITY ACTION")[0]
    assert "No.9 " in unknown and "No.24 " in unknown and "No.3 " not in unknown
    assert content.checklist.item(9).how_to_check in unknown
    action = text.split("【SECURITY ACTION")[1]
    assert "No.3 パスワードの強化" in action and "No.4 " in action and "No.1 " not in action.split("★★")[0]


async def test_answers_by_label_and_full_width_number(chat):
    await chat.send("自社診断")
    assert current_question(await chat.send("実施していない")) == 2
    assert current_question(await chat.send("２")) == 3
    assert current_question(await chat.send("一部")) == 4  # a label's unique beginning
    back = await chat.send("戻る")
    assert current_question(back) == 3
    assert "（いまの回答：一部実施している）" in render_replies(back)


async def test_unexpected_reply_asks_again_without_recording(chat, engine):
    await chat.send("自社診断")
    replies = await chat.send("たぶん大丈夫だと思う")
    text = render_replies(replies)
    assert "1〜4 の番号" in text
    assert current_question(replies) == 1
    assert current_question(await chat.send("9")) == 1
    snapshot = await engine.store.read(chat.who)
    assert snapshot.record["data"]["diagnosis"]["answers"] == [None] * 25


async def test_back_on_first_question_says_so(chat):
    await chat.send("自社診断")
    text = await say(chat, "戻る")
    assert "最初の質問" in text and "No.1 " in text


async def test_cancel_keeps_answers_and_resume_continues_at_first_unanswered(chat, engine):
    await chat.send("自社診断")
    await answer_all(chat, [0, 1, 2, 3, 0, 1, 2])
    paused = await say(chat, "やめる")
    assert "7/25問" in paused
    assert "自社診断の続き（7/25）" in paused
    resumed = await chat.send("診断したい")
    assert current_question(resumed) == 8
    assert "No.8からです" in render_replies(resumed)
    snapshot = await engine.store.read(chat.who)
    assert snapshot.record["data"]["diagnosis"]["answers"][:8] == [0, 1, 2, 3, 0, 1, 2, None]


async def test_resume_after_a_restart_of_the_process(content, redis_url, key_prefix, clock, store):
    first = LocalChat(build_engine(content=content, store=store, clock=clock), user="sato")
    await first.send("自社診断")
    await answer_all(first, [0] * 12)
    # A new process: new engine, new connection pool, same Redis.
    client = connect(redis_url)
    try:
        second = LocalChat(build_engine(content=content, store=Store(client, Keys(key_prefix)), clock=clock), user="sato")
        greeting = render_replies(await second.start())
        assert "自社診断の続き（12/25）" in greeting
        assert current_question(await second.send("続きから")) == 13
        replies = await answer_all(second, [0] * 13)
        assert card_values(replies)["合計"] == "100 / 100点"
    finally:
        await client.aclose(close_connection_pool=True)


async def test_restart_from_the_beginning(chat, engine):
    await chat.send("自社診断")
    await answer_all(chat, [2, 2, 2])
    replies = await chat.send("最初から")
    assert current_question(replies) == 1
    snapshot = await engine.store.read(chat.who)
    assert snapshot.record["data"]["diagnosis"]["answers"] == [None] * 25


async def test_history_shows_past_results_and_the_change(chat, clock):
    assert "まだ診断の結果がありません" in await say(chat, "履歴")
    await chat.send("自社診断")
    await answer_all(chat, [2] * 25)  # 0 points
    clock.advance(days=30)
    await chat.send("自社診断")
    replies = await answer_all(chat, [0] * 10 + [2] * 15)  # 40 points
    assert card(replies).body == "前回（2026年11月20日）から +40点"
    history = await say(chat, "前回の診断結果を見たい")
    assert "【自社診断の履歴】" in history
    rows = history.split("【自社診断の履歴】（新しい順）\n")[1].split("\n\n")[0].splitlines()
    assert rows == ["2026年12月20日 10:00　40点（前回から +40点）", "2026年11月20日 10:00　0点"]


async def test_first_result_says_it_is_the_first(chat):
    await chat.send("自社診断")
    replies = await answer_all(chat, [1] * 25)
    assert card_values(replies)["合計"] == "50 / 100点"
    assert "はじめての診断" in card(replies).body


async def test_help_during_the_check_shows_the_question_again(chat):
    await chat.send("自社診断")
    await answer_all(chat, [0, 0])
    replies = await chat.send("ヘルプ")
    assert "【使い方】" in render_replies(replies)
    assert current_question(replies) == 3


async def test_unknown_text_in_the_menu_gets_a_hint_and_the_menu(chat):
    replies = await chat.send("こんにちは")
    text = render_replies(replies)
    assert "うまく読み取れませんでした" in text
    # Someone in trouble whose words were not recognised is pointed at the incident desk first.
    assert "困ったことが起きているなら「緊急相談」" in text
    assert isinstance(replies[-1], Choices)
    assert replies[-1].options[0].label == "緊急相談"


async def test_repeated_event_id_is_ignored(chat, engine):
    await chat.send("自社診断")
    first = await chat.send("1", event_id="evt-1")
    assert current_question(first) == 2
    again = await chat.send("1", event_id="evt-1")
    assert again == []
    snapshot = await engine.store.read(chat.who)
    assert snapshot.record["data"]["diagnosis"]["answers"][:2] == [0, None]


async def test_double_click_records_one_answer_and_late_click_changes_it(chat, engine):
    await chat.send("自社診断")
    assert current_question(await chat.click("answer:1:1")) == 2
    assert await chat.click("answer:1:1") == []  # the same button again: nothing happens
    changed = await chat.click("answer:1:2")  # a different answer on the old question
    assert "No.1の回答を「実施していない」に変更しました" in render_replies(changed)
    snapshot = await engine.store.read(chat.who)
    draft = snapshot.record["data"]["diagnosis"]
    assert draft["answers"][:2] == [2, None] and draft["current"] == 1


async def test_malformed_or_stale_choices_get_a_clear_answer(chat):
    await chat.send("自社診断")
    assert "今は使えません" in render_replies(await chat.click("answer:99:0"))
    assert "今は使えません" in render_replies(await chat.click("answer:x"))
    assert "今は使えません" in render_replies(await chat.click("no_such_trigger:1"))
    await answer_all(chat, [0] * 25)
    stale = await chat.click("answer:25:1")  # a button of the finished check
    assert "今は使えません" in render_replies(stale)


async def test_two_clicks_at_once_never_double_count(chat, engine):
    await chat.send("自社診断")
    await asyncio.gather(chat.click("answer:1:0"), chat.click("answer:1:2"))
    snapshot = await engine.store.read(chat.who)
    draft = snapshot.record["data"]["diagnosis"]
    assert draft["current"] == 1
    assert draft["answers"][0] in (0, 2) and draft["answers"][1:] == [None] * 24


async def test_concurrent_messages_are_each_counted_once(chat, engine):
    await chat.send("自社診断")
    await asyncio.gather(*(chat.send("1") for _ in range(20)))
    snapshot = await engine.store.read(chat.who)
    draft = snapshot.record["data"]["diagnosis"]
    assert draft["answers"] == [0] * 20 + [None] * 5
    assert draft["current"] == 20


async def test_store_unreachable_gets_an_apology_and_a_log_line(content, clock, caplog):
    client = connect("redis://127.0.0.1:1", timeout=0.5)  # nothing listens on port 1
    try:
        chat = LocalChat(build_engine(content=content, store=Store(client), clock=clock), user="kato")
        replies = await chat.send("自社診断")
    finally:
        await client.aclose(close_connection_pool=True)
    assert "いま記録を読み書きできない" in render_replies(replies)
    assert any("store unavailable" in r.message for r in caplog.records)


async def test_two_workers_answering_at_once_lose_nothing(content, store, redis_url, key_prefix, clock):
    """Two engines (as two server processes) share Redis; each event is applied exactly once."""
    client = connect(redis_url)
    try:
        worker_a = LocalChat(build_engine(content=content, store=store, clock=clock), user="ito")
        worker_b = LocalChat(build_engine(content=content, store=Store(client, Keys(key_prefix)), clock=clock), user="ito")
        await worker_a.send("自社診断")
        await asyncio.gather(*(w.send("1") for _ in range(6) for w in (worker_a, worker_b)))
        snapshot = await store.read(worker_a.who)
    finally:
        await client.aclose(close_connection_pool=True)
    draft = snapshot.record["data"]["diagnosis"]
    assert draft["answers"] == [0] * 12 + [None] * 13
    assert draft["current"] == 12


async def test_items_beyond_the_first_five_are_named_too(chat):
    await chat.send("自社診断")
    await answer_all(chat, [2] * 3 + [1] * 4 + [0] * 18)
    text = render_replies(await chat.send("詳しい結果と対策を見る"))
    weak = text.split("【優先して取り組みたい項目と対策】")[1].split("【SECURITY ACTION")[0]
    assert [f"■ No.{n} " in weak for n in (1, 2, 3, 4, 5)] == [True] * 5
    assert "ほかにも見直したい項目が2項目あります：No.6 不審なメールへの注意、No.7 宛先の誤送信防止" in weak
