"""ポイント学習 through the local adapter: reading, 確認テスト, retries, 修了証 and its verification."""
from __future__ import annotations

import hashlib
import io
import json

from PIL import Image as PILImage

from bot.core.replies import Choices, Image, Text
from bot.flows.learning.certificates import Status
from tests.support.certificates import edited_certificate
from tests.support.replies import render_replies


def question_of(replies) -> Choices:
    return next(r for r in replies if isinstance(r, Choices) and r.prompt.startswith("確認テスト"))


def image_of(replies) -> Image:
    return next(r for r in replies if isinstance(r, Image))


async def answer_lesson(chat, content, item: int, *, wrong: set[int] = frozenset()) -> list:
    """Answer the lesson's questions by number: right ones, except the question indexes in `wrong`."""
    lesson = content.lessons[item]
    replies = []
    for index, question in enumerate(lesson.quiz):
        choice = (question.answer + 1) % len(question.choices) if index in wrong else question.answer
        replies = await chat.send(str(choice + 1))
    return replies


async def test_lesson_sends_the_reading_and_the_first_question_at_once(chat, content):
    replies = await chat.send("学習 3")
    lesson = content.lessons[3]
    assert isinstance(replies[0], Text) and isinstance(replies[1], Choices) and len(replies) == 2
    reading = replies[0].text
    assert lesson.title in reading and lesson.scenario in reading
    assert all(point in reading for point in lesson.points)
    first = question_of(replies)
    assert lesson.quiz[0].question in first.prompt
    assert [o.label for o in first.options] == list(lesson.quiz[0].choices)


async def test_all_right_issues_a_verifiable_certificate(chat, content, certificates, engine):
    await chat.send("学習 1")
    replies = await answer_lesson(chat, content, 1)
    text = render_replies(replies)
    assert "全問正解です" in text
    png = await engine.render_image(image_of(replies))
    with PILImage.open(io.BytesIO(png)) as picture:
        assert picture.size[0] >= 1200 and picture.size[1] >= 850
    certificate_id = text.split("修了証番号：")[1].split("\n")[0]
    verdict = await certificates.verify_id(certificate_id)
    assert verdict.status is Status.VALID
    assert verdict.record.holder == "yamada" and content.lessons[1].title in verdict.record.theme
    assert verdict.record.issued_on == "2026-11-20"
    assert f"https://bot.example.jp/certificates/{certificate_id}" in text
    assert (await certificates.verify_png(png)).status is Status.VALID
    progress = await engine.store.lesson_progress(chat.who)
    assert progress[1]["passed_at"].startswith("2026-11-20") and progress[1]["certificate"] == certificate_id


async def test_one_wrong_answer_gives_no_certificate_until_the_retry(chat, content):
    await chat.send("学習 2")
    missed = await answer_lesson(chat, content, 2, wrong={1})
    text = render_replies(missed)
    count = len(content.lessons[2].quiz)
    assert f"{count}問中{count - 1}問正解" in text and "修了証は全問正解で発行されます" in text
    assert not any(isinstance(r, Image) for r in missed)
    retry = await chat.send("まちがえた問題に再挑戦")
    assert "1問に、もう一度挑戦します" in render_replies(retry)
    question = question_of(retry)
    assert content.lessons[2].quiz[1].question in question.prompt
    passed = await chat.send(str(content.lessons[2].quiz[1].answer + 1))
    assert any(isinstance(r, Image) for r in passed)
    assert "全問正解です" in render_replies(passed)


async def test_feedback_explains_right_and_wrong(chat, content):
    await chat.send("学習 5")
    question = content.lessons[5].quiz[0]
    wrong_choice = (question.answer + 1) % len(question.choices)
    feedback = render_replies(await chat.send(str(wrong_choice + 1)))
    assert f"× 不正解です。正解は「{question.choices[question.answer]}」です。" in feedback
    assert question.explanation in feedback


async def test_a_double_click_on_an_answer_counts_once(chat, content, engine):
    first = await chat.send("学習 4")
    value = question_of(first).options[content.lessons[4].quiz[0].answer].value
    await chat.click(value)
    assert await chat.click(value) == []
    draft = (await engine.store.read(chat.who)).record["data"]["lesson"]
    assert draft["pos"] == 1 and draft["wrong"] == []


async def test_recommendations_start_from_the_self_check(chat):
    answers = [0] * 25
    answers[8], answers[2], answers[3] = 3, 2, 1  # No.9 unknown, No.3 not done, No.4 partly
    await chat.send("自社診断")
    for a in answers:
        await chat.send(str(a + 1))
    replies = await chat.send("勉強したい")
    menu = replies[-1]
    assert [o.value for o in menu.options[:3]] == ["open_lesson:3", "open_lesson:9", "open_lesson:4"]
    assert len(menu.options) <= 13
    assert "自社診断の結果から" in menu.prompt


async def test_theme_list_pages_stay_short(chat):
    assert "どのテーマを学びますか" in render_replies(await chat.send("クイズ"))
    page = await chat.click("lesson_page:1")
    options = page[-1].options
    assert len(options) <= 13 and all(len(o.label) <= 20 for o in options)
    last = await chat.click("lesson_page:4")
    assert any(o.value == "open_lesson:25" for o in last[-1].options)


async def test_unknown_theme_number_gets_a_clear_answer(chat):
    text = render_replies(await chat.send("学習 99"))
    assert "そのテーマは見つかりませんでした" in text


async def test_progress_shows_passed_themes_and_the_next_one(chat, content):
    await chat.send("学習 1")
    await answer_lesson(chat, content, 1)
    await chat.send("学習 2")
    await answer_lesson(chat, content, 2, wrong={0})
    text = render_replies(await chat.send("進捗"))
    assert "25テーマ中 1テーマ修了" in text
    assert "No.1 OS・ソフトの更新：修了（挑戦1回）" in text
    assert "No.2 ウイルス対策ソフトの導入：最高" in text
    assert "次のおすすめ：No.2" in text


async def test_finishing_all_25_themes_issues_the_course_certificate(chat, content, certificates):
    replies = []
    for item in sorted(content.lessons):
        await chat.send(f"学習 {item}")
        replies = await answer_lesson(chat, content, item)
    images = [r for r in replies if isinstance(r, Image)]
    assert len(images) == 2
    text = render_replies(replies)
    assert "全25テーマを修了しました" in text
    course_id = text.split("修了証番号：")[2].split("\n")[0]
    verdict = await certificates.verify_id(course_id)
    assert verdict.status is Status.VALID and verdict.record.item == 0


async def test_forged_tampered_and_revoked_certificates_are_rejected(chat, content, certificates, engine):
    await chat.send("学習 6")
    replies = await answer_lesson(chat, content, 6)
    png = await engine.render_image(image_of(replies))
    certificate_id = render_replies(replies).split("修了証番号：")[1].split("\n")[0]
    serial, signature = certificate_id.split("-")
    assert (await certificates.verify_id(f"{serial}-{'A' * len(signature)}")).status is Status.ALTERED
    assert (await certificates.verify_id("ABCDEFGHIJKLMN-" + signature)).status is Status.UNKNOWN
    assert (await certificates.verify_id("not a certificate")).status is Status.UNKNOWN
    damaged = bytearray(png)
    damaged[-200] ^= 0xFF
    assert (await certificates.verify_png(bytes(damaged))).status is not Status.VALID
    assert (await certificates.verify_png(edited_certificate(png))).status is Status.ALTERED
    # Someone edits the stored record (a different name): the signature no longer matches.
    key = engine.store.keys.certificate(serial)
    record = json.loads(await engine.store.client.hget(key, "record"))
    await engine.store.client.hset(key, "record", json.dumps({**record, "holder": "別人"}, ensure_ascii=False))
    assert (await certificates.verify_id(certificate_id)).status is Status.ALTERED
    await engine.store.client.hset(key, "record", json.dumps(record, ensure_ascii=False))
    assert await certificates.revoke(certificate_id)
    assert (await certificates.verify_id(certificate_id)).status is Status.REVOKED
    assert hashlib.sha256(png).hexdigest() == record["png_sha256"]


async def test_cancel_during_a_lesson_returns_to_the_menu(chat):
    await chat.send("学習 7")
    text = render_replies(await chat.send("やめる"))
    assert "学習を中断しました" in text


async def test_a_late_click_after_a_missed_round_is_ignored(chat, content):
    first = await chat.send("学習 1")
    lesson = content.lessons[1]
    last = None
    for index, question in enumerate(lesson.quiz):
        wrong = (question.answer + 1) % len(question.choices)
        replies = await chat.send(str(wrong + 1)) if index else await chat.click(
            question_of(first).options[wrong].value)
        last = f"lesson_answer:1:{index}:{wrong}"
    assert "修了証は全問正解で発行されます" in render_replies(replies)
    assert await chat.click(last) == []  # the same answer again: nothing, and no error


async def test_the_certificate_names_the_company_and_says_it_is_not_ipas(engine, content, certificates):
    from bot.adapters.local import LocalChat
    from bot.flows.learning.verification_page import render_verification_page
    from bot.flows.org.store import OrgStore

    alone = LocalChat(engine, user="alone", workspace="no-org")
    await alone.send("学習 4")
    text = render_replies(await answer_lesson(alone, content, 4))
    assert "発行：情報セキュリティ相談窓口。社内の学習の記録です。IPA（情報処理推進機構）が発行したものではありません。" in text

    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create("山田商事株式会社")
    await orgs.bind(org, "local", "local")
    member = LocalChat(engine, user="yamada")
    await member.send("学習 4")
    text = render_replies(await answer_lesson(member, content, 4))
    assert "発行：山田商事株式会社。社内の学習の記録です。IPA（情報処理推進機構）が発行したものではありません。" in text
    certificate_id = text.split("修了証番号：")[1].split("\n")[0]
    verdict = await certificates.verify_id(certificate_id)
    assert verdict.record.organisation == "山田商事株式会社"
    page = render_verification_page(verdict, certificate_id, content.texts)
    assert "山田商事株式会社が社内の学習の記録として発行した修了証" in page
    assert "IPA（情報処理推進機構）が発行したものではありません" in page
