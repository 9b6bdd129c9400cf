"""The limit in benchmarks/speed.py: the least a server can do per event and still be correct.

    python benchmarks/limit_server.py --port P --redis-url URL --slack-api URL --line-api URL

Per delivery: verify the signature, parse the JSON, one Redis round trip (a script that marks
the event id seen and advances the person's question counter, atomically), acknowledge, and one
POST on a pooled connection with the next question (Slack chat.postMessage, LINE reply). No
framework, no state machine, no content: it answers the benchmark's people with the question
number they expect, so whatever `bot serve` spends beyond this is the bot's own cost.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import time

import redis.asyncio as aioredis
from aiohttp import ClientSession, TCPConnector, web

QUESTIONS = 25
ADVANCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', 3600) then
  return redis.call('HINCRBY', KEYS[2], 'step', 1)
end
return 0
"""


def question(step: int) -> str:
    if step > QUESTIONS:
        return f"診断結果 {step * 3} / 100点"
    return f"{step}/{QUESTIONS}\nNo.{step} 質問"


class Limit:
    def __init__(self, redis: aioredis.Redis, slack_api: str, line_api: str, slack_secret: str, line_secret: str):
        self.redis, self.slack_api, self.line_api = redis, slack_api.rstrip("/") + "/", line_api.rstrip("/")
        self.slack_secret, self.line_secret = slack_secret.encode(), line_secret.encode()
        self.session: ClientSession | None = None
        self.advance = redis.register_script(ADVANCE)
        self.posts: set[asyncio.Task] = set()

    async def start(self, app: web.Application) -> None:
        self.session = ClientSession(connector=TCPConnector(limit=64))

    async def stop(self, app: web.Application) -> None:
        await asyncio.gather(*self.posts, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    def _post(self, url: str, payload: dict, token: str) -> None:
        async def post() -> None:
            assert self.session is not None
            async with self.session.post(url, json=payload, headers={"Authorization": f"Bearer {token}"}) as response:
                await response.read()
        task = asyncio.create_task(post())
        self.posts.add(task)
        task.add_done_callback(self.posts.discard)

    async def slack(self, request: web.Request) -> web.Response:
        body = await request.read()
        ts = request.headers.get("X-Slack-Request-Timestamp", "0")
        expected = "v0=" + hmac.new(self.slack_secret, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        if abs(time.time() - int(ts)) > 300 or not hmac.compare_digest(expected, request.headers.get("X-Slack-Signature", "")):
            return web.Response(status=401)
        payload = json.loads(body)
        event = payload["event"]
        who = f"slack:{payload['team_id']}:{event['user']}"
        step = await self.advance(keys=[f"limit:seen:{payload['event_id']}", f"limit:conv:{who}"])
        if step:
            self._post(self.slack_api + "chat.postMessage", {"channel": event["channel"], "text": question(step)},
                       "xoxb-test")
        return web.Response(status=200)

    async def line(self, request: web.Request) -> web.Response:
        body = await request.read()
        expected = base64.b64encode(hmac.new(self.line_secret, body, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, request.headers.get("X-Line-Signature", "")):
            return web.Response(status=401)
        for event in json.loads(body)["events"]:
            who = f"line:{event['source']['userId']}"
            step = await self.advance(keys=[f"limit:seen:{event['webhookEventId']}", f"limit:conv:{who}"])
            if step:
                self._post(self.line_api + "/v2/bot/message/reply",
                           {"replyToken": event["replyToken"], "messages": [{"type": "text", "text": question(step)}]},
                           "line-test-token")
        return web.Response(status=200)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--slack-api", required=True)
    parser.add_argument("--line-api", required=True)
    parser.add_argument("--slack-secret", required=True)
    parser.add_argument("--line-secret", required=True)
    args = parser.parse_args()
    limit = Limit(aioredis.from_url(args.redis_url, max_connections=64), args.slack_api, args.line_api,
                  args.slack_secret, args.line_secret)
    app = web.Application()
    app.router.add_post("/slack/events", limit.slack)
    app.router.add_post("/line/callback", limit.line)
    app.router.add_get("/healthz", lambda request: web.json_response({"status": "ok"}))
    app.on_startup.append(limit.start)
    app.on_cleanup.append(limit.stop)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
