"""Hostile input for the web edge: deep JSON, what the store and the loggers saw, and a ticker
that measures how long the event loop was blocked."""
from __future__ import annotations

import asyncio
import logging
import time


def deep_json(depth: int, leaf: str = "1") -> str:
    """`depth` nested JSON arrays around `leaf`: cheap to build, costly to parse naively."""
    return "[" * depth + leaf + "]" * depth


async def keys_under(store) -> list[bytes]:
    """Every Redis key under the test's prefix that a request could have written (the running
    server's own heartbeat, which says the process is alive, is not one)."""
    heartbeat = store.keys.workers().encode()
    return [key async for key in store.client.scan_iter(match=f"{store.keys.prefix}:*") if key != heartbeat]


def errors_in(records: list[logging.LogRecord]) -> list[str]:
    """The log lines at ERROR or above (a traceback is logged at ERROR), formatted for a failure."""
    return [f"{r.name}: {r.getMessage()}" + (" (with traceback)" if r.exc_info else "")
            for r in records if r.levelno >= logging.ERROR]


class LoopTicker:
    """Ticks every `interval` seconds while running; `worst_gap` is the longest time between two
    ticks, i.e. how long something held the event loop (plus the interval)."""

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.worst_gap = 0.0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(self.interval)
            now = time.perf_counter()
            self.worst_gap = max(self.worst_gap, now - last)
            last = now

    async def __aenter__(self) -> LoopTicker:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.sleep(self.interval * 2)  # one more tick after the last work
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass


async def loop_hold(send, *, tries: int = 2) -> tuple[float, object]:
    """How long the event loop was held while `send()` ran (the worst gap between ticks), the least
    of `tries` runs, and the last run's result. Other work on a busy machine only ever adds to a
    gap, so the least of a few runs is the part the code itself is responsible for."""
    least, result = float("inf"), None
    for _ in range(tries):
        async with LoopTicker() as ticker:
            result = await send()
        least = min(least, ticker.worst_gap)
    return least, result
