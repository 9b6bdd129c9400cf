"""Registering a channel for reports: the adapter reads the platform's channel markup and
says what the platform can do; the admin flow only sees neutral channel ids."""
from __future__ import annotations

import uuid

from bot.adapters.local import LocalChat, render_replies
from bot.adapters.slack.adapter import _channels_in
from bot.core.events import (
    CAN_POST_TO_CHANNELS,
    PLATFORM_ADMIN,
    EventKind,
    IncomingEvent,
)
from bot.flows.org.store import OrgStore
from bot.store.keys import ConversationKey
from tests.support.admins import make_admin

WHO = ConversationKey("slack", "T0ORG", "U0LEAD")


def _said(who: ConversationKey, text: str, *, channels: tuple[str, ...] = ()) -> IncomingEvent:
    return IncomingEvent(who=who, kind=EventKind.MESSAGE, text=text, event_id=uuid.uuid4().hex,
                         channels=channels, capabilities=frozenset({CAN_POST_TO_CHANNELS, PLATFORM_ADMIN}))


async def test_a_channel_named_in_the_message_is_registered_for_the_role(engine, store):
    await engine.handle(_said(WHO, "管理"))
    await engine.handle(_said(WHO, "鈴木工務店"))
    offered = render_replies(await engine.handle(_said(WHO, "情報セキュリティ責任者")),
                             texts=engine.content.texts)
    assert "チャンネルを登録する" in offered
    await engine.handle(_said(WHO, "チャンネルを登録する"))
    unreadable = render_replies(await engine.handle(_said(WHO, "セキュリティ部屋")), texts=engine.content.texts)
    assert "チャンネルが読み取れませんでした" in unreadable
    done = render_replies(await engine.handle(_said(WHO, "<#C0SECURE1|security>", channels=("C0SECURE1",))),
                          texts=engine.content.texts)
    assert "C0SECURE1" in done
    org = await OrgStore(store.client, store.keys).for_workspace("slack", "T0ORG")
    assert [(p.kind, p.id) for p in org.reach("security_lead")] == [("channel", "C0SECURE1")]


async def test_a_platform_without_channels_is_not_offered_one(engine):
    await make_admin(engine, "soumu")
    admin = LocalChat(engine, user="soumu")
    await admin.send("管理")
    await admin.send("山田商事")
    offered = render_replies(await admin.send("情報セキュリティ責任者"), texts=engine.content.texts)
    assert "自分を登録する" in offered and "チャンネルを登録する" not in offered


def test_slack_channel_markup_becomes_channel_ids():
    assert _channels_in("<#C0123ABCD|security>") == ("C0123ABCD",)
    assert _channels_in("ここに <#C0AAAAAAA> と <#C0BBBBBBB|b> を") == ("C0AAAAAAA", "C0BBBBBBB")
    assert _channels_in("#C0123ABCD") == ("C0123ABCD",)
    assert _channels_in("セキュリティ部屋") == ()
