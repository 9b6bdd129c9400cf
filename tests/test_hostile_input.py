"""Hostile input at the web edge gets a 4xx (or a 200 and a logged skip), never a 500.

Each case is one the fuzzer of the issue "Nothing acknowledged is ever lost" found answered
500, or one like it, sent to the real aiohttp app (slack-bolt and line-bot-sdk behind it, the
local fakes of their APIs): correctly signed unless the case is about the signature. Every
one is answered below 500, logs nothing at ERROR (no traceback), writes nothing to Redis and
calls no platform API (but Bolt's auth.test, once). A body over the size limits is a 413
(1 MiB; a Slack form 256 KiB), and no request holds the event loop for 100 ms.

Which status, and why:
- Slack retries an Events API delivery that gets any non-2xx answer (`http_error`, three
  retries over about five minutes; `X-Slack-No-Retry: 1` on the answer stops that), and turns
  an app's event subscriptions off when most deliveries fail. A body Slack could never have
  sent (not UTF-8, not JSON or a form, nested beyond any real payload, a value of the wrong
  type: an object or a number where an id belongs) is refused with a 400 and
  `X-Slack-No-Retry: 1`. An event callback that is well formed but lacks what the bot needs
  to answer (a DM without `user` or `channel`, `app_home_opened` without `user`) is a 200 and
  a warning: there is nobody to answer, and a 4xx would only bring the same delivery back
  three times and count against the subscription.
- Interactive payloads (button clicks) and slash commands are never retried by Slack: a click
  without `user`, without `actions`, or with a `container` that is not an object, and a slash
  command without `user_id`, are refused with a 400.
- LINE counts any non-2xx as a failed delivery (and redelivers it when redelivery is on);
  what LINE never sends (not UTF-8, nested too deep, 2,000 events in one delivery) is refused
  with a 400 like a bad signature already is. An event in a delivery that does not parse is
  skipped with a warning and the rest answered 200 (see tests/test_line.py).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime.server import MAX_BODY_BYTES, WORKER, build_app
from tests.support.hostile import deep_json, errors_in, keys_under, loop_hold
from tests.support.line_webhooks import (
    BOT,
    base_event,
    line_settings,
    raw_signature,
    text_event,
)
from tests.support.line_webhooks import USER as LINE_USER
from tests.support.slack_events import (
    DM,
    TEAM,
    USER,
    dm,
    event_body,
    signed_raw_headers,
    slack_settings,
)

FORM = "application/x-www-form-urlencoded"
DEEP = 100_000


@pytest.fixture
async def slack(engine, fake_slack):
    async with TestClient(TestServer(build_app(engine, slack=slack_settings(fake_slack), workers=8))) as client:
        yield client


@pytest.fixture
async def line(engine, fake_line):
    async with TestClient(TestServer(build_app(engine, line=line_settings(fake_line), workers=8))) as client:
        yield client


async def drained(client: TestClient) -> None:
    # A job that never finishes (or a queue count that leaked) must fail the test, not hang it.
    await asyncio.wait_for(client.app[WORKER].drain(), timeout=20)


async def post_slack(client: TestClient, body: bytes | str, *, content_type: str = "application/json",
                     headers: dict | None = None):
    raw = body.encode() if isinstance(body, str) else body
    response = await client.post("/slack/events", data=raw,
                                 headers=headers or signed_raw_headers(raw, content_type=content_type))
    await drained(client)
    return response


async def post_line(client: TestClient, body: bytes | str, *, signature: str | None = None):
    raw = body.encode() if isinstance(body, str) else body
    response = await client.post("/line/callback", data=raw, headers={
        "X-Line-Signature": raw_signature(raw) if signature is None else signature,
        "Content-Type": "application/json"})
    await drained(client)
    return response


async def assert_untouched(store, fake, caplog, *, allowed_calls: tuple[str, ...] = ()) -> None:
    assert errors_in(caplog.records) == []
    assert await keys_under(store) == []
    # Bolt's single-workspace authorisation asks auth.test once, on the first request it dispatches.
    assert [c.path for c in fake.calls() if c.path not in allowed_calls] == []


def click_payload(**changes) -> dict:
    payload = {
        "type": "block_actions", "team": {"id": TEAM, "domain": "example"},
        "user": {"id": USER, "username": "yamada", "team_id": TEAM}, "api_app_id": "A0001", "token": "unused",
        "trigger_id": "trig1",
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": DM, "is_ephemeral": False},
        "channel": {"id": DM, "name": "directmessage"},
        "message": {"type": "message", "user": "UBOT", "ts": "1700000000.000100", "text": "q", "blocks": []},
        "actions": [{"type": "button", "action_id": "choice-0", "block_id": "q1-0", "value": "start_diagnosis",
                     "text": {"type": "plain_text", "text": "はじめる"}, "action_ts": "1700000001.000100"}],
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not ...}


def form(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload, ensure_ascii=False)})


def command_form(**changes) -> str:
    fields = {"command": "/security", "text": "", "user_id": USER, "team_id": TEAM, "channel_id": "C0GENERAL",
              "trigger_id": "trig-cmd", "response_url": "http://127.0.0.1:9/x"}
    fields.update(changes)
    return urlencode({k: v for k, v in fields.items() if v is not ...})


# --- Slack: the body itself ----------------------------------------------------------------


async def test_slack_non_utf8_body_signed_gets_400(slack, fake_slack, store, caplog):
    body = b'{"type": "event_callback", "event": {"text": "\xff\xfe\xfa"}}'
    response = await post_slack(slack, body)
    assert response.status == 400 and response.headers.get("X-Slack-No-Retry") == "1"
    await assert_untouched(store, fake_slack, caplog)


@pytest.mark.parametrize("headers", [
    {"X-Slack-Signature": "v0=" + "0" * 64},  # forged
    {"X-Slack-Signature": "v0=\u00e9" + "0" * 63},  # not ASCII: hmac.compare_digest refuses str like that
    {"X-Slack-Request-Timestamp": "\u00b2"},  # a digit to str.isdigit, not to int()
    {"X-Slack-Request-Timestamp": "9" * 400},
], ids=["forged", "non-ascii-signature", "superscript-timestamp", "huge-timestamp"])
async def test_slack_non_utf8_body_with_a_bad_signature_gets_401(slack, fake_slack, store, caplog, headers):
    body = b'{"type": "event_callback", "\xff": 1}'
    signed = signed_raw_headers(body)
    response = await slack.post("/slack/events", data=body, headers={**signed, **headers})
    assert response.status == 401
    await assert_untouched(store, fake_slack, caplog)


@pytest.mark.parametrize("body, content_type, status", [
    (deep_json(DEEP), "application/json", 400),
    ('{"type": "event_callback", "x": ' + deep_json(DEEP) + "}", "application/json", 400),
    (event_body({**dm("x"), "blocks": "DEEP"}).replace('"DEEP"', deep_json(DEEP)), "application/json", 400),
    # 600 KB once percent-encoded: over the size of any form Slack sends (MAX_FORM_BYTES).
    (urlencode({"payload": '{"type": "block_actions", "actions": ' + deep_json(DEEP) + "}"}), FORM, 413),
    (urlencode({"payload": '{"type": "block_actions", "actions": ' + deep_json(1000) + "}"}), FORM, 400),
], ids=["top-level", "in-envelope", "inside-event", "in-form-payload", "in-form-payload-1000-deep"])
async def test_slack_json_nested_100000_deep_gets_a_4xx_cheaply(slack, fake_slack, store, caplog, body,
                                                                 content_type, status):
    started = time.perf_counter()
    response = await post_slack(slack, body, content_type=content_type)
    elapsed = time.perf_counter() - started
    assert response.status == status and response.headers.get("X-Slack-No-Retry") == "1"
    assert elapsed < 0.5, f"{elapsed:.3f}s for one deep body"
    await assert_untouched(store, fake_slack, caplog)


async def test_slack_json_nested_within_the_bound_is_still_served(slack, fake_slack):
    # Block Kit nests a few levels (rich_text > list > section > elements); this is far more.
    event = {**dm("メニュー"), "blocks": json.loads(deep_json(30))}
    response = await post_slack(slack, event_body(event))
    assert response.status == 200
    assert fake_slack.calls("chat.postMessage")


async def test_slack_body_over_the_size_limit_gets_413(slack, fake_slack, store, caplog):
    body = event_body(dm("x" * MAX_BODY_BYTES))
    response = await post_slack(slack, body)
    assert response.status == 413
    await assert_untouched(store, fake_slack, caplog)


# --- Slack: events without what the bot needs -------------------------------------------


@pytest.mark.parametrize("event", [
    {k: v for k, v in dm("メニュー").items() if k != "user"},
    {k: v for k, v in dm("メニュー").items() if k != "channel"},
    {**dm("メニュー"), "user": ""},
    {"type": "app_home_opened", "channel": DM, "tab": "home", "event_ts": "1700000000.000100"},
    {"type": "app_mention", "user": USER, "text": "<@UBOT> 診断", "ts": "1700000500.000200"},
], ids=["dm-without-user", "dm-without-channel", "dm-empty-user", "home-without-user", "mention-without-channel"])
async def test_slack_event_without_what_the_bot_needs_is_a_logged_skip(slack, fake_slack, store, caplog, event):
    with caplog.at_level(logging.WARNING):
        response = await post_slack(slack, event_body(event))
    assert response.status == 200  # a 4xx would only bring it back three times (see the module docstring)
    assert any("skipping" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    await assert_untouched(store, fake_slack, caplog, allowed_calls=("/api/auth.test",))


@pytest.mark.parametrize("envelope", [
    {"event": {**dm("メニュー"), "user": {"id": USER}}},
    {"event": {**dm("メニュー"), "text": ["メニュー"]}},
    {"event": {**dm("メニュー"), "channel": 7}},
    {"event": {**dm("メニュー"), "user": "U0001\ud800"}},
    {"event": {"type": "app_home_opened", "user": 12345, "channel": DM, "tab": "home"}},
    {"event": "message"},
    {"event": ["message"]},
    {"event": {"type": ["message"]}},
    {"authorizations": [1]},
    {"authorizations": 5},
    {"team_id": {"id": TEAM}, "authorizations": None},  # Bolt reads team_id when there are no authorizations
    {"event_id": ["Ev1"]},
    {"event_id": "x" * 100_000},
    {"command": "/security"},
], ids=["dm-user-object", "dm-text-list", "dm-channel-number", "dm-user-surrogate", "home-user-number",
        "event-string", "event-list", "event-type-list", "authorizations-item", "authorizations-number",
        "team-object", "event-id-list", "event-id-huge", "command-in-an-event"])
async def test_slack_envelope_of_the_wrong_shape_gets_400(slack, fake_slack, store, caplog, envelope):
    body = json.loads(event_body(dm("メニュー")))
    body.update(envelope)
    response = await post_slack(slack, json.dumps(body))
    assert response.status == 400 and response.headers.get("X-Slack-No-Retry") == "1"
    await assert_untouched(store, fake_slack, caplog)


# --- Slack: clicks and the slash command ---------------------------------------------------


@pytest.mark.parametrize("changes", [
    {"user": ...},
    {"user": "U0001"},
    {"user": {"name": "yamada"}},
    {"actions": ...},
    {"actions": []},
    {"actions": "start_diagnosis"},
    {"actions": ["start_diagnosis"]},
    {"actions": [{"action_id": 7, "value": "start_diagnosis"}]},
    {"container": "message"},
    {"container": {"type": "message", "channel_id": ["D0001"], "message_ts": "1"}},
    {"message": {"ts": "1", "blocks": "x"}},
    {"message": {"ts": "1", "blocks": ["x"]}},
    {"team": 5},
], ids=["no-user", "user-string", "user-without-id", "no-actions", "empty-actions", "actions-string",
        "actions-of-strings", "action-id-number", "container-string", "container-channel-list",
        "message-blocks-string", "message-blocks-of-strings", "team-number"])
async def test_slack_click_of_the_wrong_shape_gets_400(slack, fake_slack, store, caplog, changes):
    response = await post_slack(slack, form(click_payload(**changes)), content_type=FORM)
    assert response.status == 400
    await assert_untouched(store, fake_slack, caplog)


@pytest.mark.parametrize("changes", [{"user_id": ...}, {"user_id": ""}, {"command": ...}],
                         ids=["no-user-id", "empty-user-id", "no-command"])
async def test_slack_slash_command_without_a_user_gets_400(slack, fake_slack, store, caplog, changes):
    response = await post_slack(slack, command_form(**changes), content_type=FORM)
    assert response.status == 400
    await assert_untouched(store, fake_slack, caplog)


# --- Slack: long text ------------------------------------------------------------------------


async def test_slack_flood_of_40000_character_messages_does_not_hold_the_loop(slack, fake_slack):
    long_text = ("パスワードを使い回していたアカウントに不正ログインされたかもしれません。" * 1200)[:40_000]
    users = iter(f"U{i:04d}" for i in range(100))
    started, holds = time.perf_counter(), []
    for _ in range(5):
        hold, response = await loop_hold(lambda: post_slack(slack, event_body(dm(long_text, user=next(users)))))
        assert response.status == 200
        holds.append(hold)
    per_request = (time.perf_counter() - started) / 10
    print(f"\nslack 40,000 characters: {per_request * 1000:.1f} ms per request with its work, "
          f"worst loop hold {max(holds) * 1000:.1f} ms")
    assert max(holds) < 0.1, f"the event loop was held for {max(holds) * 1000:.0f} ms"
    assert len(fake_slack.calls("chat.postMessage")) >= 10  # everyone was answered


def near_limit(prefix: str, unit: str, suffix: str, limit: int = MAX_BODY_BYTES - 64) -> str:
    """prefix + unit * n + suffix, as long as fits in `limit` bytes."""
    return prefix + unit * ((limit - len((prefix + suffix).encode())) // len(unit.encode())) + suffix


def costliest_slack_bodies() -> dict[str, tuple[str, str, int]]:
    """Bodies just under the limits that cost the most to check, parse or answer: (body, type, status)."""
    envelope = event_body({**dm("メニュー"), "junk": "JUNK"})
    room = MAX_BODY_BYTES - len(envelope)
    return {
        "1 MiB of numbers": (envelope.replace('"JUNK"', near_limit("[", "1,", "1]", room)), "application/json", 200),
        "1 MiB of short strings": (envelope.replace('"JUNK"', near_limit("[", '"[",', '""]', room)),
                                   "application/json", 200),
        "1 MiB of escapes": (envelope.replace('"JUNK"', near_limit('"', "\\u3042", '"', room)), "application/json",
                             200),
        "1 MiB nested 500,000 deep": (near_limit("", "[", ""), "application/json", 400),
        "19,500 arrays 63 deep": (envelope.replace('"JUNK"', "[" + ",".join(["[" * 60 + "]" * 60] * 325) + "]"),
                                  "application/json", 200),
        "256 KiB form payload of escapes": (near_limit("payload=", "%5B", "", 256 * 1024 - 8), FORM, 400),
        "form of 99 big fields": ("&".join(f"f{i}=" + "%E3%81%82" * 280 for i in range(99)), FORM, 400),
        "40,000 characters": (event_body(dm("あ" * 40_000)), "application/json", 200),
    }


# The costliest requests are sent to an app with one worker: with more, several jobs ready at the
# same moment run back to back before the ticker's turn, and the gap measured would be their sum.
async def test_slack_the_costliest_bodies_do_not_hold_the_loop(engine, fake_slack):
    gaps = {}
    async with TestClient(TestServer(build_app(engine, slack=slack_settings(fake_slack), workers=1))) as slack:
        for name, (_, content_type, status) in costliest_slack_bodies().items():
            # Built again for each try: a new event id, so the second is not skipped as a retry.
            gaps[name], response = await loop_hold(
                lambda name=name, content_type=content_type: post_slack(
                    slack, costliest_slack_bodies()[name][0], content_type=content_type))
            assert response.status == status, name
    print("\nslack, worst loop hold per request: "
          + ", ".join(f"{name} {gap * 1000:.0f} ms" for name, gap in gaps.items()))
    assert max(gaps.values()) < 0.1, gaps


# --- LINE ----------------------------------------------------------------------------------


def line_body(*events: dict) -> str:
    return json.dumps({"destination": BOT, "events": list(events)}, ensure_ascii=False)


async def test_line_non_utf8_body_signed_gets_400(line, fake_line, store, caplog):
    body = b'{"destination": "x", "events": [{"type": "message", "message": {"text": "\xff\xfe"}}]}'
    response = await post_line(line, body)
    assert response.status == 400
    await assert_untouched(store, fake_line, caplog)


@pytest.mark.parametrize("signature", ["A" * 44, "\u00e9" * 44, "", "=" * 3000],
                         ids=["forged", "non-ascii", "empty", "huge"])
async def test_line_non_utf8_body_with_a_bad_signature_gets_400(line, fake_line, store, caplog, signature):
    response = await post_line(line, b'{"events": [\xff]}', signature=signature)
    assert response.status == 400
    await assert_untouched(store, fake_line, caplog)


@pytest.mark.parametrize("body", [
    deep_json(DEEP),
    '{"destination": "x", "events": ' + deep_json(DEEP) + "}",
    line_body({**text_event("x", user=LINE_USER, reply_token=None), "extra": json.loads(deep_json(80))}),
], ids=["top-level", "events", "inside-an-event"])
async def test_line_json_nested_too_deep_gets_400_cheaply(line, fake_line, store, caplog, body):
    started = time.perf_counter()
    response = await post_line(line, body)
    assert response.status == 400
    assert time.perf_counter() - started < 0.5
    await assert_untouched(store, fake_line, caplog)


async def test_line_delivery_of_2000_events_gets_400(line, fake_line, store, caplog):
    events = [text_event("メニュー", user=LINE_USER, reply_token=None) for _ in range(2000)]
    started = time.perf_counter()
    response = await post_line(line, line_body(*events))
    assert response.status == 400
    assert time.perf_counter() - started < 0.5
    await assert_untouched(store, fake_line, caplog)


async def test_line_delivery_at_the_bound_is_served(line, fake_line):
    from bot.runtime.server import MAX_LINE_EVENTS

    users = [f"U{i:032x}" for i in range(MAX_LINE_EVENTS)]
    response = await post_line(line, line_body(*(text_event("メニュー", user=u, reply_token=None) for u in users)))
    assert response.status == 200
    assert {c.json["to"] for c in fake_line.calls("/v2/bot/message/push")} == set(users)


@pytest.mark.parametrize("event", [
    {**base_event("message", user=LINE_USER, reply_token=None), "message": "text"},
    {**base_event("message", user=LINE_USER, reply_token=None), "source": "user"},
    {**base_event("postback", user=LINE_USER, reply_token=None), "postback": {"data": ["x"]}},
    {**base_event("follow", user=LINE_USER, reply_token=None), "source": {"type": "user", "userId": ["U1"]}},
    {**base_event("message", user=LINE_USER, reply_token=None), "timestamp": "yesterday",
     "message": {"id": "1", "type": "text", "text": "x", "quoteToken": "q"}},
    "not an event",
    None,
], ids=["message-string", "source-string", "postback-data-list", "user-id-list", "timestamp-string",
        "event-string", "event-null"])
async def test_line_event_of_the_wrong_shape_is_a_logged_skip(line, fake_line, store, caplog, event):
    with caplog.at_level(logging.WARNING):
        response = await post_line(line, line_body(event))
    assert response.status == 200  # the rest of a delivery is still served; LINE must not redeliver it
    assert any("skipping" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    await assert_untouched(store, fake_line, caplog)


async def test_line_the_costliest_bodies_do_not_hold_the_loop(engine, fake_line):
    from bot.runtime.server import MAX_LINE_EVENTS

    per_event = (MAX_BODY_BYTES - 60_000) // MAX_LINE_EVENTS // 3  # a kana is 3 bytes in UTF-8
    bodies = {
        f"{MAX_LINE_EVENTS} events of {per_event} characters": (line_body(*(
            text_event("あ" * per_event, user=f"U{i:032x}", reply_token=None) for i in range(MAX_LINE_EVENTS))), 200),
        "1 MiB of numbers": (near_limit('{"destination": "' + BOT + '", "events": [], "x": [', "1,", "1]}"), 200),
        "1 MiB of short strings": (near_limit('{"destination": "' + BOT + '", "events": [], "x": [', '"[",', '""]}'),
                                   200),
        "1 MiB nested 500,000 deep": (near_limit('{"events": ', "[", "}"), 400),
    }
    gaps = {}
    async with TestClient(TestServer(build_app(engine, line=line_settings(fake_line), workers=1))) as line:
        for name, (body, status) in bodies.items():
            gaps[name], response = await loop_hold(lambda body=body: post_line(line, body))
            assert response.status == status, name
    print("\nline, worst loop hold per request: "
          + ", ".join(f"{name} {gap * 1000:.0f} ms" for name, gap in gaps.items()))
    assert max(gaps.values()) < 0.1, gaps


async def test_line_body_over_the_size_limit_gets_413(line, fake_line, store, caplog):
    body = line_body(text_event("x" * MAX_BODY_BYTES, user=LINE_USER, reply_token=None))
    response = await post_line(line, body)
    assert response.status == 413
    await assert_untouched(store, fake_line, caplog)


async def test_line_flood_of_40000_character_messages_does_not_hold_the_loop(line, fake_line):
    long_text = ("社用スマホをなくしてしまい、中に顧客の連絡先が入っています。" * 2000)[:40_000]
    users = iter(f"U{i:032x}" for i in range(100))
    started, holds = time.perf_counter(), []
    for _ in range(5):
        hold, response = await loop_hold(
            lambda: post_line(line, line_body(text_event(long_text, user=next(users), reply_token=None))))
        assert response.status == 200
        holds.append(hold)
    per_request = (time.perf_counter() - started) / 10
    print(f"\nline 40,000 characters: {per_request * 1000:.1f} ms per request with its work, "
          f"worst loop hold {max(holds) * 1000:.1f} ms")
    assert max(holds) < 0.1, f"the event loop was held for {max(holds) * 1000:.0f} ms"
    assert fake_line.push_count >= 10


def test_an_event_text_is_cut_to_what_a_person_types():
    from bot.core.events import MAX_TEXT_CHARS, IncomingEvent
    from bot.store.keys import ConversationKey

    who = ConversationKey("line", BOT, LINE_USER)
    assert len(IncomingEvent.message(who, "あ" * 40_000).text) == MAX_TEXT_CHARS
    assert IncomingEvent.message(who, "こんにちは").text == "こんにちは"
    assert len(IncomingEvent.choice(who, "x" * 40_000).action) == MAX_TEXT_CHARS
    # A lone surrogate (JSON allows "\ud800") cannot be stored as UTF-8: it is replaced.
    assert IncomingEvent.message(who, "a\ud800b").text.encode("utf-8")
