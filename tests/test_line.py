"""LINE end to end: signed webhooks to the real aiohttp app, the real line-bot-sdk v3 async
client, and a local fake of the Messaging API."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlparse

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.line.rich_menu import TILES
from bot.cli.line import set_up_rich_menu
from bot.core.images import png_size
from bot.core.replies import Recipient
from bot.flows.org.store import OrgStore
from bot.runtime.server import LINE, LINE_IMAGES, build_app
from bot.settings import ConfigError, LineSettings
from bot.store.keys import ConversationKey
from tests.support.line_api import (
    CREATE_RICH_MENU,
    PUSH,
    REPLY,
    assert_valid_line_messages,
)
from tests.support.line_webhooks import (
    BOT,
    PUBLIC,
    USER,
    base_event,
    line_settings,
    quick_data,
    say,
    send,
    signature,
    tap,
    text_event,
)


@pytest.fixture
def fake_line(fake_line):
    """The shared fake, knowing the user's LINE profile."""
    fake_line.profiles[USER] = "鈴木"
    return fake_line


@pytest.fixture
async def line(engine, fake_line):
    async with TestClient(TestServer(build_app(engine, line=line_settings(fake_line), workers=8))) as client:
        yield client


async def answer_by_postbacks(client, fake, label: str, count: int = 25) -> list[dict]:
    received = await say(client, fake, "自社診断")
    for _ in range(count):
        received = await tap(client, fake, quick_data(received[-1], label))
    return received


async def test_self_check_by_postbacks_to_flex_result_and_served_chart(line, fake_line):
    first = await say(line, fake_line, "自社診断")
    assert "No.1 パソコンやスマホなど" in first[-1]["text"]
    result = await answer_by_postbacks(line, fake_line, "実施している")
    assert [m["type"] for m in result] == ["flex", "image", "text"]
    flex = result[0]
    assert "合計 100 / 100点" in flex["altText"]
    assert [row["contents"][1]["contents"][0]["width"] for row in flex["contents"]["body"]["contents"][:4]] \
        == ["100%"] * 4
    image = result[1]
    original, preview = urlparse(image["originalContentUrl"]), urlparse(image["previewImageUrl"])
    assert image["originalContentUrl"].startswith(PUBLIC + "/images/")
    png = await line.get(original.path)
    assert png.status == 200 and png.content_type == "image/png"
    assert (await png.read()).startswith(b"\x89PNG")
    assert (await line.get(preview.path)).status == 200
    guessed = original.path[:-6] + ("A" if original.path[-5] != "A" else "B") + ".png"
    assert (await line.get(guessed)).status == 404
    assert len(fake_line.calls(REPLY)) == 27 and fake_line.push_count == 0  # all within reply tokens
    for call in fake_line.calls(REPLY):
        assert_valid_line_messages(call.json["messages"])


async def test_the_chart_is_drawn_once_when_line_first_fetches_it(line, fake_line, engine):
    """The reply with the score goes out before the chart is drawn; LINE's first fetches (the
    preview and the original together) draw it once, and it is kept for the next ones."""
    result = await answer_by_postbacks(line, fake_line, "一部実施している")
    image = next(m for m in result if m["type"] == "image")
    original, preview = urlparse(image["originalContentUrl"]).path, urlparse(image["previewImageUrl"]).path
    token = original.removeprefix("/images/").removesuffix(".png")
    key = engine.store.keys.image(token)
    assert await engine.store.client.hkeys(key) == [b"spec"]  # described, not drawn yet
    assert 0 < await engine.store.client.ttl(key)

    drawn = []
    draw = line.app[LINE_IMAGES].draw
    async def counting_draw(described):
        drawn.append(described.renderer)
        return await draw(described)
    line.app[LINE_IMAGES].draw = counting_draw
    small, big = await asyncio.gather(line.get(preview), line.get(original))
    small_png, big_png = await small.read(), await big.read()
    assert small.status == big.status == 200 and drawn == ["score_chart"]
    assert png_size(big_png)[0] == 1200 and max(png_size(small_png)) <= 240
    again = await line.get(original)
    assert await again.read() == big_png and drawn == ["score_chart"]
    assert sorted(await engine.store.client.hkeys(key)) == [b"original", b"preview", b"spec"]

    await engine.store.client.delete(key)  # expired
    assert (await line.get(preview)).status == 404


async def test_share_result_is_pushed_to_the_security_lead_with_a_button(line, fake_line, engine):
    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create("鈴木工務店")
    await orgs.bind(org, "line", BOT)
    lead = "U2222222222222222222222222222222"
    await orgs.add_contact(org, "security_lead", Recipient("line", BOT, "user", lead, "情報セキュリティ責任者"))
    await answer_by_postbacks(line, fake_line, "一部実施している")
    confirm = await tap(line, fake_line, "share_result")
    assert "結果を情報セキュリティ責任者に送りました" in confirm[-1]["text"]
    [push] = fake_line.calls(PUSH)
    assert push.json["to"] == lead and push.headers.get("X-Line-Retry-Key")
    notice = fake_line.delivered[lead]
    assert "鈴木さんから自社診断の結果が届きました" in notice[0]["text"]
    assert notice[1]["type"] == "flex" and "50 / 100点" in notice[1]["altText"]
    assert quick_data(notice[-1], "自社診断をはじめる") == "start_diagnosis"


async def test_a_typed_answer_sent_before_its_question_was_shown_is_asked_again(line, fake_line, engine):
    await say(line, fake_line, "自社診断")
    await say(line, fake_line, "1")  # answers question 1; question 2 is shown
    # A 「2」 the person sent seconds ago, for question 1, arrives only now (LINE redelivered it).
    late = text_event("2", user=USER, reply_token=fake_line.issue_reply_token(USER), sent_at=time.time() - 30)
    before = len(fake_line.delivered[USER])
    await send(line, late)
    [asked_again] = fake_line.delivered[USER][before:]
    assert "表示される前に送られていた" in asked_again["text"] and "No.2 " in asked_again["text"]
    draft = (await engine.store.read(ConversationKey("line", BOT, USER))).record["data"]["diagnosis"]
    assert draft["answers"][1] is None
    await say(line, fake_line, "2")  # typed after seeing question 2
    draft = (await engine.store.read(ConversationKey("line", BOT, USER))).record["data"]["diagnosis"]
    assert draft["answers"][1] is not None and draft["current"] == 2


async def test_forged_signature_gets_400_and_changes_nothing(line, fake_line, engine):
    response = await send(line, text_event("自社診断", user=USER, reply_token="t"), secret="wrong")
    assert response.status == 400
    missing = await line.post("/line/callback", data=b'{"events": []}')
    assert missing.status == 400
    assert fake_line.calls() == []
    assert (await engine.store.read(ConversationKey("line", BOT, USER))).record is None


@pytest.mark.parametrize("body", ["{broken", "[]", '{"events": "x"}', '{"destination": "x"}'])
async def test_malformed_bodies_get_400(line, fake_line, body):
    response = await line.post("/line/callback", data=body.encode(), headers={"X-Line-Signature": signature(body)})
    assert response.status == 400
    assert fake_line.calls() == []


async def test_an_event_that_does_not_parse_is_skipped_not_a_500(line, fake_line):
    response = await send(line, {"type": "message", "nonsense": True})
    assert response.status == 200
    assert fake_line.calls() == []


async def test_a_redelivered_event_is_not_answered_again(line, fake_line):
    event = text_event("メニュー", user=USER, reply_token=fake_line.issue_reply_token(USER), event_id="01HREDELIVER")
    await send(line, event)
    again = {**event, "replyToken": fake_line.issue_reply_token(USER), "deliveryContext": {"isRedelivery": True}}
    assert (await send(line, again)).status == 200
    assert len(fake_line.calls(REPLY)) == 1 and fake_line.calls(PUSH) == []


async def test_an_expired_reply_token_falls_back_to_push(line, fake_line):
    token = fake_line.issue_reply_token(USER, expires_in=0.0)
    await send(line, text_event("メニュー", user=USER, reply_token=token))
    [reply] = fake_line.calls(REPLY)  # tried, refused as expired
    [push] = fake_line.calls(PUSH)
    assert push.json["to"] == USER and "自社診断をはじめる" in json.dumps(push.json, ensure_ascii=False)
    assert fake_line.push_count == 1


async def test_an_old_event_is_pushed_without_trying_its_token(line, fake_line):
    await send(line, text_event("メニュー", user=USER, reply_token=fake_line.issue_reply_token(USER),
                                sent_at=time.time() - 120))
    assert fake_line.calls(REPLY) == [] and fake_line.push_count == 1


async def test_a_retried_push_is_not_delivered_twice(line, fake_line):
    adapter = line.app[LINE]
    messages = [{"type": "text", "text": "テスト"}]
    await adapter._push(USER, messages, key="7f6c3c1e-8f0a-4b8e-9d2e-1a2b3c4d5e6f")
    await adapter._push(USER, messages, key="7f6c3c1e-8f0a-4b8e-9d2e-1a2b3c4d5e6f")  # e.g. after a lost response
    assert len(fake_line.calls(PUSH)) == 2
    assert fake_line.delivered[USER] == messages  # LINE accepted the key once (409 the second time)


async def test_push_server_errors_are_retried_with_the_same_key(line, fake_line):
    fake_line.fail_next(PUSH, 500)
    await send(line, text_event("メニュー", user=USER, reply_token=None))
    pushes = fake_line.calls(PUSH)
    assert len(pushes) == 2 and pushes[0].headers["X-Line-Retry-Key"] == pushes[1].headers["X-Line-Retry-Key"]
    assert fake_line.push_count == 1


async def test_follow_welcomes_and_unfollow_forgets(line, fake_line, engine):
    who = ConversationKey("line", BOT, USER)
    await send(line, {**base_event("follow", user=USER, reply_token=fake_line.issue_reply_token(USER)),
                      "follow": {"isUnblocked": False}})
    welcome = fake_line.delivered[USER][-1]
    assert "相談窓口" in welcome["text"] and quick_data(welcome, "自社診断をはじめる") == "start_diagnosis"
    await say(line, fake_line, "自社診断")
    assert (await engine.store.read(who)).record is not None
    await send(line, base_event("unfollow", user=USER, reply_token=None))
    assert (await engine.store.read(who)).record is None


async def test_stickers_get_the_hint_and_the_display_name_is_cached(line, fake_line, engine):
    event = {**base_event("message", user=USER, reply_token=fake_line.issue_reply_token(USER)),
             "message": {"id": "1", "type": "sticker", "packageId": "1", "stickerId": "1", "stickerResourceType": "STATIC",
                         "quoteToken": "q"}}
    await send(line, event)
    assert "うまく読み取れませんでした" in fake_line.delivered[USER][-1]["text"]
    await say(line, fake_line, "メニュー")
    assert len([c for c in fake_line.calls() if c.path.startswith("/v2/bot/profile/")]) == 1
    assert await engine.store.client.get(engine.store.keys.display_name(ConversationKey("line", BOT, USER))) \
        == "鈴木".encode()


async def test_progress_shows_the_latest_result(line, fake_line):
    await answer_by_postbacks(line, fake_line, "実施していない")
    overview = await tap(line, fake_line, "show_progress")
    assert overview[0]["type"] == "flex" and "0 / 100点" in overview[0]["altText"]
    assert "quickReply" in overview[-1]


async def test_rich_menu_is_created_with_its_image_and_set_as_default(fake_line, content):
    menu_id = await set_up_rich_menu(texts=content.texts, access_token=fake_line.access_token,
                                     api_url=fake_line.base_url)
    assert fake_line.default_rich_menu == menu_id
    assert fake_line.rich_menu_images[menu_id].startswith(b"\x89PNG")
    [create] = fake_line.calls(CREATE_RICH_MENU)
    actions = [area["action"] for area in create.json["areas"]]
    assert [a["label"] for a in actions] == ["自社診断", "ポイント学習", "緊急相談", "進捗"]
    assert [a["data"] for a in actions] == [tile.trigger for tile in TILES] == [
        "start_diagnosis", "start_lessons", "choose_incident", "show_progress"]
    again = await set_up_rich_menu(texts=content.texts, access_token=fake_line.access_token,
                                   api_url=fake_line.base_url)
    assert fake_line.default_rich_menu == again and menu_id not in fake_line.rich_menus  # old one deleted


def test_line_settings_name_what_is_missing():
    assert LineSettings.from_env({}) is None
    with pytest.raises(ConfigError, match="missing LINE_CHANNEL_ACCESS_TOKEN, PUBLIC_URL"):
        LineSettings.from_env({"LINE_CHANNEL_SECRET": "s"})
    with pytest.raises(ConfigError, match="https"):
        LineSettings.from_env({"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t",
                               "PUBLIC_URL": "http://x"})


async def test_push_quota_exhaustion_is_logged(line, fake_line, caplog):
    fake_line.push_quota = 0
    with caplog.at_level(logging.ERROR, logger="bot.core.delivery"):
        await send(line, text_event("メニュー", user=USER, reply_token=None))
    assert fake_line.delivered[USER] == []
    assert any("monthly push limit" in r.message for r in caplog.records)


async def test_a_slack_users_report_reaches_a_lead_on_line(engine, fake_line):
    """One `bot serve` with both platforms: a notice crosses from Slack to LINE (push)."""
    from tests.support.slack_api import FakeSlack
    from tests.support.slack_events import (
        TEAM,
        answer_check_by_clicks,
        dm,
        posts,
        send_click,
        send_event,
        slack_settings,
    )

    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create("横断商事")
    await orgs.bind(org, "slack", TEAM)
    lead = "U3333333333333333333333333333333"
    await orgs.add_contact(org, "security_lead", Recipient("line", BOT, "user", lead, "情報セキュリティ責任者"))
    async with FakeSlack() as fake_slack:
        app = build_app(engine, slack=slack_settings(fake_slack), line=line_settings(fake_line))
        async with TestClient(TestServer(app)) as client:
            await send_event(client, dm("自社診断"))
            await answer_check_by_clicks(client, fake_slack, ["実施している"] * 25)
            await send_click(client, posts(fake_slack)[-1].params["blocks"], "担当者に結果を送る")
    [push] = fake_line.calls(PUSH)
    assert push.json["to"] == lead
    assert "自社診断の結果が届きました" in fake_line.delivered[lead][0]["text"]


async def test_no_proxy_lookup_per_request_unless_the_environment_names_a_proxy(engine, fake_line, monkeypatch):
    """line-bot-sdk's session would look for a proxy and a .netrc entry in a thread before every
    request; without proxy settings it does not, and with them it still finds the proxy."""
    from bot.adapters.line.adapter import LineAdapter
    from bot.core.delivery import Delivery
    from bot.store.display_names import DisplayNames

    def adapter() -> LineAdapter:
        return LineAdapter(line_settings(fake_line), engine=engine,
                           delivery=Delivery(engine, DisplayNames(engine.store.client, engine.store.keys)))

    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NETRC"):
        monkeypatch.delenv(name, raising=False)
    direct = adapter()
    assert direct._api_client.rest_client.pool_manager.trust_env is False
    assert direct._blob_client.rest_client.pool_manager.trust_env is False
    assert await direct.display_name(ConversationKey("line", BOT, USER)) == "鈴木"  # requests still go out
    await direct.close()

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    proxied = adapter()
    assert proxied._api_client.rest_client.pool_manager.trust_env is True
    await proxied.close()
