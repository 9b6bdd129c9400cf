"""`bot serve` as real processes on one Redis: a load spread over two of them while one is killed
with SIGKILL half-way, and a SIGTERM that exits within a bounded time leaving its work to the next.

People answer the self-check over Slack (tests/support/crowd.py) against the fake Slack Web API in
this process; the servers are separate processes reached over HTTP, as in production."""
from __future__ import annotations

import asyncio

import pytest

from bot.store.conversations import Store
from bot.store.keys import ConversationKey, tenant_tag
from tests.support.crowd import QUESTIONS, SlackCrowd
from tests.support.serve import ServeProcess
from tests.support.slack_events import SECRET, TEAM

PEOPLE = 40
SHUTDOWN_BOUND_SECONDS = 15.0


@pytest.fixture
def serve_env(redis_url, key_prefix, fake_slack, tmp_path):
    return {
        "REDIS_URL": redis_url, "REDIS_CLUSTER": "", "BOT_KEY_PREFIX": key_prefix, "BOT_SECRET": "s" * 32,
        "BOT_DATA_DIR": str(tmp_path / "data"), "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": fake_slack.base_url, "SLACK_CLIENT_ID": "", "SLACK_CLIENT_SECRET": "",
        "LINE_CHANNEL_SECRET": "", "LINE_CHANNEL_ACCESS_TOKEN": "",
    }


def _servers(env: dict, tmp_path, count: int) -> list[ServeProcess]:
    return [ServeProcess(env, log_path=tmp_path / f"serve-{i}.log") for i in range(count)]


async def _results_of(store: Store):
    async def results(user: str) -> list[dict]:
        return await store.results(ConversationKey("slack", TEAM, user))
    return results


async def _until(condition, timeout: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_two_processes_one_killed_half_way_lose_nothing(serve_env, tmp_path, fake_slack, store):
    servers = _servers(serve_env, tmp_path, 2)
    try:
        for server in servers:
            await asyncio.to_thread(server.start)
        crowd = SlackCrowd(fake_slack, [s.url for s in servers], people=PEOPLE, seed=7)
        run = asyncio.create_task(crowd.run())
        await _until(lambda: crowd.answered >= PEOPLE * QUESTIONS // 2)
        holder = (await store.client.get(store.keys.lease(tenant_tag("slack", TEAM)))).decode()
        [victim] = [s for s in servers if holder.startswith(f"{s.pid}-")]  # the one doing the work
        await asyncio.to_thread(victim.kill)
        elapsed = await asyncio.wait_for(run, 300)
        report = await crowd.report(await _results_of(store), elapsed)
        print(f"\nkill -9 of the lease holder half-way: {report.summary()}")
        assert report.finished == PEOPLE and not report.stalled, report.stalled
        assert report.wrong_scores == 0 and report.changed_answers == 0
        assert report.out_of_order == 0 and report.duplicate_messages == 0
        assert report.refused > 0, "the killed server was never tried: the load was not spread"
    finally:
        for server in servers:
            server.stop()


async def test_sigterm_exits_in_bounded_time_and_the_next_process_finishes_the_work(
        serve_env, tmp_path, fake_slack, store):
    first, second = _servers(serve_env, tmp_path, 2)
    try:
        await asyncio.to_thread(first.start)
        crowd = SlackCrowd(fake_slack, [first.url, second.url], people=PEOPLE // 2, seed=11)
        run = asyncio.create_task(crowd.run())
        await _until(lambda: crowd.answered >= PEOPLE // 2 * QUESTIONS // 3)
        code, took = await asyncio.to_thread(first.terminate, 60)
        log = first.log()
        assert code == 0, log
        assert took < SHUTDOWN_BOUND_SECONDS, f"took {took:.1f} s to exit"
        await asyncio.to_thread(second.start)  # the deploy's new process
        elapsed = await asyncio.wait_for(run, 300)
        report = await crowd.report(await _results_of(store), elapsed)
        print(f"\nSIGTERM after {took:.1f} s, then a new process: {report.summary()}")
        assert report.finished == PEOPLE // 2 and not report.stalled, report.stalled
        assert report.wrong_scores == 0 and report.out_of_order == 0 and report.duplicate_messages == 0
        # Nothing was left half-done: the inbox and outbox are empty once everyone has finished.
        tenant = tenant_tag("slack", TEAM)
        waiting = {"inbox": -1, "outbox": -1}
        for _ in range(300):  # the last job leaves the inbox just after its replies went out
            waiting = {name: await store.client.xlen(key)
                       for name, key in (("inbox", store.keys.inbox(tenant)), ("outbox", store.keys.outbox(tenant)))}
            if not any(waiting.values()):
                break
            await asyncio.sleep(0.1)
        assert waiting == {"inbox": 0, "outbox": 0}
    finally:
        first.stop()
        second.stop()
