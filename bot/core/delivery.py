"""Delivery: an event from an adapter in, the engine's replies out, in one place.

For one inbound event: the person's display name (best effort), the engine's
step (which commits the replies to the tenant's outbox together with the new
state), then the person's own replies in order and, whatever happened to those,
each notice for someone else on its own (an incident alert must not wait for,
or fail with, anything else), on whichever platform that person is reached.
The outbox entry leaves the outbox once everything in it was sent.

A send that fails is retried: after the platform's Retry-After on 429, with
backoff on server errors and timeouts. When the outcome of a send is unknown
(a timeout, a 5xx after the platform may have posted), the retry is marked
`resend` and the adapter looks before sending again (Slack: the message's
metadata id in the channel's history; LINE: the push retry key). What could not
be sent within `fast_path_seconds` stays in the outbox for the sweeper, which
retries until `give_up_seconds`, then records the entry as undelivered (log and
the counter /healthz shows).

Adapters implement only `Outlet`: send replies to a destination, and say a
person's display name.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from typing import Awaitable, Callable, Protocol, Sequence

from bot.core.engine import ConcurrentUpdateError, Engine
from bot.core.events import Destination, IncomingEvent
from bot.core.outbox import OutboxEntry
from bot.core.replies import Notice, Reply, Text
from bot.store.conversations import STORE_ERRORS
from bot.store.display_names import DisplayNames
from bot.store.keys import ConversationKey, tenant_tag

log = logging.getLogger(__name__)

FAST_PATH_SECONDS = 60.0  # then the sweeper takes over
GIVE_UP_SECONDS = 15 * 60.0
SWEEP_AFTER_MS = 30_000  # an entry this old was left by a sender that stopped (or is still retrying)


class SendFailed(Exception):
    """A send did not go through. `retry_after`: the platform said when to try again;
    `maybe_sent`: the platform may have taken it (look before sending again); `permanent`:
    trying again will not help (a bad address, a refused payload)."""

    def __init__(self, message: str, *, retry_after: float | None = None, maybe_sent: bool = False,
                 permanent: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent
        self.permanent = permanent


class Outlet(Protocol):
    """What an adapter does for delivery."""

    async def send(self, to: Destination, replies: Sequence[Reply], *, seed: str,
                   resend: bool = False) -> float | None:
        """Send in order; raise SendFailed (or any error) when they could not be sent. `seed` is stable
        for one delivery; with `resend`, some of it may have arrived already: do not post it twice.
        Returns when the last of them reached the screen (epoch seconds, on the clock of the
        platform's event timestamps), or None when that is not known."""

    async def display_name(self, who: ConversationKey) -> str | None:
        """The person's name on the platform; None when it cannot be had."""


class Delivery:
    def __init__(self, engine: Engine, names: DisplayNames, *, fast_path_seconds: float = FAST_PATH_SECONDS,
                 give_up_seconds: float = GIVE_UP_SECONDS):
        self.engine = engine
        self.names = names
        self.fast_path_seconds = fast_path_seconds
        self.give_up_seconds = give_up_seconds
        self._outlets: dict[str, Outlet] = {}
        self._in_flight: set[str] = set()  # outbox ids this process is sending right now
        self._known_tenants: set[str] = set()
        # Which tenants this process looks after (the inbox worker's leases); None: all of them.
        self.owns: Callable[[str], bool] | None = None

    def register(self, platform: str, outlet: Outlet) -> None:
        self._outlets[platform] = outlet

    def reaches(self, platform: str) -> bool:
        """Whether an adapter for the platform is mounted here."""
        return platform in self._outlets

    # --- one event ------------------------------------------------------------------

    async def handle(self, event: IncomingEvent, reply_to: Destination, *,
                     prepare: Callable[[IncomingEvent], Awaitable[IncomingEvent]] | None = None) -> None:
        """Run one event through the engine and deliver what it says. `prepare` (the adapter's
        lookups, e.g. what the platform says of the sender's role) runs beside the name's lookup:
        on someone's first message both ask the platform, and the reply waits for one wait, not two."""
        if prepare is None:
            name = await self._display_name(event.who)
        else:
            name, event = await asyncio.gather(self._display_name(event.who), prepare(event))
        event = dataclasses.replace(event, display_name=name)
        try:
            step = await self.engine.step(event, reply_to=reply_to)
        except STORE_ERRORS:
            raise  # the event stays in the inbox and is handled again when the store answers
        except ConcurrentUpdateError:
            log.warning("gave up after repeated conflicting updates for %s", event.who)
            await self._apologise(reply_to, "error.busy", seed=f"{event.who}:{event.event_id}")
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("failed to handle %s for %s", event, event.who)
            await self._apologise(reply_to, "error.unexpected", seed=f"{event.who}:{event.event_id}")
            return
        if step.entry is None or not step.replies:
            return
        await self._remember_tenant(reply_to)
        # With writes still waiting in the entry, it stays in the outbox for the sweeper to finish.
        await self.deliver_entry(step.entry, outbox_id=step.outbox_id if step.writes_applied else "",
                                 tenant=event.who.tenant, deadline=time.monotonic() + self.fast_path_seconds)

    async def deliver(self, replies: Sequence[Reply], to: Destination, *, seed: str) -> None:
        """Send replies that are in no outbox (best effort, with the same retries)."""
        await self.deliver_entry(OutboxEntry(to, tuple(replies), seed), outbox_id="", tenant="",
                                 deadline=time.monotonic() + self.fast_path_seconds)

    # --- an outbox entry -------------------------------------------------------------

    async def deliver_entry(self, entry: OutboxEntry, *, outbox_id: str, tenant: str, deadline: float,
                            resend: bool = False) -> bool:
        """Send an entry's replies and notices; True when it is done with (sent, or given up as
        undeliverable) and has left the outbox."""
        if outbox_id:
            if outbox_id in self._in_flight:
                return False
            self._in_flight.add(outbox_id)
        try:
            own = [r for r in entry.replies if not isinstance(r, Notice)]
            notices = [r for r in entry.replies if isinstance(r, Notice)]
            done = True
            shown = None  # (who, seed, when) once the person's choices are on screen
            if own:
                sent, on_screen_at = await self._send(entry.to, own, seed=entry.seed, deadline=deadline,
                                                      resend=resend, apologise=True)
                done &= sent
                if sent and entry.offers_to is not None and on_screen_at is not None:
                    shown = (entry.offers_to, entry.seed, on_screen_at)
                    if notices or not outbox_id:  # else recorded with the entry's removal, in one round trip
                        await self._mark_shown(*shown)
                        shown = None
            for index, notice in enumerate(notices):
                sent, _ = await self._send(Destination.of(notice.to), list(notice.replies),
                                           seed=f"{entry.seed}:notice:{index}", deadline=deadline, resend=resend)
                done &= sent
            if done and outbox_id:
                await self._leave_outbox(tenant, outbox_id, shown)
            return done
        finally:
            self._in_flight.discard(outbox_id)

    async def _send(self, to: Destination, replies: list[Reply], *, seed: str, deadline: float, resend: bool,
                    apologise: bool = False) -> tuple[bool, float | None]:
        """(True, when on screen) when sent; (True, None) when permanently refused (nothing more to
        do); (False, None) to try again later."""
        outlet = self._outlets.get(to.platform)
        if outlet is None:
            log.error("no %s adapter is mounted: replies to %s not delivered", to.platform, to)
            return True, None
        attempt = 0
        while True:
            try:
                on_screen_at = await outlet.send(to, replies, seed=seed, resend=resend)
                return True, on_screen_at or time.time()
            except SendFailed as failure:
                if failure.permanent:
                    log.error("delivery to %s refused: %s", to, failure)
                    if apologise:
                        await self._apologise(to, "error.delivery_failed", seed=f"{seed}:apology")
                    return True, None
                resend = resend or failure.maybe_sent
                wait = failure.retry_after if failure.retry_after is not None else _backoff(attempt)
                log.warning("delivery to %s failed (%s); retrying in %.1f s", to, failure, wait)
            except (*STORE_ERRORS, OSError, asyncio.TimeoutError) as exc:
                resend = True
                wait = _backoff(attempt)
                log.warning("delivery to %s failed (%r); retrying in %.1f s", to, exc, wait)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("delivery to %s failed: %s", to, exc, exc_info=True)
                if apologise:
                    await self._apologise(to, "error.delivery_failed", seed=f"{seed}:apology")
                return True, None
            if time.monotonic() + wait > deadline:
                return False, None
            await asyncio.sleep(wait)
            attempt += 1

    async def _mark_shown(self, who: ConversationKey, seed: str, on_screen_at: float) -> None:
        try:
            await self.engine.store.mark_shown(who, seed, on_screen_at)
        except STORE_ERRORS as exc:
            # Without it, a typed answer is taken as it comes (not checked against the screen).
            log.warning("could not record that %s saw its choices: %r", who, exc)

    async def _apologise(self, to: Destination, key: str, *, seed: str) -> None:
        outlet = self._outlets.get(to.platform)
        if outlet is None:
            return
        try:
            await outlet.send(to, [Text(self.engine.content.texts[key])], seed=seed)
        except Exception as exc:
            log.error("could not tell %s about the failure either: %r", to, exc)

    async def _leave_outbox(self, tenant: str, outbox_id: str,
                            shown: tuple[ConversationKey, str, float] | None = None) -> None:
        try:
            await self.engine.store.outbox_done(tenant, outbox_id, shown=shown)
        except STORE_ERRORS as exc:
            # Sent, but still listed: the sweeper will look before sending it again.
            log.warning("outbox entry %s sent but not cleared: %r", outbox_id, exc)

    async def _remember_tenant(self, to: Destination) -> None:
        tenant = tenant_tag(to.platform, to.workspace)
        if tenant in self._known_tenants:
            return
        try:
            await self.engine.store.client.sadd(self.engine.store.keys.tenants(), tenant)
            self._known_tenants.add(tenant)
        except STORE_ERRORS as exc:
            log.warning("could not register tenant %s for the outbox sweeper: %r", tenant, exc)

    # --- the sweeper -------------------------------------------------------------------

    async def sweep(self, *, older_than_ms: int = SWEEP_AFTER_MS) -> int:
        """Send what stopped senders left in the outboxes; returns how many entries were finished."""
        store = self.engine.store
        finished = 0
        for raw in await store.client.smembers(store.keys.tenants()):
            tenant = raw.decode()
            if self.owns is not None and not self.owns(tenant):
                continue  # another process holds this tenant's lease, and sweeps its outbox
            for outbox_id, raw_entry, writes in await store.outbox_entries(tenant, older_than_ms=older_than_ms):
                age = time.time() - int(outbox_id.split("-")[0]) / 1000
                if writes:
                    await store.apply_writes(outbox_id, writes)  # once each, whatever happened before
                if not raw_entry:
                    await store.outbox_done(tenant, outbox_id)
                    finished += 1
                    continue
                entry = OutboxEntry.decode(raw_entry)
                if age > self.give_up_seconds:
                    await self._give_up(tenant, outbox_id, entry)
                    finished += 1
                    continue
                if await self.deliver_entry(entry, outbox_id=outbox_id, tenant=tenant, resend=True,
                                            deadline=time.monotonic() + 10):
                    finished += 1
        return finished

    async def _give_up(self, tenant: str, outbox_id: str, entry: OutboxEntry) -> None:
        log.error("gave up delivering outbox entry %s to %s after %.0f minutes", outbox_id, entry.to,
                  self.give_up_seconds / 60)
        store = self.engine.store
        async with store.client.pipeline(transaction=False) as pipe:
            pipe.incr(store.keys.undelivered())
            pipe.xdel(store.keys.outbox(tenant), outbox_id)
            await pipe.execute()

    async def run_sweeper(self, *, every: float = 5.0) -> None:
        while True:
            await asyncio.sleep(every * random.uniform(0.8, 1.2))
            try:
                await self.sweep()
            except STORE_ERRORS as exc:
                log.warning("outbox sweep skipped: %r", exc)

    # --- names -------------------------------------------------------------------------

    async def _display_name(self, who: ConversationKey) -> str | None:
        outlet = self._outlets.get(who.platform)
        if outlet is None:
            return None
        try:
            return await self.names.get(who, outlet.display_name)
        except STORE_ERRORS as exc:
            # A name is a courtesy: without the cache, the step still runs (and says what it can).
            log.warning("display name of %s not available (store): %r", who, exc)
            return None


def _backoff(attempt: int) -> float:
    return min(30.0, 0.5 * 2 ** attempt) * random.uniform(0.8, 1.2)
