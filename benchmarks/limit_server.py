"""The limit in benchmarks/speed.py: the least a server can do per event and still be correct.

    python benchmarks/limit_server.py --port P --redis-url URL --slack-api URL --line-api URL [--durable]

Per delivery: verify the signature, parse the JSON, one Redis round trip (a script that marks
the event id seen and advances the person's question counter, atomically), acknowledge, and one
POST on a pooled connection with the next question (Slack chat.postMessage, LINE reply). No
framework, no state machine, no content: it answers the benchmark's people with the question
number they expect, so whatever `bot serve` spends beyond this is the bot's own cost.

With `--durable`, the least that keeps `bot serve`'s guarantees (issue 10): the event is stored
in a stream in the same script that de-duplicates it before the acknowledgement; a worker reads
the stream, one person's events in order, and per event runs one script (advance the counter,
put the reply in an outbox stream, delete the inbox entry), posts, and deletes the outbox entry.
Between the two limits is what the guarantees cost; between this one and `bot serve`, what the
bot's framework costs (Bolt, the SDKs, the state machine, content, rendering).
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


STORE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', 86400) then
  redis.call('XADD', KEYS[2], '*', 'who', ARGV[1], 'to', ARGV[2], 'token', ARGV[3])
  return 1
end
return 0
"""
STEP = """
local step = redis.call('HINCRBY', KEYS[1], 'step', 1)
local id = redis.call('XADD', KEYS[2], '*', 'to', ARGV[2], 'step', step)
redis.call('XDEL', KEYS[3], ARGV[1])
return {step, id}
"""
INBOX, OUTBOX = "limit:{t}:inbox", "limit:{t}:outbox"


class Limit:
    def __init__(self, redis: aioredis.Redis, slack_api: str, line_api: str, slack_secret: str, line_secret: str):
        self.redis, self.slack_api, self.line_api = redis, slack_api.rstrip("/") + "/", line_api.rstrip("/")
        self.slack_secret, self.line_secret = slack_secret.encode(), line_secret.encode()
        self.session: ClientSession | None = None
        self.advance = redis.register_script(ADVANCE)
        self.store, self.step = redis.register_script(STORE), redis.register_script(STEP)
        self.posts: set[asyncio.Task] = set()
        self.durable = False
        self.wake = asyncio.Event()
        self.chains: dict[str, asyncio.Task] = {}
        self.worker: asyncio.Task | None = None

    async def start(self, app: web.Application) -> None:
        self.session = ClientSession(connector=TCPConnector(limit=64))
        if self.durable:
            self.worker = asyncio.create_task(self.work())

    # --- with --durable: store, acknowledge, then a worker ---------------------------------

    async def keep(self, event_id: str, who: str, to: str, token: str = "") -> None:
        await self.store(keys=[f"limit:{{t}}:seen:{event_id}", INBOX], args=[who, to, token])
        self.wake.set()

    async def work(self) -> None:
        last = "-"
        while True:
            entries = await self.redis.xrange(INBOX, last, "+", count=100)
            if not entries:
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), 0.05)
                except asyncio.TimeoutError:
                    pass
                continue
            for entry_id, fields in entries:
                last = "(" + entry_id.decode()
                who = fields[b"who"].decode()
                before = self.chains.get(who)
                self.chains[who] = asyncio.create_task(self.run(before, entry_id.decode(), who, fields))

    async def run(self, before: asyncio.Task | None, entry_id: str, who: str, fields: dict) -> None:
        if before is not None:
            await before
        to, token = fields[b"to"].decode(), fields[b"token"].decode()
        step, outbox_id = await self.step(keys=[f"limit:conv:{who}", OUTBOX, INBOX], args=[entry_id, to])
        assert self.session is not None
        if who.startswith("slack:"):
            url, payload, bearer = self.slack_api + "chat.postMessage", {"channel": to, "text": question(step)}, "xoxb-test"
        else:
            url, bearer = self.line_api + "/v2/bot/message/reply", "line-test-token"
            payload = {"replyToken": token, "messages": [{"type": "text", "text": question(step)}]}
        async with self.session.post(url, json=payload, headers={"Authorization": f"Bearer {bearer}"}) as response:
            await response.read()
        await self.redis.xdel(OUTBOX, outbox_id)
        if self.chains.get(who) is asyncio.current_task():
            del self.chains[who]

    async def stop(self, app: web.Application) -> None:
        if self.worker is not None:
            self.worker.cancel()
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
        if self.durable:
            await self.keep(payload["event_id"], who, event["channel"])
            return web.Response(status=200)
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
            if self.durable:
                await self.keep(event["webhookEventId"], who, event["source"]["userId"], event["replyToken"])
                continue
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
    parser.add_argument("--durable", action="store_true", help="with the guarantees of bot serve's pipeline")
    args = parser.parse_args()
    # A pool that waits for a free connection (as bot serve's does) rather than failing a burst's requests.
    pool = aioredis.BlockingConnectionPool.from_url(args.redis_url, max_connections=64, timeout=10)
    limit = Limit(aioredis.Redis(connection_pool=pool), args.slack_api, args.line_api,
                  args.slack_secret, args.line_secret)
    limit.durable = args.durable
    app = web.Application()
    app.router.add_post("/slack/events", limit.slack)
    app.router.add_post("/line/callback", limit.line)
    app.router.add_get("/healthz", lambda request: web.json_response({"status": "ok"}))
    app.on_startup.append(limit.start)
    app.on_cleanup.append(limit.stop)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
