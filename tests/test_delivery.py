"""Delivery: the person's replies in order, each notice on its own, an apology when sending fails.

The outlets here stand in for a platform's API (what an adapter would call), recording what
is sent; the engine, the store and the delivery are the real ones.
"""
from __future__ import annotations

import uuid
from typing import Sequence

from bot.core.delivery import Delivery, SendFailed
from bot.core.events import Destination, IncomingEvent
from bot.core.replies import Notice, Recipient, Reply, Text
from bot.store.conversations import connect
from bot.store.display_names import DisplayNames
from bot.store.keys import ConversationKey, Keys

WHO = ConversationKey("chat", "W1", "U1")
HERE = Destination("chat", "W1", "D1")


class RecordingOutlet:
    def __init__(self, *, name: str | None = "佐藤", failing: set[str] = frozenset()):
        self.sent: list[tuple[Destination, list[Reply], str]] = []
        self.name = name
        self.failing = set(failing)  # addresses whose sends fail
        self.name_lookups = 0

    async def send(self, to: Destination, replies: Sequence[Reply], *, seed: str, resend: bool = False) -> None:
        if to.address in self.failing:
            raise SendFailed(f"platform refused {to.address}", permanent=True)
        self.sent.append((to, list(replies), seed))

    async def display_name(self, who: ConversationKey) -> str | None:
        self.name_lookups += 1
        return self.name


def _said(text: str) -> IncomingEvent:
    return IncomingEvent.message(WHO, text, event_id=uuid.uuid4().hex)


async def test_a_store_error_on_the_display_name_still_answers_the_person(engine, caplog):
    broken = connect("redis://127.0.0.1:1/0", timeout=0.2)
    delivery = Delivery(engine, DisplayNames(broken, Keys("x")))
    outlet = RecordingOutlet()
    delivery.register("chat", outlet)
    try:
        await delivery.handle(_said("メニュー"), HERE)
    finally:
        await broken.aclose(close_connection_pool=True)
    [(to, replies, _)] = outlet.sent
    assert to == HERE and replies, "the person got no answer"
    assert any("display name of" in r.message for r in caplog.records)


async def test_a_failed_send_gets_an_apology_attempt_and_notices_still_go(engine, store):
    delivery = Delivery(engine, DisplayNames(store.client, store.keys))
    here, there = RecordingOutlet(failing={"D1"}), RecordingOutlet()
    delivery.register("chat", here)
    delivery.register("other", there)
    lead = Recipient("other", "W9", "user", "LEAD")
    broken = Recipient("other", "W9", "user", "GONE")
    there.failing.add("GONE")
    replies = [Text("一つ目"), Notice(broken, (Text("届かない"),)), Notice(lead, (Text("お知らせ"),))]
    await delivery.deliver(replies, HERE, seed="s1")
    # The person's own send failed, and so did the apology (same address): nothing recorded there,
    # but the second notice went although the first one failed.
    assert here.sent == []
    [(to, sent, seed)] = there.sent
    assert to == Destination("other", "W9", "LEAD") and sent == [Text("お知らせ")]
    assert seed == "s1:notice:1"


async def test_the_apology_reaches_the_person_when_only_the_replies_failed(engine, store):
    delivery = Delivery(engine, DisplayNames(store.client, store.keys))

    class FailsOnce(RecordingOutlet):
        async def send(self, to: Destination, replies: Sequence[Reply], *, seed: str, resend: bool = False) -> None:
            if not seed.endswith(":apology"):
                raise SendFailed("the platform refused the payload", permanent=True)
            await super().send(to, replies, seed=seed)

    outlet = FailsOnce()
    delivery.register("chat", outlet)
    await delivery.deliver([Text("質問です")], HERE, seed="s2")
    [(to, [apology], seed)] = outlet.sent
    assert apology == Text(engine.content.texts["error.delivery_failed"]) and seed == "s2:apology"


async def test_the_display_name_reaches_the_flow_and_is_cached(engine, store):
    delivery = Delivery(engine, DisplayNames(store.client, store.keys))
    outlet = RecordingOutlet(name="鈴木")
    delivery.register("chat", outlet)
    await delivery.handle(_said("メニュー"), HERE)
    await delivery.handle(_said("メニュー"), HERE)
    assert outlet.name_lookups == 1
    assert await store.client.get(store.keys.display_name(WHO)) == "鈴木".encode()


async def test_a_step_committed_but_never_sent_is_sent_by_the_sweeper(engine, store):
    delivery = Delivery(engine, DisplayNames(store.client, store.keys))
    outlet = RecordingOutlet()
    delivery.register("chat", outlet)
    # The process stops right after the commit: the replies wait in the tenant's outbox.
    step = await engine.step(_said("自社診断"), reply_to=HERE)
    assert step.outbox_id and outlet.sent == []
    await store.client.sadd(store.keys.tenants(), WHO.tenant)
    assert await delivery.sweep(older_than_ms=0) == 1
    [(to, replies, seed)] = outlet.sent
    assert to == HERE and replies == step.replies and seed == step.entry.seed
    assert await store.client.xlen(store.keys.outbox(WHO.tenant)) == 0
    assert await delivery.sweep(older_than_ms=0) == 0  # sent once


async def test_an_entry_that_cannot_be_sent_in_time_is_counted_as_undelivered(engine, store, caplog):
    delivery = Delivery(engine, DisplayNames(store.client, store.keys), give_up_seconds=0)
    delivery.register("chat", RecordingOutlet())
    await engine.step(_said("メニュー"), reply_to=HERE)
    await store.client.sadd(store.keys.tenants(), WHO.tenant)
    assert await delivery.sweep(older_than_ms=0) == 1
    assert int(await store.client.get(store.keys.undelivered())) == 1
    assert await store.client.xlen(store.keys.outbox(WHO.tenant)) == 0
    assert any("gave up delivering" in r.message for r in caplog.records)


async def test_a_rate_limited_send_waits_as_told_and_arrives(engine, store):
    delivery = Delivery(engine, DisplayNames(store.client, store.keys))

    class RateLimited(RecordingOutlet):
        refusals = 2

        async def send(self, to: Destination, replies: Sequence[Reply], *, seed: str, resend: bool = False) -> None:
            if self.refusals:
                self.refusals -= 1
                raise SendFailed("429", retry_after=0.05)
            await super().send(to, replies, seed=seed)

    outlet = RateLimited()
    delivery.register("chat", outlet)
    await delivery.handle(_said("メニュー"), HERE)
    assert len(outlet.sent) == 1 and outlet.refusals == 0
    assert await store.client.xlen(store.keys.outbox(WHO.tenant)) == 0


def test_a_destination_and_an_event_survive_the_inbox_and_the_outbox_whole():
    """Every field, as written to Redis and read back (a field left out of to_dict would be lost)."""
    import dataclasses

    to = Destination("slack", "T1", "D1", thread="1.2", reply_token="r", received_at=3.5, surface="home")
    assert set(to.to_dict()) == {f.name for f in dataclasses.fields(Destination)}
    assert Destination.from_dict(to.to_dict()) == to
    event = IncomingEvent(ConversationKey("slack", "T1", "U1"), IncomingEvent.message(
        ConversationKey("slack", "T1", "U1"), "x").kind, text="4", action="a", event_id="Ev1", display_name="山田",
        channel="C1", channels=("C2",), capabilities=frozenset({"x"}), sent_at=1.5)
    assert IncomingEvent.from_dict(event.to_dict()) == event
