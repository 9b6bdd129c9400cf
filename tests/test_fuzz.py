"""Fuzzing the web edge: signed, mutated Slack and LINE payloads never get a 5xx.

Hypothesis builds payloads shaped like what Slack sends (event callbacks with message,
app_mention and app_home_opened events, block_actions clicks as form payloads, slash command
forms, url_verification, ssl_check) and what LINE sends (message, postback, follow and
unfollow events), mutates them (keys dropped or added, values of the wrong type, huge strings,
deep nesting, unicode junk, lone surrogates, bytes that are not UTF-8, truncation), signs them
correctly and posts them to one app per platform. Every answer is below 500, nothing is logged
at ERROR, and the app still answers /healthz afterwards.

`BOT_FUZZ_COUNT_ONLY=1` turns the per-example assertion off and prints how many answers were
5xx (how the numbers before the fixes at the edge were measured).
"""
from __future__ import annotations

import asyncio
import collections
import copy
import json
import logging
import os
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.runtime.server import WORKER, build_app
from tests.support.hostile import deep_json, errors_in
from tests.support.line_webhooks import BOT, line_settings, raw_signature
from tests.support.slack_api import FakeSlack
from tests.support.slack_events import (
    DM,
    TEAM,
    USER,
    signed_raw_headers,
    slack_settings,
)

EXAMPLES = int(os.environ.get("BOT_FUZZ_EXAMPLES", "1000"))
COUNT_ONLY = os.environ.get("BOT_FUZZ_COUNT_ONLY") == "1"
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)
JSON, FORM = "application/json", "application/x-www-form-urlencoded"
DEEP_MARK = "__deep_{}__"

# --- values ----------------------------------------------------------------------------------

# Text with everything: control characters, right-to-left marks, emoji, lone surrogates.
junk_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=40)
huge_text = st.builds(lambda unit, n: unit * n,
                      st.sampled_from(["x", "あ", "\u202e", "<@U0001>", "<#C0123ABCD|sec>", "\ud800", "🔥", "\\"]),
                      st.sampled_from([2_000, 2_001, 5_000, 40_000, 120_000]))
deep_value = st.sampled_from([20, 63, 64, 65, 300, 5_000, 100_000]).map(DEEP_MARK.format)
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), junk_text)
junk_value = st.one_of(
    scalars, huge_text, deep_value,
    st.lists(scalars, max_size=4), st.dictionaries(junk_text, scalars, max_size=4),
    st.sampled_from([{}, [], "", "U0001", {"id": None}, {"id": ["U0001"]}, [{}], [[]], "message", "home"]),
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON value: a tuple of keys and indexes from the top."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, prefix + (index,))
    return found


def parent_of(value: Any, path: tuple) -> Any:
    for step in path[:-1]:
        value = value[step]
    return value


@st.composite
def mutated(draw, base: Any) -> Any:
    """`base` (a JSON value) with zero to four changes: a key dropped or added, a value replaced."""
    value = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(0, 4))):
        places = [p for p in paths(value) if p]
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent = parent_of(value, path)
        operation = draw(st.sampled_from(["drop", "replace", "replace", "add", "wrap"]))
        if operation == "drop":
            del parent[path[-1]]
        elif operation == "replace":
            parent[path[-1]] = copy.deepcopy(draw(junk_value))  # sampled values are shared: never edit one
        elif operation == "wrap":
            parent[path[-1]] = draw(st.sampled_from([[parent[path[-1]]], {"id": parent[path[-1]]}]))
        elif isinstance(parent, dict):
            parent[draw(st.one_of(junk_text, st.sampled_from(["user", "channel", "team", "event", "actions",
                                                              "authorizations", "response_urls", "enterprise",
                                                              "is_ext_shared_channel", "view", "thread_ts"])))] \
                = copy.deepcopy(draw(junk_value))
        else:
            parent.append(copy.deepcopy(draw(junk_value)))
    return value


def to_json(value: Any, *, ascii_only: bool) -> bytes:
    text = json.dumps(value, ensure_ascii=ascii_only)
    for depth in (20, 63, 64, 65, 300, 5_000, 100_000):
        text = text.replace(json.dumps(DEEP_MARK.format(depth)), deep_json(depth))
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate makes the body not UTF-8


@st.composite
def byte_damage(draw, body: bytes) -> bytes:
    """Sometimes: bytes that are not UTF-8 put in, or the body cut short."""
    damage = draw(st.sampled_from([None, None, None, "insert", "truncate", "replace"]))
    if damage is None or not body:
        return body
    at = draw(st.integers(0, len(body)))
    junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xfe\xff", b"%FF", b"&", b"="]))
    if damage == "insert":
        return body[:at] + junk + body[at:]
    if damage == "truncate":
        return body[:at]
    return body[:at] + junk + body[at + 1:]


# --- Slack -------------------------------------------------------------------------------------

slack_ids = st.sampled_from([USER, "U0002", "W0123ABCD"])
slack_event = st.one_of(
    st.builds(lambda user, text, thread: {"type": "message", "channel_type": "im", "channel": DM, "user": user,
                                          "text": text, "ts": "1700000000.000100", "event_ts": "1700000000.000100",
                                          **({"thread_ts": "1700000000.000050"} if thread else {})},
              slack_ids, st.sampled_from(["メニュー", "自社診断", "ヘルプ", "ファイルが暗号化された", "1", ""]),
              st.booleans()),
    st.builds(lambda user, text: {"type": "app_mention", "channel": "C0GENERAL", "user": user,
                                  "text": f"<@UBOT> {text}", "ts": "1700000500.000200",
                                  "event_ts": "1700000500.000200"},
              slack_ids, st.sampled_from(["診断したい", "", "メニュー"])),
    st.builds(lambda user: {"type": "app_home_opened", "user": user, "channel": DM, "tab": "home",
                            "event_ts": "1700000000.000100"}, slack_ids),
)
slack_envelope = st.builds(
    lambda event, n: {"token": "unused", "team_id": TEAM, "api_app_id": "A0001", "type": "event_callback",
                      "event_id": f"EvF{n:08d}", "event_time": 1700000000, "event": event,
                      "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}]},
    slack_event, st.integers(0, 10**8))
slack_click = st.builds(
    lambda user, value, n: {
        "type": "block_actions", "team": {"id": TEAM, "domain": "example"},
        "user": {"id": user, "username": "yamada", "team_id": TEAM}, "api_app_id": "A0001", "token": "unused",
        "trigger_id": f"trig{n}",
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": DM, "is_ephemeral": False},
        "channel": {"id": DM, "name": "directmessage"},
        "message": {"type": "message", "user": "UBOT", "ts": "1700000000.000100", "text": "q", "blocks": [
            {"type": "actions", "block_id": "q1-0", "elements": [
                {"type": "button", "action_id": "choice-0", "value": value,
                 "text": {"type": "plain_text", "text": "はじめる"}}]}]},
        "actions": [{"type": "button", "action_id": "choice-0", "block_id": "q1-0", "value": value,
                     "text": {"type": "plain_text", "text": "はじめる"}, "action_ts": f"1700000001.{n:06d}"}],
    },
    slack_ids, st.sampled_from(["start_diagnosis", "answer:1:1", "menu", "choose_incident", "x:y:z"]),
    st.integers(0, 999_999))
slack_command = st.builds(
    lambda user, text, channel: {"command": "/security", "text": text, "user_id": user, "team_id": TEAM,
                                 "channel_id": channel, "trigger_id": "trig-cmd", "user_name": "yamada",
                                 "response_url": "http://127.0.0.1:9/x"},
    slack_ids, st.sampled_from(["", "自社診断", "help"]), st.sampled_from([DM, "C0GENERAL"]))


@st.composite
def slack_requests(draw) -> tuple[str, bytes, str]:
    kind = draw(st.sampled_from(["event", "event", "event", "click", "click", "command", "challenge", "ssl"]))
    ascii_only = draw(st.booleans())
    if kind == "event":
        body, content_type = to_json(draw(mutated(draw(slack_envelope))), ascii_only=ascii_only), JSON
    elif kind == "challenge":
        base = {"token": "unused", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                "type": "url_verification"}
        body, content_type = to_json(draw(mutated(base)), ascii_only=ascii_only), JSON
    elif kind == "click":
        payload = to_json(draw(mutated(draw(slack_click))), ascii_only=ascii_only)
        junk_fields = st.lists(st.tuples(junk_text, junk_text.map(lambda t: t.encode("utf-8", "surrogatepass"))),
                               max_size=2)
        fields = [("payload", payload)] + draw(junk_fields)
        body, content_type = urlencode([(k.encode("utf-8", "surrogatepass") if isinstance(k, str) else k, v)
                                        for k, v in fields]).encode(), FORM
    elif kind == "command":
        fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in draw(mutated(draw(slack_command))).items()}
        body, content_type = urlencode({k.encode("utf-8", "surrogatepass"): v.encode("utf-8", "surrogatepass")
                                        for k, v in fields.items()}).encode(), FORM
    else:
        body, content_type = draw(st.sampled_from([b"ssl_check=1&token=unused", b"ssl_check=1", b"ssl_check=%FF"])), FORM
    content_type = draw(st.sampled_from([content_type] * 6 + [JSON, FORM, "text/plain", ""]))
    return kind, draw(byte_damage(body)), content_type


# --- LINE ----------------------------------------------------------------------------------------


def line_base(kind: str, user: str, n: int) -> dict:
    event = {"type": kind, "mode": "active", "timestamp": 1700000000000 + n, "source": {"type": "user", "userId": user},
             "webhookEventId": f"01HFUZZ{n:019d}", "deliveryContext": {"isRedelivery": False}}
    if kind != "unfollow":
        event["replyToken"] = f"{n:032x}"
    return event


line_users = st.sampled_from(["U1111111111111111111111111111111", "U2222222222222222222222222222222"])
line_event = st.one_of(
    st.builds(lambda user, n, text: {**line_base("message", user, n), "message": {
        "id": str(n), "type": "text", "text": text, "quoteToken": "q"}},
        line_users, st.integers(0, 10**9), st.sampled_from(["メニュー", "自社診断", "社用スマホをなくした", "1", ""])),
    st.builds(lambda user, n: {**line_base("message", user, n), "message": {
        "id": str(n), "type": "sticker", "packageId": "1", "stickerId": "1", "stickerResourceType": "STATIC",
        "quoteToken": "q"}}, line_users, st.integers(0, 10**9)),
    st.builds(lambda user, n, data: {**line_base("postback", user, n), "postback": {"data": data}},
              line_users, st.integers(0, 10**9), st.sampled_from(["start_diagnosis", "answer:1:1", "show_progress"])),
    st.builds(lambda user, n: {**line_base("follow", user, n), "follow": {"isUnblocked": False}},
              line_users, st.integers(0, 10**9)),
    st.builds(lambda user, n: line_base("unfollow", user, n), line_users, st.integers(0, 10**9)),
)


@st.composite
def line_requests(draw) -> tuple[str, bytes, str]:
    events = draw(st.lists(line_event, min_size=0, max_size=3))
    many = draw(st.sampled_from([1] * 8 + [100, 101, 2_000]))
    webhook = {"destination": BOT, "events": (events * many)[:max(len(events), many)] if events else []}
    body = to_json(draw(mutated(webhook)), ascii_only=draw(st.booleans()))
    return "webhook", draw(byte_damage(body)), JSON


# --- the runs ----------------------------------------------------------------------------------


class Tally:
    def __init__(self) -> None:
        self.statuses: collections.Counter = collections.Counter()
        self.server_errors: list[tuple[str, int, bytes]] = []
        self.started = time.perf_counter()
        self.stuck = False

    def note(self, kind: str, status: int, body: bytes) -> None:
        self.statuses[status] += 1
        if status >= 500:
            self.server_errors.append((kind, status, body[:200]))

    def report(self, platform: str) -> str:
        total = sum(self.statuses.values())
        return (f"{platform}: {total} signed mutated requests in {time.perf_counter() - self.started:.1f}s, "
                f"{len(self.server_errors)} answered 5xx; statuses {dict(sorted(self.statuses.items()))}"
                + ("; the work queue stopped draining" if self.stuck else ""))


async def settle(client: TestClient, tally: Tally) -> None:
    """Let the work the request queued run, so the queue never fills (a 503 under load is not the point)."""
    if not COUNT_ONLY:
        await asyncio.wait_for(client.app[WORKER].drain(), timeout=30)
    elif not tally.stuck:
        try:
            await asyncio.wait_for(client.app[WORKER].drain(), timeout=5)
        except TimeoutError:
            tally.stuck = True  # a job never ended, or the queue lost count: it will never drain again
    else:
        await asyncio.sleep(0.02)


async def after_the_run(client: TestClient, tally: Tally, caplog, platform: str) -> None:
    """Once every example of a test has run: the tally, /healthz, and nothing logged at ERROR."""
    print("\n" + tally.report(platform))
    health = await client.get("/healthz")
    assert health.status == 200, "the server no longer answers /healthz"
    if COUNT_ONLY:
        for kind, status, body in tally.server_errors[:10]:
            print(f"  {status} {kind}: {body!r}")
        return
    assert errors_in(caplog.records) == []


# One app per test, shared by all its examples (hence HealthCheck.function_scoped_fixture).
@pytest.fixture
async def slack_app(engine, caplog):
    caplog.set_level(logging.WARNING)
    # Not strict: a fuzzed click carries message blocks Slack would never send, and the bot echoes
    # them in chat.update (Slack refuses those; the bot logs a warning).
    async with FakeSlack(strict=False) as fake:
        async with TestClient(TestServer(build_app(engine, slack=slack_settings(fake), workers=8))) as client:
            tally = Tally()
            yield client, tally
            await after_the_run(client, tally, caplog, "slack")


@pytest.fixture
async def line_app(engine, fake_line, caplog):
    caplog.set_level(logging.WARNING)
    async with TestClient(TestServer(build_app(engine, line=line_settings(fake_line), workers=8))) as client:
        tally = Tally()
        yield client, tally
        await after_the_run(client, tally, caplog, "line")


async def post_and_count(client: TestClient, tally: Tally, kind: str, path: str, body: bytes, headers: dict):
    response = await client.post(path, data=body, headers=headers)
    await response.read()
    tally.note(kind, response.status, body)
    await settle(client, tally)
    if not COUNT_ONLY:
        assert response.status < 500, f"{kind}: {response.status} for {body[:300]!r}"


@FUZZ_SETTINGS
@given(sent=slack_requests())
async def test_fuzz_slack_signed_mutated_payloads_never_get_a_5xx(slack_app, sent):
    client, tally = slack_app
    kind, body, content_type = sent
    headers = signed_raw_headers(body, content_type=content_type)
    if not content_type:
        del headers["Content-Type"]
    await post_and_count(client, tally, kind, "/slack/events", body, headers)


@FUZZ_SETTINGS
@given(sent=line_requests())
async def test_fuzz_line_signed_mutated_webhooks_never_get_a_5xx(line_app, sent):
    client, tally = line_app
    kind, body, content_type = sent
    await post_and_count(client, tally, kind, "/line/callback", body,
                         {"X-Line-Signature": raw_signature(body), "Content-Type": content_type})
