"""The self-check result: 「すべての項目を「実施している」」 only when every answer was 実施している, and
the reading of the total in four bands (100 / 70-99 / 50-69 / 49 and below, content/checklist.yaml)."""
from __future__ import annotations

import pytest

from tests.support.replies import render_replies

ALL_DONE = "すべての項目を「実施している」と回答しました"


async def result_text(chat, answers: list[int]) -> str:
    """Answer the 25 questions (0 = 実施している .. 3 = わからない) and return the result as text."""
    await chat.send("自社診断")
    replies = []
    for answer in answers:
        replies = await chat.send(str(answer + 1))
    return render_replies(replies)


async def test_every_item_done_is_all_done_and_100_points(chat):
    text = await result_text(chat, [0] * 25)
    assert "100 / 100点" in text and ALL_DONE in text
    assert "【合計点の目安】100点：入門レベルの対策はできています" in text


async def test_one_unknown_is_not_all_done(chat):
    text = await result_text(chat, [0] * 24 + [3])
    text += render_replies(await chat.send("詳しい結果と対策を見る"))
    assert "95 / 100点" in text
    assert ALL_DONE not in text
    assert "「わからない」と答えた項目が1項目あります" in text
    assert "【確認が必要な項目】" in text and "No.25 " in text.split("【確認が必要な項目】")[1]
    assert "【合計点の目安】70〜99点" in text


async def test_every_item_unknown_is_not_all_done(chat):
    text = await result_text(chat, [3] * 25)
    assert "-25 / 100点" in text
    assert ALL_DONE not in text
    assert "「わからない」と答えた項目が25項目あります" in text
    assert "【合計点の目安】49点以下" in text


@pytest.mark.parametrize(("total", "label"), [
    (100, "100点"), (99, "70〜99点"), (70, "70〜99点"), (69, "50〜69点"), (50, "50〜69点"), (49, "49点以下"),
    (0, "49点以下"), (-25, "49点以下"),
])
def test_the_bands_of_the_total(content, total, label):
    assert content.checklist.band(total).label == label
