"""Answers people actually type, per question type, and the one reading of a message they go through
(bot/core/understanding.py): the words each answer accepts are content (phrases.yaml `answers`)."""
from __future__ import annotations

import shutil

import pytest
import yaml

from bot.content.loader import check_content
from bot.core import understanding
from bot.core.classifier import fold
from bot.core.replies import Choices
from bot.core.understanding import Reader
from tests.support.replies import render_replies

CHECKLIST = [["実施している", "answer:1:0", "done"], ["一部実施している", "answer:1:1", "partial"],
             ["実施していない", "answer:1:2", "not_done"], ["わからない", "answer:1:3", "unknown"]]
YES_NO = [["はい", "a:yes", "yes"], ["いいえ", "a:no", "no"], ["わからない", "a:unknown", "unknown"],
          ["続きを見る（ほかの手順と注意）", "more"]]


@pytest.fixture(scope="module")
def read(content):
    return Reader(content.phrases)


# --- the reading -----------------------------------------------------------------------------

def test_one_normaliser_the_classifiers(read):
    assert not hasattr(understanding, "normalize")  # the old, divergent one is gone
    assert read("ＭＥＮＵ").command == read("めにゅー").command == read("メニュー").command == "menu"
    assert read("ｗｗｗ").folded == fold("ｗｗｗ") == "www"


@pytest.mark.parametrize(("typed", "number"), [("3", 3), ("３", 3), ("3番", 3), ("３番目", 3), ("3です", 3),
                                               ("3.", 3), ("①", 1), ("1️⃣", 1), (" 2 ", 2), ("2つ目", 2)])
def test_numbers_pick_the_choice_at_that_place(read, typed, number):
    assert read(typed, CHECKLIST).choice == CHECKLIST[number - 1][1]


@pytest.mark.parametrize("typed", ["0", "5", "99", "１２", "５番", "100"])
def test_a_number_out_of_range_is_a_number_not_a_choice_nor_a_report(read, typed):
    heard = read(typed, CHECKLIST)
    assert heard.choice is None and heard.number is not None and heard.stray


@pytest.mark.parametrize("typed", ["は", "い", "わ", "いい", "実"])
def test_a_character_or_two_do_not_pick_a_label_they_start(read, typed):
    assert read(typed, YES_NO).choice is None
    assert read(typed).stray


def test_a_label_by_its_start_or_by_a_part_only_one_label_has(read):
    kinds = [["ランサムウェア被害", "r"], ["偽サイト・偽SMS（フィッシング）", "p"],
             ["偽のウイルス警告（サポート詐欺）", "f"], ["ウイルス感染・パソコンの異常", "m"],
             ["ビジネスメール詐欺（なりすましの送金依頼）", "b"]]
    assert read("ランサム", kinds).choice == "r"
    assert read("ウイルス", kinds).choice == "m"  # the start of one label (inside another)
    assert read("フィッシング", kinds).choice == "p"
    assert read("サポート詐欺", kinds).choice == "f"  # inside one label only
    assert read("ウイルス", [["偽のウイルス警告", "f"], ["ほかのウイルス感染", "m"]]).choice is None  # inside two


def test_a_word_two_choices_accept_picks_neither(read):
    both = [["はい", "x", "yes"], ["実施している", "y", "done"]]  # うん is yes and done
    assert read("うん", both).choice is None
    assert read("はい", both).choice == "x"  # a label as it is shown wins


# --- per question type, through the chat --------------------------------------------------------

@pytest.mark.parametrize(("typed", "label"), [
    ("はい", "実施している"), ("うん", "実施している"), ("やってる", "実施している"), ("実施", "実施している"),
    ("実施しています", "実施している"), ("一部", "一部実施している"), ("一部だけです", "一部実施している"),
    ("部分的に", "一部実施している"), ("いいえ", "実施していない"), ("やってない", "実施していない"),
    ("やってないです", "実施していない"), ("未実施", "実施していない"), ("していません", "実施していない"),
    ("わからない", "わからない"), ("わからないです", "わからない"), ("不明", "わからない"),
    ("分かりません", "わからない"),
])
async def test_self_check_answers_people_type(chat, typed, label):
    await chat.send("自社診断")
    moved = render_replies(await chat.send(typed))
    assert "No.2 " in moved, typed  # answered: the next question
    back = render_replies(await chat.send("戻る"))
    assert f"（いまの回答：{label}）" in back, typed


async def test_self_check_out_of_range_numbers_get_the_range(chat):
    await chat.send("自社診断")
    for typed in ("5", "0", "99", "５"):
        replies = render_replies(await chat.send(typed))
        assert replies.startswith("1〜4の番号で答えてください。") and "No.1 " in replies, typed


async def test_quiz_answers_by_number_place_and_label(chat, content):
    quiz = content.lessons[1].quiz
    await chat.send("学習 1")
    for i, typed in enumerate(["2", "ふたつめ", quiz[2].choices[quiz[2].answer]]):
        replies = render_replies(await chat.send(typed))
        picked = 1 if i < 2 else quiz[2].answer
        right = quiz[i].choices[quiz[i].answer]
        expected = "○ 正解です。" if picked == quiz[i].answer else f"× 不正解です。正解は「{right}」"
        assert expected in replies, (typed, replies[:200])
    out = render_replies(await chat.send(str(len(quiz[3].choices) + 1)))
    assert out.startswith(f"1〜{len(quiz[3].choices)}の番号で答えてください。")


@pytest.mark.parametrize(("typed", "answer"), [
    ("はい", "yes"), ("うん", "yes"), ("yes", "yes"), ("しました", "yes"), ("入力しました", "yes"),
    ("いいえ", "no"), ("ううん", "no"), ("no", "no"), ("入力していません", "no"), ("してないです", "no"),
    ("わからない", "unknown"), ("わからないです", "unknown"), ("覚えていません", "unknown"), ("不明", "unknown"),
])
async def test_triage_yes_no_answers_people_type(chat, engine, typed, answer):
    await chat.click("report_incident:ransomware")
    await chat.send(typed)
    draft = (await engine.store.read(chat.who)).record["data"]["incident"]
    assert draft["answers"] == {"personal_data": answer}, typed


@pytest.mark.parametrize(("typed", "option"), [("スマホ", "phone"), ("iPhone", "phone"), ("ノートパソコン", "computer"),
                                               ("USBメモリ", "storage"), ("紙の資料です", "paper")])
async def test_triage_options_by_the_thing_named(chat, engine, typed, option):
    await chat.click("report_incident:lost_device")
    await chat.send(typed)
    draft = (await engine.store.read(chat.who)).record["data"]["incident"]
    assert draft["answers"] == {"lost_item": option}, typed


async def test_kind_chooser_by_number_name_and_dont_know(chat):
    shown = await chat.send("緊急相談")
    chooser = next(r for r in shown if isinstance(r, Choices))
    assert "わからない" in [o.label for o in chooser.options]
    assert "【ランサムウェア被害】" in render_replies(await chat.send("ランサムウェア"))
    await chat.send("緊急相談")
    assert "【不審なメールが届いた・開いた】" in render_replies(await chat.send("3"))
    await chat.send("緊急相談")
    general = render_replies(await chat.send("わからないです"))
    assert "【何が起きたかわからないとき】" in general and "受付番号" not in general


async def test_closings_get_a_polite_answer_and_the_menu(chat):
    for typed in ("ありがとう", "ありがとうございました", "了解", "了解です", "大丈夫です", "bye", "さようなら", "OK"):
        replies = await chat.send(typed)
        text = render_replies(replies)
        assert text.startswith("どういたしまして。"), typed
        assert "うまく読み取れませんでした" not in text
        assert isinstance(replies[-1], Choices) and replies[-1].prompt.startswith("何をしますか"), typed


async def test_a_closing_during_a_question_asks_it_again(chat):
    await chat.send("自社診断")
    text = render_replies(await chat.send("ありがとう"))
    assert text.startswith("どういたしまして。") and "No.1 " in text


# --- the words are content, checked ------------------------------------------------------------

def test_every_answer_offered_has_words_people_type(content):
    answers = {a.id for a in content.checklist.answers} | {"yes", "no", "unknown"}
    answers |= {o for p in content.incidents.playbooks.values() for s in p.triage for o in s.labels}
    assert answers <= set(content.phrases.accepted)


def test_content_check_names_an_answer_without_words(tmp_path, project_root):
    copy = tmp_path / "content"
    shutil.copytree(project_root / "content", copy)
    phrases = yaml.safe_load((copy / "phrases.yaml").read_text(encoding="utf-8"))
    del phrases["answers"]["partial"], phrases["answers"]["phone"]
    (copy / "phrases.yaml").write_text(yaml.safe_dump(phrases, allow_unicode=True), encoding="utf-8")
    found = {(p.file, p.field) for p in check_content(copy)}
    assert {("phrases.yaml", "answers.partial"), ("phrases.yaml", "answers.phone")} <= found
