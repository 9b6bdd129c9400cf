"""The bounded work queue: never more than `workers` jobs at once, refuses past capacity."""
from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer

from bot.core.work_queue import WorkQueue
from bot.runtime.server import INBOX, QUEUE, WORKER, build_app
from bot.store.conversations import connect
from bot.store.inbox import _PUT_SCRIPT as PUT_SCRIPT
from tests.support.slack_api import FakeSlack
from tests.support.slack_events import dm, event_body, signed_headers, slack_settings


async def test_concurrency_is_bounded_and_every_job_runs():
    queue = WorkQueue(workers=3, capacity=100)
    await queue.start()
    running = peak = done = 0

    async def job():
        nonlocal running, peak, done
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        done += 1

    assert all(queue.offer(job) for _ in range(40))
    await queue.drain()
    await queue.stop()
    assert peak == 3 and done == 40


async def test_a_full_queue_refuses_and_a_failing_job_does_not_stop_the_workers(caplog):
    queue = WorkQueue(workers=1, capacity=3)
    gate = asyncio.Event()
    ran = []

    async def blocked():
        await gate.wait()

    async def failing():
        raise RuntimeError("boom")

    async def fine():
        ran.append(True)

    await queue.start()
    assert queue.offer(blocked)
    await asyncio.sleep(0)  # the worker takes it
    assert queue.offer(failing) and queue.offer(fine)
    assert queue.full and not queue.offer(fine)
    gate.set()
    await queue.drain()
    await queue.stop()
    assert ran == [True]
    assert any("job failed" in r.message for r in caplog.records)


async def test_a_full_work_queue_does_not_refuse_work_it_is_stored_and_done_later(engine):
    async with FakeSlack() as fake:
        app = build_app(engine, slack=slack_settings(fake), workers=1, queue_capacity=1)
        async with TestClient(TestServer(app)) as client:
            gate = asyncio.Event()

            async def blocked():
                await gate.wait()

            queue = client.app[QUEUE]
            queue.offer(blocked)
            await asyncio.sleep(0)
            assert queue.full
            body = event_body(dm("メニュー"))
            response = await client.post("/slack/events", data=body, headers=signed_headers(body))
            assert response.status == 200  # stored in the inbox: acknowledged, not refused
            assert fake.calls("chat.postMessage") == []
            gate.set()
            await client.app[WORKER].drain()
        assert len(fake.calls("chat.postMessage")) == 1


async def test_the_platform_is_told_to_retry_when_the_store_cannot_take_the_event(engine, fake_slack):
    app = build_app(engine, slack=slack_settings(fake_slack), workers=2)
    async with TestClient(TestServer(app)) as client:
        real = client.app[INBOX].client
        client.app[INBOX].client = connect("redis://127.0.0.1:1/0", timeout=0.2)
        client.app[INBOX]._put = client.app[INBOX].client.register_script(PUT_SCRIPT)
        try:
            body = event_body(dm("メニュー"))
            response = await client.post("/slack/events", data=body, headers=signed_headers(body))
            assert response.status == 503 and response.headers["Retry-After"]
        finally:
            await client.app[INBOX].client.aclose()
            client.app[INBOX].client = real
            client.app[INBOX]._put = real.register_script(PUT_SCRIPT)
        # Slack's retry of the same event, with the store back: handled once.
        response = await client.post("/slack/events", data=body, headers={**signed_headers(body),
                                                                          "X-Slack-Retry-Num": "1"})
        assert response.status == 200
        await client.app[WORKER].drain()
        assert len(fake_slack.calls("chat.postMessage")) == 1


async def test_one_users_burst_runs_in_order_and_does_not_starve_others():
    queue = WorkQueue(workers=2, capacity=100)
    await queue.start()
    order: list[str] = []
    running: set[str] = set()
    overlap = False

    def job(key: str, n: int):
        async def run():
            nonlocal overlap
            overlap = overlap or key in running
            running.add(key)
            await asyncio.sleep(0.01)
            order.append(f"{key}{n}")
            running.discard(key)
        return run

    for n in range(10):
        queue.offer(job("a", n), key="a")
    queue.offer(job("b", 0), key="b")
    await queue.drain()
    await queue.stop()
    a_jobs = [x for x in order if x.startswith("a")]
    assert a_jobs == [f"a{n}" for n in range(10)] and not overlap
    assert order.index("b0") < order.index("a9")  # the other user was not made to wait for the burst


def test_room_keeps_headroom_for_requests_already_in_flight():
    queue = WorkQueue(workers=1, capacity=100)
    assert queue.room() == 90
    for _ in range(90):
        queue.offer(lambda: asyncio.sleep(0))
    assert queue.full and queue.offer(lambda: asyncio.sleep(0))  # still accepted past the door
