"""What LINE sends the bot (signed webhooks), and reading what the user received."""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time

from aiohttp.test_utils import TestClient

from bot.runtime.server import WORKER
from bot.settings import LineSettings
from tests.support.line_api import FakeLine

SECRET = "line-channel-secret"
BOT, USER = "Ubot0000000000000000000000000000", "U1111111111111111111111111111111"
PUBLIC = "https://bot.example.jp"
_ids = itertools.count(1)


def signature(body: str, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()).decode()


def base_event(kind: str, *, user: str, reply_token: str | None, event_id: str | None = None,
               sent_at: float | None = None, redelivery: bool = False) -> dict:
    event = {
        "type": kind, "mode": "active", "timestamp": int((sent_at or time.time()) * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": event_id or f"01H{next(_ids):023d}",
        "deliveryContext": {"isRedelivery": redelivery},
    }
    if reply_token:
        event["replyToken"] = reply_token
    return event


def text_event(text: str, **kw) -> dict:
    return {**base_event("message", **kw), "message": {"id": str(next(_ids)), "type": "text", "text": text,
                                                       "quoteToken": "q"}}


def postback_event(data: str, **kw) -> dict:
    return {**base_event("postback", **kw), "postback": {"data": data}}


def line_settings(fake: FakeLine) -> LineSettings:
    return LineSettings(channel_secret=SECRET, access_token=fake.access_token, public_url=PUBLIC,
                        api_url=fake.base_url)


async def send(client: TestClient, *events: dict, secret: str = SECRET):
    body = json.dumps({"destination": BOT, "events": list(events)}, ensure_ascii=False)
    response = await client.post("/line/callback", data=body.encode(),
                                 headers={"X-Line-Signature": signature(body, secret), "Content-Type": "application/json"})
    await client.app[WORKER].drain()
    return response


async def say(client, fake, text: str, user: str = USER) -> list[dict]:
    """Send a text with a fresh reply token; the messages the user received for it."""
    before = len(fake.delivered[user])
    await send(client, text_event(text, user=user, reply_token=fake.issue_reply_token(user)))
    return fake.delivered[user][before:]


async def tap(client, fake, data: str, user: str = USER) -> list[dict]:
    before = len(fake.delivered[user])
    await send(client, postback_event(data, user=user, reply_token=fake.issue_reply_token(user)))
    return fake.delivered[user][before:]


def quick_data(message: dict, label: str) -> str:
    return next(i["action"]["data"] for i in message["quickReply"]["items"] if i["action"]["label"] == label)


def raw_signature(body: bytes, secret: str = SECRET) -> str:
    """The X-Line-Signature of `body` exactly as sent (LINE signs the raw bytes)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
