"""Speed: `bot serve` against the least a server must do, in one run, over Slack and LINE.

    .venv/bin/python benchmarks/speed.py [--users 400] [--concurrency 32] [--platform slack|line ...]
    .venv/bin/python benchmarks/speed.py --burst [--events 5000] [--seconds 10]

For each platform, on a fresh Redis each (the embedded redis-server binary, append-only with
`appendfsync always`: what the durable pipeline's guarantees need), with the fake platform Web
API in this process:

1. the limit (benchmarks/limit_server.py: verify, parse, one Redis round trip, one pooled POST),
2. `bot serve`,

each driven by the same closed loop: `--concurrency` people at a time, each sends 「自社診断」 and
answers the 25 questions, waiting for each question before answering it; 10 % of deliveries
arrive twice (every event id unique otherwise). Printed per server: answered/s (people's
messages answered), ack p50/p99, reply p50/p99 (from sending a message to the next one
arriving), server CPU seconds per answered message (with the processes it starts), Redis bytes per finished self-check
(the person's conversation and results; the whole database's growth too), peak RSS (summed
over its processes), start-up
(process start to /healthz 200), and the ratios to the limit.

`--burst` is the open-loop mode: `--events` different people each send 「自社診断」, spread evenly
over `--seconds`, without waiting; printed are the slowest ack, refusals (non-2xx), and the time
from the first send until the last reply arrived.

The driver's own CPU is printed too: when it is near 1 s per second, the load generator and not
the server set the pace. Not part of the test run.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import redis  # noqa: E402

from benchmarks.durability import RedisProcess  # noqa: E402
from tests.support.line_api import FakeLine  # noqa: E402
from tests.support.serve import free_port  # noqa: E402
from tests.support.slack_api import FakeSlack  # noqa: E402

PUBLIC_URL = "https://bot.example.jp"
SLACK_SECRET, LINE_SECRET, TEAM, LINE_BOT = "speed-slack-secret", "speed-line-secret", "TSPEED", "Uspeedbot"
QUESTIONS = 25
_QUESTION = re.compile(r"(?m)^(\d+)/25[^\n]*\n+No\.\1 ")  # Slack "7/25", LINE "7/25 ▰▰▱…"
RESULT_MARK = "/ 100点"


# --- the platforms, told when a person receives something ------------------------------

class _Inboxes:
    def __init__(self) -> None:
        self.arrived: dict[str, asyncio.Event] = {}

    def notify(self, person: str) -> None:
        event = self.arrived.get(person)
        if event is not None:
            event.set()

    def waiter(self, person: str) -> asyncio.Event:
        return self.arrived.setdefault(person, asyncio.Event())


class SpeedSlack(FakeSlack):
    check_payloads = False

    def __init__(self) -> None:
        super().__init__(strict=False)
        self.inboxes = _Inboxes()

    def _post_message(self, call):
        answer = super()._post_message(call)
        self.inboxes.notify(str(call.params.get("channel")))
        return answer

    def _users_info(self, call):
        user = call.params.get("user", "")
        self.users.setdefault(user, f"社員{user[-4:]}")  # everyone is a member of the workspace
        return super()._users_info(call)

    def received(self, person: str) -> list[str]:
        return [m.get("text") or "" for m in self.messages.get(person, [])]


class SpeedLine(FakeLine):
    """Also fetches every image sent, its preview and original, as LINE does to show it (bot serve
    draws its charts when they are first fetched): set `server_url` to where the bot serves them."""

    check_payloads = False

    def __init__(self) -> None:
        super().__init__(strict=False)
        self.inboxes = _Inboxes()
        self._replied_to: dict[str, str] = {}  # reply token -> the person it was issued for
        self.server_url: str | None = None
        self.images_fetched = 0
        self._fetches: set[asyncio.Task] = set()

    def _fetch_images(self, messages: list) -> None:
        for message in messages or []:
            if isinstance(message, dict) and message.get("type") == "image" and self.server_url:
                for url in (message["previewImageUrl"], message["originalContentUrl"]):
                    task = asyncio.get_running_loop().create_task(self._fetch(url.replace(PUBLIC_URL, self.server_url)))
                    self._fetches.add(task)
                    task.add_done_callback(self._fetches.discard)

    async def _fetch(self, url: str) -> None:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            if response.status == 200 and (await response.read()).startswith(b"\x89PNG"):
                self.images_fetched += 1

    async def fetched(self) -> None:
        """Wait for the image fetches under way."""
        while self._fetches:
            await asyncio.gather(*list(self._fetches), return_exceptions=True)

    def _reply(self, call):
        answer = super()._reply(call)
        self._fetch_images(call.json.get("messages") if isinstance(call.json, dict) else None)
        self.inboxes.notify(self._replied_to.get(call.params.get("replyToken"), ""))
        return answer

    def issue_reply_token(self, user_id: str, *, expires_in: float = 60.0) -> str:
        token = super().issue_reply_token(user_id, expires_in=expires_in)
        self._replied_to[token] = user_id
        return token

    def _push(self, call):
        answer = super()._push(call)
        self._fetch_images(call.json.get("messages") if isinstance(call.json, dict) else None)
        self.inboxes.notify(str(call.params.get("to")))
        return answer

    def _profile(self, call):
        user = call.path_params["user_id"]
        self.profiles.setdefault(user, f"社員{user[-4:]}")  # everyone has a profile
        return super()._profile(call)

    def received(self, person: str) -> list[str]:
        return [m.get("text") or m.get("altText") or "" for m in self.delivered.get(person, [])]


# --- what people send --------------------------------------------------------------------

def slack_delivery(person: str, text: str) -> tuple[str, dict[str, str], str]:
    ts = f"{time.time():.6f}"
    body = json.dumps({
        "token": "unused", "team_id": TEAM, "api_app_id": "A0001", "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:16]}", "event_time": int(time.time()),
        "event": {"type": "message", "channel_type": "im", "channel": person, "user": "U" + person[1:],
                  "text": text, "ts": ts, "event_ts": ts},
        "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}]})
    stamp = str(int(time.time()))
    digest = hmac.new(SLACK_SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return "/slack/events", {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}",
                             "Content-Type": "application/json"}, body


def line_delivery(fake: SpeedLine, person: str, text: str) -> tuple[str, dict[str, str], str]:
    event = {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
             "source": {"type": "user", "userId": person}, "webhookEventId": uuid.uuid4().hex.upper()[:26],
             "deliveryContext": {"isRedelivery": False}, "replyToken": fake.issue_reply_token(person),
             "message": {"id": str(uuid.uuid4().int % 10**15), "type": "text", "text": text, "quoteToken": "q"}}
    body = json.dumps({"destination": LINE_BOT, "events": [event]}, ensure_ascii=False)
    sig = base64.b64encode(hmac.new(LINE_SECRET.encode(), body.encode(), hashlib.sha256).digest()).decode()
    return "/line/callback", {"X-Line-Signature": sig, "Content-Type": "application/json"}, body


@dataclass
class Load:
    ack_ms: list[float] = field(default_factory=list)
    reply_ms: list[float] = field(default_factory=list)
    reply_ms_by_kind: dict[str, list[float]] = field(default_factory=dict)  # first question, others, result
    answered: int = 0
    refused: int = 0
    finished: int = 0
    stalled: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    last_reply_at: float = 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


class Driver:
    def __init__(self, platform: str, fake: SpeedSlack | SpeedLine, url: str, *, duplicates: float = 0.1,
                 patience: float = 60.0):
        self.platform, self.fake, self.url = platform, fake, url
        self.duplicates, self.patience = duplicates, patience
        self.load = Load()
        self.session: aiohttp.ClientSession | None = None
        self._rolls = 0

    def person(self, index: int) -> str:
        return (f"D{index:07d}" if self.platform == "slack" else f"U{index:032d}")

    async def _deliver(self, person: str, text: str) -> None:
        path, headers, body = (slack_delivery(person, text) if self.platform == "slack"
                               else line_delivery(self.fake, person, text))
        self._rolls += 1
        times = 2 if (self._rolls * 0.6180339887) % 1 < self.duplicates else 1  # evenly spread duplicates
        for _ in range(times):
            await self._post(path, headers, body)

    async def _post(self, path: str, headers: dict[str, str], body: str) -> None:
        assert self.session is not None
        for attempt in range(50):
            started = time.monotonic()
            try:
                async with self.session.post(self.url + path, data=body.encode(), headers=headers) as response:
                    await response.read()
                    if response.status < 300:
                        self.load.ack_ms.append((time.monotonic() - started) * 1000)
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            self.load.refused += 1
            await asyncio.sleep(min(2.0, 0.2 * (attempt + 1)))
        raise RuntimeError("the server refused a delivery 50 times")

    async def _next(self, person: str, seen: int) -> str | None:
        arrived = self.fake.inboxes.waiter(person)
        deadline = time.monotonic() + self.patience
        while True:
            received = self.fake.received(person)
            if len(received) > seen:
                return received[seen]
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                return None

    async def take_the_check(self, index: int) -> None:
        person = self.person(index)
        answers = [(index * 7 + q * 3) % 4 + 1 for q in range(QUESTIONS)]
        seen = 0
        said = time.monotonic()
        await self._deliver(person, "自社診断")
        self.load.answered += 1
        while True:
            text = await self._next(person, seen)
            if text is None:
                self.load.stalled.append(f"{person}: nothing after message {seen}")
                return
            now = time.monotonic()
            seen += 1
            asked = _QUESTION.search(text)
            if asked or RESULT_MARK in text:
                self.load.reply_ms.append((now - said) * 1000)
                kind = "result" if RESULT_MARK in text else "first" if asked.group(1) == "1" else "question"
                self.load.reply_ms_by_kind.setdefault(kind, []).append((now - said) * 1000)
                self.load.last_reply_at = now
            if RESULT_MARK in text:
                self.load.finished += 1
                return
            if asked:
                said = time.monotonic()
                await self._deliver(person, str(answers[int(asked.group(1)) - 1]))
                self.load.answered += 1

    async def closed_loop(self, users: int, concurrency: int) -> Load:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(users):
            queue.put_nowait(index)

        async def worker() -> None:
            while not queue.empty():
                await self.take_the_check(queue.get_nowait())

        started = time.monotonic()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency * 2),
                                         timeout=aiohttp.ClientTimeout(total=10)) as self.session:
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        self.load.elapsed = time.monotonic() - started
        return self.load

    async def burst(self, events: int, seconds: float, *, first_index: int) -> Load:
        people = [self.person(first_index + i) for i in range(events)]
        started = time.monotonic()

        async def one(i: int, person: str) -> None:
            await asyncio.sleep(max(0.0, started + i * seconds / events - time.monotonic()))
            await self._deliver(person, "自社診断")

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256),
                                         timeout=aiohttp.ClientTimeout(total=30)) as self.session:
            saved, self.duplicates = self.duplicates, 0.0
            await asyncio.gather(*(one(i, p) for i, p in enumerate(people)))
            self.duplicates = saved
        deadline = time.monotonic() + self.patience
        waiting = set(people)
        while waiting and time.monotonic() < deadline:
            waiting = {p for p in waiting if not any(_QUESTION.search(t) for t in self.fake.received(p))}
            if waiting:
                await asyncio.sleep(0.05)
            else:
                self.load.last_reply_at = time.monotonic()
        self.load.answered = events - len(waiting)
        self.load.stalled = sorted(waiting)[:5]
        self.load.elapsed = time.monotonic() - started
        return self.load


# --- the servers -------------------------------------------------------------------------

class Server:
    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int, log: Path, cwd: Path = ROOT):
        self.name, self.command, self.env, self.port, self.log, self.cwd = name, command, env, port, log, cwd
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.startup = 0.0

    def start(self) -> None:
        started = time.monotonic()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.command, cwd=self.cwd, env={**os.environ, **self.env},
                                            stdout=log, stderr=subprocess.STDOUT)
        while time.monotonic() - started < 30:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                with urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        self.startup = time.monotonic() - started
                        return
            except OSError:
                time.sleep(0.02)
        raise TimeoutError(f"{self.name} did not start")

    def processes(self) -> list[int]:
        """The server's process and every process under it (bot serve's drawing processes)."""
        assert self.process is not None
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue  # ended meanwhile
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += children.get(pid, [])
        return found

    def cpu_seconds(self) -> float:
        """CPU time of the server and the processes under it (those alive now)."""
        total = 0
        for pid in self.processes():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        """The sum of the peak RSS of the server and of the processes under it."""
        total = 0
        for pid in self.processes():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += sum(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        return total / 1024

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def limit_server(redis_url: str, slack: SpeedSlack, line: SpeedLine, log: Path, *, durable: bool = False) -> Server:
    port = free_port()
    command = [sys.executable, str(ROOT / "benchmarks/limit_server.py"), "--port", str(port), "--redis-url", redis_url,
               "--slack-api", slack.base_url, "--line-api", line.base_url, "--slack-secret", SLACK_SECRET,
               "--line-secret", LINE_SECRET] + (["--durable"] if durable else [])
    return Server("durable" if durable else "limit", command, {}, port, log)


def bot_server(redis_url: str, slack: SpeedSlack, line: SpeedLine, log: Path, data: Path,
               serve_from: Path | None) -> Server:
    port = free_port()
    project = serve_from or ROOT
    python = str(project / ".venv/bin/python") if serve_from else sys.executable
    env = {"REDIS_URL": redis_url, "REDIS_CLUSTER": "", "BOT_KEY_PREFIX": "speed", "BOT_SECRET": "s" * 32,
           "BOT_DATA_DIR": str(data), "PORT": str(port), "PYTHONUNBUFFERED": "1",
           "SLACK_SIGNING_SECRET": SLACK_SECRET, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack.base_url,
           "LINE_CHANNEL_SECRET": LINE_SECRET, "LINE_CHANNEL_ACCESS_TOKEN": line.access_token,
           "LINE_API_URL": line.base_url, "PUBLIC_URL": PUBLIC_URL}
    return Server("bot serve", [python, "-m", "bot.cli.main", "serve"], env, port, log, cwd=project)


def redis_commands(url: str) -> dict[str, int]:
    """Calls per command since the server started (INFO commandstats)."""
    client = redis.Redis.from_url(url)
    stats = client.info("commandstats")
    client.close()
    return {name.removeprefix("cmdstat_"): int(values["calls"]) for name, values in stats.items()}


def redis_bytes_per_check(url: str, prefix: str, users: int) -> tuple[float, float]:
    """(bytes of the keys that hold one person's conversation and results, database bytes per person)."""
    client = redis.Redis.from_url(url)
    personal = 0
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        name = key.decode()
        if any(part in name for part in (":conv:", ":conversation:", ":results:", ":step", "limit:conv:")):
            personal += client.memory_usage(key, samples=0) or 0
    used = client.info("memory")["used_memory"]
    client.close()
    return personal / max(users, 1), used / max(users, 1)


# --- one run -----------------------------------------------------------------------------

@dataclass
class Measured:
    server: str
    platform: str
    load: Load
    cpu: float
    rss_mb: float
    startup: float
    personal_bytes: float
    database_bytes: float
    driver_cpu: float
    commands: dict[str, int]
    api_calls: dict[str, int] = field(default_factory=dict)  # the platform Web API's, by path

    @property
    def commands_per_answered(self) -> float:
        counted = sum(n for name, n in self.commands.items() if name not in ("info", "memory|usage", "scan", "ping"))
        return counted / max(self.load.answered, 1)

    @property
    def rate(self) -> float:
        return self.load.answered / self.load.elapsed if self.load.elapsed else 0.0


async def measure(kind: str, platform: str, args, workdir: Path) -> Measured:
    directory = workdir / f"{kind}-{platform}"
    (directory / "redis").mkdir(parents=True)
    store = RedisProcess(directory / "redis", args.fsync)
    store.start()
    server: Server | None = None
    try:
        async with SpeedSlack() as slack, SpeedLine() as line:
            fake = slack if platform == "slack" else line
            if kind in ("limit", "durable"):
                server = limit_server(store.url, slack, line, directory / "server.log", durable=kind == "durable")
            else:
                server = bot_server(store.url, slack, line, directory / "server.log", directory / "data", args.serve_from)
            await asyncio.to_thread(server.start)
            line.server_url = server.url
            driver = Driver(platform, fake, server.url, duplicates=args.duplicates)
            profiler = None
            if args.profile and kind == "bot":
                profiler = subprocess.Popen(
                    [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(server.process.pid),
                     "--rate", "200", "--gil", "--format", "raw", "--output", f"{args.profile}-{platform}.txt", "--nonblocking"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cpu_before, driver_before = server.cpu_seconds(), time.process_time()
            if args.burst:
                load = await driver.burst(args.events, args.seconds, first_index=0)
            else:
                load = await driver.closed_loop(args.users, args.concurrency)
            await line.fetched()  # the CPU of drawing the charts LINE fetched is counted
            cpu = server.cpu_seconds() - cpu_before
            api_calls = Counter(call.path for call in fake.calls())
            if profiler is not None:
                profiler.send_signal(2)
                profiler.wait(30)
            driver_cpu = time.process_time() - driver_before
            rss = server.peak_rss_mb()
            await asyncio.to_thread(server.stop)
        prefix = "speed" if kind == "bot" else "limit"
        personal, database = redis_bytes_per_check(store.url, prefix, max(load.finished, 1))
        commands = redis_commands(store.url)
    finally:
        if server is not None:
            server.stop()
        store.stop()
    return Measured(kind, platform, load, cpu, rss, server.startup, personal, database, driver_cpu, commands,
                    dict(api_calls))


def closed_loop_lines(limit: Measured, bot: Measured, durable: Measured | None = None,
                      verbose: bool = False) -> list[str]:
    lines = []
    for m in (limit, durable, bot):
        if m is None:
            continue
        load = m.load
        lines.append(
            f"  {m.server:9} answered/s {m.rate:7.1f}  ack p50 {percentile(load.ack_ms, .5):5.1f} p99 "
            f"{percentile(load.ack_ms, .99):6.1f} ms  reply p50 {percentile(load.reply_ms, .5):6.1f} p99 "
            f"{percentile(load.reply_ms, .99):6.1f} ms  CPU {m.cpu / max(load.answered, 1) * 1000:5.2f} ms/answered  "
            f"Redis {m.personal_bytes:6.0f} B/check ({m.database_bytes:6.0f} B/person in all)  peak RSS "
            f"{m.rss_mb:5.1f} MB  start-up {m.startup:4.2f} s  finished {load.finished}  stalled "
            f"{len(load.stalled)}  refused {load.refused}  driver CPU {m.driver_cpu / max(load.elapsed, 1e-9):.2f} s/s  "
            f"Redis commands {m.commands_per_answered:.1f}/answered")
        if verbose:
            top = sorted(m.commands.items(), key=lambda item: -item[1])[:12]
            lines.append("            " + ", ".join(f"{name} {n / max(load.answered, 1):.2f}" for name, n in top))
            calls = sorted(m.api_calls.items(), key=lambda item: -item[1])[:8]
            lines.append("            API calls per answered: " + ", ".join(
                f"{path} {n / max(load.answered, 1):.2f}" for path, n in calls))
            lines.append("            reply p50/p99 by step: " + ", ".join(
                f"{kind} {percentile(ms, .5):.0f}/{percentile(ms, .99):.0f} ms" for kind, ms in load.reply_ms_by_kind.items()))
    rate = bot.rate / limit.rate if limit.rate else 0.0
    p99 = percentile(bot.load.reply_ms, .99) / max(percentile(limit.load.reply_ms, .99), 1e-9)
    lines.append(f"  ratio     answered/s {rate:.2f} x limit (target >= 0.6): {'met' if rate >= 0.6 else 'NOT met'};"
                 f"  reply p99 {p99:.2f} x limit (target <= 3): {'met' if p99 <= 3 else 'NOT met'}")
    if durable is not None and durable.rate:
        lines.append(f"            the guarantees alone: durable limit {durable.rate / limit.rate:.2f} x limit; bot serve "
                     f"{bot.rate / durable.rate:.2f} x the durable limit")
    return lines


def burst_lines(m: Measured, events: int) -> str:
    load = m.load
    slowest = max(load.ack_ms, default=0.0)
    return (f"  {m.server:9} {events} events: acked {len(load.ack_ms)}, slowest ack {slowest:.0f} ms "
            f"(target < 3000: {'met' if slowest < 3000 else 'NOT met'}), refused {load.refused} (503s etc.), "
            f"replied {load.answered}, last reply {load.elapsed:.1f} s after the first send, ack p99 "
            f"{percentile(load.ack_ms, .99):.0f} ms, CPU {m.cpu:.1f} s, peak RSS {m.rss_mb:.0f} MB")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duplicates", type=float, default=0.1)
    parser.add_argument("--platform", action="append", choices=("slack", "line"))
    parser.add_argument("--burst", action="store_true")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fsync", choices=("always", "everysec", "no"), default="always")
    parser.add_argument("--durable-limit", action="store_true",
                        help="also the limit with bot serve's guarantees (benchmarks/limit_server.py --durable)")
    parser.add_argument("--verbose", action="store_true", help="also the Redis commands per answered message")
    parser.add_argument("--profile", metavar="PREFIX",
                        help="py-spy (pip install py-spy) records bot serve: PREFIX-PLATFORM.txt, collapsed stacks")
    parser.add_argument("--serve-from", type=Path, default=None, help="run bot serve from another checkout")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="speed-"))
    ok = True
    try:
        for platform in args.platform or ["slack", "line"]:
            limit = await measure("limit", platform, args, workdir)
            durable = await measure("durable", platform, args, workdir) if args.durable_limit else None
            bot = await measure("bot", platform, args, workdir)
            if args.burst:
                print(f"{platform}: burst of {args.events} in {args.seconds:.0f} s", flush=True)
                for m in (limit, durable, bot):
                    if m is not None:
                        print(burst_lines(m, args.events), flush=True)
                ok &= max(bot.load.ack_ms, default=0) < 3000 and bot.load.refused == 0 and bot.load.answered == args.events
            else:
                print(f"{platform}: {args.users} people, {args.concurrency} at a time, "
                      f"{args.duplicates:.0%} duplicate deliveries", flush=True)
                for line in closed_loop_lines(limit, bot, durable, args.verbose):
                    print(line, flush=True)
                ok &= bot.load.finished == args.users and not bot.load.stalled
                ok &= bot.rate >= 0.6 * limit.rate
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
