"""The store against a real Redis: atomic commits, conflicts, duplicates, expiry."""
from __future__ import annotations

import asyncio

import pytest

from bot.store.conversations import CONVERSATION_TTL_SECONDS, CommitOutcome, StoreOp
from bot.store.keys import ConversationKey

WHO = ConversationKey("slack", "T1", "U1")


async def test_new_conversation_reads_empty_and_commits(store):
    snapshot = await store.read(WHO, platform_event_id="e1")
    assert snapshot.record is None and snapshot.version == "" and not snapshot.already_handled
    assert (await store.commit(snapshot, {"state": "menu"}, platform_event_id="e1")).outcome is CommitOutcome.COMMITTED
    again = await store.read(WHO, platform_event_id="e1")
    assert again.record == {"state": "menu"} and again.version == "1" and again.already_handled


async def test_commit_on_a_stale_read_is_refused_and_writes_nothing(store):
    first = await store.read(WHO)
    await store.commit(first, {"n": 1})
    stale = first  # read before the commit above
    result_op = store.append_result(WHO, {"total": 50})
    assert (await store.commit(stale, {"n": 99}, platform_event_id="e2", ops=[result_op])).outcome is CommitOutcome.CONFLICT
    now = await store.read(WHO, platform_event_id="e2")
    assert now.record == {"n": 1}
    assert not now.already_handled  # the refused commit did not mark the event
    assert await store.results(WHO) == []  # nor apply its other writes


async def test_an_event_id_commits_once(store):
    snapshot = await store.read(WHO)
    assert (await store.commit(snapshot, {"n": 1}, platform_event_id="dup")).outcome is CommitOutcome.COMMITTED
    fresh = await store.read(WHO)
    assert (await store.commit(fresh, {"n": 2}, platform_event_id="dup")).outcome is CommitOutcome.DUPLICATE
    assert (await store.read(WHO)).record == {"n": 1}


async def test_conversations_expire_but_results_do_not(store):
    snapshot = await store.read(WHO)
    await store.commit(snapshot, {"n": 1}, ops=[store.append_result(WHO, {"total": 72})])
    ttl = await store.client.ttl(store.keys.conversation(WHO))
    assert CONVERSATION_TTL_SECONDS - 5 <= ttl <= CONVERSATION_TTL_SECONDS
    assert await store.client.ttl(store.keys.results(WHO)) == -1  # no expiry
    assert await store.results(WHO) == [{"total": 72}]


async def test_concurrent_read_modify_commit_loses_no_update(store):
    async def increment():
        while True:
            snapshot = await store.read(WHO)
            n = (snapshot.record or {"n": 0})["n"]
            if (await store.commit(snapshot, {"n": n + 1})).outcome is CommitOutcome.COMMITTED:
                return

    await asyncio.gather(*(increment() for _ in range(25)))
    assert (await store.read(WHO)).record == {"n": 25}


async def test_forget_drops_the_conversation_and_keeps_results(store):
    snapshot = await store.read(WHO)
    await store.commit(snapshot, {"n": 1}, ops=[store.append_result(WHO, {"total": 1})])
    await store.forget(WHO)
    assert (await store.read(WHO)).record is None
    assert await store.results(WHO) == [{"total": 1}]


def test_only_plain_writes_are_allowed_as_ops():
    with pytest.raises(ValueError):
        StoreOp("FLUSHALL", "x")


def test_keys_keep_users_apart():
    from bot.store.keys import Keys

    keys = Keys("p")
    assert keys.conversation(ConversationKey("local", "w", "a:b")) != keys.conversation(
        ConversationKey("local", "w:a", "b"))
