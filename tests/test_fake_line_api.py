"""The local LINE Messaging API fake behaves like LINE for the real line-bot-sdk v3 async clients."""
from __future__ import annotations

import asyncio
import io
import json
import uuid

import pytest
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    ImageMessage,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
    ShowLoadingAnimationRequest,
    TextMessage,
)
from PIL import Image

from tests.fakes.line_api import Call, FakeLineApi, assert_valid_line_messages

USER = "U1234567890abcdef1234567890abcdef"


@pytest.fixture
async def fake():
    async with FakeLineApi() as server:
        yield server


@pytest.fixture
async def api(fake):
    async with AsyncApiClient(Configuration(host=fake.base_url, access_token=fake.access_token)) as client:
        yield AsyncMessagingApi(client)


@pytest.fixture
async def blob_api(fake):
    async with AsyncApiClient(Configuration(host=fake.base_url, access_token=fake.access_token)) as client:
        yield AsyncMessagingApiBlob(client)


def question() -> TextMessage:
    return TextMessage(
        text="パスワードを使い回していますか？",
        quick_reply=QuickReply(
            items=[
                QuickReplyItem(action=PostbackAction(label="はい", data="answer=yes", display_text="はい")),
                QuickReplyItem(action=PostbackAction(label="いいえ", data="answer=no", display_text="いいえ")),
            ]
        ),
    )


def body_of(exc: ApiException) -> dict:
    return json.loads(exc.body)


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, format="PNG")
    return buffer.getvalue()


async def test_base_url_is_local_without_trailing_slash(fake):
    assert fake.base_url.startswith("http://127.0.0.1:")
    assert not fake.base_url.endswith("/")


async def test_trailing_slash_in_host_still_works(fake):
    fake.profiles[USER] = "山田"
    config = Configuration(host=fake.base_url + "/", access_token=fake.access_token)
    async with AsyncApiClient(config) as client:
        profile = await AsyncMessagingApi(client).get_profile(USER)
    assert profile.display_name == "山田"
    assert fake.calls_to("profile")[0].path == f"/v2/bot/profile/{USER}"


async def test_reply_with_quick_reply_is_delivered(api, fake):
    token = fake.issue_reply_token(USER)
    response = await api.reply_message(ReplyMessageRequest(reply_token=token, messages=[question()]))

    assert len(response.sent_messages) == 1
    assert response.sent_messages[0].id and response.sent_messages[0].quote_token
    [call] = fake.calls_to("reply")
    assert isinstance(call, Call)
    assert call.method == "POST /v2/bot/message/reply"
    assert call.headers["Authorization"] == f"Bearer {fake.access_token}"
    assert call.json["replyToken"] == token
    [delivered] = fake.delivered[USER]
    assert delivered == call.json["messages"][0]
    assert delivered["text"] == "パスワードを使い回していますか？"
    items = delivered["quickReply"]["items"]
    assert [item["action"]["data"] for item in items] == ["answer=yes", "answer=no"]
    assert all(item["type"] == "action" and item["action"]["type"] == "postback" for item in items)


async def test_reply_token_is_single_use(api, fake):
    token = fake.issue_reply_token(USER)
    request = ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="1回目")])
    await api.reply_message(request)

    with pytest.raises(ApiException) as caught:
        await api.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="2回目")]))
    assert caught.value.status == 400
    assert body_of(caught.value) == {"message": "Invalid reply token"}
    assert [m["text"] for m in fake.delivered[USER]] == ["1回目"]
    assert len(fake.calls_to("reply")) == 2


async def test_unknown_and_expired_reply_tokens_are_rejected(api, fake):
    with pytest.raises(ApiException) as caught:
        await api.reply_message(ReplyMessageRequest(reply_token="nope", messages=[TextMessage(text="x")]))
    assert caught.value.status == 400

    token = fake.issue_reply_token(USER, expires_in=0.01)
    await asyncio.sleep(0.05)
    with pytest.raises(ApiException) as caught:
        await api.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="遅い")]))
    assert caught.value.status == 400
    assert body_of(caught.value)["message"] == "Invalid reply token"
    assert USER not in fake.delivered


async def test_push_with_retry_key_is_accepted_once(api, fake):
    retry_key = str(uuid.uuid4())
    request = PushMessageRequest(to=USER, messages=[TextMessage(text="お知らせ")])

    first = await api.push_message_with_http_info(request, x_line_retry_key=retry_key)
    assert first.status_code == 200
    with pytest.raises(ApiException) as caught:
        await api.push_message(request, x_line_retry_key=retry_key)

    assert caught.value.status == 409
    assert caught.value.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert body_of(caught.value)["sentMessages"] == [m.to_dict() for m in first.data.sent_messages]
    assert [m["text"] for m in fake.delivered[USER]] == ["お知らせ"]
    assert fake.push_count == 1
    calls = await fake.wait_for("push", count=2)
    assert [c.headers["X-Line-Retry-Key"] for c in calls] == [retry_key, retry_key]


async def test_push_retry_after_server_error_is_delivered(api, fake):
    fake.fail_next("push", status=500)
    retry_key = str(uuid.uuid4())
    request = PushMessageRequest(to=USER, messages=[TextMessage(text="再送")])
    with pytest.raises(ApiException) as caught:
        await api.push_message(request, x_line_retry_key=retry_key)
    assert caught.value.status == 500
    await api.push_message(request, x_line_retry_key=retry_key)
    assert [m["text"] for m in fake.delivered[USER]] == ["再送"]
    assert fake.push_count == 1


async def test_push_with_six_messages_is_rejected(api, fake):
    # The SDK refuses more than 5 messages client-side; construct() skips that check
    # so the request reaches the fake the way a hand-built body would.
    messages = [TextMessage(text=f"{i}") for i in range(6)]
    request = PushMessageRequest.construct(to=USER, messages=messages, notification_disabled=False)
    with pytest.raises(ApiException) as caught:
        await api.push_message(request)
    assert caught.value.status == 400
    body = body_of(caught.value)
    assert body["message"] == "The request body has 1 error(s)"
    assert body["details"][0]["property"] == "messages"
    assert USER not in fake.delivered
    assert fake.push_count == 0


async def test_invalid_message_answers_400_with_details(api, fake):
    image = ImageMessage(original_content_url="http://example.com/a.png", preview_image_url="https://example.com/p.png")
    with pytest.raises(ApiException) as caught:
        await api.push_message(PushMessageRequest(to=USER, messages=[TextMessage(text="ok"), image]))
    assert caught.value.status == 400
    body = body_of(caught.value)
    assert body["message"] == "The request body has 1 error(s)"
    assert body["details"][0]["property"] == "messages[1].originalContentUrl"
    assert USER not in fake.delivered


async def test_get_profile(api, fake):
    fake.profiles[USER] = "山田太郎"
    profile = await api.get_profile(USER)
    assert profile.display_name == "山田太郎"
    assert profile.user_id == USER
    assert profile.language == "ja"

    with pytest.raises(ApiException) as caught:
        await api.get_profile("Uunknown")
    assert caught.value.status == 404
    assert body_of(caught.value) == {"message": "Not found"}


async def test_rich_menu_create_upload_and_set_default(api, blob_api, fake):
    request = RichMenuRequest(
        size=RichMenuSize(width=2500, height=843),
        selected=True,
        name="main",
        chat_bar_text="メニュー",
        areas=[
            RichMenuArea(
                bounds=RichMenuBounds(x=0, y=0, width=1250, height=843),
                action=PostbackAction(label="診断", data="menu=check"),
            ),
            RichMenuArea(
                bounds=RichMenuBounds(x=1250, y=0, width=1250, height=843),
                action=PostbackAction(label="相談", data="menu=incident"),
            ),
        ],
    )
    created = await api.create_rich_menu(request)
    rich_menu_id = created.rich_menu_id
    assert rich_menu_id.startswith("richmenu-")

    image = png(2500, 843)
    await blob_api.set_rich_menu_image(rich_menu_id, image, _headers={"Content-Type": "image/png"})
    await api.set_default_rich_menu(rich_menu_id)

    assert fake.rich_menu_images[rich_menu_id] == image
    assert fake.default_rich_menu == rich_menu_id
    [create] = fake.calls_to("create_rich_menu")
    assert create.json["chatBarText"] == "メニュー"
    [upload] = fake.calls_to("upload_rich_menu_image")
    assert upload.method == f"POST /v2/bot/richmenu/{rich_menu_id}/content"
    assert upload.headers["Content-Type"] == "image/png"
    assert upload.body == image
    assert fake.calls_to("set_default_rich_menu")[0].path == f"/v2/bot/user/all/richmenu/{rich_menu_id}"

    listed = await api.get_rich_menu_list()
    assert [menu.rich_menu_id for menu in listed.richmenus] == [rich_menu_id]

    # LINE does not let an image be replaced.
    with pytest.raises(ApiException) as caught:
        await blob_api.set_rich_menu_image(rich_menu_id, image, _headers={"Content-Type": "image/png"})
    assert caught.value.status == 400

    await api.delete_rich_menu(rich_menu_id)
    assert fake.rich_menus == {} and fake.default_rich_menu is None
    with pytest.raises(ApiException) as caught:
        await api.delete_rich_menu(rich_menu_id)
    assert caught.value.status == 404


async def test_loading_animation(api, fake):
    await api.show_loading_animation(ShowLoadingAnimationRequest(chat_id=USER, loading_seconds=5))
    [call] = await fake.wait_for("loading")
    assert call.json == {"chatId": USER, "loadingSeconds": 5}
    assert fake.loading == [{"chatId": USER, "loadingSeconds": 5}]


async def test_wrong_token_is_401(fake):
    fake.profiles[USER] = "山田"
    async with AsyncApiClient(Configuration(host=fake.base_url, access_token="wrong")) as client:
        with pytest.raises(ApiException) as caught:
            await AsyncMessagingApi(client).get_profile(USER)
    assert caught.value.status == 401
    assert body_of(caught.value)["message"].startswith("Authentication failed")
    assert len(fake.calls_to("profile")) == 1


async def test_fail_next_then_recovers(api, fake):
    fake.profiles[USER] = "山田"
    fake.fail_next("profile", status=500)
    with pytest.raises(ApiException) as caught:
        await api.get_profile(USER)
    assert caught.value.status == 500
    assert (await api.get_profile(USER)).display_name == "山田"


async def test_fail_next_429_monthly_limit(api, fake):
    fake.fail_next("push", status=429, retry_after=3)
    with pytest.raises(ApiException) as caught:
        await api.push_message(PushMessageRequest(to=USER, messages=[TextMessage(text="x")]))
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "3"
    assert body_of(caught.value) == {"message": "You have reached your monthly limit."}
    assert fake.push_count == 0


async def test_unknown_endpoint_is_404_and_recorded(api, fake):
    with pytest.raises(ApiException) as caught:
        await api.get_bot_info()
    assert caught.value.status == 404
    assert fake.calls[-1].method == "GET /v2/bot/info"
    assert fake.calls[-1].name is None


async def test_reset(api, fake):
    token = fake.issue_reply_token(USER)
    await api.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="x")]))
    fake.reset()
    assert fake.calls == [] and not fake.delivered and fake.push_count == 0


def test_assert_valid_line_messages():
    assert_valid_line_messages([question().to_dict()])

    with pytest.raises(AssertionError, match=r"messages\[0\]\.originalContentUrl: must be an https://"):
        assert_valid_line_messages(
            [{"type": "image", "originalContentUrl": "http://example.com/a.png", "previewImageUrl": "https://example.com/p.png"}]
        )

    fourteen = {
        "type": "text",
        "text": "選んでください",
        "quickReply": {
            "items": [
                {"type": "action", "action": {"type": "postback", "label": f"{i}", "data": f"n={i}"}}
                for i in range(14)
            ]
        },
    }
    with pytest.raises(AssertionError, match=r"messages\[0\]\.quickReply\.items: Size must be between 1 and 13"):
        assert_valid_line_messages([fourteen])
    with pytest.raises(AssertionError, match=r"messages\[0\]: the SDK cannot parse"):
        assert_valid_line_messages([{"type": "bogus"}])

    with pytest.raises(AssertionError, match="5000"):
        assert_valid_line_messages([{"type": "text", "text": "あ" * 5001}])
    with pytest.raises(AssertionError, match="altText"):
        assert_valid_line_messages(
            [{"type": "flex", "altText": "a" * 401, "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": []}}}]
        )
    with pytest.raises(AssertionError, match="Size must be between 1 and 5"):
        assert_valid_line_messages([{"type": "text", "text": "x"}] * 6)
