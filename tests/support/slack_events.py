"""What Slack sends the bot (signed events, button clicks), and reading what the bot posted."""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient

from bot.runtime.server import WORKER
from bot.settings import SlackSettings
from tests.support.slack_api import FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM, USER, DM = "T0001", "U0001", "D0001"
_ids = itertools.count(1)


def signed_headers(body: str, *, timestamp: int | None = None, secret: str = SECRET,
                   content_type: str = "application/json") -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}


def event_body(event: dict, *, event_id: str | None = None) -> str:
    return json.dumps({
        "token": "unused", "team_id": TEAM, "api_app_id": "A0001", "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):06d}", "event_time": int(time.time()), "event": event,
        "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
    })


def dm(text: str, *, user: str = USER) -> dict:
    ts = f"{time.time():.6f}"
    return {"type": "message", "channel_type": "im", "channel": DM, "user": user, "text": text, "ts": ts,
            "event_ts": ts}


def click_body(message_blocks: list, label: str, *, message_ts: str, user: str = USER,
               channel: str = DM) -> str:
    """The block_actions payload Slack sends when the button with this label is clicked."""
    for block in message_blocks:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["text"]["text"] == label:
                payload = {
                    "type": "block_actions", "team": {"id": TEAM, "domain": "example"},
                    "user": {"id": user, "username": "yamada", "team_id": TEAM}, "api_app_id": "A0001",
                    "token": "unused", "trigger_id": f"trig{next(_ids)}",
                    "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                                  "is_ephemeral": False},
                    "channel": {"id": channel, "name": "directmessage"},
                    "message": {"type": "message", "user": "UBOT", "ts": message_ts, "text": "q",
                                "blocks": message_blocks},
                    "actions": [{**element, "block_id": block["block_id"], "action_ts": f"{time.time():.6f}"}],
                }
                return urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
    raise AssertionError(f"no button {label!r} in the message")


OAUTH_CLIENT, OAUTH_TEAM = "111.222", "T0999"


def oauth_settings(fake: FakeSlack, *, code: str = "code-1") -> SlackSettings:
    """Settings for OAuth installs (no bot token); the fake Slack knows the app and will exchange
    `code` for workspace OAUTH_TEAM's installation."""
    fake.oauth_clients[OAUTH_CLIENT] = "client-secret"
    fake.oauth_codes[code] = OAUTH_TEAM
    return SlackSettings(signing_secret=SECRET, bot_token=None, client_id=OAUTH_CLIENT,
                         client_secret="client-secret", api_url=fake.base_url)


def slack_settings(fake: FakeSlack) -> SlackSettings:
    return SlackSettings(signing_secret=SECRET, bot_token="xoxb-test", client_id=None, client_secret=None,
                         api_url=fake.base_url)


async def send_event(client: TestClient, event: dict, *, event_id: str | None = None, headers: dict | None = None):
    body = event_body(event, event_id=event_id)
    response = await client.post("/slack/events", data=body, headers={**signed_headers(body), **(headers or {})})
    await client.app[WORKER].drain()
    return response


async def send_click(client: TestClient, blocks: list, label: str, *, message_ts: str = "1700000000.000100"):
    body = click_body(blocks, label, message_ts=message_ts)
    response = await client.post(
        "/slack/events", data=body, headers=signed_headers(body, content_type="application/x-www-form-urlencoded"))
    await client.app[WORKER].drain()
    return response


def posts(fake: FakeSlack, channel: str | None = None) -> list:
    return [c for c in fake.calls("chat.postMessage") if channel is None or c.params.get("channel") == channel]


def all_text(blocks: list) -> str:
    return json.dumps(blocks, ensure_ascii=False)


async def answer_check_by_clicks(client, fake, labels: list[str]) -> None:
    for i, label in enumerate(labels):
        question = posts(fake, DM)[-1].params["blocks"]
        response = await send_click(client, question, label, message_ts=f"17000000{i:02d}.000100")
        assert response.status == 200


def signed_raw_headers(body: bytes, *, timestamp: int | None = None, secret: str = SECRET,
                       content_type: str = "application/json") -> dict[str, str]:
    """Headers signing `body` exactly as sent (Slack signs the raw bytes, UTF-8 or not)."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}
