"""Concurrent calls for one key share one run."""
from __future__ import annotations

import asyncio

from bot.core.single_flight import SingleFlight


async def test_concurrent_calls_share_one_run_and_a_later_call_runs_again():
    flight: SingleFlight[int] = SingleFlight()
    runs: list[str] = []
    release = asyncio.Event()

    async def lookup(key: str) -> int:
        runs.append(key)
        await release.wait()
        return len(runs)

    first = asyncio.ensure_future(flight.run("a", lambda: lookup("a")))
    second = asyncio.ensure_future(flight.run("a", lambda: lookup("a")))
    other = asyncio.ensure_future(flight.run("b", lambda: lookup("b")))
    await asyncio.sleep(0)
    release.set()
    assert await first == await second
    await other
    assert sorted(runs) == ["a", "b"]  # one run per key
    await flight.run("a", lambda: lookup("a"))
    assert runs.count("a") == 2  # finished runs are not remembered


async def test_a_cancelled_caller_does_not_cancel_the_run_the_others_wait_for():
    flight: SingleFlight[str] = SingleFlight()
    release = asyncio.Event()

    async def slow() -> str:
        await release.wait()
        return "done"

    impatient = asyncio.ensure_future(flight.run("k", slow))
    patient = asyncio.ensure_future(flight.run("k", slow))
    await asyncio.sleep(0)
    impatient.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await patient == "done"
    assert impatient.cancelled()
