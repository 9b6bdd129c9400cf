"""Durability under faults: people answering the self-check over Slack while things go wrong.

    .venv/bin/python benchmarks/durability.py [--people 200] [--servers 2] [SCENARIO ...]

Each scenario starts its own Redis (the embedded redis-server binary, append-only file with
`appendfsync always`), `bot serve` processes on it, the fake Slack Web API in this process, and
a crowd (tests/support/crowd.py): every person sends 「自社診断」 and types an answer to each
question as it appears, 10 % of deliveries arrive twice, and a refused delivery is sent again.

Scenarios:
  healthy        no faults (the baseline for ack and reply latency)
  redis-restart  Redis shut down half-way, started again 2 s later
  redis-kill     Redis killed with SIGKILL half-way, started again 2 s later
  api-faults     30 % of chat.postMessage answered 429 (Retry-After: 1), 10 % answered 500
  lost-responses 10 % of chat.postMessage posted, then answered 500 (the response lost)
  server-kill    the server holding the workspace's lease killed with SIGKILL half-way

`--serve-from DIR` runs `bot serve` from another checkout (with its own .venv), to compare
versions under the same load. Prints one line per scenario; exits 1 when any scenario has a wrong score, a lost or changed
answer, a question shown out of order, or a person who did not finish.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis.asyncio as aioredis  # noqa: E402

from bot.store.conversations import Store  # noqa: E402
from bot.store.embedded import server_executable  # noqa: E402
from bot.store.keys import ConversationKey, Keys, tenant_tag  # noqa: E402
from tests.support.crowd import QUESTIONS, SlackCrowd  # noqa: E402
from tests.support.serve import ServeProcess, free_port  # noqa: E402
from tests.support.slack_api import FakeSlack  # noqa: E402
from tests.support.slack_events import SECRET, TEAM  # noqa: E402

SCENARIOS = ("healthy", "redis-restart", "redis-kill", "api-faults", "lost-responses", "server-kill")


class RedisProcess:
    def __init__(self, directory: Path, fsync: str = "always"):
        self.directory = directory
        self.fsync = fsync
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [server_executable(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--appendfsync", self.fsync, "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import redis
                if redis.Redis(port=self.port, socket_timeout=0.5).ping():
                    return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("redis did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(10)


async def run_scenario(name: str, *, people: int, servers: int, workdir: Path,
                       serve_from: Path | None = None, fsync: str = "always") -> tuple[str, bool]:
    redis_dir = workdir / name / "redis"
    redis_dir.mkdir(parents=True)
    store_process = RedisProcess(redis_dir, fsync)
    store_process.start()
    client = aioredis.from_url(store_process.url)
    store = Store(client, Keys("bench"))
    processes: list[ServeProcess] = []
    try:
        async with FakeSlack(strict=False) as fake:
            if name == "api-faults":
                fake.post_faults.rate_limited, fake.post_faults.server_error = 0.3, 0.1
            if name == "lost-responses":
                fake.post_faults.lost_response = 0.1
            env = {"REDIS_URL": store_process.url, "REDIS_CLUSTER": "", "BOT_KEY_PREFIX": "bench",
                   "BOT_SECRET": "b" * 32, "BOT_DATA_DIR": str(workdir / name / "data"),
                   "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake.base_url}
            where = {} if serve_from is None else {"project": serve_from, "python": str(serve_from / ".venv/bin/python")}
            processes = [ServeProcess(env, log_path=workdir / name / f"serve-{i}.log", **where)
                         for i in range(servers)]
            for process in processes:
                await asyncio.to_thread(process.start)
            crowd = SlackCrowd(fake, [p.url for p in processes], people=people, seed=2026, patience=180)
            run = asyncio.create_task(crowd.run())
            while crowd.answered < people * QUESTIONS // 2 and not run.done():
                await asyncio.sleep(0.05)
            if name in ("redis-restart", "redis-kill"):
                store_process.stop(signal.SIGKILL if name == "redis-kill" else signal.SIGTERM)
                await asyncio.sleep(2)
                await asyncio.to_thread(store_process.start)
            if name == "server-kill":
                holder = (await client.get(store.keys.lease(tenant_tag("slack", TEAM))) or b"").decode()
                for process in processes:
                    if holder.startswith(f"{process.pid}-"):
                        await asyncio.to_thread(process.kill)
            elapsed = await run

            async def results(user: str) -> list[dict]:
                return await store.results(ConversationKey("slack", TEAM, user))

            report = await crowd.report(results, elapsed)
            cpu = sum(p.cpu_seconds() for p in processes if p.process.poll() is None)
            faults = dict(fake.post_faults.counts)
    finally:
        for process in processes:
            process.stop()
        await client.aclose()
        store_process.stop()
    ok = (report.finished == people and not report.stalled and report.wrong_scores == 0
          and report.changed_answers == 0 and report.out_of_order == 0)
    line = (f"{name:15} {'ok  ' if ok else 'FAIL'} {report.summary()}; server CPU {cpu:.1f} s "
            f"({cpu / max(report.messages, 1) * 1000:.2f} ms a message)") + (f"; injected {faults}" if faults else "")
    if report.stalled:
        line += "\n    " + "\n    ".join(report.stalled[:5])
    return line, ok


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=f"any of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--serve-from", type=Path, default=None, help="a checkout to run bot serve from")
    parser.add_argument("--fsync", choices=("always", "everysec", "no"), default="always",
                        help="Redis appendfsync (always: nothing acknowledged is lost in a Redis crash)")
    args = parser.parse_args()
    unknown = sorted(set(args.scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    workdir = Path(tempfile.mkdtemp(prefix="durability-"))
    all_ok = True
    try:
        for run, name in enumerate(args.scenarios or SCENARIOS):
            line, ok = await run_scenario(name, people=args.people, servers=args.servers,
                                          workdir=workdir / str(run), serve_from=args.serve_from,
                                          fsync=args.fsync)
            print(line, flush=True)
            all_ok &= ok
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
