"""Block Kit rendering stays within Slack's limits whatever the content."""
from __future__ import annotations

from bot.adapters.slack.blocks import (
    SlackMessage,
    home_view,
    mark_chosen,
    plan_delivery,
    split_text,
)
from bot.core.replies import (
    Card,
    Choice,
    Choices,
    Field,
    Image,
    Notice,
    Progress,
    Recipient,
    Text,
)
from tests.support.slack_api import assert_valid_blocks


def messages(replies) -> list[SlackMessage]:
    return [m for m in plan_delivery(replies) if isinstance(m, SlackMessage)]


def test_long_text_is_split_into_sections_of_at_most_3000_characters():
    text = "\n".join(f"{i:04d} " + "対策" * 40 for i in range(200))  # ~17,000 characters
    [message] = messages([Text(text)])
    sections = [b["text"]["text"] for b in message.blocks]
    assert len(sections) > 5 and all(len(s) <= 3000 for s in sections)
    assert "\n".join(sections) == text  # nothing lost, cut at line breaks
    assert_valid_blocks(message.blocks)


def test_a_single_line_longer_than_a_section_is_cut():
    assert [len(c) for c in split_text("あ" * 7000)] == [3000, 3000, 1000]


def test_escaping_cannot_push_a_section_over_the_limit_or_be_cut_in_half():
    [message] = messages([Text("a" + "<" * 2999)])  # each '<' becomes '&lt;'
    sections = [b["text"]["text"] for b in message.blocks]
    assert all(len(s) <= 3000 for s in sections)
    assert "".join(sections) == "a" + "&lt;" * 2999
    assert all(s.endswith("&lt;") for s in sections)


def test_more_than_50_blocks_become_several_messages():
    replies = [Text(f"メッセージ {i}") for i in range(120)]
    planned = messages(replies)
    assert [len(m.blocks) for m in planned] == [50, 50, 20]
    for message in planned:
        assert_valid_blocks(message.blocks)


def test_many_choices_are_spread_over_actions_blocks_and_labels_clipped():
    options = [Choice(f"選択肢{i}" + "長" * 100, f"pick:{i}") for i in range(30)]
    [message] = messages([Choices("どれにしますか？", tuple(options))])
    actions = [b for b in message.blocks if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5]
    assert all(len(e["text"]["text"]) <= 75 for a in actions for e in a["elements"])
    assert [e["value"] for a in actions for e in a["elements"]] == [f"pick:{i}" for i in range(30)]
    assert_valid_blocks(message.blocks)


def test_cards_progress_images_and_notices_keep_their_order():
    image = Image("chart.png", "グラフ", renderer="score_chart")
    notice = Notice(Recipient("slack", "T1", "channel", "C1"), (Text("お知らせ"),))
    card = Card("自社診断の結果", tuple(Field(f"分野{i}", f"{i} / 20点", i / 20) for i in range(12)),
                body="前回から +4点", footer="2026年11月21日")
    planned = list(plan_delivery([Progress(3, 25, "基本的対策"), card, image, Text("次へ"), notice]))
    assert [type(p).__name__ for p in planned] == ["SlackMessage", "Image", "SlackMessage", "Notice"]
    first = planned[0].blocks
    assert first[0]["type"] == "context" and first[1]["type"] == "header"
    assert [len(b["fields"]) for b in first if "fields" in b] == [10, 2]
    assert_valid_blocks(first)


def test_the_clicked_choice_replaces_its_buttons():
    [message] = messages([Text("前置き"), Choices("No.1 ...", (Choice("実施している", "answer:1:0"),
                                                            Choice("わからない", "answer:1:3")))])
    actions = next(b for b in message.blocks if b["type"] == "actions")
    updated = mark_chosen(message.blocks, block_id=actions["block_id"], label="わからない")
    assert [b["type"] for b in updated] == ["section", "section", "context"]
    assert updated[-1]["elements"][0]["text"] == "✅ *わからない*"
    assert_valid_blocks(updated)


def test_home_view_is_a_valid_home_tab():
    view = home_view("相談窓口", [Card("最新の結果", (Field("合計", "80 / 100点", 0.8),)),
                                   Choices("何をしますか？", (Choice("自社診断をはじめる", "start_diagnosis"),))])
    assert view["type"] == "home"
    assert_valid_blocks(view["blocks"], max_blocks=100)
