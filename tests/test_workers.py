"""The bounded work queue: never more than `workers` jobs at once, refuses past capacity."""
from __future__ import annotations

import asyncio
import time

from aiohttp.test_utils import TestClient, TestServer

from bot.server import QUEUE, build_app
from bot.workers import WorkQueue
from tests.fakes.slack_api import FakeSlackApi
from tests.test_slack import dm, event_body, signed_headers, slack_settings


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
    queue = WorkQueue(workers=1, capacity=2)
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


async def test_server_answers_503_with_retry_after_when_the_queue_is_full(engine):
    async with FakeSlackApi() as fake:
        app = build_app(engine, slack=slack_settings(fake), workers=1, queue_capacity=1)
        async with TestClient(TestServer(app)) as client:
            gate = asyncio.Event()

            async def blocked():
                await gate.wait()

            queue = client.app[QUEUE]
            queue.offer(blocked)
            await asyncio.sleep(0)
            queue.offer(blocked)
            body = event_body(dm("メニュー"))
            response = await client.post("/slack/events", data=body, headers=signed_headers(body))
            assert response.status == 503 and response.headers["Retry-After"] == "5"
            gate.set()
            await queue.drain()
        assert fake.calls_to("chat.postMessage") == []  # refused means not half-done
