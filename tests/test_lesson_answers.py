"""Every 確認テスト question is answerable from its lesson: the correct answer's key words (quiz
`key_words`) are in what the learner reads before the quiz, and they are the answer's words."""
from __future__ import annotations

import shutil

import pytest
import yaml

from bot.content.loader import check_content
from bot.core.replies import Text


@pytest.mark.parametrize("item", range(1, 26))
async def test_each_correct_answer_is_in_the_reading_the_learner_gets(engine, content, item):
    from bot.adapters.local import LocalChat

    chat = LocalChat(engine, user=f"learner{item}")
    reading = next(r.text for r in await chat.send(f"学習 {item}") if isinstance(r, Text))
    for n, question in enumerate(content.lessons[item].quiz, start=1):
        assert question.key_words, f"item{item:02d} quiz {n} has no key words"
        answer = question.choices[question.answer] + question.explanation
        for word in question.key_words:
            assert word in reading, f"item{item:02d} quiz {n}: {word!r} is not in the lesson"
            assert word in answer, f"item{item:02d} quiz {n}: {word!r} is not the answer's"


def test_a_question_the_lesson_does_not_answer_is_reported(tmp_path, project_root):
    content_dir = tmp_path / "content"
    shutil.copytree(project_root / "content", content_dir)
    path = content_dir / "lessons" / "item05.yaml"
    lesson = yaml.safe_load(path.read_text(encoding="utf-8"))
    # The lesson as it was: nothing in it said to stop the transfer and check another way.
    lesson["points"][3] = "怪しいメールや電話を受けたら、削除して終わりにせず、決めておいた報告先に知らせます。"
    lesson["quiz"][0]["key_words"] = ["報告先に知らせ", "上司の承認"]
    path.write_text(yaml.safe_dump(lesson, allow_unicode=True), encoding="utf-8")
    found = [str(p) for p in check_content(content_dir)]
    assert ("lessons/item05.yaml: quiz[1].key_words[0]: '振り込みを止め' is not in the lesson (scenario and points): "
            "the lesson does not teach this answer") in found
    assert ("lessons/item05.yaml: quiz[0].key_words[1]: '上司の承認' is not in the lesson (scenario and points): "
            "the lesson does not teach this answer") in found
    assert ("lessons/item05.yaml: quiz[0].key_words[1]: '上司の承認' is neither in the correct choice nor in its "
            "explanation") in found


def test_the_reviewed_questions_stay_fixed(content):
    # 二つ星: the distractors are all things the lesson says are not required for it.
    two_star = content.lessons[25].quiz[1]
    assert not any("5か条" in choice for choice in two_star.choices)
    # The "good" passphrase is made of unrelated words, as the lesson says.
    passphrase = content.lessons[3].quiz[0]
    assert passphrase.choices[passphrase.answer] == "tokei-sanpo-raimu-kabin"
    # Office staff level: no government cloud registers or cloud ISO standards.
    item23 = content.lessons[23]
    text = "\n".join([item23.scenario, *item23.points, *(q.question + q.explanation + "".join(q.choices)
                                                          for q in item23.quiz)])
    assert "ISMAP" not in text and "27017" not in text and "ISO/IEC" not in text
