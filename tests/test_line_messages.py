"""Rendering for LINE stays within its limits and reads well on a phone."""
from __future__ import annotations

from linebot.v3.messaging import Message, ReplyMessageRequest

from bot.adapters.line.messages import batches, render
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

NO_IMAGES: dict = {}


def parse_all(messages: list[dict]) -> None:
    for message in messages:
        assert Message.from_dict(message) is not None
    for batch in batches(messages):
        ReplyMessageRequest.from_dict({"replyToken": "t", "messages": batch})


def test_a_question_is_one_text_with_quick_replies():
    replies = [Text("自社診断をはじめます。"), Progress(1, 25, "基本的対策"),
               Choices("No.1 OSは最新ですか？", tuple(Choice(l, f"answer:1:{i}") for i, l in enumerate(
                   ["実施している", "一部実施している", "実施していない", "わからない"])))]
    [message] = render(replies, NO_IMAGES)
    assert message["type"] == "text"
    assert message["text"].startswith("自社診断をはじめます。\n\n1/25 基本的対策 ")
    items = message["quickReply"]["items"]
    assert [i["action"]["data"] for i in items] == ["answer:1:0", "answer:1:1", "answer:1:2", "answer:1:3"]
    assert items[1]["action"]["displayText"] == "一部実施している"
    parse_all([message])


def test_more_than_13_choices_become_flex_buttons_and_labels_fit():
    options = tuple(Choice(f"テーマ{i}：とても長い名前のテーマです", f"lesson:{i}") for i in range(20))
    [message] = render([Choices("どのテーマにしますか？", options)], NO_IMAGES)
    assert message["type"] == "flex"
    buttons = [c for c in message["contents"]["body"]["contents"] if c["type"] == "button"]
    assert len(buttons) == 20 and all(len(b["action"]["label"]) <= 20 for b in buttons)
    parse_all([message])


def test_result_card_is_a_flex_bubble_with_bars():
    card = Card("自社診断の結果", (Field("合計", "72 / 100点", 0.72), Field("組織としての対策", "-3 / 28点", -0.1)),
                body="前回から +8点", footer="2026年11月21日 の診断")
    [message] = render([card], NO_IMAGES)
    assert message["type"] == "flex" and "合計 72 / 100点" in message["altText"]
    rows = message["contents"]["body"]["contents"]
    bar = rows[0]["contents"][1]["contents"][0]
    assert bar["width"] == "72%"
    assert rows[1]["contents"][1]["contents"][0]["width"] == "1%"  # a negative score shows an empty bar
    parse_all([message])


def test_the_whole_result_fits_in_one_reply():
    image = Image("chart.png", "グラフ", renderer="score_chart")
    replies = [Card("結果", (Field("合計", "1", 0.1),)), image, Text("弱い項目" * 100), Text("わからない項目" * 100),
               Text("SECURITY ACTION" * 20), Choices("次は？", (Choice("履歴", "show_history"),)),
               Notice(Recipient("line", "B1", "user", "U2"), (Text("お知らせ"),))]
    messages = render(replies, {"chart.png": ("https://x.example/i/a.png", "https://x.example/i/a/p.png")})
    assert [m["type"] for m in messages] == ["flex", "image", "text"]
    assert messages[1]["originalContentUrl"].startswith("https://")
    assert "quickReply" in messages[-1]
    assert len(batches(messages)) == 1
    parse_all(messages)


def test_long_text_is_split_below_5000_characters():
    messages = render([Text("\n".join("あ" * 90 for _ in range(120)))], NO_IMAGES)
    assert len(messages) == 3 and all(len(m["text"]) <= 5000 for m in messages)
    parse_all(messages)


def test_more_than_five_messages_go_in_batches():
    cards = [Card(f"カード{i}", ()) for i in range(7)]
    assert [len(b) for b in batches(render(cards, NO_IMAGES))] == [5, 2]


def test_long_answers_are_listed_and_the_buttons_numbered():
    options = (Choice("パスワードを付箋に書いてモニターに貼っておく", "a:0"), Choice("管理ソフトに保存する", "a:1"))
    [message] = render([Choices("確認テスト 1/4\n適切なのはどれですか？", options)], NO_IMAGES)
    assert "1. パスワードを付箋に書いてモニターに貼っておく\n2. 管理ソフトに保存する" in message["text"]
    actions = [i["action"] for i in message["quickReply"]["items"]]
    assert [a["label"] for a in actions] == ["1", "2"] and actions[0]["data"] == "a:0"
    assert actions[0]["displayText"] == "パスワードを付箋に書いてモニターに貼っておく"
    parse_all([message])
