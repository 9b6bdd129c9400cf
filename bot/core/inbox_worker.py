"""Working through the inbox: each tenant's stored jobs, in order, by the process that holds its lease.

Every process that serves webhooks stores what arrives (bot.store.inbox) and
runs this worker. A tenant's jobs are handled by one process at a time (a
lease in Redis, renewed while the process lives): so one person's events are
handled in the order they arrived, whichever process received them. The
tenants are shared out: each live process (a heartbeat in Redis) holds at most
its fair share, and gives back the rest once their jobs in hand are finished. Jobs of
different people run side by side on the bounded work queue; one person's
are chained. A job whose handler meets a store error stays in the inbox and is
tried again (the engine's event-id check makes a second run harmless); a
process that dies leaves its jobs in the inbox, and whoever takes the lease
next handles them.
"""
from __future__ import annotations

import asyncio
import logging
import math
import os
import random
import time
import uuid
from typing import Awaitable, Callable

from bot.core.work_queue import WorkQueue
from bot.store.conversations import STORE_ERRORS
from bot.store.inbox import LEASE_MS, Inbox, Job, RunningEntry, running_entry

log = logging.getLogger(__name__)

Handler = Callable[[dict], Awaitable[None]]
# How soon a job is seen that another process stored and whose news (pub/sub) did not arrive, while
# the tenant is busy, and once it has been quiet for a while. Jobs stored here wake the reader at
# once, and so does the news of jobs stored elsewhere.
POLL_SECONDS = 0.05
IDLE_POLL_SECONDS = 0.25
LEASE_EVERY = LEASE_MS / 1000 / 3
GIVE_BACK_WAIT_SECONDS = 30.0  # at most this long for a tenant's jobs in hand before its lease goes


class InboxWorker:
    def __init__(self, inbox: Inbox, queue: WorkQueue, *, owner: str | None = None,
                 balance_every: float = LEASE_EVERY):
        self.inbox = inbox
        self.balance_every = min(balance_every, LEASE_EVERY)
        self.queue = queue
        self.owner = owner or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._handlers: dict[str, Handler] = {}
        self._readers: dict[str, asyncio.Task] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._in_flight: dict[str, set[str]] = {}  # tenant -> entry ids queued or running here
        self._leaving: dict[str, asyncio.Task] = {}  # tenants being given back to the others
        self._leases: asyncio.Task | None = None
        self._news: asyncio.Task | None = None

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    def owns(self, tenant: str) -> bool:
        return tenant in self._readers

    def nudge(self, tenant: str) -> None:
        """Another process stored a job for `tenant`: read now if it is ours (else nothing to do)."""
        event = self._wake.get(tenant)
        if event is not None:
            event.set()

    def wake(self, tenant: str) -> None:
        """A job was stored for `tenant` here: read now rather than at the next poll (taking the
        lease first if nobody reads the tenant here yet)."""
        if tenant in self._wake:
            self.nudge(tenant)
        elif self._leases is not None:
            asyncio.get_running_loop().create_task(self._claim(tenant))

    async def drain(self, *, timeout: float = 30.0) -> None:
        """Wait until every stored job has been handled (tests; an orderly shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.queue.drain()
            if not any(self._in_flight.values()) and await self.inbox.waiting() == 0:
                return
            if loop.time() > deadline:
                raise TimeoutError("inbox jobs still waiting")
            await asyncio.sleep(0.005)

    async def start(self) -> None:
        self._leases = asyncio.create_task(self._keep_leases(), name="inbox-leases")
        self._news = asyncio.create_task(self._follow_news(), name="inbox-news")

    async def _follow_news(self) -> None:
        """Jobs other processes store for tenants read here are seen at once, not at the next poll
        (the poll stays: it is what happens when a message is missed, and on a cluster)."""
        while not _cancelling():
            try:
                async for tenant in self.inbox.news():
                    self.nudge(tenant)
                return  # a cluster: nothing to follow
            except STORE_ERRORS as exc:
                log.debug("inbox news interrupted (%r); polling until it is back", exc)
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        """Stop reading; jobs not started stay in the inbox for the next holder of each lease."""
        tasks = [t for t in (self._leases, self._news, *self._readers.values(), *self._leaving.values())
                 if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=5)
            if stuck:
                log.error("inbox worker: %d task(s) did not stop when cancelled", len(stuck))
        for tenant in [*self._readers, *self._leaving]:
            try:
                await self.inbox.release(tenant, self.owner)
            except STORE_ERRORS:
                pass  # it expires on its own
        try:
            await self.inbox.leave(self.owner)
        except STORE_ERRORS:
            pass
        self._readers.clear()
        self._leaving.clear()
        self._leases = self._news = None

    async def _keep_leases(self) -> None:
        while not _cancelling():
            try:
                await self._balance()
            except STORE_ERRORS as exc:
                log.warning("inbox leases not renewed: %r", exc)
            await asyncio.sleep(self.balance_every * random.uniform(0.8, 1.0))

    async def _balance(self) -> None:
        """Renew the leases held, up to a fair share of the tenants; give back the rest; take free
        ones while under the share."""
        tenants = await self.inbox.tenants()
        alive = await self.inbox.heartbeat(self.owner, now_ms=int(time.time() * 1000))
        share = math.ceil(len(tenants) / alive)
        held = [t for t in tenants if t in self._readers]
        for index, tenant in enumerate(held):
            if index < share:
                await self._claim(tenant)
            else:
                self._give_back(tenant)
        free = [t for t in tenants if t not in self._readers and t not in self._leaving]
        random.shuffle(free)  # processes starting together do not all reach for the same tenant first
        for tenant in free:
            if len(self._readers) >= share:
                break
            await self._claim(tenant)

    async def _claim(self, tenant: str) -> None:
        if tenant in self._leaving:
            return
        try:
            held = await self.inbox.hold(tenant, self.owner)
        except STORE_ERRORS as exc:
            log.warning("lease of %s not checked: %r", tenant, exc)
            return
        if held and tenant not in self._readers:
            self._wake[tenant] = asyncio.Event()
            self._readers[tenant] = asyncio.create_task(self._read(tenant), name=f"inbox-{tenant}")
        elif not held and tenant in self._readers:
            log.info("lease of %s lost; another process reads its inbox", tenant)
            self._readers.pop(tenant).cancel()
            self._wake.pop(tenant, None)

    def _give_back(self, tenant: str) -> None:
        """Stop reading the tenant's inbox; once the jobs in hand are done, let the lease go (so that
        the next holder never runs a person's later job before their earlier one has finished)."""
        self._readers.pop(tenant).cancel()
        self._wake.pop(tenant, None)
        self._leaving[tenant] = asyncio.create_task(self._release_when_done(tenant), name=f"leave-{tenant}")

    async def _release_when_done(self, tenant: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GIVE_BACK_WAIT_SECONDS
        renewed = loop.time()
        try:
            while self._in_flight.get(tenant) and loop.time() < deadline:
                if loop.time() - renewed > LEASE_EVERY:
                    await self.inbox.hold(tenant, self.owner)
                    renewed = loop.time()
                await asyncio.sleep(0.05)
            await self.inbox.release(tenant, self.owner)
            log.info("lease of %s given back for another process to read", tenant)
        except STORE_ERRORS as exc:
            log.warning("lease of %s not given back (%r); it expires on its own", tenant, exc)
        finally:
            self._leaving.pop(tenant, None)

    async def _read(self, tenant: str) -> None:
        last = ""
        wake = self._wake[tenant]
        in_flight = self._in_flight.setdefault(tenant, set())
        quiet_since = asyncio.get_running_loop().time()
        while not _cancelling():
            try:
                entries = await self.inbox.read(tenant, after=last)
            except STORE_ERRORS as exc:
                log.warning("inbox of %s not read: %r", tenant, exc)
                entries = []
                await asyncio.sleep(1.0)
            for entry_id, job in entries:
                last = entry_id
                if entry_id in in_flight:
                    continue
                while not self.queue.offer(self._runner(in_flight, tenant, entry_id, job), key=job.order_key):
                    await asyncio.sleep(0.05)  # the queue is full: stored work simply waits
                in_flight.add(entry_id)
            now = asyncio.get_running_loop().time()
            if entries:
                quiet_since = now
            else:
                wake.clear()
                quiet = now - quiet_since > 2.0
                try:
                    await asyncio.wait_for(wake.wait(), IDLE_POLL_SECONDS if quiet else POLL_SECONDS)
                    quiet_since = now
                except asyncio.TimeoutError:
                    pass

    def _runner(self, in_flight: set[str], tenant: str, entry_id: str, job: Job) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            try:
                await self._run(tenant, entry_id, job)
            finally:
                in_flight.discard(entry_id)
        return run

    async def _run(self, tenant: str, entry_id: str, job: Job) -> None:
        handler = self._handlers.get(job.kind)
        attempt = 0
        running = RunningEntry(self.inbox.keys.inbox(tenant), entry_id)
        while handler is not None:
            token = running_entry.set(running)
            try:
                await handler(job.payload)
                break
            except STORE_ERRORS as exc:
                # Keep the person's later jobs waiting behind this one: order matters more than speed.
                wait = min(10.0, 0.2 * 2 ** attempt)
                log.warning("%s job %s waits for the store (%r); again in %.1f s", tenant, entry_id, exc, wait)
                await asyncio.sleep(wait)
                attempt += 1
            finally:
                running_entry.reset(token)
        if handler is None:
            log.error("no handler for %s jobs: %s dropped", job.kind, entry_id)
        while not running.cleared:
            try:
                await self.inbox.done(tenant, entry_id)
                return
            except STORE_ERRORS as exc:
                log.warning("inbox entry %s handled but not cleared (%r); retrying", entry_id, exc)
                await asyncio.sleep(0.5)


def _cancelling() -> bool:
    """Whether this task was asked to stop (a library may have swallowed the CancelledError)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
