"""The scheduler inside every `bot serve` process: due tasks run once among all of them.

Each tick (every `every` seconds, with jitter) claims at most `limit` due tasks from the shared
schedule (bot.store.schedule: a Redis sorted set; a claim leases the task for `lease_seconds`)
and runs each by the handler registered for its name's first part ("daily", "escalate"...). A
handler returns when the task runs next (or None: it is done) and the messages it wants sent.
Each message goes to its recipient's outbox once (a marker set in the same script), then is
sent through delivery with the retries every reply gets; what a stopped process left in an
outbox is sent by the sweeper. So with several processes a reminder is sent once, and a
process killed half-way leaves nothing undone: its leased tasks come due again, its posted
messages wait in the outbox.

Why not arq's cron jobs or APScheduler: see README ("Reminders").
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Awaitable, Callable

from bot.core.events import Destination
from bot.core.outbox import OutboxEntry
from bot.core.replies import Recipient, Reply
from bot.store.conversations import STORE_ERRORS
from bot.store.keys import tenant_tag
from bot.store.schedule import Schedule

log = logging.getLogger(__name__)

TICK_SECONDS = 30.0
TASKS_PER_TICK = 20  # bounded work: the rest waits for the next tick
LEASE_SECONDS = 120.0  # a task not finished in this long (its process died) is run again
DAY_SECONDS = 24 * 3600


def marker_of(to: Recipient, reminder_id: str) -> str:
    """A reminder's id as marked in the recipient's tenant: per recipient (a channel and a user on
    one platform never share a marker)."""
    return f"{to.kind}:{to.id}:{reminder_id}"


@dataclass(frozen=True)
class Outgoing:
    """A message the scheduler sends once: `id` is unique for this recipient (marked in their tenant's
    slot for `ttl_seconds`); `also_mark` are further ids marked with it (e.g. this week's lesson)."""

    id: str
    to: Recipient
    replies: tuple[Reply, ...]
    kind: str  # what it is about, for logs and `bot remind` ("employee", "digest", "ppc", "escalation")
    ttl_seconds: int = 2 * DAY_SECONDS
    also_mark: tuple[tuple[str, int], ...] = ()

    @property
    def tenant(self) -> str:
        return tenant_tag(self.to.platform, self.to.workspace)

    @property
    def marker(self) -> str:
        return marker_of(self.to, self.id)


@dataclass(frozen=True)
class TaskResult:
    messages: tuple[Outgoing, ...] = ()
    next_at: datetime | None = None  # when the task runs again; None: it is done


Handler = Callable[[str, datetime], Awaitable[TaskResult]]


class Scheduler:
    def __init__(self, schedule: Schedule, *, clock: Callable[[], datetime], delivery=None,
                 handlers: dict[str, Handler] | None = None, limit: int = TASKS_PER_TICK,
                 lease_seconds: float = LEASE_SECONDS):
        self.schedule = schedule
        self.clock = clock
        self.delivery = delivery  # bot.core.delivery.Delivery; None: messages wait in the outbox
        self.handlers = dict(handlers or {})
        self.limit = limit
        self.lease_seconds = lease_seconds
        self._known_tenants: set[str] = set()
        self._task: asyncio.Task | None = None

    # --- one message ---------------------------------------------------------------

    async def post(self, message: Outgoing) -> bool:
        """Hand the message to its recipient's outbox unless it was before, then send it; True when
        this call posted it. A message for a platform this process cannot reach is left unmarked, for a
        process that can."""
        if self.delivery is not None and not self.delivery.reaches(message.to.platform):
            log.debug("reminder %s for %s left: no %s adapter here", message.id, message.to.id, message.to.platform)
            return False
        entry = OutboxEntry(Destination.of(message.to), message.replies, seed=f"remind:{message.marker}")
        also = tuple((marker_of(message.to, other), ttl) for other, ttl in message.also_mark)
        await self._remember_tenant(message.tenant)
        outbox_id = await self.schedule.post(message.tenant, message.marker, entry.encode(),
                                             ttl_seconds=message.ttl_seconds, also_mark=also)
        if not outbox_id:
            return False
        log.info("reminder %s (%s) posted for %s", message.id, message.kind, message.to.id)
        if self.delivery is not None:
            await self.delivery.deliver_entry(entry, outbox_id=outbox_id, tenant=message.tenant,
                                              deadline=time.monotonic() + self.delivery.fast_path_seconds)
        return True

    async def already_sent(self, messages: list[Outgoing]) -> list[bool]:
        by_tenant: dict[str, list[int]] = {}
        for index, message in enumerate(messages):
            by_tenant.setdefault(message.tenant, []).append(index)
        sent = [False] * len(messages)
        for tenant, indexes in by_tenant.items():
            found = await self.schedule.sent(tenant, [messages[i].marker for i in indexes])
            for index, was_sent in zip(indexes, found):
                sent[index] = was_sent
        return sent

    async def _remember_tenant(self, tenant: str) -> None:
        """The tenant's outbox is swept (by the holder of its lease) once the tenant is registered."""
        if tenant not in self._known_tenants:
            await self.schedule.client.sadd(self.schedule.keys.tenants(), tenant)
            self._known_tenants.add(tenant)

    # --- ticks ----------------------------------------------------------------------

    async def tick(self) -> int:
        """Run what is due now (at most `limit` tasks); returns how many messages were posted."""
        now = self.clock()
        tasks = await self.schedule.claim(now.timestamp(), limit=self.limit, lease_seconds=self.lease_seconds)
        posted = 0
        for task in tasks:
            try:
                posted += await self._run(task, now)
            except (asyncio.CancelledError, *STORE_ERRORS):
                raise
            except Exception:
                # It stays leased and comes due again after its lease; the other tasks go on.
                log.exception("scheduled task %s failed", task)
        return posted

    async def _run(self, task: str, now: datetime) -> int:
        handler = self.handlers.get(task.split(":", 1)[0])
        if handler is None:
            log.error("no handler for scheduled task %s: dropped", task)
            await self.schedule.done(task)
            return 0
        result = await handler(task, now)
        sent = await asyncio.gather(*(self.post(message) for message in result.messages))
        await self.schedule.done(task, next_at=result.next_at.timestamp() if result.next_at else None)
        return sum(sent)

    async def run(self, *, every: float = TICK_SECONDS) -> None:
        while True:
            try:
                await self.tick()
            except STORE_ERRORS as exc:
                log.warning("scheduler tick skipped (store): %r", exc)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler tick failed")
            await asyncio.sleep(every * random.uniform(0.8, 1.2))

    def start(self, *, every: float = TICK_SECONDS) -> None:
        self._task = asyncio.create_task(self.run(every=every), name="scheduler")

    async def stop(self) -> None:
        """Stop at once: a task cut short is leased, and runs again elsewhere when its lease ends."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
