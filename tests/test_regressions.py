"""Regression tests, each named after the bug it pins."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.core.events import IncomingEvent
from bot.core.flow import Flow, on
from bot.core.work_queue import WorkQueue
from bot.flows import DEFAULT_FLOWS
from bot.runtime.startup import build_engine
from bot.store.keys import ConversationKey

WHO = ConversationKey("local", "w", "cancel-me")


def _blocking_flow(started: asyncio.Event) -> Flow:
    """A flow whose step waits forever once it has begun (as a slow API call inside a step would)."""

    async def wait_forever(conv) -> None:
        conv.data["blocking"] = {"began": True}
        started.set()
        await asyncio.Event().wait()

    return Flow(name="blocking", states=("blocking_waiting",), transitions=(
        {"trigger": "block", "source": "*", "dest": "blocking_waiting", "after": on(wait_forever)},))


async def test_issue_a_cancelled_step_was_committed_as_not_understood(content, store, clock):
    started = asyncio.Event()
    engine = build_engine(content=content, store=store, clock=clock,
                          flows=(_blocking_flow(started), *DEFAULT_FLOWS))
    event = IncomingEvent.choice(WHO, "block", event_id="ev-cancelled")
    step = asyncio.create_task(engine.handle(event))
    await started.wait()
    step.cancel()
    with pytest.raises(asyncio.CancelledError):
        await step
    snapshot = await store.read(WHO, platform_event_id="ev-cancelled")
    assert snapshot.record is None, "a cancelled step was committed"
    assert not snapshot.already_handled, "a redelivery of the cancelled event would be dropped"
    # The redelivered event is handled from scratch.
    replies = await engine.handle(IncomingEvent.message(WHO, "メニュー", event_id="ev-cancelled"))
    assert replies and (await store.read(WHO)).record["state"] == "menu"


async def test_issue_work_queue_stop_hung_when_a_job_was_cancelled_mid_step(content, store, clock):
    started = asyncio.Event()
    engine = build_engine(content=content, store=store, clock=clock,
                          flows=(_blocking_flow(started), *DEFAULT_FLOWS))
    queue = WorkQueue(workers=2, capacity=10)
    await queue.start()
    queue.offer(lambda: engine.handle(IncomingEvent.choice(WHO, "block", event_id=uuid.uuid4().hex)), key=WHO)
    await started.wait()
    await asyncio.wait_for(queue.stop(timeout=0.5), timeout=5)
    assert (await store.read(WHO)).record is None
