"""The local Slack Web API fake behaves like Slack for the real slack_sdk client."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from fakes.slack_api import UPLOAD_METHOD, Call, FakeSlackApi, assert_valid_blocks

TOKEN = "xoxb-test"


def valid_blocks() -> list[dict]:
    return [
        {
            "type": "section",
            "block_id": "question",
            "text": {"type": "mrkdwn", "text": "*パスワードを使い回していますか？*"},
        },
        {
            "type": "actions",
            "block_id": "answers",
            "elements": [
                {"type": "button", "action_id": "answer_yes", "text": {"type": "plain_text", "text": "はい"}, "value": "yes"},
                {"type": "button", "action_id": "answer_no", "text": {"type": "plain_text", "text": "いいえ"}, "value": "no"},
            ],
        },
    ]


@pytest.fixture
async def fake():
    async with FakeSlackApi() as server:
        yield server


@pytest.fixture(params=["own-session", "no-session"])
async def client(request, fake):
    """The real client, with a session the test owns or with none (one per call)."""
    if request.param == "own-session":
        session = aiohttp.ClientSession()
        yield AsyncWebClient(token=TOKEN, base_url=fake.base_url, session=session)
        await session.close()
    else:
        yield AsyncWebClient(token=TOKEN, base_url=fake.base_url)


async def test_base_url_is_local_api_root(fake):
    assert fake.base_url.startswith("http://127.0.0.1:")
    assert fake.base_url.endswith("/api/")


async def test_auth_test(client, fake):
    response = await client.auth_test()
    assert response["team_id"] == "T0001"
    assert response["user_id"] == "UBOT"
    assert response["bot_id"] == "B0001"
    [call] = fake.calls_to("auth.test")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_post_message_records_parsed_blocks_and_returns_increasing_ts(client, fake):
    blocks = valid_blocks()
    first = await client.chat_postMessage(channel="C123", text="質問", blocks=blocks)
    second = await client.chat_postMessage(channel="C123", text="次")

    assert first["channel"] == "C123"
    assert first["message"]["blocks"] == blocks
    assert float(second["ts"]) > float(first["ts"])
    [call, _] = fake.calls_to("chat.postMessage")
    assert isinstance(call, Call)
    assert call.params["channel"] == "C123"
    assert call.params["text"] == "質問"
    assert call.params["blocks"] == blocks  # a parsed list, not JSON text
    assert fake.messages[("C123", first["ts"])]["text"] == "質問"


async def test_form_encoded_json_fields_are_parsed(client, fake):
    """A caller sending blocks as form data (JSON text) gets them parsed too."""
    response = await client.api_call(
        "chat.postMessage",
        data={"channel": "C1", "text": "t", "blocks": '[{"type": "divider"}]'},
    )
    assert response["ok"]
    [call] = fake.calls_to("chat.postMessage")
    assert call.params["blocks"] == [{"type": "divider"}]


async def test_update_ephemeral_open_and_publish(client, fake):
    posted = await client.chat_postMessage(channel="C1", text="before")
    updated = await client.chat_update(channel="C1", ts=posted["ts"], text="after", blocks=valid_blocks())
    assert updated["ts"] == posted["ts"]
    assert fake.messages[("C1", posted["ts"])]["text"] == "after"

    ephemeral = await client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert ephemeral["message_ts"]

    opened = await client.conversations_open(users="U42")
    assert opened["channel"]["id"] == "DU42"

    home = {"type": "home", "blocks": valid_blocks()}
    published = await client.views_publish(user_id="U42", view=home)
    assert published["view"]["type"] == "home"
    assert fake.views["U42"]["blocks"] == home["blocks"]
    [call] = fake.calls_to("views.publish")
    assert call.params["view"]["blocks"] == home["blocks"]


async def test_invalid_blocks_are_rejected_like_slack(client, fake):
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C1", text="t", blocks=too_long)
    assert info.value.response["error"] == "invalid_blocks"


async def test_users_info_returns_configured_display_name(client, fake):
    fake.users["U777"] = {"display_name": "山田", "real_name": "山田 花子"}
    fake.add_user("U888")

    response = await client.users_info(user="U777")
    assert response["user"]["profile"]["display_name"] == "山田"
    assert response["user"]["profile"]["real_name"] == "山田 花子"
    default = await client.users_info(user="U888")
    assert default["user"]["profile"]["display_name"] == "テスト太郎"

    with pytest.raises(SlackApiError) as info:
        await client.users_info(user="UNKNOWN")
    assert info.value.response["error"] == "user_not_found"


async def test_files_upload_v2(client, fake):
    response = await client.files_upload_v2(
        channel="C999",
        content=b"png bytes",
        filename="a.png",
        title="t",
        initial_comment="c",
    )

    [file_id] = fake.uploads
    assert fake.uploads[file_id] == b"png bytes"
    assert response["file"]["id"] == file_id
    assert response["file"]["title"] == "t"
    [complete] = fake.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C999"
    assert complete.params["initial_comment"] == "c"
    assert complete.params["files"] == [{"id": file_id, "title": "t"}]
    [upload] = fake.calls_to(UPLOAD_METHOD)
    assert "Authorization" not in upload.headers
    assert fake.files[file_id]["channels"] == ["C999"]


async def test_missing_token_is_not_authed(fake):
    client = AsyncWebClient(base_url=fake.base_url)
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C1", text="hi")
    assert info.value.response["error"] == "not_authed"
    assert len(fake.calls_to("chat.postMessage")) == 1  # still recorded

    wrong = AsyncWebClient(token="not-a-token", base_url=fake.base_url)
    with pytest.raises(SlackApiError) as info:
        await wrong.auth_test()
    assert info.value.response["error"] == "not_authed"


async def test_unknown_method(client, fake):
    with pytest.raises(SlackApiError) as info:
        await client.api_call("nonsense.method", params={"a": "1"})
    assert info.value.response["error"] == "unknown_method"
    [call] = fake.calls_to("nonsense.method")
    assert call.params == {"a": "1"}


async def test_rate_limited_without_retry_handler_raises_429(client, fake):
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C1", text="hi")
    assert info.value.response.status_code == 429
    assert info.value.response["error"] == "ratelimited"
    assert info.value.response.headers["Retry-After"] == "1"
    # only the next call failed
    assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"]


async def test_rate_limited_with_retry_handler_succeeds_on_second_attempt(fake):
    client = AsyncWebClient(
        token=TOKEN,
        base_url=fake.base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    response = await client.chat_postMessage(channel="C1", text="hi")
    assert response["ok"]
    assert len(fake.calls_to("chat.postMessage")) == 2


async def test_server_error(client, fake):
    fake.fail_next("chat.postMessage", status=500, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as info:
            await client.chat_postMessage(channel="C1", text="hi")
        assert info.value.response.status_code == 500
    assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"]


async def test_injected_api_error(client, fake):
    fake.fail_next("conversations.open", error="cannot_dm_bot")
    with pytest.raises(SlackApiError) as info:
        await client.conversations_open(users="U1")
    assert info.value.response.status_code == 200
    assert info.value.response["error"] == "cannot_dm_bot"


async def test_wait_for_and_reset(client, fake):
    task = asyncio.create_task(client.chat_postMessage(channel="C1", text="later"))
    [call] = await fake.wait_for("chat.postMessage")
    assert call.params["text"] == "later"
    await task

    with pytest.raises(AssertionError, match="chat.postMessage"):
        await fake.wait_for("views.publish", timeout=0.1)

    fake.fail_next("auth.test")
    fake.reset()
    assert fake.calls == []
    assert (await client.auth_test())["ok"]  # the queued failure was dropped too


def test_assert_valid_blocks_accepts_section_and_actions():
    assert_valid_blocks(valid_blocks())


def test_assert_valid_blocks_rejects_long_button_label():
    blocks = valid_blocks()
    blocks[1]["elements"][0]["text"]["text"] = "あ" * 76
    with pytest.raises(AssertionError, match="block 1"):
        assert_valid_blocks(blocks)


def test_assert_valid_blocks_rejects_51_blocks():
    with pytest.raises(AssertionError, match="51 blocks"):
        assert_valid_blocks([{"type": "divider"}] * 51)


def test_assert_valid_blocks_rejects_duplicate_ids():
    blocks = valid_blocks()
    blocks[1]["block_id"] = "question"
    with pytest.raises(AssertionError, match="block 1.*block_id"):
        assert_valid_blocks(blocks)

    blocks = valid_blocks()
    blocks[1]["elements"][1]["action_id"] = "answer_yes"
    with pytest.raises(AssertionError, match="block 1.*action_id"):
        assert_valid_blocks(blocks)


def test_assert_valid_blocks_rejects_unknown_type_and_long_section():
    with pytest.raises(AssertionError, match="block 0.*unknown block type"):
        assert_valid_blocks([{"type": "sectoin", "text": {"type": "mrkdwn", "text": "x"}}])
    with pytest.raises(AssertionError, match="block 0"):
        assert_valid_blocks([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    with pytest.raises(AssertionError, match="block 0"):
        assert_valid_blocks([{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "b"}, "action_id": f"a{i}"} for i in range(26)]}])
