"""What a phone shows first, measured on the local adapter's output: the first incident message
(the three most urgent steps) and the lead of the self-check result (score, chart, how to read it,
the three items to start with), each with the rest one tap away."""
from __future__ import annotations

import pytest

from bot.content.schema import FIRST_MESSAGE_MAX
from bot.core.replies import Choices, Text
from tests.support.replies import render_replies

RESULT_LEAD_MAX = 700  # characters: the card, the chart's line, the reading and three one-line steps, the buttons

ANSWER_SETS = {
    "all not done": [2] * 25,
    "mixed": [(i % 4) for i in range(25)],
    "all unknown": [3] * 25,
    "all done": [0] * 25,
    "longest steps first": [0] * 17 + [2] + [0] * 4 + [2, 2, 0],
}


@pytest.mark.parametrize("kind", ["ransomware", "malware", "suspicious_email", "phishing", "account_takeover", "bec",
                                  "fake_alert", "extortion_email", "data_leak", "lost_device", "web_compromise", "dos",
                                  "insider"])
async def test_the_first_incident_message_is_at_most_350_characters(chat, kind, content):
    replies = await chat.click(f"report_incident:{kind}")
    first = render_replies(replies[:1])
    assert isinstance(replies[0], Text) and len(first) <= FIRST_MESSAGE_MAX == 350, (kind, len(first))
    assert first.count("\n1. ") == 1 and "\n3. " in first and "\n4. " not in first  # three steps, no more


@pytest.mark.parametrize("answers", list(ANSWER_SETS.values()), ids=list(ANSWER_SETS))
async def test_the_result_leads_with_the_score_the_chart_and_three_steps(chat, content, answers):
    await chat.send("自社診断")
    replies = []
    for answer in answers:
        replies = await chat.send(str(answer + 1))
    lead = render_replies(replies)
    assert len(lead) <= RESULT_LEAD_MAX, len(lead)
    assert lead.startswith("== 自社診断の結果 ==") and "[画像] 自社診断の結果のグラフ" in lead
    if any(a in (1, 2) for a in answers):
        assert "【まず取り組む3つ】" in lead
    assert "【SECURITY ACTION" not in lead  # one tap away
    choices = replies[-1]
    assert isinstance(choices, Choices) and choices.options[0].label == "詳しい結果と対策を見る"
    details = render_replies(await chat.click(choices.options[0].value))
    assert "【SECURITY ACTION（IPAの自己宣言制度）】" in details
    if any(a in (1, 2) for a in answers):
        first_weak = next(n for n, a in enumerate(answers, start=1) if a == 2)
        assert content.checklist.item(first_weak).countermeasure in details
    if 3 in answers:
        assert "【確認が必要な項目】" in details
