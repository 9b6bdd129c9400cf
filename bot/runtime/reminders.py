"""Reminders in `bot serve` (a scheduler in every process, on the shared schedule) and for
`bot remind` (what is due now, sent through the same adapters and outbox)."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from datetime import datetime
from typing import AsyncIterator

import aiohttp

from bot.core.delivery import Delivery
from bot.core.engine import Engine
from bot.core.scheduler import Outgoing, Scheduler
from bot.flows.reminders.policy import ReminderPolicy
from bot.flows.reminders.tasks import Reminders
from bot.runtime.startup import open_engine
from bot.settings import LineSettings, Settings, SlackSettings
from bot.store.display_names import DisplayNames
from bot.store.schedule import Schedule

log = logging.getLogger(__name__)


def build_reminders(engine: Engine, policy: ReminderPolicy, delivery: Delivery | None) -> Reminders:
    """The scheduler (its handlers: the reminder tasks) for this engine; not started."""
    scheduler = Scheduler(Schedule(engine.store.client, engine.store.keys), clock=engine.services.clock,
                          delivery=delivery)
    reminders = Reminders(engine.content, engine.store, policy, scheduler)
    scheduler.handlers.update(reminders.handlers())
    return reminders


async def start_reminders(reminders: Reminders, *, every: float | None = None) -> None:
    await reminders.start(reminders.scheduler.clock())
    if every is None:
        reminders.scheduler.start()
    else:
        reminders.scheduler.start(every=every)


@asynccontextmanager
async def sending_engine(settings: Settings) -> AsyncIterator[tuple[Engine, Delivery]]:
    """The engine and a delivery through the platforms configured (as `bot serve` mounts them)."""
    slack, line = SlackSettings.from_env(), LineSettings.from_env()
    async with open_engine(settings, server=False) as engine:
        delivery = Delivery(engine, DisplayNames(engine.store.client, engine.store.keys))
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16))
        line_adapter = None
        try:
            if slack is not None:
                from bot.adapters.slack.adapter import SlackAdapter

                SlackAdapter(slack, engine=engine, session=session, delivery=delivery)
            if line is not None:
                from bot.adapters.line.adapter import LineAdapter

                line_adapter = LineAdapter(line, engine=engine, delivery=delivery)
            yield engine, delivery
        finally:
            await session.close()
            if line_adapter is not None:
                await line_adapter.close()


async def due_reminders(settings: Settings, at: datetime) -> list[Outgoing]:
    """Who would get what at `at` (nothing is sent or marked)."""
    async with open_engine(settings, server=False) as engine:
        return await build_reminders(engine, ReminderPolicy.from_settings(settings), None).due_at(at)


async def send_due_reminders(settings: Settings) -> list[tuple[Outgoing, bool]]:
    """Send what is due now; each with whether this run sent it (False: another process just had)."""
    async with sending_engine(settings) as (engine, delivery):
        reminders = build_reminders(engine, ReminderPolicy.from_settings(settings), delivery)
        due = await reminders.due_at(engine.services.clock())
        return [(message, await reminders.scheduler.post(message)) for message in due]
