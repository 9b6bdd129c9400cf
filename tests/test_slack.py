"""Slack end to end: signed requests to the real aiohttp app, the real slack-bolt code
paths, and a local fake of the Slack Web API."""
from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlencode

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.slack.adapter import SCOPES
from bot.core.replies import Recipient
from bot.flows.org.store import OrgStore
from bot.runtime.server import WORKER, build_app
from bot.settings import ConfigError, SlackSettings
from bot.store.keys import ConversationKey
from tests.support.slack_api import FakeSlack, assert_valid_blocks
from tests.support.slack_events import (
    DM,
    TEAM,
    USER,
    all_text,
    answer_check_by_clicks,
    dm,
    event_body,
    posts,
    send_click,
    send_event,
    signed_headers,
    slack_settings,
)


@pytest.fixture
async def slack(engine, fake_slack):
    app = build_app(engine, slack=slack_settings(fake_slack), workers=8)
    async with TestClient(TestServer(app)) as client:
        yield client


def validate_everything_sent(fake: FakeSlack) -> None:
    for method in ("chat.postMessage", "chat.update"):
        for call in fake.calls(method):
            if call.params.get("blocks"):
                assert_valid_blocks(call.params["blocks"])
    for call in fake.calls("views.publish"):
        assert_valid_blocks(call.params["view"]["blocks"], max_blocks=100)


async def test_self_check_by_button_clicks_to_result_and_chart(slack, fake_slack):
    response = await send_event(slack, dm("自社診断"))
    assert response.status == 200
    first = posts(fake_slack, DM)[-1].params
    assert "No.1 パソコンやスマホなど" in all_text(first["blocks"])
    await answer_check_by_clicks(slack, fake_slack, ["実施している"] * 25)

    result = next(c.params for c in posts(fake_slack, DM) if "自社診断の結果" in all_text(c.params["blocks"]))
    header = result["blocks"][0]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "自社診断の結果", "emoji": True}}
    fields = [f["text"] for f in result["blocks"][1]["fields"]]
    assert fields[0].startswith("*合計*\n100 / 100点")
    assert any(f.startswith("*基本的対策*\n20 / 20点") for f in fields)
    # Every clicked question was updated to show the answer instead of its buttons.
    updates = fake_slack.calls("chat.update")
    assert len(updates) == 25
    assert all(b["type"] != "actions" for b in updates[0].params["blocks"])
    assert "✅ *実施している*" in all_text(updates[0].params["blocks"])
    # The chart went up with files_upload_v2, into the DM.
    [complete] = fake_slack.calls("files.completeUploadExternal")
    assert complete.params["channel_id"] == DM
    [png] = fake_slack.uploads.values()
    assert png.startswith(b"\x89PNG")
    validate_everything_sent(fake_slack)


async def test_share_result_notifies_the_security_channel(slack, fake_slack, engine):
    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create("山田商事")
    await orgs.bind(org, "slack", TEAM)
    await orgs.add_contact(org, "security_lead", Recipient("slack", TEAM, "channel", "C0SEC", "情報セキュリティ責任者"))
    fake_slack.users[USER] = "山田"
    await send_event(slack, dm("自社診断"))
    await answer_check_by_clicks(slack, fake_slack, ["一部実施している"] * 25)
    result_menu = posts(fake_slack, DM)[-1].params["blocks"]
    await send_click(slack, result_menu, "担当者に結果を送る")

    [notice] = posts(fake_slack, "C0SEC")
    text = all_text(notice.params["blocks"])
    assert "山田さんから自社診断の結果が届きました" in text and "50 / 100点" in text
    assert "自社診断をはじめる" in text  # the notice carries its button
    assert "結果を情報セキュリティ責任者に送りました" in all_text(posts(fake_slack, DM)[-1].params["blocks"])
    validate_everything_sent(fake_slack)


async def test_forged_and_stale_signatures_get_401_and_change_nothing(slack, fake_slack, engine):
    body = event_body(dm("自社診断"))
    forged = await slack.post("/slack/events", data=body, headers=signed_headers(body, secret="wrong"))
    assert forged.status == 401
    stale = await slack.post("/slack/events", data=body,
                             headers=signed_headers(body, timestamp=int(time.time()) - 6 * 60))
    assert stale.status == 401
    unsigned = await slack.post("/slack/events", data=body, headers={"Content-Type": "application/json"})
    assert unsigned.status == 401
    await slack.app[WORKER].drain()
    assert fake_slack.calls() == []
    from bot.store.keys import ConversationKey
    assert (await engine.store.read(ConversationKey("slack", TEAM, USER))).record is None


async def test_each_request_signature_is_checked_once(slack, fake_slack, monkeypatch):
    from slack_sdk.signature import SignatureVerifier

    checks = []
    real = SignatureVerifier.is_valid

    def counted(self, *args, **kwargs):
        checks.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SignatureVerifier, "is_valid", counted)
    assert (await send_event(slack, dm("自社診断"))).status == 200
    await slack.app[WORKER].drain()
    assert len(checks) == 1 and posts(fake_slack, DM)


async def test_a_retried_event_is_answered_once(slack, fake_slack):
    first = await send_event(slack, dm("自社診断"), event_id="Ev-retry")
    again = await send_event(slack, dm("自社診断"), event_id="Ev-retry", headers={"X-Slack-Retry-Num": "1",
                                                                             "X-Slack-Retry-Reason": "http_timeout"})
    assert first.status == 200 and again.status == 200
    assert len(posts(fake_slack, DM)) == 1  # intro and question 1 in one message, once


async def test_a_double_click_answers_once(slack, fake_slack, engine):
    await send_event(slack, dm("自社診断"))
    question = posts(fake_slack, DM)[-1].params["blocks"]
    await asyncio.gather(send_click(slack, question, "実施していない"), send_click(slack, question, "実施していない"))
    from bot.store.keys import ConversationKey
    draft = (await engine.store.read(ConversationKey("slack", TEAM, USER))).record["data"]["diagnosis"]
    assert draft["answers"][:2] == [2, None] and draft["current"] == 1
    questions_2 = [c for c in posts(fake_slack, DM) if "No.2 " in all_text(c.params["blocks"])]
    assert len(questions_2) == 1


@pytest.mark.parametrize("body, content_type", [
    ("{not json", "application/json"),
    ("[1, 2]", "application/json"),
    ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
    ("", "application/x-www-form-urlencoded"),
    ("just text", "text/plain"),
])
async def test_malformed_bodies_get_400(slack, fake_slack, body, content_type):
    response = await slack.post("/slack/events", data=body.encode(),
                                headers=signed_headers(body, content_type=content_type))
    assert response.status == 400
    assert fake_slack.calls() == []


async def test_slash_command_opens_the_menu_in_the_dm(slack, fake_slack):
    body = urlencode({"command": "/security", "text": "", "user_id": USER, "team_id": TEAM,
                      "channel_id": "C0GENERAL", "trigger_id": "trig-cmd", "response_url": "http://127.0.0.1:9/x"})
    started = time.monotonic()
    response = await slack.post("/slack/events", data=body,
                                headers=signed_headers(body, content_type="application/x-www-form-urlencoded"))
    assert response.status == 200 and time.monotonic() - started < 3
    await slack.app[WORKER].drain()
    [menu] = posts(fake_slack)
    assert menu.params["channel"] == USER  # the DM with the user
    assert "自社診断をはじめる" in all_text(menu.params["blocks"])


async def test_mention_is_answered_in_a_thread(slack, fake_slack):
    event = {"type": "app_mention", "channel": "C0GENERAL", "user": USER, "text": "<@UBOT> 診断したい",
             "ts": "1700000500.000200", "event_ts": "1700000500.000200"}
    await send_event(slack, event)
    replies = posts(fake_slack, "C0GENERAL")
    assert replies and all(c.params["thread_ts"] == "1700000500.000200" for c in replies)
    assert "No.1 " in all_text(replies[-1].params["blocks"])


async def test_app_home_shows_the_latest_score_and_menu(slack, fake_slack):
    await send_event(slack, dm("自社診断"))
    await answer_check_by_clicks(slack, fake_slack, ["実施している"] * 20 + ["実施していない"] * 5)
    await send_event(slack, {"type": "app_home_opened", "user": USER, "channel": DM, "tab": "home",
                             "event_ts": f"{time.time():.6f}"})
    [publish] = fake_slack.calls("views.publish")
    assert publish.params["user_id"] == USER
    text = all_text(publish.params["view"]["blocks"])
    assert "80 / 100点" in text and "自社診断をはじめる" in text
    validate_everything_sent(fake_slack)


async def test_display_names_come_from_the_profile_once(slack, fake_slack, engine):
    fake_slack.users[USER] = "総務の佐藤"
    for text in ("メニュー", "ヘルプ", "メニュー"):
        await send_event(slack, dm(text))
    assert len(fake_slack.calls("users.info")) == 1
    from bot.store.keys import ConversationKey
    assert await engine.store.client.get(engine.store.keys.display_name(ConversationKey("slack", TEAM, USER))) \
        == "総務の佐藤".encode()


async def test_rate_limit_is_retried_and_the_message_arrives(slack, fake_slack):
    fake_slack.fail_next("chat.postMessage", 429, headers={"Retry-After": "1"})
    await send_event(slack, dm("メニュー"))
    delivered = [c for c in posts(fake_slack, DM) if c.params.get("blocks")]
    assert len(delivered) == 2  # the refused attempt and the retry
    assert "自社診断をはじめる" in all_text(delivered[-1].params["blocks"])


async def test_server_errors_are_retried_looking_before_posting_again(slack, fake_slack, caplog):
    fake_slack.fail_next("chat.postMessage", 500, count=2)
    with caplog.at_level(logging.WARNING, logger="bot.core.delivery"):
        await send_event(slack, dm("メニュー"))
        await slack.app[WORKER].drain()
    assert [m["text"] for m in fake_slack.messages[DM]] == [posts(fake_slack, DM)[-1].params["text"]]
    assert "返事の一部を送れませんでした" not in fake_slack.messages[DM][0]["text"]
    assert len(fake_slack.calls("conversations.history")) == 2  # looked before each new try
    assert any("retrying" in r.message for r in caplog.records)


async def test_a_post_whose_answer_was_lost_is_not_posted_twice(slack, fake_slack):
    fake_slack.lose_next_responses = 1  # Slack posts it, but answers 500
    await send_event(slack, dm("自社診断"))
    await slack.app[WORKER].drain()
    [posted] = fake_slack.messages[DM]
    assert posted["metadata"]["event_type"] == "security_desk_reply"
    assert len(posts(fake_slack, DM)) == 1 and fake_slack.calls("conversations.history")


async def test_issue_a_typed_digit_answered_the_question_after_the_one_the_user_saw(slack, fake_slack, engine):
    """A 「2」 typed for question 1 (shown twice, say) reached the bot after question 2 was sent: it
    used to answer question 2. A typed answer sent before its question reached the screen is not
    applied to it; the person is asked again."""
    await send_event(slack, dm("自社診断"))
    await slack.app[WORKER].drain()
    typed_for_question_1 = dm("2")  # Slack's ts: sent now, while question 1 is on screen
    await send_event(slack, dm("1"))  # answers question 1; question 2 is posted after this
    await slack.app[WORKER].drain()
    assert "No.2 " in fake_slack.messages[DM][-1]["text"]
    await send_event(slack, typed_for_question_1)
    await slack.app[WORKER].drain()
    draft = (await engine.store.read(ConversationKey("slack", TEAM, USER))).record["data"]["diagnosis"]
    assert draft["answers"][1] is None and draft["current"] == 1
    asked_again = fake_slack.messages[DM][-1]["text"]
    assert "表示される前に送られていた" in asked_again and "No.2 " in asked_again
    await send_event(slack, dm("3"))  # typed after seeing the question: applied to it
    await slack.app[WORKER].drain()
    draft = (await engine.store.read(ConversationKey("slack", TEAM, USER))).record["data"]["diagnosis"]
    assert draft["answers"][1] is not None and draft["current"] == 2


async def test_a_refused_payload_ends_in_an_apology_and_a_log_line(slack, fake_slack, caplog):
    fake_slack.fail_next("chat.postMessage", 400, body={"ok": False, "error": "invalid_blocks"})
    with caplog.at_level(logging.ERROR, logger="bot.core.delivery"):
        await send_event(slack, dm("メニュー"))
        await slack.app[WORKER].drain()
    apology = posts(fake_slack, DM)[-1].params
    assert "返事の一部を送れませんでした" in apology["text"]
    assert any("delivery to" in r.message and "refused" in r.message for r in caplog.records)


async def test_acknowledges_a_burst_within_three_seconds(engine, fake_slack):
    app = build_app(engine, slack=slack_settings(fake_slack), workers=8)
    async with TestClient(TestServer(app)) as client:
        async def one(i: int) -> float:
            body = event_body(dm("メニュー", user=f"U{i:05d}"))
            started = time.monotonic()
            response = await client.post("/slack/events", data=body, headers=signed_headers(body))
            assert response.status == 200
            return time.monotonic() - started

        latencies = await asyncio.gather(*(one(i) for i in range(300)))
        await client.app[WORKER].drain()
    assert max(latencies) < 3.0
    assert len(posts(fake_slack)) == 300  # every user got their menu


def test_manifest_asks_for_the_scopes_and_events_the_code_uses(project_root):
    manifest = yaml.safe_load((project_root / "manifest.yml").read_text(encoding="utf-8"))
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(SCOPES)
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened", "app_mention", "message.im"}
    assert manifest["features"]["slash_commands"][0]["command"] == "/security"


def test_slack_settings_name_what_is_missing():
    assert SlackSettings.from_env({}) is None
    with pytest.raises(ConfigError, match="missing SLACK_SIGNING_SECRET"):
        SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"})
    with pytest.raises(ConfigError, match="missing SLACK_BOT_TOKEN"):
        SlackSettings.from_env({"SLACK_SIGNING_SECRET": "s"})
    with pytest.raises(ConfigError, match="missing SLACK_CLIENT_SECRET"):
        SlackSettings.from_env({"SLACK_SIGNING_SECRET": "s", "SLACK_CLIENT_ID": "1.2"})
    with pytest.raises(ConfigError, match="not both"):
        SlackSettings.from_env({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "x", "SLACK_CLIENT_ID": "1"})
    oauth = SlackSettings.from_env({"SLACK_SIGNING_SECRET": "s", "SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "c"})
    assert oauth.uses_oauth and oauth.slash_command == "/security"


async def test_the_web_client_does_not_format_debug_lines_nobody_logs():
    """slack_sdk formats each request and response for DEBUG when its logger's own level is unset
    (it reads `logger.level`); the client's logger carries the effective level instead, and a
    level an operator set (DEBUG to see the calls) is kept."""
    import aiohttp

    from bot.adapters.slack.adapter import make_web_client

    settings = SlackSettings("secret", "xoxb-1", None, None, None)
    sdk = logging.getLogger("slack_sdk.web.async_base_client")
    saved = sdk.level
    try:
        async with aiohttp.ClientSession() as session:
            sdk.setLevel(logging.NOTSET)
            assert make_web_client(settings, session).logger.level > logging.DEBUG
            sdk.setLevel(logging.DEBUG)
            assert make_web_client(settings, session).logger.level == logging.DEBUG
    finally:
        sdk.setLevel(saved)
