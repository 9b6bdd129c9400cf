"""A bounded pool of workers for the work done after a platform is acknowledged.

Webhooks are answered at once; what they ask for (engine, API calls, images)
runs here, at most `workers` jobs at a time and at most `capacity` waiting.
When the queue is full the server says so (503) instead of piling up tasks.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class WorkQueue:
    def __init__(self, *, workers: int = 16, capacity: int = 1000, name: str = "work"):
        self.name = name
        self._workers_wanted = workers
        self._queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=capacity)
        self._workers: list[asyncio.Task] = []

    async def start(self) -> None:
        self._workers = [
            asyncio.create_task(self._work(), name=f"{self.name}-{i}") for i in range(self._workers_wanted)
        ]

    def offer(self, job: Job) -> bool:
        """Queue a job; False when the queue is full (the caller should refuse the request)."""
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            log.error("%s queue full (%d waiting): refusing new work", self.name, self._queue.qsize())
            return False
        return True

    @property
    def full(self) -> bool:
        return self._queue.full()

    async def drain(self) -> None:
        """Wait until every queued job has run (tests, shutdown)."""
        await self._queue.join()

    async def stop(self, *, timeout: float = 10.0) -> None:
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except asyncio.TimeoutError:
            log.warning("%s: %d job(s) still queued at shutdown", self.name, self._queue.qsize())
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await job()
            except Exception:
                log.exception("%s job failed", self.name)
            finally:
                self._queue.task_done()
