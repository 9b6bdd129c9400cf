"""The Slack and LINE fakes refuse what the real platforms refuse, to the real SDK clients."""
from __future__ import annotations

import io
import json
import re

import pytest
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    PushMessageRequest,
    ReplyMessageRequest,
    RichMenuRequest,
)
from PIL import Image
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.line_api import PUSH, REPLY, FakeLine, line_message_errors
from tests.support.slack_api import FakeSlack, assert_valid_blocks

QUESTION = [
    {"type": "section", "block_id": "q", "text": {"type": "mrkdwn", "text": "*パスワードを使い回していますか？*"}},
    {"type": "actions", "block_id": "a", "elements": [
        {"type": "button", "action_id": "yes", "text": {"type": "plain_text", "text": "はい"}, "value": "y"},
        {"type": "button", "action_id": "no", "text": {"type": "plain_text", "text": "いいえ"}, "value": "n"}]},
]


def question(*, section: str | None = None, label: str | None = None, block_id: str | None = None,
             action_id: str | None = None) -> list[dict]:
    """QUESTION with the section text, first button label, actions block_id or second action_id changed."""
    blocks = json.loads(json.dumps(QUESTION))
    section_block, actions = blocks
    section_block["text"]["text"] = section or section_block["text"]["text"]
    actions["elements"][0]["text"]["text"] = label or actions["elements"][0]["text"]["text"]
    actions["block_id"] = block_id or actions["block_id"]
    actions["elements"][1]["action_id"] = action_id or actions["elements"][1]["action_id"]
    return blocks


@pytest.mark.parametrize("blocks, problem", [
    (question(), None),
    ([{"type": "divider"}] * 51, "51 blocks: at most 50"),
    (question(section="x" * 3001), "block 0 .*3000 characters"),
    (question(label="あ" * 76), "block 1 .*75 characters"),
    ([{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "b"},
                                        "action_id": f"a{i}"} for i in range(26)]}], "block 0 .*25 elements"),
    (question(block_id="q"), "block 1 .*block_id 'q' is used twice"),
    (question(action_id="yes"), "block 1 .*action_id is used twice"),
    ([{"type": "sectoin", "text": {"type": "mrkdwn", "text": "x"}}], "block 0 .*unknown block type"),
])
def test_slack_blocks_are_checked_with_slack_sdk_and_slacks_limits(blocks, problem):
    if problem is None:
        assert_valid_blocks(blocks)
    else:
        with pytest.raises(AssertionError, match=problem):
            assert_valid_blocks(blocks)


async def test_slack_refuses_invalid_blocks_and_views_like_slack():
    async with FakeSlack(strict=False) as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
        posted = await client.chat_postMessage(channel="C1", text="質問", blocks=QUESTION)
        assert posted["ts"] and fake.calls("chat.postMessage")[0].params["blocks"] == QUESTION
        with pytest.raises(SlackApiError) as refused:
            await client.chat_update(channel="C1", ts=posted["ts"], text="t", blocks=question(label="あ" * 76))
        assert refused.value.response["error"] == "invalid_blocks"
        with pytest.raises(SlackApiError) as refused:
            await client.views_publish(user_id="U1", view={"type": "home", "blocks": [{"type": "divider"}] * 101})
        assert refused.value.response["error"] == "invalid_arguments"
        fake.fail_next("chat.postMessage", 429, headers={"Retry-After": "1"})
        with pytest.raises(SlackApiError) as limited:
            await client.chat_postMessage(channel="C1", text="hi")
        assert limited.value.response.status_code == 429 and limited.value.response["error"] == "ratelimited"
        with pytest.raises(SlackApiError, match="not_authed"):
            await AsyncWebClient(base_url=fake.base_url).chat_postMessage(channel="C1", text="no token")
    assert [c.path for c in fake.rejected()] == ["/api/chat.update", "/api/views.publish", "/api/chat.postMessage"]
    assert "75 characters" in fake.rejected()[0].rejected


def text(value: str = "質問", *, labels: list[str] | None = None) -> dict:
    """A text message, with a quick reply button per label."""
    message = {"type": "text", "text": value}
    if labels is not None:
        message["quickReply"] = {"items": [{"type": "action", "action": {"type": "postback", "label": label,
                                                                        "data": "d"}} for label in labels]}
    return message


@pytest.mark.parametrize("messages, problem", [
    ([text(labels=["はい", "いいえ"])], None),
    ([text()] * 6, "Size must be between 1 and 5"),
    ([text("")], r"messages\[0\].text"),
    ([text("x" * 5001)], r"messages\[0\].text"),
    ([text(labels=["あ" * 21])], r"quickReply.items\[0\].action.label"),
    ([text(labels=["a"] * 14)], "at most 13 items"),
    ([text(labels=[])], "quickReply.items"),
    ([{"type": "image", "originalContentUrl": "http://x/a.png", "previewImageUrl": "https://x/a.png"}],
     r"messages\[0\].originalContentUrl"),
    ([{"type": "flex", "altText": "x" * 401, "contents": {"type": "bubble"}}], r"messages\[0\].altText"),
    ([{"type": "txet", "text": "x"}], "cannot parse"),
])
def test_line_messages_are_checked_with_line_bot_sdk_and_lines_limits(messages, problem):
    errors = " ".join(f"{e['property']}: {e['message']}" for e in line_message_errors(messages))
    assert errors == "" if problem is None else re.search(problem, errors), errors


async def test_line_refuses_invalid_messages_with_details_and_keeps_the_token():
    async with FakeLine(strict=False) as fake:
        config = Configuration(host=fake.base_url, access_token=fake.access_token)
        async with AsyncApiClient(config) as api_client, AsyncApiClient(config) as blob_client:
            api, blob = AsyncMessagingApi(api_client), AsyncMessagingApiBlob(blob_client)
            token = fake.issue_reply_token("U1")
            with pytest.raises(ApiException) as refused:
                await api.reply_message(ReplyMessageRequest.from_dict(
                    {"replyToken": token, "messages": [text(labels=["あ" * 21])]}))
            assert refused.value.status == 400
            [detail] = json.loads(refused.value.body)["details"]
            assert detail["property"] == "messages[0].quickReply.items[0].action.label"
            await api.reply_message(ReplyMessageRequest.from_dict({"replyToken": token, "messages": [text()]}))

            push = PushMessageRequest.from_dict({"to": "U1", "messages": [text("後で")]})
            key = "7f6c3c1e-8f0a-4b8e-9d2e-1a2b3c4d5e6f"
            await api.push_message(push, x_line_retry_key=key)
            with pytest.raises(ApiException) as again:
                await api.push_message(push, x_line_retry_key=key)
            assert again.value.status == 409

            menu = await api.create_rich_menu(RichMenuRequest.from_dict({
                "size": {"width": 2500, "height": 843}, "selected": False, "name": "m", "chatBarText": "メニュー",
                "areas": [{"bounds": {"x": 0, "y": 0, "width": 2500, "height": 843},
                           "action": {"type": "postback", "data": "menu"}}]}))
            png = io.BytesIO()
            Image.new("RGB", (800, 270)).save(png, format="PNG")
            with pytest.raises(ApiException) as wrong_size:
                await blob.set_rich_menu_image(menu.rich_menu_id, body=png.getvalue(),
                                               _headers={"Content-Type": "image/png"})
            assert wrong_size.value.status == 400
        async with AsyncApiClient(Configuration(host=fake.base_url, access_token="wrong")) as other:
            with pytest.raises(ApiException) as unauthorised:
                await AsyncMessagingApi(other).get_profile("U1")
            assert unauthorised.value.status == 401
    assert fake.delivered["U1"] == [text(), text("後で")] and fake.push_count == 1
    assert [c.path for c in fake.rejected()] == [REPLY, f"/v2/bot/richmenu/{menu.rich_menu_id}/content",
                                                 "/v2/bot/profile/U1"]
    assert len(fake.calls(PUSH)) == 2
