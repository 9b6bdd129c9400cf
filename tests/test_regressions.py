"""Regression tests, each named after the bug it pins."""
from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio

from bot.adapters.local import render_replies
from bot.core.events import IncomingEvent
from bot.core.flow import Flow, on
from bot.core.replies import Notice, Recipient
from bot.core.work_queue import WorkQueue
from bot.flows import DEFAULT_FLOWS
from bot.flows.incidents.records import IncidentStore
from bot.flows.org.store import OrgStore
from bot.runtime.startup import build_engine
from bot.store.conversations import Store
from bot.store.keys import ConversationKey, Keys
from tests.support.admins import make_admin

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


class _CommitsTogether(redis.asyncio.Redis):
    """A Redis client whose script calls (the engine's commits) wait for each other once armed:
    both steps have read everything before either writes, as with two busy processes."""

    barrier: asyncio.Barrier | None = None

    async def evalsha(self, *args, **kwargs):
        barrier, self.barrier = self.barrier, None  # only the first commit waits (a re-run goes on)
        if barrier is not None:
            await barrier.wait()
        return await super().evalsha(*args, **kwargs)


async def test_issue_two_admins_registering_at_the_same_moment_lost_one(content, redis_url, key_prefix, clock):
    org_store = None
    clients = [_CommitsTogether.from_url(redis_url) for _ in range(2)]
    try:
        engines = [build_engine(content=content, store=Store(client, Keys(key_prefix)), clock=clock)
                   for client in clients]
        org_store = OrgStore(clients[0], Keys(key_prefix))
        org = await org_store.create("同時商事")
        await org_store.bind(org, "local", "w")
        lead, boss = ConversationKey("local", "w", "lead"), ConversationKey("local", "w", "boss")
        await org_store.add_contact(org, "security_lead", Recipient("local", "w", "user", "lead"))
        await org_store.add_contact(org, "executive", Recipient("local", "w", "user", "boss"))
        for who in (lead, boss):
            await make_admin(engines[0], who.user, workspace="w")
        barrier = asyncio.Barrier(2)
        for client in clients:
            client.barrier = barrier
        await asyncio.gather(
            engines[0].handle(IncomingEvent.choice(lead, "admin_self:privacy_officer", event_id="e-lead")),
            engines[1].handle(IncomingEvent.choice(boss, "admin_self:it_vendor", event_id="e-boss")))
        for client in clients:
            client.barrier = None
        stored = await org_store.get(org.id)
        assert [p.id for p in stored.reach("privacy_officer")] == ["lead"]
        assert [p.id for p in stored.reach("it_vendor")] == ["boss"]
        assert [p.id for p in stored.reach("security_lead")] == ["lead"]
    finally:
        for client in clients:
            await client.aclose()


async def test_issue_two_people_creating_the_organisation_at_once_made_two(content, redis_url, key_prefix, clock):
    clients = [_CommitsTogether.from_url(redis_url) for _ in range(2)]
    try:
        engines = [build_engine(content=content, store=Store(client, Keys(key_prefix)), clock=clock)
                   for client in clients]
        first, second = ConversationKey("local", "w2", "a"), ConversationKey("local", "w2", "b")
        for who in (first, second):  # two administrators
            await make_admin(engines[0], who.user, workspace="w2")
        for engine, who in zip(engines, (first, second)):
            await engine.handle(IncomingEvent.message(who, "管理", event_id=f"m-{who.user}"))
        barrier = asyncio.Barrier(2)
        for client in clients:
            client.barrier = barrier
        replies = await asyncio.gather(
            engines[0].handle(IncomingEvent.message(first, "Ａ商事", event_id="n-a")),
            engines[1].handle(IncomingEvent.message(second, "Ｂ商事", event_id="n-b")))
        for client in clients:
            client.barrier = None
        org = await OrgStore(clients[0], Keys(key_prefix)).for_workspace("local", "w2")
        texts = content.texts
        said = [render_replies(r, texts=texts) for r in replies]
        created = [s for s in said if "を登録しました" in s]
        assert len(created) == 1 and org.name in created[0]
        assert any(texts["admin.exists"] in s for s in said)
    finally:
        for client in clients:
            await client.aclose()


async def test_issue_two_admins_changing_an_incidents_status_at_once_both_applied(
        content, redis_url, key_prefix, clock):
    clients = [_CommitsTogether.from_url(redis_url) for _ in range(2)]
    try:
        keys = Keys(key_prefix)
        engines = [build_engine(content=content, store=Store(client, keys), clock=clock) for client in clients]
        orgs = OrgStore(clients[0], keys)
        org = await orgs.create("状態商事")
        await orgs.bind(org, "local", "w3")
        for user in ("lead", "boss"):
            await orgs.add_contact(org, "security_lead", Recipient("local", "w3", "user", user))
        reporter = ConversationKey("local", "w3", "staff")
        await engines[0].handle(IncomingEvent.message(reporter, "共有フォルダのファイルが全部暗号化されて開けない",
                                                      event_id="r-1"))
        [incident] = await IncidentStore(clients[0], keys).by_reporter(reporter)
        barrier = asyncio.Barrier(2)
        for client in clients:
            client.barrier = barrier
        replies = await asyncio.gather(*(
            engine.handle(IncomingEvent.choice(ConversationKey("local", "w3", user),
                                               f"incident_status:{incident.id}:in_progress", event_id=f"s-{user}"))
            for engine, user in zip(engines, ("lead", "boss"))))
        stored = await IncidentStore(clients[0], keys).load(incident.id)
        changes = [e for e in stored.timeline if e["what"] == "in_progress"]
        assert stored.status == "in_progress" and len(changes) == 1, stored.timeline
        said = [render_replies(r, texts=content.texts) for r in replies]
        notices = [r for rs in replies for r in rs if isinstance(r, Notice)]
        assert len(notices) == 1, "the reporter was told twice"
        assert sum("すでに" in s for s in said) == 1, said
    finally:
        for client in clients:
            await client.aclose()
