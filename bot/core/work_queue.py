"""A bounded pool of workers for the work done after a platform is acknowledged.

Webhooks are answered at once; what they ask for (engine, API calls, images)
runs here, at most `workers` jobs at a time and at most `capacity` waiting.
Jobs with the same key (one user) run one after another, in order, without
holding more than one worker: a burst from one person cannot starve the rest.
When the queue is nearly full the server says so (503) before accepting a
request, so a job is never dropped after its request was acknowledged.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Awaitable, Callable, Hashable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]
# The share of the capacity kept for requests already past the door when it closed.
HEADROOM = 0.1


class WorkQueue:
    def __init__(self, *, workers: int = 16, capacity: int = 1000, name: str = "work"):
        self.name = name
        self.capacity = capacity
        self._workers_wanted = workers
        self._ready: asyncio.Queue[Hashable] = asyncio.Queue()
        self._chains: dict[Hashable, deque[Job]] = {}
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._workers: list[asyncio.Task] = []

    async def start(self) -> None:
        self._workers = [
            asyncio.create_task(self._work(), name=f"{self.name}-{i}") for i in range(self._workers_wanted)
        ]

    def room(self) -> int:
        """How many more jobs a new request may bring (the headroom is kept back)."""
        return max(0, int(self.capacity * (1 - HEADROOM)) - self._pending)

    @property
    def full(self) -> bool:
        return self.room() == 0

    def offer(self, job: Job, *, key: Hashable | None = None) -> bool:
        """Queue a job (after earlier jobs with the same key); False when past capacity."""
        if self._pending >= self.capacity:
            log.error("%s queue full (%d pending): refusing new work", self.name, self._pending)
            return False
        self._pending += 1
        self._idle.clear()
        key = key if key is not None else object()
        chain = self._chains.get(key)
        if chain is not None:
            chain.append(job)  # its worker will get to it
        else:
            self._chains[key] = deque([job])
            self._ready.put_nowait(key)
        return True

    async def drain(self) -> None:
        """Wait until every queued job has run (tests, shutdown)."""
        await self._idle.wait()

    async def stop(self, *, timeout: float = 10.0) -> None:
        try:
            await asyncio.wait_for(self.drain(), timeout)
        except asyncio.TimeoutError:
            log.warning("%s: %d job(s) still pending at shutdown", self.name, self._pending)
        for task in self._workers:
            task.cancel()
        _, stuck = await asyncio.wait(self._workers, timeout=timeout) if self._workers else (set(), set())
        if stuck:
            log.error("%s: %d worker(s) did not stop when cancelled", self.name, len(stuck))
        self._workers = []

    async def _work(self) -> None:
        while True:
            key = await self._ready.get()
            chain = self._chains[key]
            while chain:
                job = chain.popleft()
                try:
                    await job()
                except Exception:
                    log.exception("%s job failed", self.name)
                finally:
                    self._pending -= 1
            del self._chains[key]
            if self._pending == 0:
                self._idle.set()
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # a job swallowed the worker's cancellation
                raise asyncio.CancelledError
