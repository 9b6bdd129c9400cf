"""The inbox: stored before acknowledged, stored once, handled in order by one lease holder."""
from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.core.inbox_worker import InboxWorker
from bot.core.work_queue import WorkQueue
from bot.store.inbox import Inbox, Job

TENANT = "{test:T1}"


def _job(n: int, who: str = "u1") -> Job:
    return Job("test.job", {"n": n}, order_key=who)


@pytest.fixture
async def inbox_and_queue(store):
    """The inbox and a started work queue (stopped after the test)."""
    queue = WorkQueue(workers=2, capacity=10)
    await queue.start()
    yield Inbox(store.client, store.keys), queue
    await queue.stop()


async def _until(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_repeated_delivery_is_stored_once_and_in_order(store):
    inbox = Inbox(store.client, store.keys)
    assert await inbox.put(TENANT, [("ev1", _job(1)), ("ev2", _job(2))]) == 2
    assert await inbox.put(TENANT, [("ev1", _job(1)), ("ev3", _job(3))]) == 1  # a platform retry of ev1
    entries = await inbox.read(TENANT, after="")
    assert [job.payload["n"] for _, job in entries] == [1, 2, 3]
    assert TENANT in await inbox.tenants()


async def test_the_lease_holder_handles_each_persons_jobs_in_order(store):
    inbox = Inbox(store.client, store.keys)
    queue = WorkQueue(workers=4, capacity=100)
    await queue.start()
    seen: list[tuple[str, int]] = []

    async def handle(payload: dict) -> None:
        await asyncio.sleep(0.01 * (payload["n"] % 3))  # uneven work must not reorder one person's jobs
        seen.append((payload["who"], payload["n"]))

    worker = InboxWorker(inbox, queue)
    worker.register("test.job", handle)
    jobs = [(f"e{who}{n}", Job("test.job", {"n": n, "who": who}, order_key=who)) for n in range(10) for who in "ab"]
    await inbox.put(TENANT, jobs)
    await worker.start()
    try:
        await _until(lambda: len(seen) == 20)
        for who in "ab":
            assert [n for w, n in seen if w == who] == list(range(10))
        for _ in range(100):  # each entry leaves the inbox once handled
            if await store.client.xlen(store.keys.inbox(TENANT)) == 0:
                break
            await asyncio.sleep(0.02)
        assert await inbox.read(TENANT, after="") == []
    finally:
        await worker.stop()
        await queue.stop()


async def test_a_job_that_meets_a_store_error_is_tried_again_before_the_next(inbox_and_queue):
    inbox, queue = inbox_and_queue
    attempts: list[int] = []

    async def handle(payload: dict) -> None:
        attempts.append(payload["n"])
        if payload["n"] == 1 and attempts.count(1) < 3:
            raise RedisConnectionError("store restarting")

    worker = InboxWorker(inbox, queue)
    worker.register("test.job", handle)
    await inbox.put(TENANT, [("x1", _job(1)), ("x2", _job(2))])
    await worker.start()
    try:
        await _until(lambda: 2 in attempts)
        assert attempts == [1, 1, 1, 2]
    finally:
        await worker.stop()


async def test_one_process_at_a_time_and_the_next_takes_over(store):
    inbox = Inbox(store.client, store.keys)
    queues = [WorkQueue(workers=2, capacity=10) for _ in range(2)]
    handled: dict[str, list[int]] = {"first": [], "second": []}
    workers = []
    for name, queue in zip(handled, queues):
        await queue.start()
        worker = InboxWorker(inbox, queue, owner=name)

        async def handle(payload: dict, name: str = name) -> None:
            handled[name].append(payload["n"])

        worker.register("test.job", handle)
        workers.append(worker)
    await inbox.put(TENANT, [("a1", _job(1))])
    await workers[0].start()
    await _until(lambda: handled["first"] == [1])
    await workers[1].start()
    await inbox.put(TENANT, [("a2", _job(2))])
    await _until(lambda: handled["first"] == [1, 2])
    assert handled["second"] == []  # the lease is held
    await workers[0].stop()  # a shutdown releases the lease
    await inbox.put(TENANT, [("a3", _job(3))])
    workers[1].wake(TENANT)
    await _until(lambda: handled["second"] == [3])
    await workers[1].stop()
    for queue in queues:
        await queue.stop()


async def test_tenants_are_shared_out_between_processes_and_none_is_handled_twice(store):
    inbox = Inbox(store.client, store.keys)
    tenants = [f"slack:T{i}" for i in range(4)]
    handled: dict[str, list[tuple[str, int]]] = {"first": [], "second": []}
    queues, workers = [], []
    for name in handled:
        queue = WorkQueue(workers=2, capacity=50)
        await queue.start()
        worker = InboxWorker(inbox, queue, owner=name, balance_every=0.1)

        async def handle(payload: dict, name: str = name) -> None:
            handled[name].append((payload["tenant"], payload["n"]))

        worker.register("test.job", handle)
        queues.append(queue)
        workers.append(worker)

    async def put(n: int) -> None:
        for tenant in tenants:
            await inbox.put(tenant, [(f"{tenant}-{n}", Job("test.job", {"tenant": tenant, "n": n}, "u1"))])

    try:
        await put(1)
        await workers[0].start()
        await _until(lambda: len(handled["first"]) == 4)  # alone, the first process takes every tenant
        await workers[1].start()
        await _until(lambda: sum(map(workers[1].owns, tenants)) == 2)
        assert sum(map(workers[0].owns, tenants)) == 2
        for n in range(2, 6):
            await put(n)
        await _until(lambda: len(handled["first"]) + len(handled["second"]) == 20)
        await asyncio.sleep(0.3)
        everything = handled["first"] + handled["second"]
        assert sorted(everything) == sorted((t, n) for t in tenants for n in range(1, 6))  # once each
        for tenant in tenants:  # each tenant's jobs in order, whichever process ran them
            assert [n for t, n in everything if t == tenant] == [1, 2, 3, 4, 5]
        assert handled["second"], "the second process was given nothing to do"
    finally:
        for worker in workers:
            await worker.stop()
        for queue in queues:
            await queue.stop()


async def test_a_job_stored_by_another_process_is_read_on_its_news_not_at_the_next_poll(store, inbox_and_queue,
                                                                                        monkeypatch):
    """The process that stores a job for a tenant another process reads publishes the tenant in the
    same round trip; the reader wakes on it. With the polls set to 30 s, only the news can explain
    a job handled within seconds (and a job stored without news waits for the poll)."""
    from bot.core import inbox_worker

    monkeypatch.setattr(inbox_worker, "POLL_SECONDS", 30.0)
    monkeypatch.setattr(inbox_worker, "IDLE_POLL_SECONDS", 30.0)
    inbox, queue = inbox_and_queue
    handled: list[int] = []

    async def handle(payload: dict) -> None:
        handled.append(payload["n"])

    worker = InboxWorker(inbox, queue, owner="reader")
    worker.register("test.job", handle)
    await inbox.put(TENANT, [("n0", _job(0))])
    await worker.start()
    try:
        await _until(lambda: handled == [0])  # read when the lease was taken
        await asyncio.sleep(0.2)  # the reader is now waiting for its (30 s) poll
        elsewhere = Inbox(store.client, store.keys)  # another process's inbox
        await elsewhere.put(TENANT, [("n1", _job(1))])  # no news: waits for the poll
        await asyncio.sleep(1.0)
        assert handled == [0]
        await elsewhere.put(TENANT, [("n2", _job(2))], announce=True)
        await _until(lambda: handled == [0, 1, 2])
    finally:
        await worker.stop()
